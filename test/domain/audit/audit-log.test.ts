// The audit log: an intact chain verifies; any record edited, deleted or reordered is named; a change that cannot be audited is not made.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sealRecord } from "../../../src/domain/audit/audit-chain.js";
import { AuditLog, verifyAudit } from "../../../src/domain/audit/audit-log.js";
import { fixedClock } from "../../../src/domain/shared/clock.js";
import { main } from "../../../src/cli/main.js";
import { jsonlAuditMirror } from "../../../src/adapters/store/jsonl-audit-mirror.js";
import { openStore } from "../../../src/adapters/store/open-store.js";
import { openSqlDatabase } from "../../../src/adapters/store/sqlite/sql-database.js";
import { makeCertificate } from "../../support/certificates.js";
import { entityXml } from "../../support/metadata-builder.js";

const clock = fixedClock(new Date("2026-11-25T03:00:00Z"));
const directory = () => mkdtempSync(join(tmpdir(), "breakglass-audit-"));

function logWithRecords(path: string, count: number, mirror?: string): void {
  const store = openStore({ path });
  const log = new AuditLog(store.audit, clock, jsonlAuditMirror(mirror));
  for (let index = 1; index <= count; index++) {
    log.record({
      actor: "alice",
      action: "run.step.applied",
      runId: "run-1",
      subject: `step-${index}`,
      detail: { index },
    });
  }
  store.close();
}

/** What an attacker with the SQLite file can do: drop the guard triggers and rewrite rows. */
function tamper(path: string, statements: string): void {
  const database = openSqlDatabase(path);
  database.exec("DROP TRIGGER audit_records_no_update; DROP TRIGGER audit_records_no_delete;");
  database.exec(statements);
  database.close();
}

function verify(path: string, mirror?: string) {
  const store = openStore({ path });
  try {
    return verifyAudit(store.audit, jsonlAuditMirror(mirror));
  } finally {
    store.close();
  }
}

