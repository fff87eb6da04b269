// The signing certificates an IdP entity publishes for AWS to verify its assertions: IDPSSODescriptor keys whose use is signing or unspecified.
import type { CertificateFacts } from "../saml/certificate.js";
import type { CertificateEntry, EntityFacts, MetadataInspection } from "../saml/metadata-model.js";

export function isIdentityProvider(entity: EntityFacts): boolean {
  return entity.roles.some((role) => role.kind === "idp");
}

/** Every signing-capable certificate entry of the entity's IDPSSODescriptors, readable or not. */
export function signingEntries(entity: EntityFacts): CertificateEntry[] {
  return entity.certificates.filter((entry) => entry.roleKind === "idp" && entry.use !== "encryption");
}

/** The distinct readable signing certificates of an entity, by SHA-256. */
export function signingCertificates(entity: EntityFacts): CertificateFacts[] {
  const distinct = new Map<string, CertificateFacts>();
  for (const entry of signingEntries(entity)) {
    if (entry.facts) distinct.set(entry.facts.sha256, entry.facts);
  }
  return [...distinct.values()];
}

/** The distinct signing certificates of every IdP entity of a document. */
export function documentSigningCertificates(inspection: MetadataInspection): CertificateFacts[] {
  const distinct = new Map<string, CertificateFacts>();
  for (const entity of inspection.entities.filter(isIdentityProvider)) {
    for (const certificate of signingCertificates(entity)) distinct.set(certificate.sha256, certificate);
  }
  return [...distinct.values()];
}

export function isValidAt(certificate: CertificateFacts, now: Date): boolean {
  return certificate.notBefore.getTime() <= now.getTime() && now.getTime() < certificate.notAfter.getTime();
}
