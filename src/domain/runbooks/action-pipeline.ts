// The one way a change is made: plan, audit, apply, audit, read back, audit; shared by runbook action steps and Slack's grant and revoke.
import type { AuditEntry } from "../audit/audit-chain.js";
import type { Clock } from "../shared/clock.js";
import { describeError, isBreakglassError } from "../errors.js";
import type { ActionExecutor, ActionParameters, ActionPlan, ArtefactPaths, RunContext } from "./engine-ports.js";
import type { ActionName } from "./runbook-schema.js";

/** What the pipeline needs of the audit log: a record written, or a throw when it cannot be (AuditLog fits). */
export interface AuditRecorder {
  record(entry: AuditEntry): unknown;
}

export interface ActionRequest {
  readonly action: ActionName;
  readonly executor: ActionExecutor;
  readonly parameters: ActionParameters;
  /** Passed to the executor; its dryRun stops the pipeline after the plan, its idempotencyKey ties the audit records together. */
  readonly context: RunContext;
  /** Whose change it is and what it is about, as every audit record of the request names them. */
  readonly auditAs: { readonly actor: string; readonly runId: string | null; readonly subject: string };
}

export interface ActionPipelinePorts {
  readonly audit: AuditRecorder;
  readonly clock: Clock;
  /**
   * Called when the plan says a change is due, instead of writing `action.applying` alone: the engine marks its step
   * applying and writes the record in one transaction, so that a crash from then on is seen as an interrupted apply and
   * the step is never applying without its record. An AUDIT_FAILED throw stops the pipeline before anything changes
   * (fail closed); any other throw (a lost lease) is the caller's to handle and passes through.
   */
  readonly markApplying?: (plan: ActionPlan, applying: AuditEntry) => void;
  /** Why a plan that changes something may not apply (an unconfirmed full key change), or undefined: checked before apply. */
  readonly admit?: (plan: ActionPlan) => string | undefined;
}

export interface CheckedVerification {
  readonly ok: boolean;
  readonly detail: string;
}

/** Where a pipeline stopped short: nothing is thrown for these, so each caller words them its own way. */
export type ActionFailureStage =
  /** The plan threw: nothing was changed. */
  | "plan"
  /** `action.applying` could not be written, so apply was never called (fail closed). */
  | "audit"
  /** The caller's `admit` refused the plan, so apply was never called. */
  | "refused"
  /** Apply threw: the change may be half made. */
  | "apply"
  /** The read-back threw. */
  | "read-back"
  /** The read-back does not show what was asked for. */
  | "mismatch";

export type ActionPipelineResult =
  | { readonly status: "dry-run"; readonly plan: ActionPlan }
  | {
      readonly status: "verified";
      readonly plan: ActionPlan;
      readonly applied: boolean;
      readonly verification: CheckedVerification;
      readonly artefacts: ArtefactPaths;
    }
  | {
      readonly status: "failed";
      readonly stage: ActionFailureStage;
      /** Absent only when the plan itself failed. */
      readonly plan?: ActionPlan;
      /** Whether apply ran to its end before the failure. */
      readonly applied: boolean;
      /** In one line: the thrown error described, or the read-back's own words. */
      readonly error: string;
      /** The thrown error, so that a caller can keep its code; absent on a mismatch, where nothing threw. */
      readonly cause?: unknown;
      readonly verification?: CheckedVerification;
    };

/**
 * Runs one action. Every step is audited with the same detail shape, whoever calls it: `action` and `request` (the
 * context's idempotency key), then what the step adds. Fail closed: `action.applying` is written before apply, and if it
 * cannot be, apply is never called. The other records are written or the pipeline throws (a change nobody can read about
 * must not be reported as done), except those of a failure, which never hide the failure itself.
 */
export async function runActionPipeline(
  request: ActionRequest,
  ports: ActionPipelinePorts,
): Promise<ActionPipelineResult> {
  const { action, executor, parameters, context } = request;
  const record = (name: string, detail: Record<string, unknown>) =>
    ports.audit.record({
      ...request.auditAs,
      action: name,
      detail: { action, request: context.idempotencyKey, ...detail },
    });

  let plan: ActionPlan;
  try {
    plan = await executor.plan(parameters, context);
  } catch (error) {
    // A plan only reads, so a failure here (an unknown user, the IdP down) has changed nothing.
    return { status: "failed", stage: "plan", applied: false, error: describeError(error), cause: error };
  }
  record("action.planned", { parameters, plan });
  if (context.dryRun) {
    record("action.not-applied", { reason: "dry run" });
    return { status: "dry-run", plan };
  }

  let artefacts: ArtefactPaths = {};
  const applied = !plan.alreadyDone;
  const refusal = applied ? ports.admit?.(plan) : undefined;
  if (refusal !== undefined) {
    record("action.not-applied", { reason: refusal });
    return { status: "failed", stage: "refused", plan, applied: false, error: refusal };
  }
  if (applied) {
    const applying: AuditEntry = {
      ...request.auditAs,
      action: "action.applying",
      detail: { action, request: context.idempotencyKey, plan },
    };
    try {
      if (ports.markApplying === undefined) ports.audit.record(applying);
      else ports.markApplying(plan, applying);
    } catch (error) {
      if (ports.markApplying !== undefined && !(isBreakglassError(error) && error.code === "AUDIT_FAILED")) throw error;
      return { status: "failed", stage: "audit", plan, applied: false, error: describeError(error), cause: error };
    }
    try {
      artefacts = (await executor.apply(plan, parameters, context)).artefacts ?? {};
    } catch (error) {
      // A run also keeps the failure in its step; outside a run the audit log is the only place it can go.
      recordQuietly(() => record("action.failed", { error: describeError(error) }));
      return { status: "failed", stage: "apply", plan, applied: false, error: describeError(error), cause: error };
    }
    record("action.applied", {});
  }

  let verification;
  try {
    verification = await executor.verify(parameters, { ...context, now: ports.clock.now() });
  } catch (error) {
    recordQuietly(() =>
      record("action.verification-failed", {
        verification: { ok: false, detail: `the read-back failed: ${describeError(error)}` },
      }),
    );
    return { status: "failed", stage: "read-back", plan, applied, error: describeError(error), cause: error };
  }
  const checked = { ok: verification.ok, detail: verification.detail };
  if (!verification.ok) {
    recordQuietly(() => record("action.verification-failed", { verification: checked }));
    return { status: "failed", stage: "mismatch", plan, applied, error: verification.detail, verification: checked };
  }
  record("action.verified", { verification: checked });
  return {
    status: "verified",
    plan,
    applied,
    verification: checked,
    artefacts: { ...verification.artefacts, ...artefacts },
  };
}

/** After a change went wrong the failure itself is what the caller must hear; a second failure to audit it must not hide it. */
function recordQuietly(write: () => unknown): void {
  try {
    write();
  } catch {
    // The failure the pipeline returns next still reaches the caller.
  }
}
