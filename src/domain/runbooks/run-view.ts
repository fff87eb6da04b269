// What a run looks like to the people driving it (CLI, Slack): each step's status and outcome, and the step that waits for them.
import type { ArtefactPaths } from "./engine-ports.js";
import type { Runbook, RunbookStep } from "./runbook-schema.js";
import type {
  RunInputs,
  RunRecord,
  RunStatus,
  RunStepRecord,
  StepOutcomeRecord,
  StepPreflight,
  StepStatus,
} from "./run-store.js";
import { isWaitingKind, type WaitingKind } from "./steps/step-kinds.js";

export interface StepView {
  readonly id: string;
  readonly title: string;
  readonly kind: RunbookStep["kind"];
  readonly status: StepStatus;
  readonly attempts: number;
  readonly outcome: StepOutcomeRecord | null;
}

export interface RunView {
  readonly id: string;
  readonly runbookId: string;
  readonly status: RunStatus;
  readonly initiator: string;
  readonly dryRun: boolean;
  readonly inputs: RunInputs;
  readonly artefacts: ArtefactPaths;
  /** What the actions' preflight found when the run started: the principal and account of each change, names resolved. */
  readonly preflight: readonly StepPreflight[];
  readonly steps: readonly StepView[];
  /** The step a person must act on (approve, reject, confirm), when the run waits for one. */
  readonly waitingFor: { readonly stepId: string; readonly kind: WaitingKind } | null;
}

/** The run as stored (its record, its steps' records in runbook order, its artefacts), shown against its runbook. */
export function viewRun(
  run: RunRecord,
  runbook: Runbook,
  records: readonly RunStepRecord[],
  artefacts: ArtefactPaths,
): RunView {
  const steps = runbook.steps.map((step, index) => {
    const record = records[index];
    return {
      id: step.id,
      title: step.title,
      kind: step.kind,
      status: record?.status ?? "pending",
      attempts: record?.attempts ?? 0,
      outcome: record?.outcome ?? null,
    };
  });
  const waiting = runbook.steps.find((_step, index) => records[index]?.status === "waiting");
  const waitingFor =
    run.status === "waiting" && waiting !== undefined && isWaitingKind(waiting.kind)
      ? { stepId: waiting.id, kind: waiting.kind }
      : null;
  return {
    id: run.id,
    runbookId: run.runbookId,
    status: run.status,
    initiator: run.initiator,
    dryRun: run.dryRun,
    inputs: run.inputs,
    artefacts,
    preflight: run.preflight,
    steps,
    waitingFor,
  };
}
