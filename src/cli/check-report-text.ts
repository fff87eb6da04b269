// The readable report of `breakglass check`: findings grouped by severity with their remedy and runbook, then what was not checked.
import type { Colors } from "picocolors/types.js";
import { SEVERITY_ORDER, type Finding } from "../domain/checks/finding.js";
import { FINDING_CODES } from "../domain/checks/finding-codes.js";
import type { PostureFacts } from "../domain/checks/posture-facts.js";
import type { CheckName } from "../config/config-schema.js";
import type { DisabledCheck } from "../config/disabled-checks.js";
import { styleSeverity } from "./severity-style.js";

export interface CheckTextContext {
  readonly configPath: string;
  readonly findings: readonly Finding[];
  readonly notChecked: readonly DisabledCheck[];
  readonly runnable: ReadonlySet<CheckName>;
  readonly facts: PostureFacts | undefined;
  readonly now: Date;
  readonly colors: Colors;
}

export function checkReportText({
  configPath,
  findings,
  notChecked,
  runnable,
  facts,
  now,
  colors: c,
}: CheckTextContext): string {
  const lines = [
    `${c.bold("breakglass check")} ${configPath}, as of ${now.toISOString().slice(0, 16).replace("T", " ")} UTC`,
  ];
  const accounts = facts?.workloadAccounts?.length;
  lines.push(
    `  checked: ${[...runnable].join(", ") || "nothing"}${accounts === undefined ? "" : ` (${accounts} workload ${accounts === 1 ? "account" : "accounts"})`}`,
  );

  for (const severity of SEVERITY_ORDER) {
    const group = findings.filter((finding) => finding.severity === severity);
    if (group.length === 0) continue;
    lines.push("", styleSeverity(severity, c, `${severity.toUpperCase()} (${group.length})`));
    for (const finding of group) {
      const where = finding.accountId ? ` [account ${finding.accountId}]` : "";
      lines.push(`  ${c.bold(finding.code)}${where}  ${finding.message}`);
      const runbook = FINDING_CODES[finding.code].runbook;
      lines.push(`    ${c.dim(`→ ${finding.remedy}${runbook ? ` (runbook: ${runbook})` : ""}`)}`);
    }
  }
  if (findings.length === 0)
    lines.push("", `${c.green("No findings")}: the emergency access path is ready as far as breakglass checked it.`);

  if (notChecked.length > 0) {
    lines.push("", c.bold("Not checked"));
    for (const entry of notChecked) lines.push(`  ${entry.check}: ${entry.reason}`);
  }
  const blocking = findings.filter((finding) => finding.severity === "critical" || finding.severity === "high").length;
  lines.push("", `${findings.length} ${findings.length === 1 ? "finding" : "findings"}, ${blocking} critical or high`);
  return `${lines.join("\n")}\n`;
}
