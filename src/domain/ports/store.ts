// The store port: every repository breakglass keeps state in, behind one handle. SQLite (embedded) implements it, and
// any other store must pass the same contract suite (test/adapters/store/store-contract.ts): conditional writes per
// repository, no query across repositories, and a run's transition written with its audit records as one.
import type { ArtefactContentStore } from "./artefact-store.js";
import type { AttestationStore } from "./attestation-store.js";
import type { AuditStore } from "./audit-store.js";
import type { EmergencyWindowStore } from "./emergency-window-store.js";
import type { FenceSource, LeadershipStore } from "./leadership-store.js";
import type { MemberLeaseStore } from "./member-lease-store.js";
import type { ServeStateStore } from "./serve-state-store.js";
import type { WatchedEventStore } from "./watched-event-store.js";
import type { RunRecord, RunStore } from "../runbooks/run-store.js";

/** The runs, as the engine persists them, and the questions the front ends ask of them. */
export interface RunRepository extends RunStore {
  /** The most recent runs, newest first, for `runbook status` without a run id. */
  recentRuns(limit: number): RunRecord[];
  /** How many runs are in each state (for /metrics). */
  runCounts(): Record<string, number>;
  /** Runs that are not finished (running, waiting or failed), newest first. */
  unfinishedRunIds(limit: number): string[];
  /** Up to two run ids that begin with `prefix` (the short id a run message shows): two means it is ambiguous. */
  runIdsStartingWith(prefix: string): string[];
}

export interface BreakglassStore {
  readonly runs: RunRepository;
  readonly audit: AuditStore;
  readonly windows: EmergencyWindowStore;
  readonly leases: MemberLeaseStore;
  readonly attestations: AttestationStore;
  readonly serveState: ServeStateStore;
  readonly leadership: LeadershipStore;
  /**
   * A view of this store for the leader holding `fence`: reads as this store, and every write made through it (any
   * repository: serve state, member leases, runs and their audit records, windows) first checks, in the same
   * transaction as the write, that the lease `fence.name` still has holder `fence.holder` and token `fence.token`.
   * When it does not, the write is refused with LEADERSHIP_LOST and nothing is written. Expiry is not checked: only a
   * new holder changes the token, so a late write of a holder no one replaced is still the only one. SQLite checks it
   * inside the write's BEGIN IMMEDIATE transaction; DynamoDB adds a ConditionCheck on the lease item to the write's
   * TransactWriteItems (a single Put or Update becomes a two-item transaction). `fence` may be a getter read at each
   * write (the elector's current term): while it answers undefined (this replica does not lead) every write is refused
   * with LEADERSHIP_LOST too. Closing the view closes nothing.
   */
  fenced(fence: FenceSource): BreakglassStore;
  /** The emergency-account watcher: judged CloudTrail events, misuse alerts, unreadable messages. */
  readonly watchedEvents: WatchedEventStore;
  /** The contents of the artefacts runs produced, so that a step on another host reads the same bytes. */
  readonly artefacts: ArtefactContentStore;
  /** A cheap read that fails when the store cannot be used: what /readyz asks. */
  ping(): void;
  close(): void;
}
