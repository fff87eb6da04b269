// What an approval unlocks: the plan of each action step up to the next approval, made read-only when the run reaches it.
import { describeError } from "../errors.js";
import type { ActionParameters, RunContext, StepExecutors } from "./engine-ports.js";
import { artefactNeededBy, artefactProducedBy, type Runbook, type RunbookStep } from "./runbook-schema.js";
import type { RunRecord, RunStepRecord, UnlockedAction } from "./run-store.js";
import type { ReferenceLookup } from "./runbook-template.js";
import { resolveParameters } from "./steps/action-step.js";

export interface UnlockedActionsRequest {
  readonly runbook: Runbook;
  /** The position of the approval step the run waits at. */
  readonly approvalIndex: number;
  readonly run: RunRecord;
  /** The run's steps as stored, in runbook order: the steps before the approval are finished, their outcomes known. */
  readonly records: readonly RunStepRecord[];
  readonly actions: StepExecutors["actions"];
  /** The context an action step would be given, for the step with this id. */
  contextFor(stepId: string): RunContext;
  /** Fills a step's parameters from the run, as the action step itself will. */
  readonly lookup: ReferenceLookup;
}

/**
 * Plans, in runbook order, each action step after the approval up to the next approval (or the end): only `plan`, which
 * reads and never changes anything (ActionExecutor's contract). A step whose `when` is already false is left out; one
 * whose `when` depends on a step not run yet is planned, and says on what it depends. Where no plan can be made yet (it
 * needs an artefact a later step produces, or the plan fails) the entry says why instead. Never throws: an approval is
 * shown whatever its preview finds.
 */
export async function planUnlockedActions(request: UnlockedActionsRequest): Promise<UnlockedAction[]> {
  const { runbook, approvalIndex } = request;
  const unlocked: UnlockedAction[] = [];
  for (let index = approvalIndex + 1; index < runbook.steps.length; index++) {
    const step = runbook.steps[index] as RunbookStep;
    if (step.kind === "approval") break;
    if (step.kind !== "action") continue;
    const condition = judgeCondition(step, request);
    if (condition === false) continue;
    const entry = { stepId: step.id, action: step.action, ...(condition === true ? {} : { condition }) };
    const context = request.contextFor(step.id);
    const missing = missingArtefact(step, index, context, request);
    if (missing !== undefined) {
      unlocked.push({ ...entry, notPlanned: missing });
      continue;
    }
    let parameters: ActionParameters;
    try {
      parameters = resolveParameters(step, request.lookup);
    } catch (error) {
      // A parameter filled from an artefact that a step after the approval makes.
      unlocked.push({ ...entry, notPlanned: `cannot be planned yet: ${describeError(error)}` });
      continue;
    }
    try {
      unlocked.push({ ...entry, plan: await request.actions[step.action].plan(parameters, context) });
    } catch (error) {
      unlocked.push({ ...entry, notPlanned: `the plan failed: ${describeError(error)}` });
    }
  }
  return unlocked;
}

/**
 * true or false when the step's `when` can be judged now (on an input, or on a step before the approval); otherwise
 * the condition in words, as the approver should read it.
 */
function judgeCondition(step: RunbookStep, request: UnlockedActionsRequest): boolean | string {
  const when = step.when;
  if (when === undefined) return true;
  if ("input" in when) return request.run.inputs[when.input] === when.equals;
  const position = request.runbook.steps.findIndex((candidate) => candidate.id === when.step);
  if (position >= 0 && position < request.approvalIndex) {
    return request.records[position]?.status === when.outcome;
  }
  return `only if step ${when.step} ${when.outcome === "succeeded" ? "succeeds" : `ends ${when.outcome}`}`;
}

/** Why the step cannot be planned before the approval: the artefact it needs is not the run's yet. */
function missingArtefact(
  step: RunbookStep,
  index: number,
  context: RunContext,
  request: UnlockedActionsRequest,
): string | undefined {
  const needed = artefactNeededBy(step);
  if (needed === undefined || context.artefacts[needed] !== undefined) return undefined;
  const producer = request.runbook.steps.slice(request.approvalIndex + 1, index).find((candidate) => {
    return artefactProducedBy(candidate) === needed;
  });
  return producer === undefined
    ? `cannot be planned: it needs the run's ${needed}, and no step of this run has produced it`
    : `cannot be planned yet: it needs the run's ${needed}, which step ${producer.id} produces after the approval`;
}
