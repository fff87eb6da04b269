// Which findings `breakglass serve` alerts on, the key that follows one finding from check to check, and which alerts a check resolved.
import type { CheckName } from "../config/config-schema.js";
import type { EmergencyGroupFacts } from "../domain/checks/emergency-groups.js";
import { SEVERITY_ORDER, type Finding, type Severity } from "../domain/checks/finding.js";
import { FINDING_CODES, type FindingCode } from "../domain/checks/finding-codes.js";
import type { PostureFacts } from "../domain/checks/posture-facts.js";
import { isIdentityCenterAnswered } from "../domain/checks/identity-center.js";
import type { MetadataInspection } from "../domain/saml/metadata-model.js";
import type { AlertRecord, SeenFinding } from "../domain/ports/serve-state-store.js";

/**
 * Certificate-expiry findings are announced by the expiry ladder (src/domain/checks/expiry-ladder.ts), not as alerts: the ladder
 * already warns about every certificate the IdP publishes or an IAM SAML provider holds, at each of its steps and daily
 * once expired. As alerts they would say the same thing a second time, on the idp.warnDays threshold instead of the
 * ladder's, and CERT_EXPIRING turning into CERT_EXPIRED on expiry day would read as "resolved" followed by a new alert.
 * What an expiry breaks is still alerted: NO_VALID_SIGNING_CERT (federation fails now), SAML_PROVIDER_EXPIRED (the
 * provider's ValidUntil, not a certificate), METADATA_EXPIRED and IDENTITY_CENTER_IMPORT_STALE.
 */
export const LADDER_CODES: ReadonlySet<FindingCode> = new Set<FindingCode>([
  "CERT_EXPIRING",
  "CERT_EXPIRED",
  "SAML_PROVIDER_CERT_EXPIRING",
]);

export function isAlertMaterial(finding: Finding): boolean {
  return !LADDER_CODES.has(finding.code);
}

/** What a finding is about, as far as its identity goes. */
export interface AlertSubject {
  readonly accountId?: string;
  readonly resource?: string;
  readonly entityID?: string;
  readonly sha256?: string;
}

/** One alert as a check sees it: possibly several findings that share a key (two EventBridge needs of one account). */
export interface AlertCandidate extends SeenFinding {
  readonly subject: AlertSubject;
}

/**
 * The stable key of a finding: its code and everything that names what it is about (account, resource, IdP entity,
 * certificate). The message is left out because it carries counts that change from check to check ("in 12 days");
 * so are SAML_PROVIDER_DRIFT's fingerprint lists, so that a provider that drifts in a new way stays one alert whose
 * text is brought up to date rather than a "resolved" and a new alert. JSON, so that it parses back (parseAlertKey).
 */
export function alertKey(finding: Pick<Finding, "code" | "accountId" | "resource" | "entityID" | "sha256">): string {
  const { code, accountId, resource, entityID, sha256 } = finding;
  return JSON.stringify({ code, accountId, resource, entityID, sha256 });
}

/** The code and subject a key was made from; null for a key this version did not make. */
export function parseAlertKey(key: string): { code: string; subject: AlertSubject } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(key);
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null) return null;
  const record = parsed as Record<string, unknown>;
  if (typeof record["code"] !== "string") return null;
  const subject: { -readonly [Field in keyof AlertSubject]: string } = {};
  for (const field of ["accountId", "resource", "entityID", "sha256"] as const) {
    const value = record[field];
    if (typeof value === "string") subject[field] = value;
  }
  return { code: record["code"], subject };
}

/**
 * The alert-material findings of a check, one per key, most severe first. Findings that share a key (the two
 * EventBridge needs of one account, the validUntil of an entity and of its IDPSSODescriptor) become one alert with
 * the highest severity and every distinct message.
 */
