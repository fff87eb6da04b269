// The embedded SQLite store: the store contract, and what only SQLite has: its pragmas, a clear error for a bad file,
// and files left by every earlier schema version opened, upgraded and read.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../../src/adapters/store/open-store.js";
import { migrate, MIGRATIONS } from "../../../src/adapters/store/sqlite/migrations.js";
import { openSqliteConnection } from "../../../src/adapters/store/sqlite/sqlite-connection.js";
import { openSqlDatabase, type SqlDatabase } from "../../../src/adapters/store/sqlite/sql-database.js";
import { sealRecord, verifyChain, GENESIS_HASH } from "../../../src/domain/audit/audit-chain.js";
import type { BreakglassStore } from "../../../src/domain/ports/store.js";
import { runStoreContract } from "./store-contract.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const directories: string[] = [];
const directory = () => {
  const made = mkdtempSync(join(tmpdir(), "breakglass-store-"));
  directories.push(made);
  return made;
};
afterAll(() => {
  for (const made of directories.splice(0)) rmSync(made, { recursive: true, force: true });
});

describe("the SQLite store", () => {
  runStoreContract({
    newStore: () => {
      const path = join(directory(), "nested", "breakglass.db");
      return {
        open: () => openStore({ path }),
        corruptArtefact: (runId, name) => {
          const database = openSqliteConnection(path);
          database
            .prepare(
              "UPDATE run_artefact_contents SET content = CAST(X'00' || content AS BLOB) WHERE run_id = ? AND name = ?",
            )
            .run(runId, name);
          database.close();
        },
      };
    },
  });

  it("syncs every commit to disk in WAL mode, whichever driver runs", () => {
    const path = join(directory(), "breakglass.db");
    openStore({ path }).close();
    const database = openSqliteConnection(path);
    expect(database.pragma("user_version")).toBe(MIGRATIONS.length);
    // An audit record must survive a power cut, not only a crash of the process.
    expect(database.pragma("journal_mode")).toBe("wal");
    expect(database.pragma("synchronous")).toBe(2);
    database.close();
  });

  it("creates the store, its -wal and -shm readable by their owner only (0600), like the config and the mirror", () => {
    const folder = join(directory(), "new-folder");
    const path = join(folder, "breakglass.db");
    const store = openStore({ path });
    store.audit.appendAudit(
      { actor: "alice", action: "store.mode-test", runId: null, subject: "the store", detail: {} },
      new Date("2026-11-24T12:00:00Z"),
    );
    const modeOf = (file: string) => (statSync(file).mode & 0o777).toString(8);
    expect([modeOf(path), modeOf(`${path}-wal`), modeOf(`${path}-shm`), modeOf(folder)]).toEqual([
      "600",
      "600",
      "600",
      "700",
    ]);
    store.close();
  });

  it("names the file when it cannot open it", () => {
    const path = join(directory(), "not-a-db");
    writeFileSync(path, "this is not SQLite, it is a text file that is long enough to have a header".repeat(20));
    expect(() => openStore({ path })).toThrow(`${path}: cannot open the store: file is not a database`);
  });

  describe("opening a new file that another replica is creating at the same moment", () => {
    /** A new, empty store file, and another connection (as another replica's) holding a lock on it, in rollback mode. */
    const newFileBeingCreated = (begin = "BEGIN IMMEDIATE") => {
      const path = join(directory(), "breakglass.db");
      writeFileSync(path, "", { mode: 0o600 });
      const other = openSqlDatabase(path);
      other.exec(`${begin}; CREATE TABLE other_replica (x)`);
      return { path, other };
    };

    // IMMEDIATE: the other holds the write lock, which SQLite alone never waits for here. EXCLUSIVE: it also keeps
    // readers out, which busy_timeout would wait for; the pauses do both waits.
    it.each(["BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"])(
      "waits for the other's write (%s) and opens the store, where SQLite alone fails at once with 'database is locked'",
      (begin) => {
        const { path, other } = newFileBeingCreated(begin);
        const pauses: number[] = [];
        // The other replica finishes its write while this one pauses (another process would, in its own time).
        const database = openSqliteConnection(path, (ms) => {
          pauses.push(ms);
          other.exec("COMMIT");
        });
        other.close();
        expect(pauses).toEqual([10]);
        expect(database.pragma("journal_mode")).toBe("wal");
        expect(database.pragma("user_version")).toBe(MIGRATIONS.length);
        // Writes from here on wait for another's write lock, as ever.
        expect(database.pragma("busy_timeout")).toBe(5_000);
        // What the other wrote is kept, and the store takes writes.
        expect(database.prepare("SELECT count(*) AS n FROM other_replica").get()).toEqual({ n: 0 });
        database.close();
        const store = openStore({ path });
        store.audit.appendAudit(
          { actor: "alice", action: "store.open-test", runId: null, subject: "the store", detail: {} },
          new Date("2026-12-05T12:00:00Z"),
        );
        expect(store.audit.auditRecords().map((record) => record.actor)).toEqual(["alice"]);
        store.close();
      },
    );

    it("gives up after 5 s of pauses on a file another process keeps locked, naming the file and why", () => {
      const { path, other } = newFileBeingCreated();
      const pauses: number[] = [];
      expect(() => openSqliteConnection(path, (ms) => void pauses.push(ms))).toThrow(
        `${path}: cannot open the store: another process kept it locked for 5 s (database is locked)`,
      );
      other.exec("ROLLBACK");
      other.close();
      // The pauses asked for (none is really slept here): growing to a quarter second, then repeated until they add
      // up to the 5 s a write would wait (310 ms + 19 × 250 ms = 5,060 ms).
      expect(pauses).toEqual([10, 20, 40, 80, 160, ...Array<number>(19).fill(250)]);
    });
  });

  it("refuses a file from a newer breakglass, naming both versions", () => {
    const path = join(directory(), "breakglass.db");
    const database = openSqlDatabase(path);
    database.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    database.close();
    expect(() => openStore({ path })).toThrow(
      `${path}: the store has schema version ${MIGRATIONS.length + 1}, newer than this breakglass knows (${MIGRATIONS.length}); upgrade breakglass`,
    );
  });

  it("keeps one intact chain, no sequence twice, when two processes append to the audit log at the same time", async () => {
    const path = join(directory(), "breakglass.db");
    openStore({ path }).close();
    const append = (writer: string) =>
      new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ["--import", "tsx", "test/support/append-audit-process.ts", path, writer, "150"],
          { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
        );
        let stderr = "";
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.once("error", reject);
        child.once("exit", (code) => resolve({ code, stderr }));
      });
    expect(await Promise.all([append("first"), append("second")])).toEqual([
      { code: 0, stderr: "" },
      { code: 0, stderr: "" },
    ]);
    const store = openStore({ path });
    const records = store.audit.auditRecords();
    store.close();
    expect(records).toHaveLength(300);
    expect(new Set(records.map((record) => record.sequence)).size).toBe(300);
    expect(verifyChain(records)).toEqual([]);
    // Each writer's records are in its own order on the one chain.
    for (const writer of ["first", "second"]) {
      expect(records.filter((record) => record.actor === writer).map((record) => record.detail["index"])).toEqual(
        Array.from({ length: 150 }, (_value, index) => index + 1),
      );
    }
  });

  it("names the file when a closed store is used", () => {
    const path = join(directory(), "breakglass.db");
    const store = openStore({ path });
    store.close();
    expect(() => store.ping()).toThrow(/breakglass\.db/);
  });

  describe("opening a file an earlier version left", () => {
    for (let version = 0; version < MIGRATIONS.length; version++) {
      it(`upgrades schema version ${version} and reads every row that version could hold`, () => {
        const path = join(directory(), "breakglass.db");
        const database = openSqlDatabase(path);
        migrate(database, version);
        seedAsVersion(database, version);
        database.close();

        const store = openStore({ path });
        try {
          expectSeeded(store, version);
        } finally {
          store.close();
        }
        const upgraded = openSqlDatabase(path);
        expect(upgraded.pragma("user_version")).toBe(MIGRATIONS.length);
        upgraded.close();
      });
    }
  });
});

