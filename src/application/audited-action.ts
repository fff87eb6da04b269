// One action run outside a runbook (from Slack) through the runbook engine's action pipeline, its failures thrown naming the request.
import type { AuditLog } from "../domain/audit/audit-log.js";
import type { Clock } from "../domain/shared/clock.js";
import { BreakglassError, describeError, isBreakglassError } from "../domain/errors.js";
import { runActionPipeline } from "../domain/runbooks/action-pipeline.js";
import type {
  ActionExecutor,
  ActionParameters,
  ArtefactPaths,
  PlannedChange,
  RunContext,
} from "../domain/runbooks/engine-ports.js";
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
 * Runs one action through the same pipeline as a runbook's action steps, so that the audit log reads the same whether a
 * change came from a runbook or from Slack. Fail closed: `action.applying` is written before apply, and if it cannot be,
 * nothing is applied. Any failure is thrown, naming the subject.
 */
export async function runAuditedAction(request: AuditedAction, audit: AuditLog, clock: Clock): Promise<ActionOutcome> {
  const { action, executor, parameters, context, subject } = request;
  const result = await runActionPipeline(
    {
      action,
      executor,
      parameters,
      context,
      auditAs: { actor: context.initiator, runId: request.auditRunId, subject },
    },
    { audit, clock },
  );
  if (result.status === "dry-run") {
    const { plan } = result;
    return {
      action,
      summary: plan.summary,
      changes: plan.changes,
      applied: false,
      verified: "dry run: nothing was applied or read back",
      artefacts: {},
    };
  }
  if (result.status === "verified") {
    const { plan } = result;
    return {
      action,
      summary: plan.summary,
      changes: plan.changes,
      applied: result.applied,
      verified: result.verification.detail,
      artefacts: result.artefacts,
    };
  }
  const { applied } = result;
  switch (result.stage) {
    case "plan":
      throw rethrown(result.cause, subject, "nothing was changed");
    case "refused":
      throw new BreakglassError("APPROVAL_REFUSED", subject, result.error);
    case "audit":
      // The audit log's own error (AUDIT_FAILED) says what could not be written: it is the one to hear.
      throw result.cause;
    case "apply":
      throw rethrown(
        result.cause,
        subject,
        "the change may be half made; run the same command again: it plans afresh and finishes the job",
      );
    case "read-back":
      throw rethrown(result.cause, subject, `${applied ? "applied, but " : ""}the read-back failed`);
    case "mismatch":
      throw new BreakglassError(
        "ACTION_UNVERIFIED",
        subject,
        `${applied ? "applied, but " : ""}the read-back does not match: ${result.error}`,
      );
  }
}

/** Keeps the code of a BreakglassError (IDP_NOT_FOUND, IDP_UNAUTHORIZED…), so callers can still switch on it. */
function rethrown(error: unknown, subject: string, consequence: string): BreakglassError {
  const said = describeError(error);
  // The executors already say "nothing was changed" where they know it; once is enough.
  const reason = said.includes(consequence) ? said : `${said}; ${consequence}`;
  if (isBreakglassError(error))
    return new BreakglassError(error.code, subject, reason, {
      cause: error,
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    });
  return new BreakglassError("ACTION_FAILED", subject, reason, { cause: error });
}
