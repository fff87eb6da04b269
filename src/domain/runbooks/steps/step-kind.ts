// The one interface every step kind implements, what the engine hands a step while it runs, and what a step returns.
import type { AuditEntry } from "../../audit/audit-chain.js";
import type { Clock } from "../../shared/clock.js";
import type { AuditRecorder } from "../action-pipeline.js";
import type { ActionPlan, ArtefactPaths, RunContext, StepExecutors, StepWait } from "../engine-ports.js";
import type { RunbookStep } from "../runbook-schema.js";
import type { ConfirmedFingerprint } from "../fingerprint-confirmation.js";
import type { ReferenceLookup } from "../runbook-template.js";
import type { RunRecord, StepOutcomeRecord, UnlockedAction } from "../run-store.js";

export type StepResult =
  | { readonly status: "succeeded"; readonly outcome: StepOutcomeRecord; readonly artefacts?: ArtefactPaths }
  | { readonly status: "failed"; readonly outcome: StepOutcomeRecord }
  | { readonly status: "waiting"; readonly outcome: StepOutcomeRecord };

/** What a person can do to a step the run waits at (RunEngine's methods of the same names). */
export type Decision = "approve" | "reject" | "confirm" | "skip";

/** Everything a step may use while it runs; the engine builds one per step, under its lease. */
export interface StepContext {
  /** Who advances the run: the actor of the step's audit records. */
  readonly actor: string;
  /** What the executors are given. */
  readonly runContext: RunContext;
  readonly executors: StepExecutors;
  readonly audit: AuditRecorder;
  readonly clock: Clock;
  /** Fills the step's texts and parameters from the run's inputs, artefacts and own variables. */
  readonly lookup: ReferenceLookup;
  /** Renews the run's lease, before a step does something long again (a check's retry); throws when the lease was lost. */
  renewLease(): void;
  /** Tells the run's progress listener, before the step waits, which attempt failed, why, and how long it waits. */
  reportWait(wait: StepWait): void;
  /** Records in the store that the step is about to apply `plan`, so a crash from then on reads as an interrupted apply. */
  /** Marks the step applying and writes the `applying` audit record, in one transaction. */
  markApplying(plan: ActionPlan, applying: AuditEntry): void;
  /** The fingerprint the latest granted approval before this step confirmed, if it asked for one. */
  confirmedFingerprint(): ConfirmedFingerprint | undefined;
  /** Plans (read-only) the action steps after this one up to the next approval: what approving this step unlocks. */
  planUnlockedActions(): Promise<UnlockedAction[]>;
}

export type StepOfKind<K extends RunbookStep["kind"]> = Extract<RunbookStep, { kind: K }>;

export interface StepKindHandler<K extends RunbookStep["kind"]> {
  /** The decisions a person may make while the run waits at a step of this kind; empty for a kind that never waits. */
  readonly decisions: readonly Decision[];
  /** Runs the step once; a failure the step can name is returned, not thrown (the engine turns a throw into a failure too). */
  execute(step: StepOfKind<K>, run: RunRecord, context: StepContext): Promise<StepResult>;
}

/** One handler per kind: a new kind in the schema does not compile until it has its module here. */
export type StepKindHandlers = { readonly [K in RunbookStep["kind"]]: StepKindHandler<K> };

export function failed(reason: string): StepResult {
  return { status: "failed", outcome: { summary: `failed: ${reason}`, error: reason } };
}
