// The one place a store is chosen and opened: every front end and use case gets the BreakglassStore port from here.
import type { BreakglassStore } from "../../domain/ports/store.js";
import { backupSqliteStore, type BackupOptions } from "./sqlite/sqlite-backup.js";
import { SqliteStore } from "./sqlite/sqlite-store.js";

/** breakglass.yaml's store section, as far as opening the store needs it. */
export interface StoreSettings {
  /** The SQLite file (made, with its folder, when missing). */
  readonly path: string;
}

export function openStore(settings: StoreSettings): BreakglassStore {
  return SqliteStore.open(settings.path);
}

/** A consistent copy of the store in `destination` while other processes may write to it (`breakglass store backup`). */
export function backupStore(settings: StoreSettings, destination: string, options: BackupOptions): Promise<void> {
  return backupSqliteStore(settings.path, destination, options);
}
