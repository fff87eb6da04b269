// What the runbook engine needs from the outside world to run steps: checks, actions, notifications, sleep, and the runbook files.
import type { Finding } from "../checks/finding.js";
import type { CheckName } from "../checks/check-names.js";
import type { KeyContinuity } from "../saml/key-continuity.js";
import type { ActionName, Artefact, Channel, Runbook } from "./runbook-schema.js";
import type { TemplateValue } from "./runbook-template.js";
import type { WaitReason } from "./run-progress.js";

/** Everything an executor may need to know about the step it runs for. */
export interface RunContext {
  readonly runId: string;
  readonly runbookId: string;
  readonly stepId: string;
  readonly initiator: string;
  readonly dryRun: boolean;
  readonly now: Date;
  /** `${runId}:${stepId}`: the same across crashes and retries, so an adapter can make its side effects idempotent with it. */
  readonly idempotencyKey: string;
  /** The artefact files the run has so far (a run has only those produced by steps before this one). */
  readonly artefacts: Partial<Readonly<Record<Artefact, string>>>;
  /**
   * Shows the run's progress listener a wait an executor makes inside a step (an IdP asking breakglass to retry in
   * 41 s), as a check step's retries show theirs; absent outside a run's step.
   */
  readonly reportWait?: (wait: StepWait) => void;
}

/** A wait inside a step: the attempt that failed, how many there are, how long until the next, and why. */
export interface StepWait {
  readonly attempt: number;
  readonly attempts: number;
  readonly intervalMilliseconds: number;
  readonly waitingFor: WaitReason;
}

export type ArtefactPaths = Partial<Readonly<Record<Artefact, string>>>;

export interface CheckResult {
  readonly findings: readonly Finding[];
  readonly artefacts?: ArtefactPaths;
}

export type CheckExecutor = (checks: readonly CheckName[], context: RunContext) => Promise<CheckResult>;

/** An action's `with`, each value filled from the run (a whole `${inputs.list}` stays a list). */
export type ActionParameters = Readonly<Record<string, TemplateValue>>;

export interface PlannedChange {
  /** What changes: a provider ARN, `group aws-emergency-operators`, an incident's window. */
  readonly target: string;
  readonly before: string | null;
  readonly after: string | null;
  /** A file keeping the target's state from before the change (a provider's metadata document), for a rollback to put back. */
  readonly savedBefore?: string;
  /**
   * The group membership the change adds or removes, as a compensation names it (`group`: the id, which stays right if
   * the group is renamed); `groupName`: its display name, for people; `leaseMilliseconds`: the lease it had.
   */
  readonly membership?: {
    readonly group: string;
    readonly groupName?: string;
    readonly member: string;
    readonly leaseMilliseconds?: number;
  };
}

export interface ActionPlan {
  readonly summary: string;
  readonly changes: readonly PlannedChange[];
  /** The world already is as the action would make it: apply is skipped, verification still runs. */
  readonly alreadyDone: boolean;
  /**
   * A metadata import's: whether the new signing keys continue what the provider trusts. A full key change nothing
   * vouches for makes the approval that unlocks it ask for a typed fingerprint (fingerprint-confirmation.ts).
   */
  readonly keyContinuity?: KeyContinuity;
}

export interface Verification {
  readonly ok: boolean;
  readonly detail: string;
  /**
   * An artefact the read-back yields (emergency.close-window's activity-summary): when a resumed run finds the action
   * already done, apply is skipped, so the read-back is the only place the artefact can come from.
   */
  readonly artefacts?: ArtefactPaths;
}

/**
 * What an action's preflight found when the run started, before anyone approves: what the approver should know, and
 * whatever would make the change fail later (after the approval, after an emergency was declared).
 */
export interface ActionPreflight {
  /** Lines a person reads: the principal and account the change will be applied as, each group and person resolved. */
  readonly facts: readonly string[];
  /** Why the action could not apply as things stand, each naming the input or config key to fix; any one refuses the start. */
  readonly problems: readonly string[];
}

/**
 * One action's adapter. `apply` must be idempotent: it re-checks the current state itself, so that a run resumed after
 * a crash in the middle of apply (which re-plans, and applies again unless the plan is `alreadyDone`) changes nothing twice.
 */
export interface ActionExecutor {
  /**
   * Run when the run starts, before any step: proves the action can apply with what the run was given (its credentials
   * reach the account and allow the change; each group and person named exists). Read-only, like plan. Parameters that
   * come from artefacts or earlier steps are absent here. An executor without one has nothing to prove up front.
   */
  preflight?(parameters: ActionParameters, context: RunContext): Promise<ActionPreflight>;
  /**
   * Reads the world and says what apply would change; never changes anything itself. Besides before apply, it is
   * called when a run reaches an approval, for every action the approval unlocks, so the approver sees the plan.
   */
  plan(parameters: ActionParameters, context: RunContext): Promise<ActionPlan>;
  apply(
    plan: ActionPlan,
    parameters: ActionParameters,
    context: RunContext,
  ): Promise<{ readonly artefacts?: ArtefactPaths }>;
  /** Reads the result back from the system it changed; never trusts apply's own word. */
  verify(parameters: ActionParameters, context: RunContext): Promise<Verification>;
}

export type Notifier = (channel: Channel, message: string, context: RunContext) => Promise<void>;

export interface StepExecutors {
  readonly check: CheckExecutor;
  readonly actions: Readonly<Record<ActionName, ActionExecutor>>;
  readonly notify: Notifier;
  /** Waits between a check's retries; injected so tests advance a clock instead of sleeping. */
  sleep(milliseconds: number): Promise<void>;
}

/** A runbook as a run knows it: the checked runbook and the exact text it came from (its SHA-256 pins the run to it). */
export interface RunbookSource {
  readonly path: string;
  readonly runbook: Runbook;
  readonly text: string;
}

/** Finds the runbook a run was started from, by its id, as it is on disk now. */
export type RunbookResolver = (runbookId: string) => Promise<RunbookSource>;
