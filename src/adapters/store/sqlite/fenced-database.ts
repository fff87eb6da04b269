// A leader's view of the store's SQLite connection: every write checks the leader's fencing token inside its own
// transaction (BEGIN IMMEDIATE holds the write lock, so no new leader can take the lease between check and write).
import { currentFence, fenceRefusal, type FenceSource } from "../../../domain/ports/leadership-store.js";
import type { SqlDatabase, SqlStatement } from "./sql-database.js";

/** Statements that only read; every other one (INSERT, UPDATE, DELETE, with or without RETURNING) is a write. */
const READ_ONLY = /^\s*(SELECT|PRAGMA)\b/i;

/**
 * Wraps `database` so that a write outside a transaction becomes a transaction of its own that checks the fence first,
 * and a transaction (`immediate`) checks the fence before its work. Reads pass through unchecked. Closing it closes
 * nothing: the connection belongs to the store the view was made from.
 */
export function fencedDatabase(database: SqlDatabase, source: FenceSource): SqlDatabase {
  let depth = 0;
  const store = `SQLite store ${database.name}`;
  const check = () => {
    // Read at each write: a getter's fence is the elector's term now, not when the view was made.
    const fence = currentFence(source, store);
    const row = database.prepare("SELECT holder, token FROM leader_leases WHERE name = ?").get(fence.name) as
      { holder: string | null; token: number } | undefined;
    if (row?.holder === fence.holder && Number(row.token) === fence.token) return;
    throw fenceRefusal(store, fence, row === undefined ? null : { holder: row.holder, token: Number(row.token) });
  };
  const immediate = <T>(work: () => T): T => {
    if (depth > 0) return work();
    depth++;
    try {
      return database.immediate(() => {
        check();
        return work();
      });
    } finally {
      depth--;
    }
  };
  const fencedStatement = (statement: SqlStatement): SqlStatement => ({
    run: (...parameters) => immediate(() => statement.run(...parameters)),
    get: (...parameters) => immediate(() => statement.get(...parameters)),
    all: (...parameters) => immediate(() => statement.all(...parameters)),
  });
  return {
    name: database.name,
    prepare: (sql) => (READ_ONLY.test(sql) ? database.prepare(sql) : fencedStatement(database.prepare(sql))),
    exec: (sql) => immediate(() => database.exec(sql)),
    pragma: (statement) => database.pragma(statement),
    immediate,
    backup: (destination) => database.backup(destination),
    close: () => undefined,
  };
}
