// Where a run goes when a step fails, as the step's onFailure says: stop there, continue with the next step, or jump ahead.
import type { Runbook, RunbookStep } from "./runbook-schema.js";
import type { StepChange, StepOutcomeRecord } from "./run-store.js";

export interface FailureRoute {
  /** The run's status once the failure is recorded: failed only when it stops. */
  readonly runStatus: "failed" | "running";
  /** The failed step and, on a goto, the steps it jumps over (skipped): one transition, so a crash cannot leave a run half-jumped. */
  readonly steps: readonly StepChange[];
  /** The `step.failed` audit record's detail. */
  readonly detail: Readonly<Record<string, unknown>>;
  /** The index of the next step to run, or null when the run halts. */
  readonly next: number | null;
}

/** The route out of the failure of the step at `index`, with the outcome it failed with. */
export function routeFailure(runbook: Runbook, index: number, outcome: StepOutcomeRecord): FailureRoute {
  const step = runbook.steps[index] as RunbookStep;
  const failed: StepChange = { stepId: step.id, status: "failed", outcome };
  const detail = { ...outcome, onFailure: step.onFailure };
  if (step.onFailure === "stop") return { runStatus: "failed", steps: [failed], detail, next: null };
  if (step.onFailure === "continue") return { runStatus: "running", steps: [failed], detail, next: index + 1 };
  const { goto } = step.onFailure;
  const target = runbook.steps.findIndex((candidate) => candidate.id === goto);
  const skipped: StepChange[] = runbook.steps.slice(index + 1, target).map((between) => ({
    stepId: between.id,
    status: "skipped",
    outcome: {
      summary: `skipped: step "${step.id}" failed and the run jumped to "${runbook.steps[target]?.id ?? ""}"`,
    },
  }));
  return {
    runStatus: "running",
    steps: [failed, ...skipped],
    detail: { ...detail, skipped: skipped.map((change) => change.stepId) },
    next: target,
  };
}
