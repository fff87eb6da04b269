// The JSON contract of `breakglass saml preflight --json`: one object, stable keys, for scripts and the drill.
import type { SamlPreflightReport } from "../application/saml-preflight.js";
import { findingJson } from "./finding-json.js";

export function samlPreflightJson(report: SamlPreflightReport, now: Date): unknown {
  const { facts } = report;
  return {
    accepted: report.accepted,
    judgedAt: now.toISOString(),
    findings: report.findings.map(findingJson),
    skipped: report.skipped,
    facts: {
      input: facts.input,
      form: facts.form,
      provider: facts.provider,
      providerCertificates: facts.providerCertificates,
      signedElement: facts.signedElement,
      signingCertificateSha256: facts.signingCertificateSha256,
      verified: facts.verified,
      issuer: facts.issuer,
      nameId: facts.nameId,
      nameIdFormat: facts.nameIdFormat,
      audiences: facts.audiences,
      recipient: facts.recipient,
      destination: facts.destination,
      times: { ...facts.times, clockSkewSeconds: facts.clockSkewSeconds },
      sessionName: facts.sessionName,
      sessionDuration: facts.sessionDuration === null ? null : Number(facts.sessionDuration),
      roles: facts.roles.map((role) => ({
        value: role.value,
        roleArn: role.roleArn,
        providerArn: role.providerArn,
        accepted: role.accepted,
        findings: role.findings.map((finding) => finding.code),
      })),
    },
  };
}
