// Compares each emergency IAM SAML provider with the IdP's current metadata: missing, expired, expiring, or holding other
// certificates; critical when it lacks the certificate the IdP signs with now, high when it lacks only the next one.
import { describeError } from "../errors.js";
import type { CertificateFacts } from "../saml/certificate.js";
import { inspectMetadataText } from "../saml/inspect-metadata.js";
import type { MetadataInspection } from "../saml/metadata-model.js";
import { createFinding, type Finding } from "./finding.js";
import { daysAgo, daysLeft, isSuccessorOf, shortFingerprint } from "./metadata-checks.js";
import type { SamlProviderFacts } from "./posture-facts.js";
import { documentSigningCertificates, isIdentityProvider, isValidAt } from "./signing-certificates.js";

export interface SamlProviderCheckOptions {
  readonly now: Date;
  readonly warnDays: number;
}

/** `idp` is the IdP's current metadata; undefined when it could not be read (the drift part is then skipped). */
export function checkSamlProviders(
  providers: readonly SamlProviderFacts[],
  idp: MetadataInspection | undefined,
  options: SamlProviderCheckOptions,
): Finding[] {
  return providers.flatMap((provider) => checkProvider(provider, idp, options));
}

function checkProvider(
  provider: SamlProviderFacts,
  idp: MetadataInspection | undefined,
  { now, warnDays }: SamlProviderCheckOptions,
): Finding[] {
  const subject = { resource: provider.arn };
  if (provider.status === "missing") {
    return [
      createFinding(
        "SAML_PROVIDER_MISSING",
        `The emergency IAM SAML provider ${provider.arn} does not exist.`,
        subject,
      ),
    ];
  }
  if (provider.status === "error") {
    return [
      createFinding(
        "AWS_READ_FAILED",
        `Could not read the IAM SAML provider ${provider.arn}: ${provider.error?.code ?? "error"}: ${provider.error?.message ?? "unknown"}.`,
        subject,
      ),
    ];
  }
  const findings: Finding[] = [];
  if (provider.validUntil && provider.validUntil.getTime() <= now.getTime()) {
    findings.push(
      createFinding(
        "SAML_PROVIDER_EXPIRED",
        `The IAM SAML provider ${provider.arn} expired on ${isoDay(provider.validUntil)} (ValidUntil, ${daysAgo(provider.validUntil, now)} days ago).`,
        subject,
      ),
    );
  }

  let held: MetadataInspection;
  try {
    held = inspectMetadataText(provider.metadataDocument ?? "", provider.arn);
  } catch (error) {
    findings.push(
      createFinding(
        "SAML_PROVIDER_DRIFT",
        `The IAM SAML provider ${provider.arn} holds metadata breakglass cannot read (${describeError(error)}).`,
        subject,
      ),
    );
    return findings;
  }
  const providerCertificates = documentSigningCertificates(held);
  for (const certificate of providerCertificates) {
    const left = daysLeft(certificate.notAfter, now);
    if (left < warnDays) {
      const when =
        certificate.notAfter.getTime() <= now.getTime()
          ? `expired on ${isoDay(certificate.notAfter)}`
          : `expires on ${isoDay(certificate.notAfter)}, in ${left} days`;
      findings.push(
        createFinding(
          "SAML_PROVIDER_CERT_EXPIRING",
          `The signing certificate ${shortFingerprint(certificate.sha256)} held by the IAM SAML provider ${provider.arn} ${when}.`,
          { ...subject, sha256: certificate.sha256 },
        ),
      );
    }
  }
  if (idp) findings.push(...compareWithIdp(provider, held, providerCertificates, idp, now));
  return findings;
}

function compareWithIdp(
  provider: SamlProviderFacts,
  held: MetadataInspection,
  providerCertificates: readonly CertificateFacts[],
  idp: MetadataInspection,
  now: Date,
): Finding[] {
  const subject = { resource: provider.arn };
  const heldEntities = held.entities.filter(isIdentityProvider).map((entity) => entity.entityID);
  const idpEntities = idp.entities.filter(isIdentityProvider).map((entity) => entity.entityID);
  if (
    idpEntities.length > 0 &&
    heldEntities.length > 0 &&
    !heldEntities.some((entityID) => idpEntities.includes(entityID))
  ) {
    return [
      createFinding(
        "SAML_PROVIDER_DRIFT",
        `The IAM SAML provider ${provider.arn} holds metadata for ${heldEntities.join(", ")}, but the IdP is ${idpEntities.join(", ")}.`,
        subject,
      ),
    ];
  }
  const idpCertificates = documentSigningCertificates(idp);
  const onProvider = new Set(providerCertificates.map((certificate) => certificate.sha256));
  const atIdp = new Set(idpCertificates.map((certificate) => certificate.sha256));
  const missing = idpCertificates.filter((certificate) => !onProvider.has(certificate.sha256));
  const unknown = providerCertificates.filter((certificate) => !atIdp.has(certificate.sha256));
  if (missing.length === 0 && unknown.length === 0) return [];

  const parts: string[] = [];
  if (missing.length > 0) {
    const described = missing.map(
      (certificate) =>
        `${shortFingerprint(certificate.sha256)}${isNewer(certificate, providerCertificates) ? " (the IdP's new rollover certificate)" : ""}`,
    );
    parts.push(`lacks the IdP's signing ${plural(missing.length, "certificate")} ${described.join(", ")}`);
  }
  if (unknown.length > 0) {
    parts.push(
      `still holds ${unknown.map((certificate) => shortFingerprint(certificate.sha256)).join(", ")}, which the IdP no longer publishes`,
    );
  }
  const broken = !providerCertificates.some(
    (certificate) => atIdp.has(certificate.sha256) && isValidAt(certificate, now),
  );
  const lacksCurrent = missing.some((certificate) => isInUse(certificate, idpCertificates, now));
  const consequence = broken || lacksCurrent ? "; direct federation through this provider fails now" : "";
  return [
    createFinding(
      broken || lacksCurrent ? "SAML_PROVIDER_LACKS_CURRENT_CERT" : "SAML_PROVIDER_DRIFT",
      `The IAM SAML provider ${provider.arn} ${parts.join(" and ")}${consequence}.`,
      {
        ...subject,
        missingOnProvider: missing.map((certificate) => certificate.sha256),
        unknownToIdp: unknown.map((certificate) => certificate.sha256),
      },
    ),
  ];
}

/**
 * Whether the IdP may be signing with this certificate now: it is valid now, and it is not the successor of another
 * certificate valid now (isSuccessorOf: newer), which IdPs publish ahead of switching to it. Metadata does not say
 * which key signs, so every such certificate counts (Shibboleth's two keys of the same validity both do): a provider
 * that lacks one of them rejects the assertions signed with it.
 */
function isInUse(certificate: CertificateFacts, idpCertificates: readonly CertificateFacts[], now: Date): boolean {
  if (!isValidAt(certificate, now)) return false;
  return !idpCertificates.some(
    (other) => other.sha256 !== certificate.sha256 && isValidAt(other, now) && isSuccessorOf(certificate, other),
  );
}

/** A certificate the provider lacks that is newer than everything it holds is the rollover's early warning. */
function isNewer(certificate: CertificateFacts, held: readonly CertificateFacts[]): boolean {
  return held.length > 0 && held.every((existing) => certificate.notBefore.getTime() > existing.notBefore.getTime());
}

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`;
}
