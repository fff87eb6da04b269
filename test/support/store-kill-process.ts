// A process for the store kill test: drives one run through the real SQLite store and SIGKILLs itself right after its
// n-th write to the database (every statement that writes, and every COMMIT), so it dies inside transactions and between them.
// Usage: node --import tsx test/support/store-kill-process.ts <store> <runbook.yaml> <n> <ISO instant>
import { openWindowExecutor } from "../../src/adapters/runbook-actions/emergency-window.js";
import { openSqliteConnection } from "../../src/adapters/store/sqlite/sqlite-connection.js";
import { SqliteStore } from "../../src/adapters/store/sqlite/sqlite-store.js";
import type { SqlDatabase, SqlStatement } from "../../src/adapters/store/sqlite/sql-database.js";
import { AuditLog } from "../../src/domain/audit/audit-log.js";
import type { ActionExecutor } from "../../src/domain/runbooks/engine-ports.js";
import { readRunbookSource, RunEngine } from "../../src/domain/runbooks/run-engine.js";
import { ACTION_NAMES, type ActionName } from "../../src/domain/runbooks/runbook-schema.js";
import { fixedClock } from "../../src/domain/shared/clock.js";

const KILLED_RUN_ID = "run-killed";

/** The connection, with SIGKILL right after its n-th write: nothing runs after it, exactly as when the machine dies. */
function killingAfter(database: SqlDatabase, writes: number): SqlDatabase {
  let written = 0;
  const wrote = () => {
    if (++written === writes) process.kill(process.pid, "SIGKILL");
  };
  const watch = (statement: SqlStatement): SqlStatement => ({
    run: (...parameters) => {
      const result = statement.run(...parameters);
      wrote();
      return result;
    },
    get: (...parameters) => statement.get(...parameters),
    all: (...parameters) => statement.all(...parameters),
  });
  return {
    name: database.name,
    prepare: (sql) => watch(database.prepare(sql)),
    exec: (sql) => database.exec(sql),
    pragma: (statement) => database.pragma(statement),
    immediate: (work) =>
      database.immediate(() => {
        const result = work();
        // The COMMIT itself is the last point inside: killed here, the transaction is not committed.
        wrote();
        return result;
      }),
    close: () => database.close(),
  };
}

async function main(): Promise<void> {
  const [storePath, runbookPath, writes, instant] = process.argv.slice(2) as [string, string, string, string];
  const store = new SqliteStore(killingAfter(openSqliteConnection(storePath), Number(writes)));
  const clock = fixedClock(new Date(instant));
  const refuse: ActionExecutor = { plan: () => Promise.reject(new TypeError("not in this runbook")), apply: () => Promise.reject(new TypeError("not in this runbook")), verify: () => Promise.reject(new TypeError("not in this runbook")) };
  const actions = Object.fromEntries(ACTION_NAMES.map((name) => [name, refuse])) as Record<ActionName, ActionExecutor>;
  const engine = new RunEngine({
    store: store.runs,
    audit: new AuditLog(store.audit, clock),
    clock,
    executors: { check: () => Promise.resolve({ findings: [] }), actions: { ...actions, "emergency.open-window": openWindowExecutor({ store: store.windows }) }, notify: () => Promise.resolve(), sleep: () => Promise.resolve() },
    runbooks: () => readRunbookSource(runbookPath),
    holder: "killed-process",
    newRunId: () => KILLED_RUN_ID,
  });
  engine.start(await readRunbookSource(runbookPath), { incident: "INC-7" }, "alice", { dryRun: false });
  await engine.advance(KILLED_RUN_ID, "alice");
  await engine.approve(KILLED_RUN_ID, "bob");
  await engine.advance(KILLED_RUN_ID, "bob");
  store.close();
}

await main();
