// Judges inspected IdP metadata: certificates, validity, signatures and roles in; findings out. Pure: the clock is an argument.
import type { CertificateFacts } from "../saml/certificate.js";
import { isWeakKey, isWeakSignatureAlgorithm } from "../saml/certificate.js";
import type { EntityFacts, MetadataInspection, SignatureVerdict } from "../saml/metadata-model.js";
import { parseXsdDateTime } from "../saml/xml-datetime.js";
import { createFinding, type Finding } from "./finding.js";
import { isIdentityProvider, signingEntries } from "./signing-certificates.js";

export interface MetadataCheckOptions {
  readonly now: Date;
  /** CERT_EXPIRING fires when a signing certificate has fewer days left than this. */
  readonly warnDays: number;
}

export { DEFAULT_WARN_DAYS } from "./metadata-check-defaults.js";

const DAY_MS = 86_400_000;

/** Whole days from `now` until `until`, rounded down (negative once passed). */
export function daysLeft(until: Date, now: Date): number {
  return Math.floor((until.getTime() - now.getTime()) / DAY_MS);
}

/** Whole days since `since`, rounded down. */
export function daysAgo(since: Date, now: Date): number {
  return Math.floor((now.getTime() - since.getTime()) / DAY_MS);
}

export function checkMetadata(inspection: MetadataInspection, options: MetadataCheckOptions): Finding[] {
  const findings: Finding[] = [];
  const singleEntity = inspection.entities.length === 1 ? inspection.entities[0] : undefined;
  const documentSubject = singleEntity ? { entityID: singleEntity.entityID } : {};

  // An EntityDescriptor root's validUntil is the entity's own and is judged with the entity.
  if (inspection.rootElement === "EntitiesDescriptor")
    checkValidUntil(findings, inspection.validUntil, "the document", options.now, documentSubject);
  judgeSignature(findings, inspection.signature, "The document's signature", documentSubject);
  checkSigningStructure(findings, inspection);

  const identityProviders = inspection.entities.filter(isIdentityProvider);
  if (identityProviders.length === 0) {
    for (const entity of inspection.entities) {
      const roles = entity.roles.map((role) => role.label).join(", ") || "no role descriptors";
      findings.push(
        createFinding(
          "NOT_AN_IDP",
          `${entity.entityID} is not an identity provider (it has ${roles}, no IDPSSODescriptor).`,
          { entityID: entity.entityID },
        ),
      );
    }
    return findings;
  }
  for (const entity of identityProviders) checkIdentityProvider(findings, entity, inspection, options);
  return findings;
}

