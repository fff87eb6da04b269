// A consistent copy of the SQLite store while other processes write to it: SQLite's online backup, never a file copy.
import { chmodSync, closeSync, existsSync, linkSync, mkdirSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { BreakglassError, describeError } from "../../../domain/errors.js";
import { openSqlDatabase } from "./sql-database.js";

export interface BackupOptions {
  /** Replace an existing destination file. */
  readonly force: boolean;
}

/**
 * Copies the store at `source` to `destination` (0600), checks that the copy opens and passes SQLite's quick_check, and
 * only then puts it in place, so a failed or interrupted backup never leaves a half-written file under the name asked
 * for. A plain copy of the file while serve runs misses what is still in the -wal file and can tear a page.
 */
export async function backupSqliteStore(source: string, destination: string, options: BackupOptions): Promise<void> {
  const target = resolve(destination);
  if (!existsSync(source))
    throw new BreakglassError("USAGE", source, "no store here to back up (store.path in the configuration)");
  if (target === resolve(source)) throw new BreakglassError("USAGE", destination, "is the store itself");
  if (existsSync(target) && !options.force)
    throw new BreakglassError("USAGE", destination, "already exists, not overwriting it (pass --force to replace it)");
  if (existsSync(target) && statSync(target).isDirectory())
    throw new BreakglassError("USAGE", destination, "is a directory: name the backup file");

  // Beside the destination, so that putting it in place is a rename on one file system.
  const partial = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
  try {
    createPrivateFile(partial, destination);
    await copyOnline(source, partial);
    // SQLite writes into the file made above and keeps its mode; say it again in case a driver recreated it.
    chmodSync(partial, 0o600);
    checkCopy(partial, destination);
    place(partial, target, options, destination);
  } finally {
    rmSync(partial, { force: true });
  }
}

function createPrivateFile(path: string, destination: string): void {
  try {
    // A new folder for backups is private too, as the store's own is.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, "w", 0o600));
  } catch (error) {
    throw new BreakglassError("STORE_FAILED", destination, `cannot write the backup: ${describeError(error)}`, {
      cause: error,
    });
  }
}

async function copyOnline(source: string, partial: string): Promise<void> {
  let database;
  try {
    // The driver alone, not the store's connection: a backup must not migrate or otherwise change the store it reads.
    database = openSqlDatabase(source);
    database.pragma("busy_timeout = 5000");
    await database.backup(partial);
  } catch (error) {
    throw new BreakglassError("STORE_FAILED", source, `cannot back up the store: ${describeError(error)}`, {
      cause: error,
    });
  } finally {
    database?.close();
  }
}

function checkCopy(partial: string, destination: string): void {
  let verdict: unknown;
  try {
    const copy = openSqlDatabase(partial);
    try {
      verdict = copy.pragma("quick_check");
    } finally {
      copy.close();
    }
  } catch (error) {
    throw new BreakglassError("STORE_FAILED", destination, `the backup does not open: ${describeError(error)}`, {
      cause: error,
    });
  }
  if (verdict !== "ok")
    throw new BreakglassError("STORE_FAILED", destination, `the backup fails SQLite's quick_check: ${String(verdict)}`);
}

function place(partial: string, target: string, options: BackupOptions, destination: string): void {
  try {
    // Without --force, link refuses a file that appeared meanwhile (EEXIST) where rename would replace it.
    if (options.force) renameSync(partial, target);
    else linkSync(partial, target);
  } catch (error) {
    const code = error instanceof Error && "code" in error ? error.code : undefined;
    if (code === "EEXIST")
      throw new BreakglassError(
        "USAGE",
        destination,
        "already exists, not overwriting it (pass --force to replace it)",
      );
    throw new BreakglassError("STORE_FAILED", destination, `cannot write the backup: ${describeError(error)}`, {
      cause: error,
    });
  }
}
