// A runbook run as a responder reads it in a terminal: where it stands, each step's outcome, and the command to type next.
import type { Colors } from "picocolors/types.js";
import type { RunView, StepView } from "../domain/runbooks/run-engine.js";

const MARK: Readonly<Record<StepView["status"], string>> = {
  pending: "·",
  running: "▶",
  applying: "▶",
  waiting: "?",
  succeeded: "✓",
  failed: "✗",
  skipped: "–",
};

export function runViewText(view: RunView, c: Colors): string {
  const lines = [
    `${c.bold(`Run ${view.id}`)}  ${view.runbookId}  ${statusLabel(view.status, c)}${view.dryRun ? c.yellow("  (dry run: no change is applied)") : ""}`,
    `  started by ${view.initiator}`,
  ];
  // Checked when the run started, before anyone approves: who each change is applied as, each group and person resolved.
  if (view.preflight.length > 0) {
    lines.push(`  ${c.bold("Checked before anything runs:")}`);
    for (const checked of view.preflight) {
      for (const fact of checked.facts) lines.push(`    ${checked.stepId}: ${fact}`);
    }
  }
  view.steps.forEach((step, index) => {
    const summary = step.outcome?.summary ? `  ${c.dim(step.outcome.summary)}` : "";
    lines.push(`  ${MARK[step.status]} ${String(index + 1).padStart(2)}. ${step.title} (${step.kind})${summary}`);
    // An action's plan says exactly what changes (who is removed from which group, which provider gets which file).
    for (const change of step.outcome?.plan?.changes ?? []) {
      lines.push(`        ${c.dim(`${change.target}: ${change.before ?? "(none)"} → ${change.after ?? "(none)"}`)}`);
    }
    if (step.status === "waiting" && step.outcome?.text) {
      for (const line of step.outcome.text.split("\n")) lines.push(`        ${line}`);
    }
  });
  if (view.waitingFor) {
    lines.push("");
    // An approver must know when a step's check was overridden: the run goes on against what the checks found.
    if (view.waitingFor.kind === "approval") {
      for (const step of view.steps) {
        const override = step.outcome?.override;
        if (override !== undefined)
          lines.push(
            c.yellow(`Overridden: step "${step.id}" by ${override.by}, who gave as the reason: ${override.reason}`),
          );
      }
    }
    lines.push(
      view.waitingFor.kind === "approval"
        ? `Waiting for a second person to approve: breakglass runbook approve ${view.id} --as <name>   ` +
            `(or: runbook reject ${view.id} --as <name> --reason "…")`
        : `Waiting for the step to be done by hand: breakglass runbook confirm ${view.id} --as <name>`,
    );
  } else if (view.status === "failed") {
    lines.push(
      "",
      `The run stopped at a failed step. Fix the cause, then: breakglass runbook resume ${view.id} --as <name>`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function statusLabel(status: RunView["status"], c: Colors): string {
  switch (status) {
    case "succeeded":
      return c.green("succeeded");
    case "failed":
      return c.red("failed");
    case "aborted":
      return c.red("aborted");
    case "waiting":
      return c.yellow("waiting for a person");
    default:
      return status;
  }
}