describe("the hash chain", () => {
  it("verifies an intact log and reports its head", () => {
    const path = join(directory(), "breakglass.db");
    logWithRecords(path, 5);
    const result = verify(path);
    expect(result).toMatchObject({ records: 5, problems: [], headHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it("refuses to update or delete a record through SQLite", () => {
    const path = join(directory(), "breakglass.db");
    logWithRecords(path, 2);
    const database = openSqlDatabase(path);
    expect(() => database.exec("UPDATE audit_records SET actor = 'mallory' WHERE sequence = 1")).toThrow(
      "audit records are append-only",
    );
    expect(() => database.exec("DELETE FROM audit_records WHERE sequence = 2")).toThrow(
      "audit records are append-only",
    );
    database.close();
  });

  it("names an edited record", () => {
    const path = join(directory(), "breakglass.db");
    logWithRecords(path, 4);
    tamper(path, `UPDATE audit_records SET actor = 'mallory' WHERE sequence = 3`);
    expect(verify(path).problems.map((problem) => problem.problem)).toEqual([
      "record 3 was edited: its content no longer matches its hash",
    ]);
  });

  it("names a record whose detail was given a duplicate key, which SQLite reads as the forged value", () => {
    const path = join(directory(), "breakglass.db");
    logWithRecords(path, 3);
    // JSON.parse keeps the last of two equal keys, json_extract the first: put the forgery first and the hash still matches.
    tamper(path, `UPDATE audit_records SET detail = '{"index":99,"index":2}' WHERE sequence = 2`);
    const database = openSqlDatabase(path);
    expect(
      database
        .prepare("SELECT json_extract(detail, '$.index') AS index_value FROM audit_records WHERE sequence = 2")
        .get(),
    ).toEqual({ index_value: 99 });
    database.close();
    expect(verify(path).problems.map((problem) => problem.problem)).toEqual([
      "record 2 was edited: its content no longer matches its hash",
    ]);
  });

  it("names a record whose detail text was rewritten to the same meaning", () => {
    const path = join(directory(), "breakglass.db");
    logWithRecords(path, 2);
    tamper(path, `UPDATE audit_records SET detail = '{ "index": 1 }' WHERE sequence = 1`);
    expect(verify(path).problems.map((problem) => problem.problem)).toEqual([
      "record 1 was edited: its content no longer matches its hash",
    ]);
  });

  it("stores each detail as the canonical JSON its hash covers", () => {
    const path = join(directory(), "breakglass.db");
    const store = openStore({ path });
    new AuditLog(store.audit, clock).record({
      actor: "alice",
      action: "run.started",
      runId: "run-1",
      subject: "fm2",
      detail: { zebra: 1, apple: { pear: 2, fig: 3 } },
    });
    store.close();
    const database = openSqlDatabase(path);
    expect(database.prepare("SELECT detail FROM audit_records").get()).toEqual({
      detail: '{"apple":{"fig":3,"pear":2},"zebra":1}',
    });
    database.close();
    expect(verify(path).problems).toEqual([]);
  });

  it("still verifies a record written before details were stored canonically", () => {
    const path = join(directory(), "breakglass.db");
    logWithRecords(path, 1);
    const store = openStore({ path });
    const [record] = store.audit.auditRecords();
    store.close();
    const legacy = sealRecord(
      { actor: "alice", action: "run.started", runId: "run-1", subject: "fm2", detail: { zebra: 1, apple: 2 } },
      2,
      new Date("2026-11-25T03:00:00Z"),
      record!.hash,
    );
    tamper(
      path,
      `INSERT INTO audit_records (sequence, at, actor, action, run_id, subject, detail, previous_hash, ` +
        `hash) VALUES (2, '${legacy.at}', 'alice', 'run.started', 'run-1', 'fm2', '{"zebra":1,"apple":2}', ` +
        `'${legacy.previousHash}', '${legacy.hash}')`,
    );
    expect(verify(path).problems).toEqual([]);
  });

  it("names a deleted record", () => {
    const path = join(directory(), "breakglass.db");
    logWithRecords(path, 4);
    tamper(path, `DELETE FROM audit_records WHERE sequence = 2`);
    expect(verify(path).problems.map((problem) => problem.problem)).toEqual(["record 2 was deleted"]);
  });

  it("notices the last record deleted when the mirror still has it", () => {
    const dir = directory();
    const path = join(dir, "breakglass.db");
    const mirror = join(dir, "audit.jsonl");
    logWithRecords(path, 3, mirror);
    tamper(path, `DELETE FROM audit_records WHERE sequence = 3`);
    const result = verify(path, mirror);
    expect(result.problems).toEqual([]);
    expect(result.mirrorProblems).toEqual(["mirror: holds 3 records, the store 2"]);
  });

  it("names a record replaced by a forged one that hashes correctly", () => {
    const path = join(directory(), "breakglass.db");
    logWithRecords(path, 3);
    // A forger who recomputes record 2's hash still breaks record 3's link to it.
    const store = openStore({ path });
    const original = store.audit.auditRecords()[1]!;
    store.close();

    const forged = sealRecord(
      {
        actor: "mallory",
        action: original.action,
        runId: original.runId,
        subject: original.subject,
        detail: original.detail,
      },
      2,
      new Date(original.at),
      original.previousHash,
    );
    tamper(path, `UPDATE audit_records SET actor = 'mallory', hash = '${forged.hash}' WHERE sequence = 2`);
    expect(verify(path).problems.map((problem) => problem.problem)).toEqual([
      "record 3 does not follow record 2: one of them was replaced",
    ]);
  });

  it("names reordered records", () => {
    const path = join(directory(), "breakglass.db");
    logWithRecords(path, 3);
    // Swap the rows' positions by swapping their ids.
    tamper(
      path,
      `UPDATE audit_records SET id = 100 WHERE sequence = 1; UPDATE audit_records SET id = 1 WHERE ` +
        `sequence = 2; UPDATE audit_records SET id = 2 WHERE sequence = 1;`,
    );
    expect(verify(path).problems.map((problem) => problem.problem)).toEqual([
      "record 1 is out of order: it comes after record 2",
    ]);
  });

  it("keeps a mirror identical to the store, line by line", () => {
    const dir = directory();
    const path = join(dir, "breakglass.db");
    const mirror = join(dir, "audit.jsonl");
    logWithRecords(path, 3, mirror);
    expect(readFileSync(mirror, "utf8").trim().split("\n")).toHaveLength(3);
    expect(verify(path, mirror).mirrorProblems).toEqual([]);
    writeFileSync(mirror, readFileSync(mirror, "utf8").replace('"actor":"alice"', '"actor":"mallory"'));
    expect(verify(path, mirror).mirrorProblems).toEqual([
      "mirror: record 1 was edited: its content no longer matches its hash",
    ]);
  });

  it("names a mirror line given a duplicate key, even when it still parses to a record that matches its hash", () => {
    const dir = directory();
    const path = join(dir, "breakglass.db");
    const mirror = join(dir, "audit.jsonl");
    logWithRecords(path, 2, mirror);
    writeFileSync(mirror, readFileSync(mirror, "utf8").replace('"actor":"alice"', '"actor":"mallory","actor":"alice"'));
    expect(verify(path, mirror).mirrorProblems).toEqual([
      "mirror: line 1 was edited: it is not the JSON its record was written as",
    ]);
  });
});

describe("fail closed", () => {
  it("does not record an attestation whose audit record cannot be written", async () => {
    const dir = directory();
    const certificate = makeCertificate();
    const metadata = join(dir, "idp.xml");
    writeFileSync(metadata, entityXml({ keys: [{ base64: certificate.base64, use: "signing" }] }));
    // A mirror path inside a file, not a folder: no user, root included, can create it.
    writeFileSync(join(dir, "not-a-directory"), "");
    const config = join(dir, "breakglass.yaml");
    writeFileSync(
      config,
      [
        "idp:",
        "  name: Test",
        "  metadata: idp.xml",
        "aws:",
        "  emergencyAccount:",
        '    accountId: "111111111111"',
        "  identityCenter:",
        "    instanceArn: arn:aws:sso:::instance/ssoins-1234567890abcdef",
        "    region: eu-west-1",
        "store:",
        "  path: breakglass.db",
        "  auditMirror: not-a-directory/audit.jsonl",
        "",
      ].join("\n"),
    );
    let stderr = "";
    const code = await main(
      ["identity-center", "attest", "--metadata", metadata, "--by", "alice", "--config", config],
      {
        stdout: () => undefined,
        stderr: (text) => void (stderr += text),
        stdoutIsTty: false,
        env: {},
        clock,
      },
    );
    expect(code).toBe(7);
    expect(stderr).toMatch(
      /^breakglass: .*not-a-directory\/audit\.jsonl: cannot copy audit record 1 to the mirror, so "identity-center\.attest" is not done: /,
    );
    const store = openStore({ path: join(dir, "breakglass.db") });
    expect(store.attestations.latestAttestation("arn:aws:sso:::instance/ssoins-1234567890abcdef")).toBeNull();
    store.close();
  });

  it("audits an attestation, and `audit verify` reports the chain intact, then tampered", async () => {
    const dir = directory();
    const certificate = makeCertificate();
    writeFileSync(join(dir, "idp.xml"), entityXml({ keys: [{ base64: certificate.base64, use: "signing" }] }));
    const config = join(dir, "breakglass.yaml");
    writeFileSync(
      config,
      [
        "idp:",
        "  name: Test",
        "  metadata: idp.xml",
        "aws:",
        "  emergencyAccount:",
        '    accountId: "111111111111"',
        "  identityCenter:",
        "    instanceArn: arn:aws:sso:::instance/ssoins-1234567890abcdef",
        "    region: eu-west-1",
        "store:",
        "  path: breakglass.db",
        "",
      ].join("\n"),
    );
    const run = async (...args: string[]) => {
      let stdout = "";
      const code = await main(args, {
        stdout: (text) => void (stdout += text),
        stderr: () => undefined,
        stdoutIsTty: false,
        env: {},
        clock,
      });
      return { code, stdout };
    };
    expect(
      (await run("identity-center", "attest", "--metadata", join(dir, "idp.xml"), "--by", "alice", "--config", config))
        .code,
    ).toBe(0);
    const intact = await run("audit", "verify", "--config", config);
    expect(intact).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/breakglass\.db: 1 audit record, chain intact \(head [0-9a-f]{16}…\)\n$/),
    });
    tamper(join(dir, "breakglass.db"), "UPDATE audit_records SET actor = 'mallory' WHERE sequence = 1");
    const tampered = await run("audit", "verify", "--config", config);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain(
      "the audit log was tampered with (1 problem in 1 records):\n  record 1 was edited: its content no longer matches its hash\n",
    );
  });
});
