// The one place a store is chosen and opened: every front end and use case gets the BreakglassStore port from here.
import { BreakglassError } from "../../domain/errors.js";
import type { BreakglassStore } from "../../domain/ports/store.js";
import { importSqliteStore, type ImportCounts } from "./dynamodb/dynamodb-import.js";
import { DynamoStore } from "./dynamodb/dynamodb-store.js";
import { initTable, type TableInitResult } from "./dynamodb/dynamodb-table-design.js";
import { DynamoTable, type DynamoStoreSettings } from "./dynamodb/dynamodb-table.js";
import { backupSqliteStore, type BackupOptions } from "./sqlite/sqlite-backup.js";
import { pauseThread } from "./pause-thread.js";
import { SqliteStore } from "./sqlite/sqlite-store.js";

/** breakglass.yaml's store section, as far as opening the store needs it. */
export interface StoreSettings {
  /** sqlite (the default): one file on this host. dynamodb: one table that every host shares. */
  readonly kind?: "sqlite" | "dynamodb" | undefined;
  /** The SQLite file (made, with its folder, when missing). */
  readonly path: string;
  /** The DynamoDB table, its Region, and another endpoint than the Region's if any (kind dynamodb). */
  readonly table?: string | undefined;
  readonly region?: string | undefined;
  readonly endpoint?: string | undefined;
}

export function openStore(settings: StoreSettings): BreakglassStore {
  if (settings.kind === "dynamodb") return DynamoStore.open(dynamoSettings(settings));
  return SqliteStore.open(settings.path);
}

/** What messages name the store by: its file, or its table and Region. */
export function describeStore(settings: StoreSettings): string {
  if (settings.kind !== "dynamodb") return settings.path;
  return `DynamoDB table ${settings.table ?? "?"} in Region ${settings.region ?? "?"}`;
}

/** The DynamoDB part of the settings; the config schema requires table and region with kind dynamodb. */
export function dynamoSettings(settings: StoreSettings): DynamoStoreSettings {
  if (settings.table === undefined || settings.region === undefined) {
    throw new BreakglassError("CONFIG_INVALID", "store", "kind dynamodb needs store.table and store.region");
  }
  return {
    table: settings.table,
    region: settings.region,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
  };
}

/** A consistent copy of the store in `destination` while other processes may write to it (`breakglass store backup`). */
export function backupStore(settings: StoreSettings, destination: string, options: BackupOptions): Promise<void> {
  if (settings.kind === "dynamodb") {
    throw new BreakglassError(
      "USAGE",
      describeStore(settings),
      "`store backup` copies a SQLite file; a DynamoDB store is backed up by DynamoDB itself: point-in-time recovery " +
        "(on since `store init`) or an on-demand backup (aws dynamodb create-backup --table-name " +
        `${settings.table ?? "TABLE"} --backup-name NAME)`,
    );
  }
  return backupSqliteStore(settings.path, destination, options);
}

/** `breakglass store init`: makes the DynamoDB table (or checks the one there); null for SQLite, made on first use. */
export function initStore(settings: StoreSettings): TableInitResult | null {
  if (settings.kind !== "dynamodb") {
    SqliteStore.open(settings.path).close();
    return null;
  }
  return initTable(new DynamoTable(dynamoSettings(settings)), pauseThread);
}

/** `breakglass store migrate --from <file>`: copies a SQLite store into the configured DynamoDB table. */
export function migrateStore(from: string, settings: StoreSettings, resume: boolean): ImportCounts {
  if (settings.kind !== "dynamodb") {
    throw new BreakglassError(
      "USAGE",
      describeStore(settings),
      "`store migrate` copies a SQLite store into DynamoDB: set store.kind to dynamodb (with table and region) first",
    );
  }
  return importSqliteStore(from, new DynamoTable(dynamoSettings(settings)), resume);
}

export type { ImportCounts, TableInitResult };