function checkIdentityProvider(
  findings: Finding[],
  entity: EntityFacts,
  inspection: MetadataInspection,
  options: MetadataCheckOptions,
): void {
  const subject = { entityID: entity.entityID };
  const name = entity.entityID;

  if (entity.signatureScope === "entity") {
    judgeSignature(findings, entity.signature, `The signature of ${name}`, subject);
  } else if (inspection.signerPinned && !entity.signature.present) {
    findings.push(
      createFinding(
        "METADATA_SIGNATURE_INVALID",
        `${name} is not covered by any signature, but --metadata-signer requires one by the pinned signer.`,
        subject,
      ),
    );
  }
  // The root's own validUntil was judged for the document; nested aggregates and the entity are judged here.
  const inherited =
    inspection.rootElement === "EntitiesDescriptor" && inspection.validUntil !== null
      ? entity.inheritedValidUntil.slice(1)
      : entity.inheritedValidUntil;
  for (const value of inherited)
    checkValidUntil(findings, value, `the EntitiesDescriptor around ${name}`, options.now, subject);
  checkValidUntil(findings, entity.validUntil, name, options.now, subject);
  for (const role of entity.roles) {
    if (role.kind === "idp")
      checkValidUntil(findings, role.validUntil, `the IDPSSODescriptor of ${name}`, options.now, subject);
  }

  if (entity.ssoServices.length === 0) {
    findings.push(
      createFinding(
        "NO_SSO_SERVICE",
        `${name} lists no SingleSignOnService, so users cannot be sent to it to sign in.`,
        subject,
      ),
    );
  }

  const signing = signingEntries(entity);
  if (signing.length === 0) {
    findings.push(
      createFinding(
        "NO_SIGNING_CERT",
        `${name} publishes no signing certificate in its IDPSSODescriptor; AWS cannot verify its assertions.`,
        subject,
      ),
    );
    return;
  }

  const distinct = new Map<string, CertificateFacts>();
  const unreadable = new Map<string, string>();
  for (const entry of signing) {
    if (entry.facts) distinct.set(entry.facts.sha256, entry.facts);
    else unreadable.set(entry.sha256 ?? entry.error, entry.error);
  }
  for (const [key, error] of unreadable) {
    const sha256 = /^[0-9a-f]{64}$/.test(key) ? { sha256: key } : {};
    findings.push(
      createFinding("CERT_UNPARSEABLE", `A signing certificate of ${name} cannot be read: ${error}.`, {
        ...subject,
        ...sha256,
      }),
    );
  }

  let currentlyValid = 0;
  for (const certificate of distinct.values()) {
    if (checkCertificate(findings, certificate, name, options)) currentlyValid++;
  }
  if (currentlyValid === 0) {
    findings.push(
      createFinding(
        "NO_VALID_SIGNING_CERT",
        `None of the ${distinct.size + unreadable.size} signing certificates of ${name} is valid now; federation with this IdP fails.`,
        subject,
      ),
    );
  }
  const rollover = findRollover([...distinct.values()], options.now);
  if (rollover) {
    const { outgoing, incoming } = rollover;
    findings.push(
      createFinding(
        "ROLLOVER_IN_PROGRESS",
        `${name} is rolling its signing certificate over: ${shortFingerprint(outgoing.sha256)} ` +
          `(until ${isoDay(outgoing.notAfter)}, ${daysLeft(outgoing.notAfter, options.now)} days left) is to be ` +
          `replaced by ${shortFingerprint(incoming.sha256)} (${isoDay(incoming.notBefore)} to ${isoDay(incoming.notAfter)}).`,
        subject,
      ),
    );
  }
}

/** Whether `certificate` is newer than `other`: valid from no earlier, and valid until later. */
export function isSuccessorOf(certificate: CertificateFacts, other: CertificateFacts): boolean {
  return certificate.notBefore >= other.notBefore && certificate.notAfter > other.notAfter;
}

/**
 * A signing certificate this long from expiry is not about to be replaced, whatever else the IdP publishes. IdPs
 * publish the successor from weeks (Entra ID) to a year or more (Google) ahead; two keys with years left each are a
 * long-lived pair, not a rollover.
 */
export const ROLLOVER_HORIZON_DAYS = 730;

/**
 * Whether the IdP is rolling its signing key over, as an admin means it: it publishes, beside the certificate it signs
 * with (the outgoing one), a successor that is about to take over. Precisely, an outgoing and an incoming certificate
 * such that
 *   - the outgoing one is valid now, and expires within ROLLOVER_HORIZON_DAYS;
 *   - the incoming one is newer: it became (or becomes) valid no earlier than the outgoing one, and stays valid after
 *     the outgoing one expires.
 * So an expired certificate left in the document (Entra ID keeps the old one for months) is no rollover, nor are two
 * certificates with the same validity (Shibboleth's two 20-year keys, signing and back-channel), nor two long-lived
 * ones. With several candidates, the outgoing one expiring first and its longest-lived successor are named.
 */
