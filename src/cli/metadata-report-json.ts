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
 * The same report as `JSON.stringify(metadataReportJson(…), null, 2)` plus a newline, byte for byte, in pieces of a
 * few dozen entities each: a federation aggregate of 60 MB has a report of 30 MB, which the CLI writes as it goes
 * instead of holding it (and every entity's JSON object) whole in memory (issue 15).
 */
export function* metadataReportJsonPieces(
  inspection: MetadataInspection,
  findings: readonly Finding[],
  ok: boolean,
  now: Date,
): Generator<string> {
  yield `{\n  "ok": ${JSON.stringify(ok)},\n  "document": ${valueText(documentJson(inspection))},\n  "entities": `;
  yield* arrayPieces(inspection.entities, (entity) => entityJson(entity, now));
  yield `,\n  "findings": `;
  yield* arrayPieces(findings, findingJson);
  yield "\n}\n";
}

/**
 * How many elements one piece holds. Each piece is one JSON.stringify call, which does its work in native code from
 * the first call: one call per element (and a pass to indent each) cost a 4 MB aggregate's report twice the time.
 */
export const ELEMENTS_PER_PIECE = 64;

/** An array that is the value of a top-level key, as `JSON.stringify(…, null, 2)` writes it, in pieces. */
function* arrayPieces<T>(items: readonly T[], toJson: (item: T) => unknown): Generator<string> {
  if (items.length === 0) {
    yield "[]";
    return;
  }
  for (let start = 0; start < items.length; start += ELEMENTS_PER_PIECE) {
    const elements: unknown[] = [];
    for (const item of items.slice(start, start + ELEMENTS_PER_PIECE)) elements.push(toJson(item));
    yield `${start === 0 ? "[" : ","}${elementsText(elements)}`;
  }
  yield "\n  ]";
}

/*
 * JSON.stringify indents a value by its depth, so a value stringified inside a wrapper at the depth it has in the
 * report comes out indented as the report has it, with no pass over the text to indent it again. The wrapper's own
 * text around it is cut off.
 */
const ELEMENTS_OPEN = '{\n  "a": ['.length;
const ELEMENTS_CLOSE = "\n  ]\n}".length;
const VALUE_OPEN = '{\n  "a": '.length;
const VALUE_CLOSE = "\n}".length;

/** Elements of a top-level key's array, each after a newline and four spaces, separated by commas. */
function elementsText(elements: readonly unknown[]): string {
  return JSON.stringify({ a: elements }, null, 2).slice(ELEMENTS_OPEN, -ELEMENTS_CLOSE);
}

/** The value of a top-level key (never undefined: documentJson is an object). */
function valueText(value: object): string {
  return JSON.stringify({ a: value }, null, 2).slice(VALUE_OPEN, -VALUE_CLOSE);
}

function documentJson(inspection: MetadataInspection): object {
  return {
    source: inspection.input,
    rootElement: inspection.rootElement,
    validUntil: normaliseDateTime(inspection.validUntil),
    cacheDuration: inspection.cacheDuration,
    signature: signatureJson(inspection.signature),
  };
}

/*
 * The per-entity functions below use plain loops and object literals rather than Set, spreads and map callbacks: they
 * run once per entity while still interpreted, where each iterator and callback costs more than the work it does.
 */
function entityJson(entity: EntityFacts, now: Date): unknown {
  const signature = entity.signature;
  return {
    entityID: entity.entityID,
    roles: roleKinds(entity),
    validUntil: normaliseDateTime(entity.validUntil),
    cacheDuration: entity.cacheDuration,
    signature: {
      present: signature.present,
      valid: signature.valid,
      detail: signature.detail,
      signerSha256: signature.signerSha256,
      scope: entity.signatureScope,
    },
    ssoServices: ssoServicesJson(entity),
    nameIDFormats: entity.nameIDFormats,
    certificates: certificatesJson(entity, now),
  };
}

/** Each kind of role once, in the order of its first role; "other" left out. */
function roleKinds(entity: EntityFacts): string[] {
  const kinds: string[] = [];
  for (const { kind } of entity.roles) if (kind !== "other" && !kinds.includes(kind)) kinds.push(kind);
  return kinds;
}

function ssoServicesJson(entity: EntityFacts): unknown[] {
  const services: unknown[] = [];
  for (const { binding, location } of entity.ssoServices) services.push({ binding, location });
  return services;
}

function certificatesJson(entity: EntityFacts, now: Date): unknown[] {
  const certificates: unknown[] = [];
  for (const certificate of entity.certificates) certificates.push(certificateJson(certificate, now));
  return certificates;
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
