// The JSON contract of `breakglass metadata inspect --json`: one object, stable keys, for scripts.
import type { Finding } from "../domain/checks/finding.js";
import { findingJson } from "./finding-json.js";
import { daysLeft } from "../domain/checks/metadata-checks.js";
import type {
  CertificateEntry,
  EntityFacts,
  MetadataInspection,
  SignatureVerdict,
} from "../domain/saml/metadata-model.js";
import { parseXsdDateTime } from "../domain/saml/xml-datetime.js";

export function metadataReportJson(
  inspection: MetadataInspection,
  findings: readonly Finding[],
  ok: boolean,
  now: Date,
): unknown {
  return {
    ok,
    document: documentJson(inspection),
    entities: inspection.entities.map((entity) => entityJson(entity, now)),
    findings: findings.map(findingJson),
  };
}

/**
 * The same report as `JSON.stringify(metadataReportJson(…), null, 2)` plus a newline, byte for byte, in pieces of one
 * entity each: a federation aggregate of 60 MB has a report of 30 MB, which the CLI writes as it goes instead of
 * holding it (and every entity's JSON object) whole in memory (issue 15).
 */
export function* metadataReportJsonPieces(
  inspection: MetadataInspection,
  findings: readonly Finding[],
  ok: boolean,
  now: Date,
): Generator<string> {
  yield `{\n  "ok": ${JSON.stringify(ok)},\n  "document": ${nested(documentJson(inspection), "  ")},\n  "entities": `;
  yield* arrayPieces(inspection.entities, (entity) => entityJson(entity, now));
  yield `,\n  "findings": `;
  yield* arrayPieces(findings, findingJson);
  yield "\n}\n";
}

/** An array that is the value of a top-level key, as `JSON.stringify(…, null, 2)` writes it, one element a piece. */
function* arrayPieces<T>(items: readonly T[], toJson: (item: T) => unknown): Generator<string> {
  if (items.length === 0) {
    yield "[]";
    return;
  }
  let separator = "[\n    ";
  for (const item of items) {
    yield `${separator}${nested(toJson(item), "    ")}`;
    separator = ",\n    ";
  }
  yield "\n  ]";
}

/** A value written at `indent`: JSON escapes every newline inside a string, so each newline is a line of layout. */
function nested(value: unknown, indent: string): string {
  return (JSON.stringify(value, null, 2) ?? "null").replaceAll("\n", `\n${indent}`);
}

function documentJson(inspection: MetadataInspection): unknown {
  return {
    source: inspection.input,
    rootElement: inspection.rootElement,
    validUntil: normaliseDateTime(inspection.validUntil),
    cacheDuration: inspection.cacheDuration,
    signature: signatureJson(inspection.signature),
  };
}

function entityJson(entity: EntityFacts, now: Date): unknown {
  const roles = [...new Set(entity.roles.map((role) => role.kind).filter((kind) => kind !== "other"))];
  return {
    entityID: entity.entityID,
    roles,
    validUntil: normaliseDateTime(entity.validUntil),
    cacheDuration: entity.cacheDuration,
    signature: { ...signatureJson(entity.signature), scope: entity.signatureScope },
    ssoServices: entity.ssoServices.map(({ binding, location }) => ({ binding, location })),
    nameIDFormats: entity.nameIDFormats,
    certificates: entity.certificates.map((certificate) => certificateJson(certificate, now)),
  };
}

function certificateJson(entry: CertificateEntry, now: Date): unknown {
  if (!entry.facts) return { role: entry.role, use: entry.use, sha256: entry.sha256, error: entry.error };
  const facts = entry.facts;
  return {
    role: entry.role,
    use: entry.use,
    sha256: facts.sha256,
    subject: facts.subject,
    issuer: facts.issuer,
    serialNumber: facts.serialNumber,
    notBefore: facts.notBefore.toISOString(),
    notAfter: facts.notAfter.toISOString(),
    daysLeft: daysLeft(facts.notAfter, now),
    keyAlgorithm: facts.keyAlgorithm,
    keyBits: facts.keyBits,
    signatureAlgorithm: facts.signatureAlgorithm,
  };
}

function signatureJson(signature: SignatureVerdict): {
  present: boolean;
  valid: boolean | null;
  detail: string | null;
  signerSha256: string | null;
} {
  return {
    present: signature.present,
    valid: signature.valid,
    detail: signature.detail,
    signerSha256: signature.signerSha256,
  };
}

/** ISO-8601 in UTC when the value is an xsd:dateTime; the raw text otherwise (a finding says it is malformed). */
function normaliseDateTime(value: string | null): string | null {
  if (value === null) return null;
  return parseXsdDateTime(value)?.toISOString() ?? value;
}
