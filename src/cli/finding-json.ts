// A finding as JSON: code, severity, message, remedy and the runbook that fixes it first, then whichever subject fields it has.
import type { Finding } from "../domain/checks/finding.js";
import { FINDING_CODES } from "../domain/checks/finding-codes.js";

export function findingJson(finding: Finding): Record<string, unknown> {
  const { code, severity, message, remedy, ...subject } = finding;
  const defined = Object.fromEntries(Object.entries(subject).filter(([, value]) => value !== undefined));
  // The same hint the text report prints after the remedy; null when no runbook fixes it.
  return { code, severity, message, remedy, runbook: FINDING_CODES[code].runbook, ...defined };
}
