// The JSON of the runbook run commands (`runbook run|resume|approve|…|status --json`): one run, or the recent runs, with stable keys.
import type { RunRecord, UnlockedAction } from "../domain/runbooks/run-store.js";
import type { RunView, StepView } from "../domain/runbooks/run-view.js";

/** The run as a script reads it: where it stands, each step's outcome in short, and the step that waits for a person. */
export function runViewJson(view: RunView): unknown {
  return {
    id: view.id,
    runbookId: view.runbookId,
    status: view.status,
    initiator: view.initiator,
    dryRun: view.dryRun,
    inputs: view.inputs,
    artefacts: view.artefacts,
    preflight: view.preflight,
    steps: view.steps.map(stepJson),
    waitingFor: view.waitingFor,
  };
}

/** `runbook status` without a run id: the recent runs, newest first, as the text lists them. */
export function recentRunsJson(runs: readonly RunRecord[]): unknown {
  return {
    runs: runs.map((run) => ({
      id: run.id,
      runbookId: run.runbookId,
      status: run.status,
      dryRun: run.dryRun,
      initiator: run.initiator,
      createdAt: run.createdAt,
      updatedAt: run.updatedAt,
    })),
  };
}

/**
 * A step's outcome in short: its one-line summary, the changes its plan makes, whether they were applied and read back,
 * and who decided an approval. Every key is always present (null when the step has none), so scripts need no guards.
 */
function stepJson(step: StepView): unknown {
  const outcome = step.outcome;
  return {
    id: step.id,
    title: step.title,
    kind: step.kind,
    status: step.status,
    attempts: step.attempts,
    summary: outcome?.summary ?? null,
    error: outcome?.error ?? null,
    changes: outcome?.plan?.changes.map(changeJson) ?? [],
    applied: outcome?.applied ?? null,
    verification: outcome?.verification ?? null,
    findings: outcome?.findings ?? [],
    approval: outcome?.approval
      ? {
          decision: outcome.approval.decision,
          approver: outcome.approval.approver,
          reason: outcome.approval.reason ?? null,
          confirmedFingerprint: outcome.approval.confirmedFingerprint ?? null,
        }
      : null,
    confirmation: outcome?.confirmation
      ? { actor: outcome.confirmation.actor, record: outcome.confirmation.record ?? null }
      : null,
    override: outcome?.override ?? null,
    unlocks: outcome?.unlocks?.map(unlockedJson) ?? [],
  };
}

function changeJson(change: { target: string; before: string | null; after: string | null }): unknown {
  return { target: change.target, before: change.before, after: change.after };
}

/** An approval's unlocked action: its plan in short, or why none could be made yet (`notPlanned`); every key always present. */
function unlockedJson(unlocked: UnlockedAction): unknown {
  return {
    stepId: unlocked.stepId,
    action: unlocked.action,
    condition: unlocked.condition ?? null,
    summary: unlocked.plan?.summary ?? null,
    alreadyDone: unlocked.plan?.alreadyDone ?? null,
    changes: unlocked.plan?.changes.map(changeJson) ?? [],
    notPlanned: unlocked.notPlanned ?? null,
    keyContinuity: unlocked.plan?.keyContinuity ?? null,
  };
}
