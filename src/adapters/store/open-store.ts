// The one place a store is chosen and opened: every front end and use case gets the BreakglassStore port from here.
import type { BreakglassStore } from "../../domain/ports/store.js";
import { SqliteStore } from "./sqlite/sqlite-store.js";

/** breakglass.yaml's store section, as far as opening the store needs it. */
export interface StoreSettings {
  /** The SQLite file (made, with its folder, when missing). */
  readonly path: string;
}

export function openStore(settings: StoreSettings): BreakglassStore {
  return SqliteStore.open(settings.path);
}
