// `breakglass store init | migrate | backup` and `audit verify` on a DynamoDB store (the moto emulator on loopback).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/adapters/store/open-store.js";
import { main } from "../../src/cli/main.js";
import { capturingIo } from "../support/cli-io.js";
import { startMoto, type MotoServer } from "../support/moto.js";

let moto: MotoServer;
const directories: string[] = [];
beforeAll(async () => {
  process.env["AWS_ACCESS_KEY_ID"] ??= "testing";
  process.env["AWS_SECRET_ACCESS_KEY"] ??= "testing";
  moto = await startMoto({ serialized: true });
});
afterAll(async () => {
  await moto.stop();
  for (const made of directories.splice(0)) rmSync(made, { recursive: true, force: true });
});

/** A folder with a configuration whose store is the DynamoDB table `table` on the emulator. */
function dynamoConfig(table: string): { directory: string; config: string } {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-dynamodb-cli-"));
  directories.push(directory);
  const config = join(directory, "breakglass.yaml");
  writeFileSync(
    config,
    "idp:\n  name: Okta\n  metadata: ./okta.xml\n" +
      `store:\n  kind: dynamodb\n  table: ${table}\n  region: eu-west-1\n  endpoint: ${moto.endpoint}\n`,
  );
  return { directory, config };
}

async function breakglass(...argv: string[]) {
  const { io, output } = capturingIo();
  const code = await main(argv, io);
  return { code, ...output };
}

const at = (minute: number) => new Date(Date.UTC(2026, 10, 25, 3, minute));

describe("store init", () => {
  it("creates the table once, then says it exists with the breakglass key schema", async () => {
    const { config } = dynamoConfig("init-table");
    expect(await breakglass("store", "init", "--config", config)).toEqual({
      code: 0,
      stdout:
        "DynamoDB table init-table in Region eu-west-1: created (on-demand capacity, point-in-time recovery on, TTL on ttl)\n",
      stderr: "",
    });
    expect((await breakglass("store", "init", "--config", config)).stdout).toBe(
      "DynamoDB table init-table in Region eu-west-1: exists already with the breakglass key schema (pk, sk); " +
        "point-in-time recovery and TTL on\n",
    );
  });

  it("tells the user to run store init when the table does not exist", async () => {
    const { config } = dynamoConfig("never-initialised");
    const result = await breakglass("audit", "verify", "--config", config);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      "table never-initialised does not exist in Region eu-west-1: run `breakglass store init`",
    );
  });
});

describe("store migrate", () => {
  it("copies a SQLite store with runs and audit records, and audit verify passes on the DynamoDB config", async () => {
    const { directory, config } = dynamoConfig("migrated");
    const sqlitePath = join(directory, "old.db");
    const old = openStore({ path: sqlitePath });
    old.runs.createRun(
      {
        id: "run-1",
        runbookId: "fm2-reimport-metadata",
        runbookDigest: "ab".repeat(32),
        inputs: { incident: "INC-1" },
        initiator: "alice",
        initiatorPerson: "person:alice",
        dryRun: false,
        stepIds: ["check-idp", "import"],
      },
      { actor: "alice", action: "run.started", runId: "run-1", subject: "fm2", detail: { dryRun: false } },
      at(1),
    );
    old.runs.acquireLease("run-1", "engine-a", at(1), 600_000);
    old.runs.recordTransition(
      "run-1",
      "engine-a",
      {
        runStatus: "failed",
        steps: [{ stepId: "check-idp", status: "failed", outcome: { summary: "not clean" }, started: true }],
        audit: [{ actor: "alice", action: "step.failed", runId: "run-1", subject: "check-idp", detail: {} }],
        artefacts: [{ name: "metadata-file", path: "/old-host/artefacts/run-1/check-idp.xml", stepId: "check-idp" }],
      },
      at(2),
    );
    // An aggregate's worth of metadata: more than one DynamoDB item holds.
    const inspected = new Uint8Array(900_000).map((_, index) => (index * 7) % 251);
    old.artefacts.putArtefact("run-1", "metadata-file", inspected);
    old.windows.openWindow({ incident: "INC-1", openedAt: at(3), openedBy: "alice", reason: "outage", runId: null });
    old.leases.recordLease({
      runId: "INC-1",
      groupId: "g1",
      userId: "u1",
      login: "u1@x",
      addedAt: at(3),
      expiresAt: at(50),
    });
    for (let index = 1; index <= 150; index++) {
      old.audit.appendAudit(
        { actor: "bob", action: "slack.button", runId: null, subject: `press-${index}`, detail: { index } },
        at(4),
      );
    }
    const sourceRecords = old.audit.auditRecords();
    old.close();

    expect((await breakglass("store", "init", "--config", config)).code).toBe(0);
    const migrated = await breakglass("store", "migrate", "--from", sqlitePath, "--config", config);
    expect(migrated).toMatchObject({ code: 0, stderr: "" });
    expect(migrated.stdout).toBe(
      `${sqlitePath} -> DynamoDB table migrated in Region eu-west-1: copied 152 audit records, 1 runs (2 steps, 1 artefacts, 1 artefact contents), ` +
        "1 emergency windows, 1 member leases, 0 attestations, 0 alerts, 0 expiry-ladder claims, 0 Slack messages, 0 facts\n" +
        "DynamoDB table migrated in Region eu-west-1: 152 audit records, chain intact " +
        `(head ${sourceRecords.at(-1)?.hash.slice(0, 16)}…, as in the SQLite store)\n`,
    );
    expect(await breakglass("audit", "verify", "--config", config)).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^DynamoDB table migrated in Region eu-west-1: 152 audit records, chain intact/),
    });

    // What the DynamoDB store now answers is what the SQLite one did.
    const store = openStore({
      kind: "dynamodb",
      path: "",
      table: "migrated",
      region: "eu-west-1",
      endpoint: moto.endpoint,
    });
    expect(store.audit.auditRecords()).toEqual(sourceRecords);
    expect(store.runs.findRun("run-1")).toMatchObject({ status: "failed", leaseHolder: "engine-a" });
    expect(store.runs.runSteps("run-1").map((step) => [step.stepId, step.status, step.attempts])).toEqual([
      ["check-idp", "failed", 1],
      ["import", "pending", 0],
    ]);
    expect(store.runs.runArtefacts("run-1")).toEqual({ "metadata-file": "/old-host/artefacts/run-1/check-idp.xml" });
    expect(
      Buffer.from(store.artefacts.artefactContent("run-1", "metadata-file")?.content ?? []).equals(inspected),
    ).toBe(true);
    expect(store.windows.openWindows().map((window) => window.incident)).toEqual(["INC-1"]);
    expect(store.leases.activeLease("g1", "u1")).toMatchObject({ login: "u1@x", expiresAt: at(50).toISOString() });
    // New writes continue the same chain.
    store.audit.appendAudit(
      { actor: "carol", action: "slack.button", runId: null, subject: "after", detail: {} },
      at(9),
    );
    expect(store.audit.auditHead()).toBe(153);
    store.close();

    // A second copy into the same, now non-empty, table is refused, naming it.
    const again = await breakglass("store", "migrate", "--from", sqlitePath, "--config", config);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(
      "DynamoDB table migrated in Region eu-west-1: the table is not empty (153 audit records)",
    );
  });
});

describe("store backup", () => {
  it("points a DynamoDB store to point-in-time recovery and on-demand backups instead", async () => {
    const { directory, config } = dynamoConfig("backed-up");
    const result = await breakglass("store", "backup", join(directory, "copy.db"), "--config", config);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("a DynamoDB store is backed up by DynamoDB itself: point-in-time recovery");
  });
});