const at = (hour: number) => new Date(Date.UTC(2026, 10, 25, hour));
const INSTANCE = "arn:aws:sso:::instance/ssoins-1234567890abcdef";
const started = sealRecord(
  {
    actor: "alice",
    action: "run.started",
    runId: "run-old",
    subject: "fm2-reimport-metadata",
    detail: { dryRun: false },
  },
  1,
  at(1),
  GENESIS_HASH,
);

/** Rows as the version that introduced each table wrote them, with the SQL of that time (no column added later). */
function seedAsVersion(database: SqlDatabase, version: number): void {
  if (version >= 1) {
    database
      .prepare(
        "INSERT INTO attestations (instance_arn, fingerprints, attested_at, attested_by, source) VALUES (?, ?, ?, ?, ?)",
      )
      .run(INSTANCE, '["aa","bb"]', at(1).toISOString(), "alice", "idp.xml");
  }
  if (version >= 2) {
    database
      .prepare(
        "INSERT INTO audit_records (sequence, at, actor, action, run_id, subject, detail, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        started.sequence,
        started.at,
        started.actor,
        started.action,
        started.runId,
        started.subject,
        JSON.stringify(started.detail),
        started.previousHash,
        started.hash,
      );
  }
  if (version >= 3) {
    database
      .prepare(
        "INSERT INTO runs (id, runbook_id, runbook_digest, inputs, initiator, dry_run, status, created_at, " +
          "updated_at, lease_holder, lease_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        "run-old",
        "fm2-reimport-metadata",
        "ab".repeat(32),
        '{"incident":"INC-1"}',
        "alice",
        0,
        "waiting",
        at(1).toISOString(),
        at(2).toISOString(),
        null,
        null,
      );
    database
      .prepare(
        "INSERT INTO runs (id, runbook_id, runbook_digest, inputs, initiator, dry_run, status, created_at, " +
          "updated_at, lease_holder, lease_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        "run-slack",
        "fm2-reimport-metadata",
        "ab".repeat(32),
        '{"incident":"INC-1"}',
        "slack:U0ALICE001",
        0,
        "waiting",
        at(1).toISOString(),
        at(2).toISOString(),
        null,
        null,
      );
    database
      .prepare(
        "INSERT INTO run_steps (run_id, step_id, position, status, outcome, attempts, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      )
      .run("run-old", "check-idp", 0, "succeeded", '{"summary":"clean"}', 1, at(2).toISOString());
    database
      .prepare(
        "INSERT INTO run_steps (run_id, step_id, position, status, outcome, attempts, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      )
      .run("run-old", "approve", 1, "waiting", '{"summary":"waits"}', 1, at(2).toISOString());
    database
      .prepare("INSERT INTO run_artefacts (run_id, name, path, step_id, created_at) VALUES (?, ?, ?, ?, ?)")
      .run("run-old", "metadata-file", "/artefacts/run-old/idp.xml", "check-idp", at(2).toISOString());
  }
  if (version >= 4) {
    database
      .prepare("INSERT INTO emergency_windows (incident, opened_at, opened_by, reason, run_id) VALUES (?, ?, ?, ?, ?)")
      .run("INC-1", at(1).toISOString(), "alice", "Okta is down", "run-old");
    database
      .prepare(
        "INSERT INTO member_leases (run_id, group_id, user_id, login, added_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
      )
      .run("INC-1", "g1", "u-alice", "alice@example.com", at(1).toISOString(), at(5).toISOString());
  }
  if (version >= 5) {
    database
      .prepare(
        "INSERT INTO alerts (key, code, severity, message, first_seen, last_seen, posted_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        "drift",
        "SAML_PROVIDER_DRIFT",
        "high",
        "drifts",
        at(1).toISOString(),
        at(2).toISOString(),
        at(1).toISOString(),
      );
    database
      .prepare("INSERT INTO expiry_warnings (fingerprint, step, posted_at) VALUES (?, ?, ?)")
      .run("ab12", "30d", at(1).toISOString());
    database
      .prepare("INSERT INTO slack_messages (subject, channel, ts, created_at) VALUES (?, ?, ?, ?)")
      .run("run:run-old", "C0ALERTS01", "1.0001", at(1).toISOString());
    database
      .prepare("INSERT INTO service_state (name, value) VALUES (?, ?)")
      .run("last-check-completed-at", at(2).toISOString());
  }
  if (version >= 7) {
    // Version 7 wrote each run with its initiator's person id.
    database
      .prepare(
        "UPDATE runs SET initiator_person = CASE WHEN initiator GLOB 'slack:[UW]*' THEN initiator ELSE 'unverified:' || initiator END",
      )
      .run();
  }
}

function expectSeeded(store: BreakglassStore, version: number): void {
  expect(store.attestations.latestAttestation(INSTANCE)).toEqual(
    version >= 1
      ? { instanceArn: INSTANCE, fingerprints: ["aa", "bb"], attestedAt: at(1), attestedBy: "alice", source: "idp.xml" }
      : null,
  );
  expect(store.audit.auditRecords()).toEqual(version >= 2 ? [started] : []);
  expect(store.runs.findRun("run-old")).toEqual(
    version >= 3
      ? {
          id: "run-old",
          runbookId: "fm2-reimport-metadata",
          runbookDigest: "ab".repeat(32),
          inputs: { incident: "INC-1" },
          initiator: "alice",
          initiatorPerson: "unverified:alice",
          dryRun: false,
          preflight: [],
          status: "waiting",
          createdAt: at(1).toISOString(),
          updatedAt: at(2).toISOString(),
          leaseHolder: null,
          leaseExpiresAt: null,
        }
      : null,
  );
  // Before runs kept a person id (version 7), a Slack initiator was its Slack user; any other name was never verified.
  expect(store.runs.findRun("run-slack")?.initiatorPerson).toBe(version >= 3 ? "slack:U0ALICE001" : undefined);
  expect(store.runs.runSteps("run-old").map((step) => [step.stepId, step.status, step.outcome?.summary])).toEqual(
    version >= 3
      ? [
          ["check-idp", "succeeded", "clean"],
          ["approve", "waiting", "waits"],
        ]
      : [],
  );
  expect(store.runs.runArtefacts("run-old")).toEqual(
    version >= 3 ? { "metadata-file": "/artefacts/run-old/idp.xml" } : {},
  );
  expect(store.windows.openWindows().map((window) => window.incident)).toEqual(version >= 4 ? ["INC-1"] : []);
  expect(store.leases.activeLease("g1", "u-alice")).toEqual(
    version >= 4
      ? {
          id: 1,
          runId: "INC-1",
          groupId: "g1",
          userId: "u-alice",
          login: "alice@example.com",
          addedAt: at(1).toISOString(),
          expiresAt: at(5).toISOString(),
          removedAt: null,
        }
      : null,
  );
  expect(store.serveState.openAlerts().map((alert) => [alert.key, alert.postedAt])).toEqual(
    version >= 5 ? [["drift", at(1).toISOString()]] : [],
  );
  expect(store.serveState.message("run:run-old")).toEqual(
    version >= 5 ? { channel: "C0ALERTS01", ts: "1.0001" } : null,
  );
  expect(store.serveState.state("last-check-completed-at")).toBe(version >= 5 ? at(2).toISOString() : null);
  // An expiry step posted before claims existed (version 6) counts as delivered: never posted again, however old.
  expect(store.serveState.claimExpiryStep("ab12", "30d", at(23), 60_000)).toBe(version < 5);

  // The upgraded file takes new writes on top of the old rows, on the same chain.
  store.audit.appendAudit({ actor: "bob", action: "slack.button", runId: null, subject: "press", detail: {} }, at(3));
  expect(verifyChain(store.audit.auditRecords())).toEqual([]);
}
