// A process for the store kill test: drives the drill run through the real SQLite store and SIGKILLs itself right
// after its n-th write (a writing statement or a COMMIT), so it dies inside transactions and between them.
// Usage: node --import tsx test/support/store-kill-process.ts <store> <runbook.yaml> <n> <ISO instant>
import { openSqliteConnection } from "../../src/adapters/store/sqlite/sqlite-connection.js";
import { SqliteStore } from "../../src/adapters/store/sqlite/sqlite-store.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { driveDrill, watchWrites } from "./kill-drill.js";

const [storePath, runbookPath, writes, instant] = process.argv.slice(2) as [string, string, string, string];
// SIGKILL, not an exception: nothing may run after it, exactly as when the machine dies.
const connection = watchWrites(openSqliteConnection(storePath), {
  after: (write) => {
    if (write === Number(writes)) process.kill(process.pid, "SIGKILL");
  },
});
const store = new SqliteStore(connection);
await driveDrill(store, runbookPath, fixedClock(new Date(instant)), "killed-process");
store.close();