export function findRollover(
  certificates: readonly CertificateFacts[],
  now: Date,
): { outgoing: CertificateFacts; incoming: CertificateFacts } | undefined {
  const outgoing = certificates
    .filter(
      (certificate) =>
        certificate.notBefore <= now &&
        certificate.notAfter > now &&
        daysLeft(certificate.notAfter, now) <= ROLLOVER_HORIZON_DAYS,
    )
    .sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime());
  for (const candidate of outgoing) {
    const successors = certificates
      .filter((other) => isSuccessorOf(other, candidate))
      .sort((a, b) => b.notAfter.getTime() - a.notAfter.getTime());
    if (successors[0]) return { outgoing: candidate, incoming: successors[0] };
  }
  return undefined;
}

/** The findings about one present signature: invalid, not verified (and why), and weak algorithms whatever its verdict. */
function judgeSignature(
  findings: Finding[],
  verdict: SignatureVerdict,
  label: string,
  subject: { entityID?: string },
): void {
  if (!verdict.present) return;
  if (verdict.valid === false) {
    findings.push(
      createFinding(
        "METADATA_SIGNATURE_INVALID",
        `${label} is invalid: ${verdict.detail ?? "it does not verify"}.`,
        subject,
      ),
    );
  } else if (verdict.valid === null && verdict.unverifiedReason === "unsupported-algorithm") {
    findings.push(
      createFinding(
        "METADATA_SIGNATURE_UNSUPPORTED",
        `${label} was not checked (${verdict.detail ?? "cannot verify its algorithm"}).`,
        subject,
      ),
    );
  } else if (verdict.valid === null) {
    const code =
      verdict.unverifiedReason === "too-complex" ? "METADATA_SIGNATURE_TOO_COMPLEX" : "METADATA_SIGNATURE_UNVERIFIED";
    findings.push(createFinding(code, `${label} was ${verdict.detail ?? "not verified"}.`, subject));
  }
  if (verdict.weakAlgorithms.length > 0) {
    const outcome = verdict.valid === true ? "; it verifies, but proves less than it seems" : "";
    findings.push(
      createFinding(
        "METADATA_SIGNATURE_WEAK",
        `${label} uses SHA-1 (${verdict.weakAlgorithms.join(", ")})${outcome}.`,
        subject,
      ),
    );
  }
}

/**
 * What the signatures leave uncovered, whether or not a signer is pinned: entities sharing an
 * entityID, an unsigned copy of a signed IdP, IdPs signed and unsigned side by side, and
 * signatures where breakglass verifies none. (With a pinned signer an unsigned IdP is already
 * METADATA_SIGNATURE_INVALID, so the copy and mixed findings would only repeat it.)
 */
function checkSigningStructure(findings: Finding[], inspection: MetadataInspection): void {
  const byEntityID = new Map<string, EntityFacts[]>();
  for (const entity of inspection.entities)
    byEntityID.set(entity.entityID, [...(byEntityID.get(entity.entityID) ?? []), entity]);
  const shadowed = new Set<string>();
  for (const [entityID, group] of byEntityID) {
    if (group.length < 2) continue;
    const signed = group.filter((entity) => entity.signature.present).length;
    const unsignedIdps = group.filter((entity) => !entity.signature.present && isIdentityProvider(entity)).length;
    if (!inspection.signerPinned && signed > 0 && unsignedIdps > 0) {
      shadowed.add(entityID);
      findings.push(
        createFinding(
          "METADATA_UNSIGNED_DUPLICATE",
          `${entityID} appears ${group.length} times: ${signed} signed, and ${unsignedIdps} unsigned ` +
            `IdP ${unsignedIdps === 1 ? "copy" : "copies"} claiming the same entityID.`,
          { entityID },
        ),
      );
    } else {
      findings.push(
        createFinding("METADATA_DUPLICATE_ENTITY_ID", `${entityID} appears ${group.length} times in the document.`, {
          entityID,
        }),
      );
    }
  }

  const identityProviders = inspection.entities.filter(isIdentityProvider);
  const unsigned = identityProviders.filter((entity) => !entity.signature.present && !shadowed.has(entity.entityID));
  if (!inspection.signerPinned && unsigned.length > 0 && identityProviders.some((entity) => entity.signature.present)) {
    const names = unsigned
      .slice(0, 3)
      .map((entity) => entity.entityID)
      .join(", ");
    const more = unsigned.length > 3 ? ` and ${unsigned.length - 3} more` : "";
    findings.push(
      createFinding(
        "METADATA_MIXED_SIGNING",
        `Some IdP entities are signed and ${unsigned.length} ${unsigned.length === 1 ? "is" : "are"} not: ${names}${more}.`,
        {},
      ),
    );
  }

  const stray = inspection.straySignatures;
  if (stray.count > 0) {
    const where = stray.places.map((place) => `<${place}>`).join(", ");
    findings.push(
      createFinding(
        "METADATA_SIGNATURE_STRAY",
        `${stray.count} ${plural(stray.count, "Signature")} ${stray.count === 1 ? "sits" : "sit"} where ` +
          `breakglass verifies none, on ${where}: ${stray.count === 1 ? "it vouches" : "they vouch"} for ` +
          `nothing reported here.`,
        {},
      ),
    );
  }
}

