// An approval step: the run waits, showing the step's reason and the plans of the actions it unlocks, until a second person approves or rejects it.
import { fillTemplate } from "../runbook-template.js";
import type { StepKindHandler } from "./step-kind.js";

export const approvalStep: StepKindHandler<"approval"> = {
  // Never skip: the second person would then mean nothing.
  decisions: ["approve", "reject"],
  async execute(step, run, context) {
    const reason = fillTemplate(step.reason, context.lookup);
    // Planned before anyone is asked, so the approver sees what changes instead of approving blind.
    const unlocks = await context.planUnlockedActions();
    return {
      status: "waiting",
      outcome: { summary: `waits for a second person (not ${run.initiator}) to approve`, text: reason, unlocks },
    };
  },
};
