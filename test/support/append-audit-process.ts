// A process for the store's concurrency test: opens the store and appends audit records as fast as it can, racing another.
// Usage: node --import tsx test/support/append-audit-process.ts <store> <writer name> <count>
// <store> is a SQLite file, or the store settings as JSON ({"kind":"dynamodb","table":…,"region":…,"endpoint":…}).
import { openStore, type StoreSettings } from "../../src/adapters/store/open-store.js";

const [location, writer, count] = process.argv.slice(2) as [string, string, string];
const store = openStore(location.startsWith("{") ? (JSON.parse(location) as StoreSettings) : { path: location });
for (let index = 1; index <= Number(count); index++) {
  store.audit.appendAudit(
    { actor: writer, action: "slack.button", runId: null, subject: `${writer}-${index}`, detail: { index } },
    new Date(Date.UTC(2026, 10, 25, 3)),
  );
}
store.close();