/** Adds the findings about one signing certificate; true when it is valid at `now`. */
function checkCertificate(
  findings: Finding[],
  certificate: CertificateFacts,
  entityName: string,
  options: MetadataCheckOptions,
): boolean {
  const subject = { entityID: entityName, sha256: certificate.sha256 };
  const label = `Signing certificate ${certificate.subject} (${shortFingerprint(certificate.sha256)}) of ${entityName}`;
  const left = daysLeft(certificate.notAfter, options.now);
  let valid = false;
  if (certificate.notAfter.getTime() <= options.now.getTime()) {
    const ago = daysAgo(certificate.notAfter, options.now);
    findings.push(
      createFinding(
        "CERT_EXPIRED",
        `${label} expired on ${isoDay(certificate.notAfter)} (${ago} ${plural(ago, "day")} ago).`,
        subject,
      ),
    );
  } else if (certificate.notBefore.getTime() > options.now.getTime()) {
    findings.push(
      createFinding("CERT_NOT_YET_VALID", `${label} is not valid until ${isoMinute(certificate.notBefore)}.`, subject),
    );
  } else {
    valid = true;
    if (left < options.warnDays) {
      findings.push(
        createFinding(
          "CERT_EXPIRING",
          `${label} expires on ${isoDay(certificate.notAfter)}, in ${left} ${plural(left, "day")}.`,
          subject,
        ),
      );
    }
  }
  if (isWeakKey(certificate.keyAlgorithm, certificate.keyBits)) {
    findings.push(
      createFinding(
        "CERT_WEAK_KEY",
        `${label} has a weak ${certificate.keyAlgorithm} ${certificate.keyBits}-bit key.`,
        subject,
      ),
    );
  }
  if (isWeakSignatureAlgorithm(certificate.signatureAlgorithm)) {
    findings.push(
      createFinding(
        "CERT_WEAK_SIGNATURE",
        `${label} is signed with ${certificate.signatureAlgorithm}, a broken digest.`,
        subject,
      ),
    );
  }
  return valid;
}

function checkValidUntil(
  findings: Finding[],
  value: string | null,
  what: string,
  now: Date,
  subject: { entityID?: string },
): void {
  if (value === null) return;
  const until = parseXsdDateTime(value);
  if (!until) {
    findings.push(
      createFinding(
        "METADATA_MALFORMED",
        `The validUntil of ${what} is not a date and time: "${value.slice(0, 60)}".`,
        subject,
      ),
    );
  } else if (until.getTime() <= now.getTime()) {
    const ago = daysAgo(until, now);
    findings.push(
      createFinding(
        "METADATA_EXPIRED",
        `The validUntil of ${what} passed on ${isoMinute(until)} (${ago} ${plural(ago, "day")} ago).`,
        subject,
      ),
    );
  }
}

export function shortFingerprint(sha256: string): string {
  return `sha256 ${sha256.slice(0, 8)}…${sha256.slice(-4)}`;
}

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function isoMinute(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`;
}
