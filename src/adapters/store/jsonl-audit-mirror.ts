// The audit mirror as a JSONL file: one canonical record per line, each flushed to disk before the change goes on.
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import { canonicalJson, type AuditRecord } from "../../domain/audit/audit-chain.js";
import { describeError } from "../../domain/errors.js";
import type { AuditMirror } from "../../domain/ports/audit-store.js";

/** The mirror at `path` (breakglass.yaml's store.auditMirror), or none when it is not configured. */
export function jsonlAuditMirror(path: string | undefined): AuditMirror | undefined {
  if (path === undefined || path === "") return undefined;
  return {
    name: path,
    append: (records) =>
      appendLines(
        path,
        records.map((record) => canonicalJson(record)),
      ),
    read: () => readMirror(path),
  };
}

/** Flushed to disk before returning: a mirror that lags the store after a crash is no mirror. */
function appendLines(path: string, lines: readonly string[]): void {
  const descriptor = openSync(path, "a", 0o600);
  try {
    writeSync(descriptor, lines.map((line) => `${line}\n`).join(""));
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

function readMirror(path: string): { records: AuditRecord[]; problems: string[] } {
  const problems: string[] = [];
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    return { records: [], problems: [`${path} cannot be read (${describeError(error)})`] };
  }
  const records: AuditRecord[] = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    try {
      records.push(JSON.parse(line) as AuditRecord);
    } catch {
      problems.push(`line ${index + 1} is not a JSON record`);
    }
  });
  return { records, problems };
}
