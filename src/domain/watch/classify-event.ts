// Judges one CloudTrail record: is the actor an emergency principal, and if so, did it act inside a declared
// emergency window (the incident's timeline) or outside every window (misuse, to alert on)? Pure: no I/O, no clock.
import type { CloudTrailRecord } from "./cloudtrail-record.js";

/** Who counts as an emergency principal, from the config (aws.emergencyAccount), resolved once. */
export interface EmergencyPrincipals {
  readonly accountId: string;
  /** The emergency IAM users, by name (emergencyUsers). */
  readonly users: readonly string[];
  /** The emergency roles, by ARN (emergencyRoles and the action role): their sessions are emergency sessions. */
  readonly roles: readonly string[];
  /** The emergency IAM SAML providers, by ARN (samlProviders): a session federated through one is an emergency session. */
  readonly samlProviders: readonly string[];
}

/** An emergency window as the classifier needs it: ISO-8601 instants as the store keeps them. */
export interface WindowSpan {
  readonly incident: string;
  readonly openedAt: string;
  readonly closedAt: string | null;
}

/** misuse: an emergency principal acted outside every window; incident: inside one; ignored: not an emergency principal. */
export type Verdict = "incident" | "misuse" | "ignored";
export const VERDICTS: readonly Verdict[] = ["incident", "misuse", "ignored"];

export interface Judgement {
  readonly verdict: Verdict;
  readonly eventId: string;
  /** When it happened (the record's eventTime, ISO-8601). */
  readonly time: string;
  /** Who: a root account, a user or session ARN, or a SAML user and the provider it came through. */
  readonly actor: string;
  /** What: the service and API call, e.g. iam:CreateAccessKey, signin:ConsoleLogin. */
  readonly action: string;
  /** Where from, as CloudTrail says (an IP address, or the AWS service that called on the actor's behalf). */
  readonly sourceIp: string | null;
  readonly region: string;
  readonly accountId: string | null;
  /** The call failed (AccessDenied, …): still judged, since trying is the misuse. */
  readonly errorCode: string | null;
  /** The incident whose window it falls in (verdict incident). */
  readonly incident: string | null;
  /**
   * A session this call created (AssumeRole, AssumeRoleWithSAML by an emergency principal): its later calls, in this
   * account or another, are the emergency principal's too.
   */
  readonly derivedSession: string | null;
}

export function classifyEvent(
  record: CloudTrailRecord,
  principals: EmergencyPrincipals,
  windows: readonly WindowSpan[],
  derivedSessions: ReadonlySet<string>,
): Judgement {
  const actor = emergencyActor(record, principals, derivedSessions);
  const base = {
    eventId: record.eventID,
    time: new Date(record.eventTime).toISOString(),
    action: actionOf(record),
    sourceIp: record.sourceIPAddress,
    region: record.awsRegion,
    accountId: record.recipientAccountId ?? record.userIdentity.accountId ?? null,
    errorCode: record.errorCode ?? null,
  };
  if (actor === null)
    return { ...base, verdict: "ignored", actor: describeIdentity(record), incident: null, derivedSession: null };
  const window = windowAt(windows, base.time);
  return {
    ...base,
    verdict: window === null ? "misuse" : "incident",
    actor,
    incident: window?.incident ?? null,
    derivedSession: createdSession(record),
  };
}

/** iam:CreateUser from iam.amazonaws.com and CreateUser. */
export function actionOf(record: Pick<CloudTrailRecord, "eventSource" | "eventName">): string {
  return `${record.eventSource.replace(/\.amazonaws\.com$/, "")}:${record.eventName}`;
}

/** The window the instant falls in (opened at or before, not closed before); the latest opened when several do. */
export function windowAt(windows: readonly WindowSpan[], time: string): WindowSpan | null {
  const at = Date.parse(time);
  let found: WindowSpan | null = null;
  for (const window of windows) {
    // CloudTrail's eventTime has whole seconds: a call in the second the window opened is inside it.
    if (Math.floor(Date.parse(window.openedAt) / 1000) * 1000 > at) continue;
    if (window.closedAt !== null && Date.parse(window.closedAt) < at) continue;
    if (found === null || Date.parse(window.openedAt) > Date.parse(found.openedAt)) found = window;
  }
  return found;
}

function emergencyActor(
  record: CloudTrailRecord,
  principals: EmergencyPrincipals,
  derivedSessions: ReadonlySet<string>,
): string | null {
  const identity = record.userIdentity;
  const account = identity.accountId ?? record.recipientAccountId;
  switch (identity.type) {
    case "Root":
      return account === principals.accountId ? `root (account ${principals.accountId})` : null;
    case "IAMUser":
      return account === principals.accountId &&
        identity.userName !== undefined &&
        principals.users.includes(identity.userName)
        ? (identity.arn ?? `arn:aws:iam::${principals.accountId}:user/${identity.userName}`)
        : null;
    case "AssumedRole": {
      if (identity.arn !== undefined && derivedSessions.has(identity.arn)) return identity.arn;
      const issuer = identity.sessionContext?.sessionIssuer?.arn;
      return issuer !== undefined && principals.roles.some((role) => sameRole(role, issuer))
        ? (identity.arn ?? issuer)
        : null;
    }
    case "SAMLUser": {
      const provider = text(record.requestParameters?.["principalArn"]);
      const role = text(record.requestParameters?.["roleArn"]);
      const viaProvider = provider !== undefined && principals.samlProviders.includes(provider);
      const toRole = role !== undefined && principals.roles.some((emergency) => sameRole(emergency, role));
      if (!viaProvider && !toRole) return null;
      const who = identity.userName ?? identity.principalId ?? "a SAML user";
      return `${who} (SAML via ${provider ?? "an unnamed provider"})`;
    }
    default:
      return null;
  }
}

/** The session an AssumeRole or AssumeRoleWithSAML created, as its later calls name themselves. */
function createdSession(record: CloudTrailRecord): string | null {
  if (record.errorCode !== undefined || !record.eventName.startsWith("AssumeRole")) return null;
  const user = record.responseElements?.["assumedRoleUser"];
  if (typeof user !== "object" || user === null) return null;
  return text((user as Record<string, unknown>)["arn"]) ?? null;
}

/** A role's path is in its ARN but not in a session issuer's: compare partition, account and name. */
function sameRole(configured: string, seen: string): boolean {
  const key = (arn: string) => arn.replace(/:role\/(?:.*\/)?([^/]+)$/, ":role/$1");
  return key(configured) === key(seen);
}

function describeIdentity(record: CloudTrailRecord): string {
  const identity = record.userIdentity;
  return identity.arn ?? identity.userName ?? identity.invokedBy ?? identity.principalId ?? identity.type;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
