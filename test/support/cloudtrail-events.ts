// CloudTrail records as CloudTrail writes them (record contents 1.08/1.09), and the EventBridge events that carry them
// to an SQS queue: what the watcher's tests feed it.
import { randomUUID } from "node:crypto";

export const EMERGENCY_ACCOUNT = "123456789012";
export const EMERGENCY_USER = "breakglass-admin";
export const EMERGENCY_ROLE = `arn:aws:iam::${EMERGENCY_ACCOUNT}:role/EmergencyAdmin`;
export const SAML_PROVIDER = `arn:aws:iam::${EMERGENCY_ACCOUNT}:saml-provider/EmergencyOkta`;

export type Record = { eventID: string; eventTime: string; [field: string]: unknown };

const base = (at: Date, overrides: Partial<Record>): Record => ({
  eventVersion: "1.09",
  eventID: randomUUID(),
  eventTime: at.toISOString().replace(/\.\d{3}Z$/, "Z"),
  awsRegion: "us-east-1",
  sourceIPAddress: "198.51.100.23",
  userAgent: "aws-cli/2.15.0",
  requestParameters: null,
  responseElements: null,
  requestID: randomUUID(),
  readOnly: false,
  eventType: "AwsApiCall",
  managementEvent: true,
  recipientAccountId: EMERGENCY_ACCOUNT,
  eventCategory: "Management",
  ...overrides,
});

/** A root console sign-in (logged in us-east-1). */
export function rootConsoleLogin(at: Date, sourceIp = "203.0.113.9"): Record {
  return base(at, {
    eventSource: "signin.amazonaws.com",
    eventName: "ConsoleLogin",
    eventType: "AwsConsoleSignIn",
    sourceIPAddress: sourceIp,
    userIdentity: {
      type: "Root",
      principalId: EMERGENCY_ACCOUNT,
      arn: `arn:aws:iam::${EMERGENCY_ACCOUNT}:root`,
      accountId: EMERGENCY_ACCOUNT,
    },
    responseElements: { ConsoleLogin: "Success" },
    additionalEventData: { MFAUsed: "Yes", MobileVersion: "No", LoginTo: "https://console.aws.amazon.com/" },
  });
}

/** An IAM user's API call. */
export function userCall(
  at: Date,
  userName: string,
  eventName = "CreateAccessKey",
  sourceIp = "198.51.100.23",
): Record {
  return base(at, {
    eventSource: "iam.amazonaws.com",
    eventName,
    sourceIPAddress: sourceIp,
    userIdentity: {
      type: "IAMUser",
      principalId: "AIDAEXAMPLEUSERID0001",
      arn: `arn:aws:iam::${EMERGENCY_ACCOUNT}:user/${userName}`,
      accountId: EMERGENCY_ACCOUNT,
      accessKeyId: "AKIAEXAMPLEKEY000001",
      userName,
    },
    requestParameters: { userName },
  });
}

/** sts:AssumeRoleWithSAML through a SAML provider: the session it creates is named in responseElements. */
export function samlSignIn(at: Date, provider: string, roleArn: string, subject = "dana@example.com"): Record {
  const roleName = roleArn.split("/").pop() as string;
  return base(at, {
    eventSource: "sts.amazonaws.com",
    eventName: "AssumeRoleWithSAML",
    userIdentity: {
      type: "SAMLUser",
      principalId: `LnGsjGXkVc0K1q3nGGjTyXLmM8E=:${subject}`,
      userName: subject,
      identityProvider: "LnGsjGXkVc0K1q3nGGjTyXLmM8E=",
    },
    requestParameters: {
      sAMLAssertionID: `_${randomUUID()}`,
      roleSessionName: subject,
      principalArn: provider,
      roleArn,
      durationSeconds: 3600,
    },
    responseElements: {
      credentials: { accessKeyId: "ASIAEXAMPLESESSION01", sessionToken: "…", expiration: "Dec 5, 2026, 4:00:00 AM" },
      assumedRoleUser: {
        assumedRoleId: `AROAEXAMPLEROLEID:${subject}`,
        arn: `arn:aws:sts::${EMERGENCY_ACCOUNT}:assumed-role/${roleName}/${subject}`,
      },
      subjectType: "persistent",
      issuer: "http://www.okta.com/exk1example",
      audience: "https://signin.aws.amazon.com/saml",
    },
  });
}

/** A call made with a role session's credentials. */
export function sessionCall(at: Date, roleArn: string, sessionName: string, eventName = "PutRolePolicy"): Record {
  const roleName = roleArn.split("/").pop() as string;
  const account = roleArn.split(":")[4] as string;
  return base(at, {
    eventSource: "iam.amazonaws.com",
    eventName,
    recipientAccountId: account,
    userIdentity: {
      type: "AssumedRole",
      principalId: `AROAEXAMPLEROLEID:${sessionName}`,
      arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}`,
      accountId: account,
      accessKeyId: "ASIAEXAMPLESESSION01",
      sessionContext: {
        sessionIssuer: {
          type: "Role",
          principalId: "AROAEXAMPLEROLEID",
          arn: roleArn,
          accountId: account,
          userName: roleName,
        },
        attributes: { creationDate: at.toISOString(), mfaAuthenticated: "false" },
      },
    },
  });
}

/** The EventBridge event an "AWS API Call via CloudTrail" (or console sign-in) rule delivers to its SQS target. */
export function eventBridgeEnvelope(record: Record): string {
  const signIn = record["eventSource"] === "signin.amazonaws.com";
  return JSON.stringify({
    version: "0",
    id: randomUUID(),
    "detail-type": signIn ? "AWS Console Sign In via CloudTrail" : "AWS API Call via CloudTrail",
    source: `aws.${String(record["eventSource"]).replace(/\.amazonaws\.com$/, "")}`,
    account: EMERGENCY_ACCOUNT,
    time: record.eventTime,
    region: record["awsRegion"],
    resources: [],
    detail: record,
  });
}
