// How each severity looks on a terminal, the same in every report.
import type { Colors } from "picocolors/types.js";
import type { Severity } from "../domain/checks/finding.js";

const SEVERITY_STYLE: Readonly<Record<Severity, (c: Colors, text: string) => string>> = {
  critical: (c, text) => c.bold(c.red(text)),
  high: (c, text) => c.red(text),
  medium: (c, text) => c.yellow(text),
  low: (c, text) => c.blue(text),
  info: (c, text) => c.dim(text),
};

export function styleSeverity(severity: Severity, c: Colors, text: string): string {
  return SEVERITY_STYLE[severity](c, text);
}
