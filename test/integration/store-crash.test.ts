// A run whose process dies at any write it makes to the SQLite store, inside transactions and between them: the store
// never holds a step's status without the audit record that tells of it, the chain stays intact, and the run resumes.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/adapters/store/open-store.js";
import { openSqliteConnection } from "../../src/adapters/store/sqlite/sqlite-connection.js";
import { SqliteStore } from "../../src/adapters/store/sqlite/sqlite-store.js";
import { verifyChain } from "../../src/domain/audit/audit-chain.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { DRILL_RUN_ID, driveDrill, stepsAgainstAudit, watchWrites, writeDrillRunbook } from "../support/kill-drill.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const STARTED_AT = new Date("2026-11-25T03:00:00Z");
const AFTER_LEASE = new Date(STARTED_AT.getTime() + 11 * 60_000); // the dead process's run lease (10 min) has expired
/** Real processes are slow to start: they are killed at every fifth write; the in-process death covers every write. */
const PROCESS_KILL_STRIDE = 5;

const directories: string[] = [];
const directory = () => {
  const made = mkdtempSync(join(tmpdir(), "breakglass-store-crash-"));
  directories.push(made);
  return made;
};
afterAll(() => {
  for (const made of directories.splice(0)) rmSync(made, { recursive: true, force: true });
});

class ProcessDied extends Error {}

function killedProcess(
  storePath: string,
  runbookPath: string,
  writes: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "test/support/store-kill-process.ts",
        storePath,
        runbookPath,
        String(writes),
        STARTED_AT.toISOString(),
      ],
      { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** What a store left by a process that died after `writes` writes must show, and that a second process resumes the run to its end. */
async function expectConsistentThenResumed(storePath: string, runbookPath: string, writes: number): Promise<void> {
  const store = openStore({ path: storePath });
  try {
    const afterDeath = stepsAgainstAudit(store);
    expect(afterDeath.stored, `died after write ${writes}`).toEqual(afterDeath.audited);
    const started = store.audit
      .auditRecords()
      .some((record) => record.action === "run.started" && record.runId === DRILL_RUN_ID);
    expect(
      store.runs.findRun(DRILL_RUN_ID) !== null,
      `died after write ${writes}: the run exists exactly when its start is audited`,
    ).toBe(started);
    expect(verifyChain(store.audit.auditRecords())).toEqual([]);

    expect(await driveDrill(store, runbookPath, fixedClock(AFTER_LEASE), "resuming-process")).toBe("succeeded");
    const resumed = stepsAgainstAudit(store);
    expect(resumed.stored).toEqual(resumed.audited);
    expect(resumed.stored).toEqual({
      "expect-outage": "failed",
      "open-window": "succeeded",
      approve: "succeeded",
      announce: "succeeded",
    });
    expect(verifyChain(store.audit.auditRecords())).toEqual([]);
    expect(store.windows.openWindows().map((window) => window.incident)).toEqual(["INC-7"]);
  } finally {
    store.close();
  }
}

// No time limit (0) on either test: each loop ends when a run makes every write without dying, however busy the machine.
describe("a run whose process dies at a write to the store", () => {
  it("never leaves a step's status without its audit record when every write in turn is the last", async () => {
    const workDirectory = directory();
    const runbookPath = writeDrillRunbook(workDirectory);
    let deathPoints = 0;
    for (let writes = 0; ; writes++) {
      const storePath = join(workDirectory, `death-${writes}`, "breakglass.db");
      openStore({ path: storePath }).close();
      // The process dies after `writes` writes: the next one, and every one after it, never reaches the file.
      let died = false;
      const dying = watchWrites(openSqliteConnection(storePath), {
        before: (write) => {
          if (write > writes) {
            died = true;
            throw new ProcessDied(`the process died after write ${writes}`);
          }
        },
      });
      const store = new SqliteStore(dying);
      const outcome = await driveDrill(store, runbookPath, fixedClock(STARTED_AT), "dying-process").catch(
        (error: unknown) => error,
      );
      store.close();
      if (!died) {
        // Past the last write: the run went to its end unharmed.
        expect(outcome).toBe("succeeded");
        break;
      }
      deathPoints++;
      await expectConsistentThenResumed(storePath, runbookPath, writes);
    }
    // Every transition of the run is several writes (the run, its steps, its audit records, the commit): many death points.
    expect(deathPoints).toBeGreaterThanOrEqual(50);
  }, 0);

  it("recovers the same way from SIGKILL in a real process, inside transactions and between them", async () => {
    const workDirectory = directory();
    const runbookPath = writeDrillRunbook(workDirectory);
    let killPoints = 0;
    for (let writes = 1; ; writes += PROCESS_KILL_STRIDE) {
      const storePath = join(workDirectory, `kill-${writes}`, "breakglass.db");
      openStore({ path: storePath }).close();
      const killed = await killedProcess(storePath, runbookPath, writes);
      if (killed.signal !== "SIGKILL") {
        expect(killed).toMatchObject({ code: 0, stderr: "" });
        const store = openStore({ path: storePath });
        expect(store.runs.findRun(DRILL_RUN_ID)?.status).toBe("succeeded");
        store.close();
        break;
      }
      killPoints++;
      await expectConsistentThenResumed(storePath, runbookPath, writes);
    }
    expect(killPoints).toBeGreaterThanOrEqual(10);
  }, 0);
});
