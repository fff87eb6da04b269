// The human report of `breakglass saml preflight`: what the response asserts, each role's verdict, findings, the answer.
import type { Colors } from "picocolors/types.js";
import type { SamlPreflightReport } from "../application/saml-preflight.js";
import { compareFindings, type Severity } from "../domain/checks/finding.js";
import { shortFingerprint } from "../domain/checks/metadata-checks.js";
import { styleSeverity } from "./severity-style.js";

export function samlPreflightText(report: SamlPreflightReport, colors: Colors): string {
  const c = colors;
  const { facts } = report;
  const lines: string[] = [];
  const form = facts.form === "xml" ? "XML" : facts.form === "base64" ? "base64" : "URL-encoded base64";
  lines.push(`${c.bold("SAML response")} ${facts.input}  ${c.dim(`(${form})`)}`);
  const certificates = facts.providerCertificates.length;
  lines.push(
    `  checked against  ${facts.provider}  ${c.dim(`(${certificates} signing ${certificates === 1 ? "certificate" : "certificates"})`)}`,
  );
  lines.push(`  signature        ${describeSignature(report, c)}`);
  const value = (text: string | null) => (text === null ? c.dim("missing") : text);
  if (!facts.verified && facts.issuer !== null)
    lines.push(c.yellow("  (the facts below are not covered by a valid signature: shown to help, not trusted)"));
  lines.push(`  issuer           ${value(facts.issuer)}`);
  lines.push(
    `  subject          ${value(facts.nameId)}${facts.nameIdFormat ? c.dim(`  (${facts.nameIdFormat.split(":").at(-1) ?? ""})`) : ""}`,
  );
  lines.push(`  audience         ${facts.audiences.join(", ") || c.dim("missing")}`);
  lines.push(`  recipient        ${value(facts.recipient)}`);
  if (facts.destination !== null) lines.push(`  destination      ${facts.destination}`);
  lines.push(
    `  valid            ${facts.times.notBefore ?? "…"} to ${facts.times.notOnOrAfter ?? facts.times.subjectNotOnOrAfter ?? "…"}` +
      c.dim(`  (clock skew allowed: ${facts.clockSkewSeconds} s)`),
  );
  lines.push(
    `  session          ${value(facts.sessionName)}, ${facts.sessionDuration === null ? "default duration" : `${facts.sessionDuration} s`}`,
  );
  for (const role of facts.roles) {
    const verdict = role.accepted
      ? c.green("usable")
      : c.red(`refused (${role.findings.map((f) => f.code).join(", ")})`);
    lines.push(`  role             ${role.roleArn ?? role.value}  ${verdict}`);
  }
  if (report.skipped.length > 0) {
    lines.push("", c.bold("Not checked"));
    for (const reason of report.skipped) lines.push(`  - ${reason}`);
  }
  lines.push("", c.bold("Findings"));
  if (report.findings.length === 0) lines.push(`  ${c.green("none")}`);
  for (const finding of [...report.findings].sort(compareFindings)) {
    lines.push(`  ${severityLabel(finding.severity, c)} ${c.bold(finding.code)}  ${finding.message}`);
    lines.push(`  ${" ".repeat(8)} ${c.dim(`→ ${finding.remedy}`)}`);
  }
  lines.push("", summary(report, c));
  return `${lines.join("\n")}\n`;
}

function describeSignature(report: SamlPreflightReport, c: Colors): string {
  const { facts } = report;
  if (facts.signedElement !== null && facts.signingCertificateSha256 !== null)
    return c.green(
      `valid — the ${facts.signedElement} is signed by ${shortFingerprint(facts.signingCertificateSha256)}`,
    );
  const problem = report.findings.find((finding) =>
    [
      "SAML_RESPONSE_WRAPPED",
      "SAML_RESPONSE_SIGNER_UNKNOWN",
      "SAML_RESPONSE_SIGNATURE_INVALID",
      "SAML_RESPONSE_UNSIGNED",
    ].includes(finding.code),
  );
  return c.red(problem ? problem.code.replace("SAML_RESPONSE_", "").replace(/_/g, " ") : "not verified");
}

function summary(report: SamlPreflightReport, c: Colors): string {
  if (report.accepted) {
    const usable = report.facts.roles.filter((role) => role.accepted).map((role) => role.roleArn);
    return c.green(`AWS would accept this response${usable.length > 0 ? ` for ${usable.join(", ")}` : ""}.`);
  }
  const count = report.findings.length;
  return c.red(`AWS would refuse this response: ${count} ${count === 1 ? "finding" : "findings"}.`);
}

function severityLabel(severity: Severity, c: Colors): string {
  return styleSeverity(severity, c, severity.toUpperCase().padEnd(8));
}
