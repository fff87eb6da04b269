// An action step: its parameters filled from the run, then the one action pipeline (plan, audit, apply, read back), its result worded for the run.
import type { ActionParameters } from "../engine-ports.js";
import { unconfirmedKeyChange } from "../fingerprint-confirmation.js";
import { runActionPipeline, type ActionPipelineResult } from "../action-pipeline.js";
import type { ActionStep } from "../runbook-schema.js";
import { resolveParameter, type ReferenceLookup, type TemplateValue } from "../runbook-template.js";
import { failed, type StepKindHandler, type StepResult } from "./step-kind.js";

export const actionStep: StepKindHandler<"action"> = {
  decisions: [],
  async execute(step, run, context) {
    const parameters = resolveParameters(step, context.lookup);
    const result = await runActionPipeline(
      {
        action: step.action,
        executor: context.executors.actions[step.action],
        parameters,
        context: context.runContext,
        auditAs: { actor: context.actor, runId: run.id, subject: step.id },
      },
      {
        audit: context.audit,
        clock: context.clock,
        markApplying: (plan, applying) => context.markApplying(plan, applying),
        // Defence in depth: the approval already demanded the fingerprint, but the provider may have changed since.
        admit: (plan) => unconfirmedKeyChange(plan, context.confirmedFingerprint()),
      },
    );
    return stepResultOf(step, result);
  },
};

/** The step's `with`, filled from the run: what its executor is given (and what an approval's preview plans with). */
export function resolveParameters(step: ActionStep, lookup: ReferenceLookup): ActionParameters {
  const parameters: Record<string, TemplateValue> = {};
  for (const [name, value] of Object.entries(step.with) as [string, string | readonly string[] | undefined][]) {
    if (value !== undefined) parameters[name] = resolveParameter(value, lookup);
  }
  return parameters;
}

/** The pipeline's result as the run's step keeps it: a summary for a person, the plan, whether it was applied, the read-back. */
function stepResultOf(step: ActionStep, result: ActionPipelineResult): StepResult {
  if (result.status === "dry-run") {
    return {
      status: "succeeded",
      outcome: { summary: `dry run: not applied (${result.plan.summary})`, plan: result.plan, applied: false },
    };
  }
  if (result.status === "verified") {
    const { plan, applied, verification } = result;
    const summary = applied ? `applied and verified: ${plan.summary}` : `already done, verified: ${plan.summary}`;
    return { status: "succeeded", outcome: { summary, plan, applied, verification }, artefacts: result.artefacts };
  }
  const { plan, applied, error } = result;
  // Only a failed plan leaves no plan behind.
  if (result.stage === "plan" || plan === undefined) return failed(`could not plan ${step.action}: ${error}`);
  switch (result.stage) {
    case "refused":
      return { status: "failed", outcome: { summary: `failed: ${error}`, plan, applied: false, error } };
    case "audit":
      return {
        status: "failed",
        outcome: {
          summary: `failed: not applied, because it could not be audited: ${error}`,
          plan,
          applied: false,
          error,
        },
      };
    case "apply":
      return { status: "failed", outcome: { summary: `failed: apply failed: ${error}`, plan, error } };
    case "read-back":
      return { status: "failed", outcome: { summary: `failed: the read-back failed: ${error}`, plan, applied, error } };
    case "mismatch":
      return {
        status: "failed",
        outcome: {
          summary: `failed: the read-back does not match: ${error}`,
          plan,
          applied,
          ...(result.verification === undefined ? {} : { verification: result.verification }),
          error,
        },
      };
  }
}
