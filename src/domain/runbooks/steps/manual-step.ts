// A manual step: the run waits, showing the filled instructions, until an operator confirms it (answering its question) or skips it.
import { fillTemplate } from "../runbook-template.js";
import type { StepKindHandler } from "./step-kind.js";

export const manualStep: StepKindHandler<"manual"> = {
  decisions: ["confirm", "skip"],
  execute(step, _run, context) {
    const text = [step.instructions, step.confirm, step.record]
      .filter((part) => part !== undefined)
      .map((part) => fillTemplate(part, context.lookup))
      .join("\n\n");
    return Promise.resolve({
      status: "waiting",
      outcome: {
        summary:
          step.record === undefined
            ? "waits for an operator to confirm"
            : "waits for an operator to confirm and answer in writing",
        text,
      },
    });
  },
};
