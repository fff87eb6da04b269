// Opens the store's one SQLite connection (WAL, synced commits, migrated), and turns the driver's failures into STORE_FAILED naming the file.
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { BreakglassError, describeError } from "../../../domain/errors.js";
import { migrate } from "./migrations.js";
import { openSqlDatabase, type SqlDatabase } from "./sql-database.js";

export function openSqliteConnection(path: string): SqlDatabase {
  try {
    if (path !== ":memory:") createPrivateFile(path);
    const database = openSqlDatabase(path);
    // First, so that switching a new file to WAL waits for another process opening it at the same moment.
    database.pragma("busy_timeout = 5000");
    database.pragma("journal_mode = WAL");
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
