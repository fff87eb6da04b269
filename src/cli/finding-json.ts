// A finding as JSON: code, severity, message and remedy first, then whichever subject fields it has.
import type { Finding } from "../domain/checks/finding.js";

export function findingJson(finding: Finding): Record<string, unknown> {
  const { code, severity, message, remedy, ...subject } = finding;
  const defined = Object.fromEntries(Object.entries(subject).filter(([, value]) => value !== undefined));
  return { code, severity, message, remedy, ...defined };
}
