// The preflight of a run: before a run is recorded, each action it may take proves it can apply with what the run was
// given, so that a run which cannot apply stops before anyone approves it and before any emergency is declared.
import { BreakglassError } from "../errors.js";
import type { ActionParameters, RunContext, StepExecutors } from "./engine-ports.js";
import type { ActionStep, Runbook } from "./runbook-schema.js";
import type { RunInputs, StepPreflight } from "./run-store.js";
import { resolveParameter, type ReferenceLookup, type TemplateValue } from "./runbook-template.js";

/** Room for a handful of problems, each a sentence with its fix; still one line. */
const PROBLEMS_MAX_LENGTH = 4_000;

export interface PreflightRequest {
  readonly runbook: Runbook;
  readonly inputs: RunInputs;
  readonly runId: string;
  readonly initiator: string;
  readonly dryRun: boolean;
  readonly now: Date;
}

/**
 * Asks each action step's executor to prove it can apply, once per action and parameters (fm3 removes the same groups
 * twice), and returns what each found. Steps whose `when` names an input that rules them out are left out; a step that
 * depends on an earlier step's outcome is proved anyway (it may run). Every problem of every step is reported at once:
 * RUN_PREFLIGHT_FAILED names each, with the step it belongs to. An executor that cannot answer (its API is down) throws
 * its own error, which stops the start too: nothing was recorded, so starting again later is safe.
 */
export async function preflightRun(request: PreflightRequest, executors: StepExecutors): Promise<StepPreflight[]> {
  const found: StepPreflight[] = [];
  /** Each problem once, with every step it stops (fm3's three group steps share an unknown group). */
  const problems = new Map<string, string[]>();
  const asked = new Set<string>();
  for (const step of request.runbook.steps) {
    if (step.kind !== "action") continue;
    if (step.when !== undefined && "input" in step.when && request.inputs[step.when.input] !== step.when.equals)
      continue;
    const executor = executors.actions[step.action];
    if (executor.preflight === undefined) continue;
    const parameters = knownParameters(step, lookupAtStart(request));
    const key = `${step.action} ${JSON.stringify(parameters)}`;
    if (asked.has(key)) continue;
    asked.add(key);
    const result = await executor.preflight(parameters, contextAtStart(request, step.id));
    if (result.facts.length > 0) found.push({ stepId: step.id, action: step.action, facts: [...result.facts] });
    for (const problem of result.problems) problems.set(problem, [...(problems.get(problem) ?? []), step.id]);
  }
  if (problems.size > 0) {
    const named = [...problems].map(
      ([problem, steps]) =>
        `${steps.length === 1 ? "step" : "steps"} ${steps.map((id) => `"${id}"`).join(", ")}: ${problem}`,
    );
    throw new BreakglassError(
      "RUN_PREFLIGHT_FAILED",
      `runbook ${request.runbook.id}`,
      `not started, because it could not apply as given (nothing was recorded or changed): ${named.join("; ")}`,
      // Every problem in full: each names what to fix, and a cut one would hide exactly that.
      { maxLength: PROBLEMS_MAX_LENGTH },
    );
  }
  return found;
}

/** What a template can know before the run exists: its inputs, its id and its initiator; no artefact, no step outcome. */
function lookupAtStart(request: PreflightRequest): ReferenceLookup {
  return (reference) => {
    if (reference.scope === "inputs") return request.inputs[reference.name];
    if (reference.scope === "run" && reference.name === "id") return request.runId;
    if (reference.scope === "run" && reference.name === "initiator") return request.initiator;
    return undefined;
  };
}

/** The step's parameters that can be filled now; one that needs an artefact or a later fact is left out. */
function knownParameters(step: ActionStep, lookup: ReferenceLookup): ActionParameters {
  const parameters: Record<string, TemplateValue> = {};
  for (const [name, value] of Object.entries(step.with) as [string, string | readonly string[] | undefined][]) {
    if (value === undefined) continue;
    try {
      parameters[name] = resolveParameter(value, lookup);
    } catch (error) {
      if (!(error instanceof BreakglassError) || error.code !== "RUNBOOK_INVALID") throw error;
    }
  }
  return parameters;
}

function contextAtStart(request: PreflightRequest, stepId: string): RunContext {
  return {
    runId: request.runId,
    runbookId: request.runbook.id,
    stepId,
    initiator: request.initiator,
    dryRun: request.dryRun,
    now: request.now,
    idempotencyKey: `${request.runId}:${stepId}:preflight`,
    artefacts: {},
  };
}
