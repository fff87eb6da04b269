// A notify step: posts its message, filled from the run, to its channel, and audits what was sent.
import { fillTemplate } from "../runbook-template.js";
import type { StepKindHandler } from "./step-kind.js";

export const notifyStep: StepKindHandler<"notify"> = {
  decisions: [],
  async execute(step, run, context) {
    const filled = fillTemplate(step.message, context.lookup);
    // Nobody reading the security channel should mistake a rehearsal for an emergency.
    const message = run.dryRun ? `[dry run] ${filled}` : filled;
    await context.executors.notify(step.channel, message, context.runContext);
    context.audit.record({
      actor: context.actor,
      action: "notify.sent",
      runId: run.id,
      subject: step.id,
      detail: { channel: step.channel, message },
    });
    return { status: "succeeded", outcome: { summary: `posted to ${step.channel}`, text: message } };
  },
};
