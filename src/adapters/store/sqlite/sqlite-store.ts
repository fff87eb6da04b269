// The embedded store: one SQLite file in WAL mode, every repository on one shared connection.
import type { FenceSource } from "../../../domain/ports/leadership-store.js";
import { SqliteArtefactStore } from "./sqlite-artefact-store.js";
import type { BreakglassStore } from "../../../domain/ports/store.js";
import { fencedDatabase } from "./fenced-database.js";
import { SqliteAttestationStore } from "./sqlite-attestation-store.js";
import { SqliteAuditStore } from "./sqlite-audit-store.js";
import { guarded, openSqliteConnection } from "./sqlite-connection.js";
import { SqliteLeaseStore } from "./sqlite-lease-store.js";
import { SqliteLeadershipStore } from "./sqlite-leadership-store.js";
import { SqliteRunStore } from "./sqlite-run-store.js";
import { SqliteServeStateStore } from "./sqlite-serve-state-store.js";
import { SqliteWatchedEventStore } from "./sqlite-watched-event-store.js";
import { SqliteWindowStore } from "./sqlite-window-store.js";
import type { SqlDatabase } from "./sql-database.js";

export class SqliteStore implements BreakglassStore {
  readonly runs: SqliteRunStore;
  readonly audit: SqliteAuditStore;
  readonly windows: SqliteWindowStore;
  readonly leases: SqliteLeaseStore;
  readonly attestations: SqliteAttestationStore;
  readonly serveState: SqliteServeStateStore;
  readonly leadership: SqliteLeadershipStore;
  readonly watchedEvents: SqliteWatchedEventStore;
  readonly artefacts: SqliteArtefactStore;

  /** Over a connection already open and migrated (openSqliteConnection); tests hand in one they watch. */
  constructor(private readonly database: SqlDatabase) {
    this.audit = new SqliteAuditStore(database);
    this.runs = new SqliteRunStore(database, this.audit);
    this.windows = new SqliteWindowStore(database);
    this.leases = new SqliteLeaseStore(database);
    this.attestations = new SqliteAttestationStore(database);
    this.serveState = new SqliteServeStateStore(database);
    this.leadership = new SqliteLeadershipStore(database);
    this.watchedEvents = new SqliteWatchedEventStore(database);
    this.artefacts = new SqliteArtefactStore(database);
  }

  /** The leader's view: the same connection, every write checking the fence in its transaction (fenced-database.ts). */
  fenced(fence: FenceSource): BreakglassStore {
    return new SqliteStore(fencedDatabase(this.database, fence));
  }

  static open(path: string): SqliteStore {
    return new SqliteStore(openSqliteConnection(path));
  }

  ping(): void {
    guarded(this.database, () => this.database.prepare("SELECT 1").get());
  }

  close(): void {
    this.database.close();
  }
}
