// A runbook run as a responder reads it in a terminal: where it stands, each step's outcome, and the command to type next.
import type { Colors } from "picocolors/types.js";
import type { RunView, StepView } from "../domain/runbooks/run-engine.js";
import type { UnlockedAction } from "../domain/runbooks/run-store.js";
import type { Severity } from "../domain/checks/finding.js";
import { fingerprintRequirement } from "../domain/runbooks/fingerprint-confirmation.js";
import { describeIncomingCertificate, groupedFingerprint, type KeyContinuity } from "../domain/saml/key-continuity.js";
import { styleSeverity } from "./severity-style.js";

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
    if (step.status === "waiting" && step.outcome?.unlocks !== undefined) {
      lines.push(...unlocksText(view, step.outcome.unlocks, c));
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
    const waiting = view.steps.find((step) => step.id === view.waitingFor?.stepId);
    const confirm =
      fingerprintRequirement(waiting?.outcome?.unlocks) === undefined ? "" : " --confirm-fingerprint <8 hex>";
    lines.push(
      view.waitingFor.kind === "approval"
        ? `Waiting for a second person to approve: breakglass runbook approve ${view.id} --as <name>${confirm}   ` +
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

/**
 * What approving lets happen, under the waiting approval: each action step it unlocks with its plan, before and after
 * on lines of their own so that fingerprints can be compared, or why it could not be planned yet.
 */
function unlocksText(view: RunView, unlocks: readonly UnlockedAction[], c: Colors): string[] {
  if (unlocks.length === 0)
    return ["", `        ${c.bold("Approving unlocks no change:")} no action step follows before the next approval.`];
  const lines = [
    "",
    `        ${c.bold("Approving unlocks these changes")} (planned when the run reached this step; each is planned again when it runs):`,
  ];
  for (const unlocked of unlocks) {
    const index = view.steps.findIndex((step) => step.id === unlocked.stepId);
    const title = view.steps[index]?.title ?? unlocked.stepId;
    const condition = unlocked.condition === undefined ? "" : c.dim(`  (${unlocked.condition})`);
    lines.push(`        ${String(index + 1).padStart(2)}. ${title} (${unlocked.action})${condition}`);
    const plan = unlocked.plan;
    if (plan === undefined) {
      lines.push(`            ${c.yellow(unlocked.notPlanned ?? "not planned")}`);
      continue;
    }
    lines.push(`            ${plan.alreadyDone ? `nothing to change now: ${plan.summary}` : plan.summary}`);
    for (const change of plan.changes) {
      lines.push(`            ${change.target}`);
      lines.push(`              now:   ${change.before ?? "(none)"}`);
      lines.push(`              after: ${change.after ?? "(none)"}`);
    }
    if (plan.keyContinuity !== undefined && !plan.alreadyDone) lines.push(...keyContinuityText(plan.keyContinuity, c));
  }
  return lines;
}

const CONTINUITY_SEVERITY: Readonly<Record<KeyContinuity["verdict"], Severity>> = {
  "shares-key": "info",
  "full-change-signed": "medium",
  "full-change-unsigned": "critical",
};

/** The import's key continuity, in the severity's colours (red when the approver must type a fingerprint), and every new certificate. */
function keyContinuityText(continuity: KeyContinuity, c: Colors): string[] {
  const style = (text: string) => styleSeverity(CONTINUITY_SEVERITY[continuity.verdict], c, text);
  const lines = [`            ${style(continuity.note)}`];
  for (const certificate of continuity.certificates) {
    const label = certificate.isNew ? "new: " : "kept:";
    lines.push(`              ${label} ${describeIncomingCertificate(certificate)}`);
    lines.push(`                     sha256 ${groupedFingerprint(certificate.sha256)}`);
  }
  if (continuity.verdict === "full-change-unsigned")
    lines.push(
      `            ${style("approve with: --confirm-fingerprint <first 8 hex characters, from the IdP's admin console>")}`,
    );
  return lines;
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
