// What every check produces: a finding with a stable code, a severity, a message and what to do next.
import { oneLine } from "../errors.js";
import { FINDING_CODES, type FindingCode } from "./finding-codes.js";

export type Severity = "critical" | "high" | "medium" | "low" | "info";

export const SEVERITY_ORDER: readonly Severity[] = ["critical", "high", "medium", "low", "info"];

export interface Finding {
  readonly code: FindingCode;
  readonly severity: Severity;
  /** One sentence on what is wrong, naming the entity or certificate. */
  readonly message: string;
  /** One sentence on what to do next. */
  readonly remedy: string;
  readonly entityID?: string;
  readonly sha256?: string;
  /** The AWS resource the finding is about (an ARN), or the IdP emergency group as configured, when it is about one. */
  readonly resource?: string;
  readonly accountId?: string;
  /** SAML_PROVIDER_DRIFT and _LACKS_CURRENT_CERT: the IdP's signing-certificate fingerprints the provider lacks. */
  readonly missingOnProvider?: readonly string[];
  /** SAML_PROVIDER_DRIFT and _LACKS_CURRENT_CERT: fingerprints on the provider that the IdP no longer publishes. */
  readonly unknownToIdp?: readonly string[];
}

export type FindingSubject = Omit<Finding, "code" | "severity" | "message" | "remedy">;

export function createFinding(code: FindingCode, message: string, subject: FindingSubject = {}): Finding {
  const entry = FINDING_CODES[code];
  // A message quotes values from the document (a validUntil, an entityID), which may hold a line break: a finding is
  // one line in the terminal, in Slack and in a log, whatever the document says.
  return { code, severity: entry.severity, message: oneLine(message, Infinity), remedy: entry.remedy, ...subject };
}

/** A finding at high or critical severity makes a check fail (exit code 1). */
export function isBlocking(finding: Finding): boolean {
  return finding.severity === "critical" || finding.severity === "high";
}

export function compareFindings(a: Finding, b: Finding): number {
  return SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || a.code.localeCompare(b.code);
}
