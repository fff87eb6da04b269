// Identity Center's health, and whether the IdP certificate imported in its console (as attested) matches the IdP today.
import type { MetadataInspection } from "../saml/metadata-model.js";
import { describeFactError } from "./fact-error.js";
import { createFinding, type Finding } from "./finding.js";
import { daysAgo, daysLeft, shortFingerprint } from "./metadata-checks.js";
import type { Attestation, IdentityCenterFacts, IdpConfigurationChange } from "./posture-facts.js";
import { documentSigningCertificates, isValidAt } from "./signing-certificates.js";

export function checkIdentityCenter(facts: IdentityCenterFacts): Finding[] {
  const subject = { resource: facts.instanceArn };
  if (facts.status === "missing") {
    const unverified = describeUnverifiedReader(facts);
    if (unverified !== undefined) return [createFinding("AWS_READ_FAILED", unverified, subject)];
    return [
      createFinding(
        "IDENTITY_CENTER_NOT_ACTIVE",
        `IAM Identity Center ${facts.instanceArn} does not exist in its Region (sso-admin in account ` +
          `${facts.readAs?.administratorAccountId ?? "?"}, which administers it, lists no such instance).`,
        subject,
      ),
    ];
  }
  if (facts.status === "error") {
    return [
      createFinding(
        "IDENTITY_CENTER_UNREACHABLE",
        `IAM Identity Center ${facts.instanceArn} did not answer (${describeFactError(facts.error)}).`,
        subject,
      ),
    ];
  }
  if (facts.instanceStatus !== "ACTIVE") {
    return [
      createFinding(
        "IDENTITY_CENTER_NOT_ACTIVE",
        `IAM Identity Center ${facts.instanceArn} is ${facts.instanceStatus ?? "in an unknown state"}, not ACTIVE.`,
        subject,
      ),
    ];
  }
  return [];
}

/** Whether sso-admin's answer speaks for the instance: found, or not listed by the account that administers it. */
export function isIdentityCenterAnswered(facts: IdentityCenterFacts): boolean {
  return facts.status === "found" || (facts.status === "missing" && describeUnverifiedReader(facts) === undefined);
}

/**
 * sso-admin ListInstances lists only the instances of the account whose credentials ask. An instance it does not list
 * is gone only if that account is the one configured as administering Identity Center; read from any other account
 * (emergency-account credentials at 3 a.m., say) "not listed" says nothing about Identity Center, and reporting it as
 * not active would send responders to FM3 for nothing. Returns why the answer cannot be trusted, or undefined.
 */
function describeUnverifiedReader(facts: IdentityCenterFacts): string | undefined {
  const reader = facts.readAs;
  const instance = `IAM Identity Center ${facts.instanceArn}`;
  const fix = "set aws.identityCenter.roleArn to a read role in the account that administers it";
  if (reader === undefined)
    return `${instance} is not listed by sso-admin, and breakglass cannot tell which account it asked.`;
  if (reader.accountId === null) {
    const why = reader.accountError ? ` (sts:GetCallerIdentity: ${describeFactError(reader.accountError)})` : "";
    return `${instance} is not listed by sso-admin, and breakglass cannot tell which account it asked${why}; ${fix}.`;
  }
  if (reader.administratorAccountId === null) {
    return (
      `${instance} is not listed by sso-admin in account ${reader.accountId}, whose credentials were used, and ` +
      `breakglass cannot tell whether that account administers it: set aws.identityCenter.accountId to the ` +
      `management or delegated-administrator account, and aws.identityCenter.roleArn to a read role there.`
    );
  }
  if (reader.accountId !== reader.administratorAccountId) {
    return (
      `${instance} was looked for with the credentials of account ${reader.accountId}, not of ` +
      `${reader.administratorAccountId}, which administers it (aws.identityCenter.accountId): ` +
      `set aws.identityCenter.roleArn to a read role in ${reader.administratorAccountId}, or run with credentials there.`
    );
  }
  return undefined;
}

export interface ImportCheckOptions {
  readonly now: Date;
  readonly warnDays: number;
}