export function collectAlerts(findings: readonly Finding[]): AlertCandidate[] {
  const byKey = new Map<string, { finding: Finding; severity: Severity; messages: string[] }>();
  for (const finding of findings) {
    if (!isAlertMaterial(finding)) continue;
    const key = alertKey(finding);
    const existing = byKey.get(key);
    if (!existing) {
      byKey.set(key, { finding, severity: finding.severity, messages: [finding.message] });
      continue;
    }
    if (SEVERITY_ORDER.indexOf(finding.severity) < SEVERITY_ORDER.indexOf(existing.severity))
      existing.severity = finding.severity;
    if (!existing.messages.includes(finding.message)) existing.messages.push(finding.message);
  }
  return [...byKey.entries()]
    .map(([key, { finding, severity, messages }]) => ({
      key,
      code: finding.code,
      severity,
      message: messages.join("\n"),
      subject: subjectOf(finding),
    }))
    .sort(
      (a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || a.key.localeCompare(b.key),
    );
}

function subjectOf(finding: Finding): AlertSubject {
  return {
    ...(finding.accountId !== undefined ? { accountId: finding.accountId } : {}),
    ...(finding.resource !== undefined ? { resource: finding.resource } : {}),
    ...(finding.entityID !== undefined ? { entityID: finding.entityID } : {}),
    ...(finding.sha256 !== undefined ? { sha256: finding.sha256 } : {}),
  };
}

/** What a check actually read: the IdP's metadata (undefined when it could not be read), the AWS facts, and the checks it ran. */
export interface CheckReading {
  readonly idp: MetadataInspection | undefined;
  readonly facts: PostureFacts | undefined;
  readonly checks: ReadonlySet<CheckName>;
  /** What the IdP's group API said of each emergency group, when the emergency-groups check ran. */
  readonly emergencyGroups?: readonly EmergencyGroupFacts[] | undefined;
}

type Judge = (subject: AlertSubject, reading: CheckReading) => boolean;

const metadataRead: Judge = (_subject, reading) => reading.idp !== undefined && reading.checks.has("metadata");

const samlProviderRead: Judge = (subject, reading) =>
  reading.facts?.samlProviders?.some((provider) => provider.arn === subject.resource && provider.status !== "error") ===
  true;

const emergencyRoleRead: Judge = (subject, reading) =>
  reading.facts?.emergencyRoles?.some((role) => role.arn === subject.resource && role.status !== "error") === true;

const identityCenterAnswered: Judge = (subject, reading) => {
  const identityCenter = reading.facts?.identityCenter;
  // Not listed by an account that does not administer Identity Center says nothing about it: the alert stays open.
  return (
    identityCenter !== undefined &&
    identityCenter.instanceArn === subject.resource &&
    isIdentityCenterAnswered(identityCenter)
  );
};

const identityCenterFound: Judge = (subject, reading) =>
  identityCenterAnswered(subject, reading) && reading.facts?.identityCenter?.status === "found";

function workloadAccount(subject: AlertSubject, reading: CheckReading) {
  return reading.facts?.workloadAccounts?.find(
    (account) => account.accountId === subject.accountId && account.error === undefined,
  );
}

function emergencyUser(subject: AlertSubject, reading: CheckReading) {
  return reading.facts?.emergencyUsers?.find((user) => user.arn === subject.resource && user.status !== "error");
}

const emergencyUserRead: Judge = (subject, reading) => emergencyUser(subject, reading) !== undefined;

/** Whether a user's reach was judged: the user was read, and so was every emergency role that might trust it. */
const emergencyUserReachRead: Judge = (subject, reading) =>
  emergencyUser(subject, reading)?.status === "found" &&
  (reading.facts?.emergencyRoles ?? []).every((role) => role.status !== "error");

const identityCenterRegionsListed: Judge = (subject, reading) =>
  reading.facts?.identityCenterRegions?.status === "found" &&
  reading.facts.identityCenterRegions.instanceArn === subject.resource;

const crossAccountRoleRead: Judge = (subject, reading) => {
  const role = workloadAccount(subject, reading)?.crossAccountRole;
  return reading.checks.has("cross-account-roles") && role !== undefined && role !== null && role.status !== "error";
};

/** The emergency group (named as configured, the finding's resource) was asked about; and was read. */
const emergencyGroupAsked: Judge = (subject, reading) =>
  reading.emergencyGroups?.some((group) => group.name === subject.resource) === true;
const emergencyGroupRead: Judge = (subject, reading) =>
  reading.emergencyGroups?.some((group) => group.name === subject.resource && group.status === "found") === true;

const serviceControlPoliciesRead: Judge = (subject, reading) =>
  reading.checks.has("scp-protection") && (workloadAccount(subject, reading)?.serviceControlPolicies ?? null) !== null;

/** The SAML preflight judges one pasted response, never the checks: an alert of its codes is not the check's to keep. */
const notRaisedByChecks: Judge = () => true;
const SAML_RESPONSE_JUDGES = Object.fromEntries(
  (Object.keys(FINDING_CODES) as FindingCode[])
    .filter((code) => code.startsWith("SAML_RESPONSE_"))
    .map((code) => [code, notRaisedByChecks]),
) as Record<Extract<FindingCode, `SAML_RESPONSE_${string}`>, Judge>;

/**
 * Whether this check could have seen each kind of finding: an alert it did not see is resolved only then. An IdP whose
 * metadata could not be read (METADATA_UNREACHABLE) says nothing about its certificates, and an AWS read that failed
 * (AWS_READ_FAILED, IDENTITY_CENTER_UNREACHABLE) nothing about what it would have read; so their alerts stay open,
 * silently, until a real reading shows them gone. A check or section that is not configured reads nothing either:
 * its alerts stay open, and are resolved (or go on) once it runs again. A Record, so a new code must decide here.
 */
const JUDGES: Readonly<Record<FindingCode, Judge>> = {
  CERT_EXPIRED: metadataRead,
  CERT_NOT_YET_VALID: metadataRead,
  CERT_EXPIRING: metadataRead,
  CERT_WEAK_KEY: metadataRead,
  CERT_WEAK_SIGNATURE: metadataRead,
  CERT_UNPARSEABLE: metadataRead,
  NO_SIGNING_CERT: metadataRead,
  NO_VALID_SIGNING_CERT: metadataRead,
  ROLLOVER_IN_PROGRESS: metadataRead,
  METADATA_EXPIRED: metadataRead,
  METADATA_MALFORMED: metadataRead,
  METADATA_SIGNATURE_INVALID: metadataRead,
  METADATA_SIGNATURE_UNVERIFIED: metadataRead,
  METADATA_SIGNATURE_TOO_COMPLEX: metadataRead,
  METADATA_SIGNATURE_UNSUPPORTED: metadataRead,
  METADATA_SIGNATURE_WEAK: metadataRead,
  METADATA_SIGNATURE_STRAY: metadataRead,
  METADATA_UNSIGNED_DUPLICATE: metadataRead,
  METADATA_DUPLICATE_ENTITY_ID: metadataRead,
  METADATA_MIXED_SIGNING: metadataRead,
  NOT_AN_IDP: metadataRead,
  NO_SSO_SERVICE: metadataRead,
  // Gone once the metadata could be read again; whichever check asked for it.
  METADATA_UNREACHABLE: (_subject, reading) => reading.idp !== undefined,
  SAML_PROVIDER_MISSING: samlProviderRead,
  SAML_PROVIDER_EXPIRED: samlProviderRead,
  SAML_PROVIDER_CERT_EXPIRING: samlProviderRead,
  // Drift is judged against the IdP's metadata, so it needs both readings.
  SAML_PROVIDER_DRIFT: (subject, reading) => samlProviderRead(subject, reading) && reading.idp !== undefined,
  SAML_PROVIDER_LACKS_CURRENT_CERT: (subject, reading) =>
    samlProviderRead(subject, reading) && reading.idp !== undefined,
  IDENTITY_CENTER_UNREACHABLE: (subject, reading) => reading.facts?.identityCenter?.instanceArn === subject.resource,
  IDENTITY_CENTER_NOT_ACTIVE: identityCenterAnswered,
  IDENTITY_CENTER_IMPORT_UNATTESTED: identityCenterFound,
  IDENTITY_CENTER_IMPORT_STALE: (subject, reading) =>
    identityCenterFound(subject, reading) && reading.idp !== undefined,
  // The attestation and the changes recorded since are read from the store with the instance, whatever sso-admin said.
  IDENTITY_CENTER_IDP_CHANGED: (subject, reading) => reading.facts?.identityCenter?.instanceArn === subject.resource,
  IDENTITY_CENTER_REGION_NOT_ACTIVE: identityCenterRegionsListed,
  IDENTITY_CENTER_NO_REPLICA_REGION: identityCenterRegionsListed,
  EMERGENCY_ROLE_MISSING: emergencyRoleRead,
  EMERGENCY_ROLE_TRUST_INVALID: emergencyRoleRead,
  EMERGENCY_USER_MISSING: emergencyUserRead,
  EMERGENCY_USER_NO_MFA: emergencyUserRead,
  EMERGENCY_USER_NO_PASSWORD: emergencyUserRead,
  EMERGENCY_USER_ACCESS_KEY: emergencyUserRead,
  EMERGENCY_USER_ROLE_UNREACHABLE: emergencyUserReachRead,
  EMERGENCY_USER_TRUST_WITHOUT_MFA: emergencyUserReachRead,
  ROOT_MFA_DISABLED: (_subject, reading) => reading.facts?.rootMfa?.status === "found",
  CROSS_ACCOUNT_ROLE_MISSING: crossAccountRoleRead,
  CROSS_ACCOUNT_ROLE_TRUST_INVALID: crossAccountRoleRead,
  SCP_PROTECTION_MISSING: serviceControlPoliciesRead,
  CLOUDTRAIL_NOT_LOGGING: (_subject, reading) => reading.facts?.cloudTrail?.status === "found",
  EVENTBRIDGE_RULE_MISSING: (_subject, reading) => reading.facts?.eventBridge?.status === "found",
  WATCH_QUEUE_UNREADABLE: (subject, reading) => reading.facts?.watchQueue?.queueUrl === subject.resource,
  WATCH_QUEUE_NO_DEAD_LETTER: (_subject, reading) => reading.facts?.watchQueue?.status === "found",
  WATCH_RULE_MISSING: (subject, reading) =>
    reading.facts?.watchQueue?.regions.some(
      (region) => region.region === subject.entityID && region.status === "found",
    ) ?? false,
  // A read that failed says so every time it fails; when AWS was read and it is not said, that read succeeded.
  IDP_GROUP_NOT_EMPTY: emergencyGroupRead,
  IDP_GROUP_UNMODIFIABLE: emergencyGroupRead,
  IDP_GROUP_UNREADABLE: emergencyGroupAsked,
  AWS_READ_FAILED: (_subject, reading) => reading.facts !== undefined,
  ...SAML_RESPONSE_JUDGES,
};

function isFindingCode(code: string): code is FindingCode {
  return Object.hasOwn(FINDING_CODES, code);
}

/** Whether the check behind `reading` would have seen the alert with this key had it still been there. */
export function couldHaveSeen(key: string, reading: CheckReading): boolean {
  const parsed = parseAlertKey(key);
  // A code this version no longer has is never produced again: nothing will ever see it, so it is over.
  if (!parsed || !isFindingCode(parsed.code)) return true;
  return JUDGES[parsed.code](parsed.subject, reading);
}

export interface AlertDiff {
  /** Alerts this check shows that were not open before it. */
  readonly appeared: readonly AlertCandidate[];
  /** Open alerts this check could have seen and did not. */
  readonly resolved: readonly AlertRecord[];
  /** Open alerts this check did not see but could not have: they stay open. */
  readonly unjudged: readonly AlertRecord[];
}

export function diffAlerts(
  current: readonly AlertCandidate[],
  open: readonly AlertRecord[],
  reading: CheckReading,
): AlertDiff {
  const currentKeys = new Set(current.map((candidate) => candidate.key));
  const openKeys = new Set(open.map((alert) => alert.key));
  const unseen = open.filter((alert) => !currentKeys.has(alert.key));
  return {
    appeared: current.filter((candidate) => !openKeys.has(candidate.key)),
    resolved: unseen.filter((alert) => couldHaveSeen(alert.key, reading)),
    unjudged: unseen.filter((alert) => !couldHaveSeen(alert.key, reading)),
  };
}
