// The CloudTrail record as CloudTrail documents it (record contents, version 1.x): what EventBridge's "AWS API Call via
// CloudTrail" and "AWS Console Sign In via CloudTrail" events carry in `detail`, and what LookupEvents returns as the
// `CloudTrailEvent` JSON string. Both ingest paths read it here, so the classifier sees one shape.

/** userIdentity.sessionContext.sessionIssuer: the role (or user) whose temporary credentials made the call. */
export interface CloudTrailSessionIssuer {
  readonly type?: string;
  readonly principalId?: string;
  readonly arn?: string;
  readonly accountId?: string;
  readonly userName?: string;
}

export interface CloudTrailUserIdentity {
  /** Root, IAMUser, AssumedRole, FederatedUser, SAMLUser, WebIdentityUser, AWSAccount, AWSService, IdentityCenterUser… */
  readonly type: string;
  readonly principalId?: string;
  readonly arn?: string;
  readonly accountId?: string;
  readonly userName?: string;
  readonly invokedBy?: string;
  /** For SAMLUser: the SAML provider's identity (a base64 hash of the issuer and the provider ARN's account). */
  readonly identityProvider?: string;
  readonly sessionContext?: {
    readonly sessionIssuer?: CloudTrailSessionIssuer;
    readonly sourceIdentity?: string;
    readonly attributes?: { readonly creationDate?: string; readonly mfaAuthenticated?: string };
  };
}

export interface CloudTrailRecord {
  readonly eventVersion?: string;
  readonly eventID: string;
  /** ISO-8601, as CloudTrail writes it (second precision, Z). */
  readonly eventTime: string;
  readonly eventSource: string;
  readonly eventName: string;
  readonly awsRegion: string;
  readonly sourceIPAddress: string | null;
  readonly userAgent?: string;
  readonly userIdentity: CloudTrailUserIdentity;
  readonly requestParameters: Readonly<Record<string, unknown>> | null;
  readonly responseElements: Readonly<Record<string, unknown>> | null;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly recipientAccountId?: string;
  readonly eventType?: string;
}

/** A record, or why the text was not one (said in one line, for the dead-letter record). */
export type ParsedRecord =
  { readonly ok: true; readonly record: CloudTrailRecord } | { readonly ok: false; readonly problem: string };

const REQUIRED_TEXT = ["eventID", "eventTime", "eventSource", "eventName", "awsRegion"] as const;

/** Checks that a parsed JSON value is a CloudTrail record: the fields the watcher judges by are present and typed. */
export function readCloudTrailRecord(value: unknown): ParsedRecord {
  if (!isObject(value)) return { ok: false, problem: "expected a CloudTrail record (a JSON object)" };
  for (const field of REQUIRED_TEXT) {
    if (typeof value[field] !== "string" || value[field] === "")
      return { ok: false, problem: `expected a CloudTrail record with ${field} (text), got ${describe(value[field])}` };
  }
  if (Number.isNaN(Date.parse(value["eventTime"] as string)))
    return { ok: false, problem: `expected eventTime to be an ISO-8601 instant, got "${String(value["eventTime"])}"` };
  const identity = value["userIdentity"];
  if (!isObject(identity) || typeof identity["type"] !== "string")
    return { ok: false, problem: "expected a CloudTrail record with userIdentity.type" };
  const source = value["sourceIPAddress"];
  if (source !== undefined && source !== null && typeof source !== "string")
    return { ok: false, problem: `expected sourceIPAddress to be text, got ${describe(source)}` };
  const parameters = value["requestParameters"];
  const response = value["responseElements"];
  return {
    ok: true,
    record: {
      ...(value as unknown as CloudTrailRecord),
      sourceIPAddress: source ?? null,
      requestParameters: isObject(parameters) ? parameters : null,
      responseElements: isObject(response) ? response : null,
    },
  };
}

/** The detail-types whose `detail` is a CloudTrail record. */
const CLOUDTRAIL_DETAIL_TYPE = /via CloudTrail$/;

/**
 * The record in an SQS message body: an EventBridge event (its `detail`), which is what an EventBridge rule with an SQS
 * target delivers; a bare record (a queue fed another way) is accepted too.
 */
export function readQueuedRecord(body: string): ParsedRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    return { ok: false, problem: `not JSON: ${(error as Error).message}` };
  }
  if (isObject(parsed) && "detail-type" in parsed) {
    const detailType = parsed["detail-type"];
    if (typeof detailType !== "string" || !CLOUDTRAIL_DETAIL_TYPE.test(detailType))
      return {
        ok: false,
        problem: `expected an EventBridge event "… via CloudTrail", got detail-type ${describe(detailType)}`,
      };
    return readCloudTrailRecord(parsed["detail"]);
  }
  return readCloudTrailRecord(parsed);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return `"${value.slice(0, 60)}"`;
  return JSON.stringify(value)?.slice(0, 60) ?? typeof value;
}
