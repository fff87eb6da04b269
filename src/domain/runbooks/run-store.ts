// The port the runbook engine persists runs through: runs, their steps, their artefacts and the execution lease, each
// change written together with its audit records.
import type { AuditEntry, AuditRecord } from "../audit/audit-chain.js";
import type { ActionName, Artefact } from "./runbook-schema.js";
import type { ActionPlan } from "./engine-ports.js";
import type { ConfirmedFingerprint } from "./fingerprint-confirmation.js";

export const RUN_STATUSES = ["running", "waiting", "succeeded", "failed", "aborted"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** `applying` is its own state so that a run found there after a crash is known to have possibly changed the world. */
export const STEP_STATUSES = ["pending", "running", "applying", "waiting", "succeeded", "failed", "skipped"] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export type RunInputs = Readonly<Record<string, string | readonly string[]>>;

export interface FindingSummary {
  readonly code: string;
  readonly severity: string;
  readonly message: string;
}

/**
 * One action step an approval unlocks, planned when the run reached the approval: its plan, or why none could be made
 * yet (`notPlanned`: it needs an artefact a later step produces, or the plan failed).
 */
export interface UnlockedAction {
  readonly stepId: string;
  readonly action: ActionName;
  readonly plan?: ActionPlan;
  readonly notPlanned?: string;
  /** The step's `when`, in words, when it depends on a step that has not run yet: `only if step x succeeds`. */
  readonly condition?: string;
}

/** What a step left behind, kept as JSON: each kind fills the fields it has. */
export interface StepOutcomeRecord {
  /** One line for a person: what happened, or what the step waits for. */
  readonly summary: string;
  readonly findings?: readonly FindingSummary[];
  readonly checkAttempts?: number;
  readonly plan?: ActionPlan;
  /** false on a dry run, and when the plan found the action already done. */
  readonly applied?: boolean;
  readonly verification?: { readonly ok: boolean; readonly detail: string };
  /** approver and initiator as shown; their person ids, which the two-person rule compared, and how the approver was verified. */
  readonly approval?: {
    readonly decision: "granted" | "rejected";
    readonly approver: string;
    readonly initiator: string;
    readonly reason?: string;
    readonly approverPerson?: string;
    readonly initiatorPerson?: string;
    readonly verification?: string;
    /** The new certificate whose SHA-256 the approver typed, when an unlocked full key change asked for it. */
    readonly confirmedFingerprint?: ConfirmedFingerprint;
  };
  readonly confirmation?: { readonly actor: string; readonly record?: string };
  /** A check step whose failing verdict was overridden by the run's initiator with a reason (the step's overriddenBy input). */
  readonly override?: { readonly by: string; readonly reason: string };
  /**
   * An approval's: the action steps it unlocks (up to the next approval), planned when the run reached it and kept with
   * the decision, so the record shows what the approver saw.
   */
  readonly unlocks?: readonly UnlockedAction[];
  /** The step's texts filled for this run: an approval's reason, a manual step's instructions, a notification. */
  readonly text?: string;
  readonly error?: string;
}

/** What one action step's preflight found when the run started (engine-ports ActionPreflight's facts). */
export interface StepPreflight {
  readonly stepId: string;
  readonly action: string;
  readonly facts: readonly string[];
}

export interface RunRecord {
  readonly id: string;
  readonly runbookId: string;
  readonly runbookDigest: string;
  readonly inputs: RunInputs;
  /** Who started the run, as shown (the CLI's --as, the Slack user). */
  readonly initiator: string;
  /** Who started the run, as the two-person rule compares it: the person id of the initiator's Actor. */
  readonly initiatorPerson: string;
  readonly dryRun: boolean;
  /** What each action step's preflight found when the run started: shown to whoever approves. Empty for older runs. */
  readonly preflight: readonly StepPreflight[];
  readonly status: RunStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly leaseHolder: string | null;
  readonly leaseExpiresAt: string | null;
}

/** A run's execution lease as read: who holds it and until when (an ISO-8601 instant). */
export interface LeaseHeld {
  readonly holder: string;
  readonly expiresAt: string;
}

export interface RunStepRecord {
  readonly stepId: string;
  readonly position: number;
  readonly status: StepStatus;
  readonly outcome: StepOutcomeRecord | null;
  /** How many times the step was started: more than one means it was resumed or re-run. */
  readonly attempts: number;
  readonly updatedAt: string;
}

export type NewRun = Pick<
  RunRecord,
  "id" | "runbookId" | "runbookDigest" | "inputs" | "initiator" | "initiatorPerson" | "dryRun"
> & {
  readonly preflight?: readonly StepPreflight[];
  /** In file order; each becomes a pending step. */
  readonly stepIds: readonly string[];
};

export interface StepChange {
  readonly stepId: string;
  readonly status: StepStatus;
  readonly outcome: StepOutcomeRecord | null;
  /** Counts one more start of the step. */
  readonly started?: boolean;
}

/**
 * One transition, written in one transaction: the run's status, any of its steps, an artefact a step produced, and the
 * audit records that tell of it. A step's status never changes without an audit record: a transition with steps and
 * no audit entry is refused.
 */
export interface RunTransition {
  readonly runStatus?: RunStatus;
  readonly steps?: readonly StepChange[];
  readonly artefacts?: readonly { readonly name: Artefact; readonly path: string; readonly stepId: string }[];
  /** Sealed onto the audit chain in the same transaction, in this order. */
  readonly audit?: readonly AuditEntry[];
}

export interface RunStore {
  /** Records the run, its steps pending, and the audit record of its start, all or nothing; returns that record, sealed. */
  createRun(run: NewRun, audit: AuditEntry, at: Date): AuditRecord;
  findRun(runId: string): RunRecord | null;
  runSteps(runId: string): RunStepRecord[];
  runArtefacts(runId: string): Partial<Record<Artefact, string>>;
  /**
   * Takes (or renews) the run's execution lease until now + ttl, in one conditional write: free, expired, or already
   * the holder's. Throws RUN_BUSY naming the holder and the expiry when another holder has it, RUN_NOT_FOUND without the run.
   */
  acquireLease(runId: string, holder: string, now: Date, ttlMilliseconds: number): void;
  /**
   * Extends the lease the holder still has until now + ttl; throws RUN_BUSY when it no longer has it, even when the
   * lease is free: a holder that was taken over (or gave it up) must never take it back by renewing, or a stalled step
   * would write over the run that went on without it.
   */
  renewLease(runId: string, holder: string, now: Date, ttlMilliseconds: number): void;
  /**
   * Takes the lease away from `from` — its holder and expiry exactly as the caller read them — in one conditional write
   * (conditional on that holder and that expiry, which a DynamoDB ConditionExpression states as well as SQL): a holder
   * that renewed in between, or a third process that took over first, keeps it, and this throws RUN_BUSY. Whether the
   * old holder may be taken over (its process is dead, or it stopped renewing) is the caller's judgement; from then on
   * the old holder's writes are refused (recordTransition checks the lease).
   */
  takeOverLease(runId: string, from: LeaseHeld, holder: string, now: Date, ttlMilliseconds: number): void;
  /** Gives the lease up, if the holder still has it. */
  releaseLease(runId: string, holder: string): void;
  /**
   * Writes the transition and its audit records, all or nothing, and returns the records as sealed. Throws RUN_BUSY,
   * writing nothing, when the holder no longer has the lease: a stalled engine must not overwrite a newer one's work.
   */
  recordTransition(runId: string, holder: string, transition: RunTransition, at: Date): AuditRecord[];
}
