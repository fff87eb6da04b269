// The CloudTrail records the drill's own STS calls would produce in a real organisation (record contents 1.09, as
// CloudTrail documents AssumeRoleWithSAML and AssumeRole), in the EventBridge envelope an "AWS API Call via CloudTrail"
// rule delivers to its SQS target: the emulator has no CloudTrail, so the drill hands the watch what AWS would.
import { randomUUID } from "node:crypto";

export interface DrillCloudTrailRecord {
  readonly eventID: string;
  readonly eventTime: string;
  readonly [field: string]: unknown;
}

/** The drill's sign-ins and calls come from loopback; CloudTrail would show the responder's address. */
const DRILL_SOURCE_IP = "127.0.0.1";
const USER_AGENT = "breakglass-drill (aws-sdk-js-v3)";

const base = (at: Date, recipientAccountId: string) => ({
  eventVersion: "1.09",
  eventID: randomUUID(),
  eventTime: at.toISOString().replace(/\.\d{3}Z$/, "Z"),
  eventSource: "sts.amazonaws.com",
  sourceIPAddress: DRILL_SOURCE_IP,
  userAgent: USER_AGENT,
  requestID: randomUUID(),
  readOnly: true,
  eventType: "AwsApiCall",
  managementEvent: true,
  recipientAccountId,
  eventCategory: "Management",
});

/** sts:AssumeRoleWithSAML through the emergency provider: a SAMLUser, and the session it created. */
export function samlSignInRecord(call: {
  readonly at: Date;
  readonly region: string;
  readonly accountId: string;
  readonly providerArn: string;
  readonly roleArn: string;
  /** The SAML subject (NameID), as STS answered it. */
  readonly subject: string;
  readonly assumedRoleArn: string;
  readonly assumedRoleId: string;
}): DrillCloudTrailRecord {
  const sessionName = call.assumedRoleArn.split("/").pop() ?? call.subject;
  return {
    ...base(call.at, call.accountId),
    eventName: "AssumeRoleWithSAML",
    awsRegion: call.region,
    userIdentity: {
      type: "SAMLUser",
      principalId: `drill:${call.subject}`,
      userName: call.subject,
      identityProvider: "drill",
    },
    requestParameters: {
      sAMLAssertionID: `_${randomUUID()}`,
      roleSessionName: sessionName,
      principalArn: call.providerArn,
      roleArn: call.roleArn,
      durationSeconds: 3600,
    },
    responseElements: {
      credentials: { accessKeyId: "ASIA…", sessionToken: "…", expiration: "" },
      assumedRoleUser: { assumedRoleId: call.assumedRoleId, arn: call.assumedRoleArn },
      subjectType: "persistent",
      audience: "https://signin.aws.amazon.com/saml",
    },
  };
}

/** sts:AssumeRole into another account's role, made with an emergency session's credentials. */
export function crossAccountAssumeRoleRecord(call: {
  readonly at: Date;
  readonly region: string;
  /** The emergency session that called (an assumed-role ARN) and the role it is a session of. */
  readonly callerSessionArn: string;
  readonly callerRoleArn: string;
  readonly callerAccountId: string;
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly assumedRoleArn: string;
  readonly assumedRoleId: string;
}): DrillCloudTrailRecord {
  const roleAccount = call.roleArn.split(":")[4] ?? "";
  const callerRoleName = call.callerRoleArn.split("/").pop() ?? "";
  return {
    ...base(call.at, roleAccount),
    eventName: "AssumeRole",
    awsRegion: call.region,
    // A cross-account call is delivered to both accounts' trails under one sharedEventID.
    sharedEventID: randomUUID(),
    userIdentity: {
      type: "AssumedRole",
      principalId: `AROADRILL:${call.callerSessionArn.split("/").pop() ?? ""}`,
      arn: call.callerSessionArn,
      accountId: call.callerAccountId,
      accessKeyId: "ASIA…",
      sessionContext: {
        sessionIssuer: {
          type: "Role",
          principalId: "AROADRILL",
          arn: call.callerRoleArn,
          accountId: call.callerAccountId,
          userName: callerRoleName,
        },
        attributes: { creationDate: call.at.toISOString(), mfaAuthenticated: "false" },
      },
    },
    requestParameters: { roleArn: call.roleArn, roleSessionName: call.roleSessionName },
    responseElements: {
      credentials: { accessKeyId: "ASIA…", sessionToken: "…", expiration: "" },
      assumedRoleUser: { assumedRoleId: call.assumedRoleId, arn: call.assumedRoleArn },
    },
  };
}

/** The EventBridge event an "AWS API Call via CloudTrail" rule in `account` delivers to its SQS target. */
export function eventBridgeEnvelope(record: DrillCloudTrailRecord, account: string): string {
  return JSON.stringify({
    version: "0",
    id: randomUUID(),
    "detail-type": "AWS API Call via CloudTrail",
    source: "aws.sts",
    account,
    time: record.eventTime,
    region: record["awsRegion"],
    resources: [],
    detail: record,
  });
}
