// The append-only audit log: every state change is sealed into the hash chain in the store and copied to the JSONL mirror, or it does not happen.
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import type { Clock } from "../shared/clock.js";
import { BreakglassError, describeError } from "../errors.js";
import { canonicalJson, verifyChain, type AuditEntry, type AuditRecord, type ChainProblem } from "./audit-chain.js";

/** The port the audit log needs from the store. */
export interface AuditStore {
  appendAudit(entry: AuditEntry, at: Date): AuditRecord;
  auditRecords(): AuditRecord[];
}

export class AuditLog {
  constructor(
    private readonly store: AuditStore,
    private readonly clock: Clock,
    private readonly mirrorPath?: string | undefined,
  ) {}

  /**
   * Fail closed: a caller records what it is about to do and only then does it. If either copy
   * cannot be written this throws, and the caller must not make the change.
   */
  record(entry: AuditEntry): AuditRecord {
    let record: AuditRecord;
    try {
      record = this.store.appendAudit(entry, this.clock.now());
    } catch (error) {
      throw new BreakglassError("AUDIT_FAILED", "audit log", `cannot record "${entry.action}" on ${entry.subject}, so it is not done: ${describeError(error)}`);
    }
    if (this.mirrorPath) {
      try {
        appendLine(this.mirrorPath, canonicalJson(record));
      } catch (error) {
        throw new BreakglassError("AUDIT_FAILED", this.mirrorPath, `cannot copy audit record ${record.sequence} to the mirror, so "${entry.action}" is not done: ${describeError(error)}`);
      }
    }
    return record;
  }
}

export interface AuditVerification {
  readonly records: number;
  readonly headHash: string | null;
  readonly problems: readonly ChainProblem[];
  readonly mirrorProblems: readonly string[];
}

/** Checks the chain in the store and, when there is one, that the mirror is the same intact chain. */
export function verifyAudit(store: AuditStore, mirrorPath?: string): AuditVerification {
  const records = store.auditRecords();
  const mirrorProblems: string[] = [];
  if (mirrorPath) {
    const mirrored = readMirror(mirrorPath, mirrorProblems);
    for (const problem of verifyChain(mirrored)) mirrorProblems.push(`mirror: ${problem.problem}`);
    const byHash = new Map(mirrored.map((record) => [record.hash, record]));
    for (const record of records) {
      if (!byHash.has(record.hash)) mirrorProblems.push(`mirror: record ${record.sequence} of the store is missing or differs`);
    }
    if (mirrored.length > records.length) mirrorProblems.push(`mirror: holds ${mirrored.length} records, the store ${records.length}`);
  }
  return { records: records.length, headHash: records.at(-1)?.hash ?? null, problems: verifyChain(records), mirrorProblems };
}

function readMirror(path: string, problems: string[]): AuditRecord[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    problems.push(`mirror: ${path} cannot be read (${describeError(error)})`);
    return [];
  }
  const records: AuditRecord[] = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    try {
      records.push(JSON.parse(line) as AuditRecord);
    } catch {
      problems.push(`mirror: line ${index + 1} is not a JSON record`);
    }
  });
  return records;
}

/** One line, flushed to disk before returning: a mirror that lags the store after a crash is no mirror. */
function appendLine(path: string, line: string): void {
  const descriptor = openSync(path, "a", 0o600);
  try {
    writeSync(descriptor, `${line}\n`);
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}
