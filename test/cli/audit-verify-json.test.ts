// `breakglass audit verify --json`: how many records, the head hash, and every problem, for a script that watches the log.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuditLog } from "../../src/domain/audit/audit-log.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { jsonlAuditMirror } from "../../src/adapters/store/jsonl-audit-mirror.js";
import { openStore } from "../../src/adapters/store/open-store.js";
import { openSqlDatabase } from "../../src/adapters/store/sqlite/sql-database.js";
import { main } from "../../src/cli/main.js";
import { capturingIo } from "../support/cli-io.js";

/** A config whose store (and JSONL mirror) hold `count` chained audit records. */
function auditedStore(count: number) {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-audit-json-"));
  const storePath = join(directory, "breakglass.db");
  const mirrorPath = join(directory, "audit.jsonl");
  writeFileSync(join(directory, "idp.xml"), "<unused/>");
  const configPath = join(directory, "breakglass.yaml");
  writeFileSync(
    configPath,
    [
      "idp:",
      "  name: Test IdP",
      "  metadata: idp.xml",
      "store:",
      `  path: ${storePath}`,
      `  auditMirror: ${mirrorPath}`,
      "",
    ].join("\n"),
  );
  const store = openStore({ path: storePath });
  const log = new AuditLog(store.audit, fixedClock(new Date("2026-11-25T03:00:00Z")), jsonlAuditMirror(mirrorPath));
  for (let index = 1; index <= count; index++)
    log.record({
      actor: "alice",
      action: "run.step.applied",
      runId: "run-1",
      subject: `step-${index}`,
      detail: { index },
    });
  store.close();
  return { configPath, storePath, mirrorPath };
}

async function auditVerify(configPath: string) {
  const { io, output } = capturingIo();
  const code = await main(["audit", "verify", "--config", configPath, "--json"], io);
  return { code, ...output };
}

describe("audit verify --json", () => {
  it("says ok with the record count, the head hash and no problems when the chain and its mirror are intact", async () => {
    const { configPath, storePath, mirrorPath } = auditedStore(3);
    const { code, stdout, stderr } = await auditVerify(configPath);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(stdout)).toEqual({
      ok: true,
      store: storePath,
      records: 3,
      headHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      mirror: mirrorPath,
      problems: [],
    });
  });

  it("names the edited record by its sequence number, and exits 1", async () => {
    const { configPath, storePath } = auditedStore(4);
    // What an attacker with the SQLite file can do: drop the guard triggers and rewrite a row.
    const database = openSqlDatabase(storePath);
    database.exec("DROP TRIGGER audit_records_no_update; DROP TRIGGER audit_records_no_delete;");
    database.exec("UPDATE audit_records SET actor = 'mallory' WHERE sequence = 3");
    database.close();
    const { code, stdout } = await auditVerify(configPath);
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ ok: false, records: 4 });
    expect(report.problems).toContainEqual({
      sequence: 3,
      problem: "record 3 was edited: its content no longer matches its hash",
    });
  });

  it("reports a mirror that lost a record, without a sequence of the chain, and exits 1", async () => {
    const { configPath, mirrorPath } = auditedStore(3);
    const lines = readFileSync(mirrorPath, "utf8").trimEnd().split("\n");
    writeFileSync(mirrorPath, `${lines.slice(0, -1).join("\n")}\n`);
    const { code, stdout } = await auditVerify(configPath);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({
      ok: false,
      records: 3,
      problems: [{ sequence: null, problem: "mirror: record 3 of the store is missing or differs" }],
    });
  });
});
