// The human report of `breakglass metadata inspect`: one block per entity, certificates with days left, findings by severity.
import type { Colors } from "picocolors/types.js";
import { compareFindings, type Finding, type Severity } from "../domain/checks/finding.js";
import { daysAgo, daysLeft, shortFingerprint } from "../domain/checks/metadata-checks.js";
import type {
  CertificateEntry,
  EntityFacts,
  MetadataInspection,
  SignatureVerdict,
} from "../domain/saml/metadata-model.js";
import { parseXsdDateTime } from "../domain/saml/xml-datetime.js";
import { styleSeverity } from "./severity-style.js";

export interface TextReportContext {
  readonly now: Date;
  readonly warnDays: number;
  readonly colors: Colors;
  /** Set when the document was not downloaded again (HTTP 304). */
  readonly notModified: boolean;
}

const BINDING_PREFIX = "urn:oasis:names:tc:SAML:2.0:bindings:";

export function metadataReportText(
  inspection: MetadataInspection,
  findings: readonly Finding[],
  context: TextReportContext,
): string {
  return [...metadataReportTextPieces(inspection, findings, context)].join("");
}

/** The same report as metadataReportText, in pieces of a few lines each, for the CLI to write as it goes (issue 15). */
export function* metadataReportTextPieces(
  inspection: MetadataInspection,
  findings: readonly Finding[],
  context: TextReportContext,
): Generator<string> {
  const { colors: c } = context;
  const lines: string[] = [];
  const aggregate = inspection.rootElement === "EntitiesDescriptor";
  lines.push(
    `${c.bold("Metadata")} ${inspection.input}${context.notModified ? c.dim("  (unchanged since the last fetch: 304 Not Modified)") : ""}`,
  );
  if (aggregate) {
    lines.push(
      `  aggregate of ${inspection.entities.length} ${inspection.entities.length === 1 ? "entity" : "entities"}; ` +
        `signature: ${describeSignature(inspection.signature, c)}`,
    );
  }
  if (aggregate && inspection.validUntil)
    lines.push(`  valid until ${describeValidUntil(inspection.validUntil, context.now)}`);
  yield `${lines.join("\n")}\n`;

  for (const entity of inspection.entities) {
    yield `\n${entityBlock(entity, aggregate, context).join("\n")}\n`;
  }

  lines.length = 0;
  lines.push("", c.bold("Findings"));
  if (findings.length === 0) lines.push(`  ${c.green("none")} — the metadata is fit for federation today.`);
  for (const finding of [...findings].sort(compareFindings)) {
    lines.push(`  ${severityLabel(finding.severity, c)} ${c.bold(finding.code)}  ${finding.message}`);
    lines.push(`  ${" ".repeat(8)} ${c.dim(`→ ${finding.remedy}`)}`);
  }
  lines.push("", summary(inspection, findings));
  yield `${lines.join("\n")}\n`;
}

function entityBlock(entity: EntityFacts, aggregate: boolean, context: TextReportContext): string[] {
  const { colors: c, now } = context;
  const roles = entity.roles.map((role) => role.label).join(", ") || "no roles";
  const lines = [`${c.bold(c.cyan(entity.entityID))}  ${c.dim(`(${roles})`)}`];
  if (!aggregate || entity.signatureScope === "entity")
    lines.push(`  signature    ${describeSignature(entity.signature, c)}`);
  if (entity.validUntil) lines.push(`  valid until  ${describeValidUntil(entity.validUntil, now)}`);
  for (const service of entity.ssoServices) {
    const binding = service.binding.startsWith(BINDING_PREFIX)
      ? service.binding.slice(BINDING_PREFIX.length)
      : service.binding;
    lines.push(`  sign-in      ${binding} ${service.location}`);
  }
  const seen = new Map<string, CertificateEntry[]>();
  for (const entry of entity.certificates) {
    const key = `${entry.facts?.sha256 ?? entry.role}|${entry.use}`;
    seen.set(key, [...(seen.get(key) ?? []), entry]);
  }
  for (const entries of seen.values()) {
    const entry = entries[0] as CertificateEntry;
    const where = [...new Set(entries.map((each) => each.role))].join(", ");
    lines.push(`  ${entry.use.padEnd(11)}  ${describeCertificate(entry, context)}`);
    lines.push(`  ${" ".repeat(11)}  ${c.dim(`in ${where}`)}`);
  }
  if (entity.certificates.length === 0) lines.push(`  certificates none`);
  return lines;
}

function describeCertificate(entry: CertificateEntry, { now, warnDays, colors: c }: TextReportContext): string {
  if (!entry.facts) return c.red(`unreadable: ${entry.error}`);
  const facts = entry.facts;
  const left = daysLeft(facts.notAfter, now);
  const until = facts.notAfter.toISOString().slice(0, 10);
  const status =
    facts.notAfter.getTime() <= now.getTime()
      ? c.red(`EXPIRED ${until} (${daysAgo(facts.notAfter, now)} days ago)`)
      : facts.notBefore.getTime() > now.getTime()
        ? c.yellow(`not valid before ${facts.notBefore.toISOString().slice(0, 10)}`)
        : left < warnDays
          ? c.yellow(`expires ${until} (${left} days left)`)
          : c.green(`expires ${until} (${left} days left)`);
  const key = `${facts.keyAlgorithm}${facts.keyBits === null ? "" : ` ${facts.keyBits}`}`;
  return `${facts.subject}  ${shortFingerprint(facts.sha256)}  ${status}  ${c.dim(`${key}, ${facts.signatureAlgorithm}`)}`;
}

function describeSignature(signature: SignatureVerdict, c: Colors): string {
  if (!signature.present) return c.dim(signature.detail ?? "not signed");
  if (signature.valid) return c.green(`valid — ${signature.detail ?? ""}`.trim());
  // Not checked (too large, too complex, an algorithm breakglass lacks) says nothing about tampering.
  if (signature.valid === null) return c.yellow(`NOT VERIFIED — ${signature.detail ?? "not checked"}`);
  return c.red(`INVALID — ${signature.detail ?? "does not verify"}`);
}

function describeValidUntil(value: string, now: Date): string {
  const until = parseXsdDateTime(value);
  if (!until)
    return value.length > 60
      ? `"${value.slice(0, 60)}…" (not a date: ${value.length} characters)`
      : `"${value}" (not a date)`;
  const left = daysLeft(until, now);
  return `${until.toISOString().slice(0, 16).replace("T", " ")} UTC (${left < 0 ? `${daysAgo(until, now)} days ago` : `${left} days left`})`;
}

function severityLabel(severity: Severity, c: Colors): string {
  return styleSeverity(severity, c, severity.toUpperCase().padEnd(8));
}

function summary(inspection: MetadataInspection, findings: readonly Finding[]): string {
  const counts = new Map<Severity, number>();
  for (const finding of findings) counts.set(finding.severity, (counts.get(finding.severity) ?? 0) + 1);
  const parts = (["critical", "high", "medium", "low", "info"] as const)
    .filter((severity) => counts.has(severity))
    .map((severity) => `${counts.get(severity)} ${severity}`);
  const certificates = new Set(
    inspection.entities.flatMap((entity) =>
      entity.certificates.map((entry) => (entry.facts ? entry.facts.sha256 : entry.error)),
    ),
  ).size;
  return (
    `${inspection.entities.length} ${inspection.entities.length === 1 ? "entity" : "entities"}, ${certificates} ` +
    `distinct ${certificates === 1 ? "certificate" : "certificates"}; ` +
    `findings: ${parts.length === 0 ? "none" : parts.join(", ")}`
  );
}
