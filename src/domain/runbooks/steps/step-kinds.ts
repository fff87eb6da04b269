// Every step kind's handler, by kind: the engine runs a step through this table and nothing else.
import type { RunbookStep } from "../runbook-schema.js";
import type { RunRecord } from "../run-store.js";
import { actionStep } from "./action-step.js";
import { approvalStep } from "./approval-step.js";
import { checkStep } from "./check-step.js";
import { manualStep } from "./manual-step.js";
import { notifyStep } from "./notify-step.js";
import type { StepContext, StepKindHandlers, StepOfKind, StepResult } from "./step-kind.js";

export const STEP_KIND_HANDLERS: StepKindHandlers = {
  check: checkStep,
  action: actionStep,
  manual: manualStep,
  approval: approvalStep,
  notify: notifyStep,
};

/** The kinds a run can wait at: those whose handler accepts a person's decision. */
export type WaitingKind = "approval" | "manual";

export function isWaitingKind(kind: RunbookStep["kind"]): kind is WaitingKind {
  return STEP_KIND_HANDLERS[kind].decisions.length > 0;
}

/** Runs `step` through its kind's handler. */
export function executeStepKind<K extends RunbookStep["kind"]>(
  step: StepOfKind<K>,
  run: RunRecord,
  context: StepContext,
): Promise<StepResult> {
  const handler: StepKindHandlers[K] = STEP_KIND_HANDLERS[step.kind];
  return handler.execute(step, run, context);
}