/**
 * AWS has no public API to read the certificate Identity Center trusts, so the import is judged
 * from the admins' attestations of what they uploaded in the console.
 */
export function checkIdentityCenterImport(
  instanceArn: string,
  idp: MetadataInspection | undefined,
  attestation: Attestation | null,
  options: ImportCheckOptions,
): Finding[] {
  const subject = { resource: instanceArn };
  const changed = checkIdpChangedSinceAttestation(instanceArn, attestation);
  // What was attested may no longer be what Identity Center trusts: comparing it with the IdP would say nothing true.
  if (changed.length > 0) return changed;
  if (!attestation) {
    return [
      createFinding(
        "IDENTITY_CENTER_IMPORT_UNATTESTED",
        `Nobody has attested which IdP certificate was imported into IAM Identity Center ${instanceArn}, so breakglass cannot tell whether it is current.`,
        subject,
      ),
    ];
  }
  if (!idp) return [];
  const current = documentSigningCertificates(idp).filter((certificate) => isValidAt(certificate, options.now));
  const attested = new Set(attestation.fingerprints);
  const since = `attested by ${attestation.attestedBy} ${daysAgo(attestation.attestedAt, options.now)} days ago`;
  const importedAndCurrent = current.filter((certificate) => attested.has(certificate.sha256));
  if (importedAndCurrent.length === 0) {
    const wanted = current.map((certificate) => shortFingerprint(certificate.sha256)).join(", ") || "none valid";
    return [
      createFinding(
        "IDENTITY_CENTER_IMPORT_STALE",
        `IAM Identity Center holds none of the IdP's current signing certificates (${wanted}); the import ${since} is out of date.`,
        {
          ...subject,
          missingOnProvider: current.map((certificate) => certificate.sha256),
        },
      ),
    ];
  }
  // Rollover: the imported certificate is about to expire and the IdP already publishes its successor.
  const expiring = importedAndCurrent.filter(
    (certificate) => daysLeft(certificate.notAfter, options.now) < options.warnDays,
  );
  const successors = current.filter((certificate) => !attested.has(certificate.sha256));
  if (expiring.length === importedAndCurrent.length && successors.length > 0) {
    const soonest = expiring.reduce((a, b) => (a.notAfter < b.notAfter ? a : b));
    return [
      createFinding(
        "IDENTITY_CENTER_IMPORT_STALE",
        `The certificate imported into IAM Identity Center (${shortFingerprint(soonest.sha256)}) expires ` +
          `in ${daysLeft(soonest.notAfter, options.now)} days; import the IdP's new one ` +
          `(${successors.map((certificate) => shortFingerprint(certificate.sha256)).join(", ")}) before then.`,
        { ...subject, missingOnProvider: successors.map((certificate) => certificate.sha256) },
      ),
    ];
  }
  return [];
}

/** Whether CloudTrail reported a change of the external IdP configuration after the last attestation. */
export function idpChangeSinceAttestation(attestation: Attestation | null): IdpConfigurationChange | undefined {
  const change = attestation?.lastIdpChange;
  return change && change.changedAt.getTime() > attestation.attestedAt.getTime() ? change : undefined;
}

/**
 * IDENTITY_CENTER_IDP_CHANGED when someone changed Identity Center's external IdP configuration (an sso-directory
 * event) after the last attestation: what was attested may not be what it trusts now, until someone attests again.
 */
export function checkIdpChangedSinceAttestation(instanceArn: string, attestation: Attestation | null): Finding[] {
  const change = idpChangeSinceAttestation(attestation);
  if (!change || !attestation) return [];
  return [
    createFinding(
      "IDENTITY_CENTER_IDP_CHANGED",
      `${change.changedBy} changed the external IdP configuration of IAM Identity Center ${instanceArn} at ` +
        `${change.changedAt.toISOString()} (${change.eventName} from ${change.sourceIp}, CloudTrail event ` +
        `${change.eventId}), after the import attested by ${attestation.attestedBy} at ` +
        `${attestation.attestedAt.toISOString()}: breakglass no longer knows which IdP certificate it trusts.`,
      { resource: instanceArn },
    ),
  ];
}
