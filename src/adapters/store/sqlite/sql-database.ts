// The SQLite connection the store uses: node:sqlite on Node 24 and later, better-sqlite3 before, behind the few calls the store makes.
import { createRequire } from "node:module";

export interface SqlStatement {
  run(...parameters: unknown[]): { changes: number | bigint };
  get(...parameters: unknown[]): unknown;
  all(...parameters: unknown[]): unknown[];
}

export interface SqlDatabase {
  /** The file it was opened from. */
  readonly name: string;
  prepare(sql: string): SqlStatement;
  exec(sql: string): void;
  /** `pragma("user_version")` reads a value; `pragma("journal_mode = WAL")` sets one. */
  pragma(statement: string): unknown;
  /** Runs `work` in one transaction (BEGIN IMMEDIATE: the write lock is taken first), committed or rolled back as a whole. */
  immediate<T>(work: () => T): T;
  /**
   * Copies the database to `destination` with SQLite's online backup API: a consistent snapshot of committed data,
   * WAL included, while other connections keep writing. The destination file is replaced.
   */
  backup(destination: string): Promise<void>;
  close(): void;
}

interface Driver {
  prepare(sql: string): SqlStatement;
  exec(sql: string): void;
  close(): void;
}

interface OpenedDriver {
  readonly driver: Driver;
  readonly backup: (destination: string) => Promise<void>;
}

/*
 * Pages copied per backup step: all of them. SQLite restarts a stepwise backup whenever another connection writes
 * between two steps, so on a busy store small steps might never finish; one step copies one read snapshot, and in WAL
 * mode a reader does not block writers.
 */
const ALL_PAGES = 0x7fffffff;

const require = createRequire(import.meta.url);

/**
 * better-sqlite3 12 (the last line that runs on Node 20) aborts the process on Node 24 when a statement
 * is garbage-collected during exit (Assertion failed: (env) != nullptr); Node 24's own node:sqlite has
 * no such teardown, so it is used wherever it exists in a stable form.
 */
function openDriver(path: string): OpenedDriver {
  const major = Number(process.versions.node.split(".")[0]);
  if (major >= 24) {
    const { DatabaseSync, backup } = require("node:sqlite") as {
      DatabaseSync: new (path: string) => Driver;
      backup: (source: Driver, destination: string, options: { rate: number }) => Promise<unknown>;
    };
    const driver = new DatabaseSync(path);
    return { driver, backup: async (destination) => void (await backup(driver, destination, { rate: ALL_PAGES })) };
  }
  const BetterSqlite = require("better-sqlite3") as new (path: string) => Driver & {
    backup(destination: string, options: { progress: () => number }): Promise<unknown>;
  };
  const driver = new BetterSqlite(path);
  return {
    driver,
    backup: async (destination) => void (await driver.backup(destination, { progress: () => ALL_PAGES })),
  };
}

export function openSqlDatabase(path: string): SqlDatabase {
  const { driver, backup } = openDriver(path);
  // Compiling a statement costs more than running most of ours; each SQL text is compiled once per connection.
  const statements = new Map<string, SqlStatement>();
  return {
    name: path,
    prepare: (sql) => {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = driver.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
    exec: (sql) => driver.exec(sql),
    pragma: (statement) => {
      if (statement.includes("=")) {
        driver.exec(`PRAGMA ${statement}`);
        return undefined;
      }
      const row = driver.prepare(`PRAGMA ${statement}`).get() as Record<string, unknown> | undefined;
      return row === undefined ? undefined : Object.values(row)[0];
    },
    immediate: (work) => {
      driver.exec("BEGIN IMMEDIATE");
      try {
        const result = work();
        driver.exec("COMMIT");
        return result;
      } catch (error) {
        driver.exec("ROLLBACK");
        throw error;
      }
    },
    backup,
    close: () => {
      statements.clear();
      driver.close();
    },
  };
}
