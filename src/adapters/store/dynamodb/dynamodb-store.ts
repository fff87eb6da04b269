// The shared store: one DynamoDB table (dynamodb-table-design.ts), every repository an item kind in it, answered
// synchronously through the table's worker thread.
import type { FenceSource } from "../../../domain/ports/leadership-store.js";
import { DynamoArtefactStore } from "./dynamodb-artefact-store.js";
import type { BreakglassStore } from "../../../domain/ports/store.js";
import { DynamoAttestationStore } from "./dynamodb-attestation-store.js";
import { DynamoAuditStore } from "./dynamodb-audit-store.js";
import { FencedDynamoTable } from "./dynamodb-fenced-table.js";
import { DynamoLeadershipStore } from "./dynamodb-leadership-store.js";
import { DynamoLeaseStore } from "./dynamodb-lease-store.js";
import { DynamoRunStore } from "./dynamodb-run-store.js";
import { DynamoServeStateStore } from "./dynamodb-serve-state-store.js";
import { DynamoTable, type DynamoStoreSettings } from "./dynamodb-table.js";
import { DynamoWatchedEventStore } from "./dynamodb-watched-event-store.js";
import { DynamoWindowStore } from "./dynamodb-window-store.js";

export class DynamoStore implements BreakglassStore {
  readonly runs: DynamoRunStore;
  readonly audit: DynamoAuditStore;
  readonly windows: DynamoWindowStore;
  readonly leases: DynamoLeaseStore;
  readonly attestations: DynamoAttestationStore;
  readonly serveState: DynamoServeStateStore;
  readonly leadership: DynamoLeadershipStore;
  readonly watchedEvents: DynamoWatchedEventStore;
  readonly artefacts: DynamoArtefactStore;

  constructor(readonly table: DynamoTable) {
    this.audit = new DynamoAuditStore(table);
    this.runs = new DynamoRunStore(table, this.audit);
    this.windows = new DynamoWindowStore(table);
    this.leases = new DynamoLeaseStore(table);
    this.attestations = new DynamoAttestationStore(table);
    this.serveState = new DynamoServeStateStore(table);
    this.leadership = new DynamoLeadershipStore(table);
    this.watchedEvents = new DynamoWatchedEventStore(table);
    this.artefacts = new DynamoArtefactStore(table);
  }

  /** The leader's view: the same table, every write a transaction that also checks the fence (dynamodb-fenced-table.ts). */
  fenced(fence: FenceSource): BreakglassStore {
    return new DynamoStore(new FencedDynamoTable(this.table, fence));
  }

  /** Opens no connection: the first call reaches the table (and says so if it does not exist). */
  static open(settings: DynamoStoreSettings): DynamoStore {
    return new DynamoStore(new DynamoTable(settings));
  }

  /** One strongly consistent read of the audit chain head: fails when the table is missing, unreachable or denied. */
  ping(): void {
    this.audit.head();
  }

  close(): void {
    this.table.close();
  }
}
