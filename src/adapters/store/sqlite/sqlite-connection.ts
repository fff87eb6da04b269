// Opens the store's one SQLite connection (WAL, synced commits, migrated), and turns the driver's failures into STORE_FAILED naming the file.
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { BreakglassError, describeError } from "../../../domain/errors.js";
import { pauseThread } from "../pause-thread.js";
import { migrate } from "./migrations.js";
import { openSqlDatabase, type SqlDatabase } from "./sql-database.js";

/** How long a write waits for another process's write lock (busy_timeout), and opening for another opener's WAL switch. */
const LOCK_WAIT_MS = 5_000;

/** `pause` blocks between tries of the WAL switch; tests hand in one that lets the other opener finish. */
export function openSqliteConnection(path: string, pause: (ms: number) => void = pauseThread): SqlDatabase {
  try {
    if (path !== ":memory:") createPrivateFile(path);
    const database = openSqlDatabase(path);
    // The switch waits in its own loop (better-sqlite3 opens with a 5 s busy_timeout of its own: set none until then).
    database.pragma("busy_timeout = 0");
    switchToWal(database, pause);
    database.pragma(`busy_timeout = ${LOCK_WAIT_MS}`);
    // Every commit reaches the disk before it returns: an audit record, a lease or a run's checkpoint must survive
    // a power cut, not only a crash of the process. (better-sqlite3 is built with NORMAL as its WAL default, and
    // node:sqlite on Node 22+ may not be: set it, so both drivers keep the same promise.)
    database.pragma("synchronous = FULL");
    database.pragma("foreign_keys = ON");
    migrate(database);
    return database;
  } catch (error) {
    if (error instanceof BreakglassError) throw error;
    throw new BreakglassError("STORE_FAILED", path, `cannot open the store: ${describeError(error)}`, { cause: error });
  }
}

/**
 * Switching a new file to WAL reads its header, then writes it. SQLite does not wait (busy_timeout) for a write lock
 * that a reader wants while another process holds it, since that one may be waiting for the reader to finish: it fails
 * at once with "database is locked". Two serve replicas started together on a new store meet exactly there, so the
 * switch is tried again, with growing pauses, for as long as a write would wait. With no busy_timeout set meanwhile,
 * every "busy" comes back at once, whichever lock it met, and the pauses are the whole wait. On a file already in WAL
 * mode, or one that nobody else opens, the first try succeeds.
 */
function switchToWal(database: SqlDatabase, pause: (ms: number) => void): void {
  for (let waited = 0, next = 10; ; waited += next, next = Math.min(next * 2, 250)) {
    try {
      database.pragma("journal_mode = WAL");
      return;
    } catch (error) {
      if (!isBusy(error)) throw error;
      if (waited >= LOCK_WAIT_MS) {
        const message = `cannot open the store: another process kept it locked for ${LOCK_WAIT_MS / 1000} s (${describeError(error)})`;
        throw new BreakglassError("STORE_FAILED", database.name, message, { cause: error });
      }
      pause(next);
    }
  }
}

/** SQLITE_BUSY (and its extended codes) from either driver: better-sqlite3 names it, node:sqlite numbers it. */
function isBusy(error: unknown): boolean {
  const { code, errcode } = error as { code?: unknown; errcode?: unknown };
  return (
    (typeof code === "string" && code.startsWith("SQLITE_BUSY")) ||
    (typeof errcode === "number" && (errcode & 0xff) === 5)
  );
}

/**
 * The store holds the audit log, runs and who approved what, so it is made readable by its owner only, like the config,
 * mirror and artefacts (0600, in a new folder 0700). SQLite gives the -wal and -shm files the mode of the database file,
 * so making the file first, before SQLite does with its 0644, covers all three. An existing file keeps its mode.
 */
function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // "a": create when missing, never truncate; the mode applies only to a file this call creates.
  closeSync(openSync(path, "a", 0o600));
}

/** Runs `work`; a driver error becomes STORE_FAILED naming the file, and one already said (a BreakglassError) passes unchanged. */
export function guarded<T>(database: SqlDatabase, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof BreakglassError) throw error;
    throw new BreakglassError("STORE_FAILED", database.name, describeError(error), { cause: error });
  }
}
