// One action run outside a runbook (from Slack) with the engine's discipline: plan, audit, apply, audit, read back, audit.
import type { AuditLog } from "../domain/audit/audit-log.js";
import type { Clock } from "../domain/shared/clock.js";
import { BreakglassError, describeError, isBreakglassError } from "../domain/errors.js";
import type { ActionExecutor, ActionParameters, ArtefactPaths, PlannedChange, RunContext } from "../domain/runbooks/engine-ports.js";
import type { ActionName } from "../domain/runbooks/runbook-schema.js";

export interface AuditedAction {
  readonly action: ActionName;
  readonly executor: ActionExecutor;
  readonly parameters: ActionParameters;
  /** Its initiator is the actor of every audit record; its idempotencyKey ties the records of one request together. */
  readonly context: RunContext;
  /** What the request is about, as the audit records and error messages name it: `grant alice@example.com`. */
  readonly subject: string;
  /** The audit records' run: the incident the request belongs to, or null when it belongs to none. */
  readonly auditRunId: string | null;
}

/** What happened, in the terms of the plan and the read-back. */
export interface ActionOutcome {
  readonly action: ActionName;
  readonly summary: string;
  readonly changes: readonly PlannedChange[];
  /** False when the plan found the world already as asked, so nothing was applied. */
  readonly applied: boolean;
  /** The read-back's own words. */
  readonly verified: string;
  readonly artefacts: ArtefactPaths;
}

/**
 * Runs one action as the runbook engine's runAction does, and with its audit records, so that the audit log reads the
 * same whether a change came from a runbook or from Slack. Fail closed: `action.applying` is written before apply, and
 * if it cannot be, nothing is applied. Any failure is thrown, naming the subject.
 */
export async function runAuditedAction(request: AuditedAction, audit: AuditLog, clock: Clock): Promise<ActionOutcome> {
  const { action, executor, parameters, context, subject } = request;
  const record = (name: string, detail: Record<string, unknown>) =>
    audit.record({ actor: context.initiator, action: name, runId: request.auditRunId, subject, detail: { action, request: context.idempotencyKey, ...detail } });

  // A plan only reads, so a failure here (an unknown user, the IdP down) has changed nothing.
  const plan = await executor.plan(parameters, context).catch((error: unknown) => {
    throw rethrown(error, subject, "nothing was changed");
  });
  record("action.planned", { parameters, plan });
  if (!plan.alreadyDone) {
    record("action.applying", { plan });
    let artefacts: ArtefactPaths = {};
    try {
      artefacts = (await executor.apply(plan, parameters, context)).artefacts ?? {};
    } catch (error) {
      // The engine keeps a failed apply in the run's step; outside a run the audit log is the only place it can go.
      recordQuietly(() => record("action.failed", { error: describeError(error) }));
      throw rethrown(error, subject, "the change may be half made; run the same command again: it plans afresh and finishes the job");
    }
    record("action.applied", {});
    return verified(request, plan.summary, plan.changes, true, artefacts, record, clock);
  }
  return verified(request, plan.summary, plan.changes, false, {}, record, clock);
}

async function verified(
  request: AuditedAction,
  summary: string,
  changes: readonly PlannedChange[],
  applied: boolean,
  artefacts: ArtefactPaths,
  record: (name: string, detail: Record<string, unknown>) => unknown,
  clock: Clock,
): Promise<ActionOutcome> {
  const { action, executor, parameters, context, subject } = request;
  let verification;
  try {
    verification = await executor.verify(parameters, { ...context, now: clock.now() });
  } catch (error) {
    recordQuietly(() => record("action.verification-failed", { verification: { ok: false, detail: `the read-back failed: ${describeError(error)}` } }));
    throw rethrown(error, subject, `${applied ? "applied, but " : ""}the read-back failed`);
  }
  const checked = { ok: verification.ok, detail: verification.detail };
  if (!verification.ok) {
    recordQuietly(() => record("action.verification-failed", { verification: checked }));
    throw new BreakglassError("ACTION_UNVERIFIED", subject, `${applied ? "applied, but " : ""}the read-back does not match: ${verification.detail}`);
  }
  record("action.verified", { verification: checked });
  return { action, summary, changes, applied, verified: verification.detail, artefacts: { ...verification.artefacts, ...artefacts } };
}

/** After a change went wrong the failure itself is what the caller must hear; a second failure to audit it must not hide it. */
function recordQuietly(write: () => unknown): void {
  try {
    write();
  } catch {
    // The thrown error that follows still reaches the caller.
  }
}

/** Keeps the code of a BreakglassError (IDP_NOT_FOUND, IDP_UNAUTHORIZED…), so callers can still switch on it. */
function rethrown(error: unknown, subject: string, consequence: string): BreakglassError {
  const said = describeError(error);
  // The executors already say "nothing was changed" where they know it; once is enough.
  const reason = said.includes(consequence) ? said : `${said}; ${consequence}`;
  if (isBreakglassError(error)) return new BreakglassError(error.code, subject, reason, { cause: error, ...(error.hint === undefined ? {} : { hint: error.hint }) });
  return new BreakglassError("ACTION_FAILED", subject, reason, { cause: error });
}
