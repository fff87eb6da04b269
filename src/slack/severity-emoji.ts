// How a finding's severity shows in Slack: one emoji each, the same in alerts, run messages and the status.
import type { Severity } from "../domain/checks/finding.js";

const SEVERITY_EMOJI: Readonly<Record<Severity, string>> = {
  critical: ":red_circle:",
  high: ":large_orange_circle:",
  medium: ":large_yellow_circle:",
  low: ":large_blue_circle:",
  info: ":white_circle:",
};

/** The severity's emoji; a severity breakglass does not know (from an older store) shows as info. */
export function severityEmoji(severity: string): string {
  return Object.hasOwn(SEVERITY_EMOJI, severity) ? SEVERITY_EMOJI[severity as Severity] : SEVERITY_EMOJI.info;
}
