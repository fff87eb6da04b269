// The EventBridge pattern matcher on events shaped as CloudTrail documents them, and the alert check built on it: which
// sign-ins and role uses would go unnoticed.
import { describe, expect, it } from "vitest";
import { checkEventBridgeRules, matchesEventPattern } from "../../../src/domain/checks/eventbridge-rules.js";
import type { EventBridgeFacts, EventRuleFacts } from "../../../src/domain/checks/posture-facts.js";

const emergencyRole = "arn:aws:iam::111111111111:role/BreakGlass";
const secondEmergencyRole = "arn:aws:iam::111111111111:role/emergency/BreakGlassReadOnly";

/** The EventBridge envelope around a CloudTrail record, as the default event bus delivers it. */
function onEventBus(source: string, detailType: string, detail: Record<string, unknown>): Record<string, unknown> {
  return {
    version: "0",
    id: "6f1c7b3e-7d2a-4b1f-9a53-0c2e8d4f1a77",
    "detail-type": detailType,
    source,
    account: "111111111111",
    time: "2026-11-25T09:14:02Z",
    region: "us-east-1",
    resources: [],
    detail,
  };
}

/**
 * An IAM user's successful console sign-in with MFA: the record CloudTrail's "AWS Management Console
 * sign-in events" page shows, moved to the emergency account.
 */
const iamUserSignIn = onEventBus("aws.signin", "AWS Console Sign In via CloudTrail", {
  eventVersion: "1.08",
  userIdentity: {
    type: "IAMUser",
    principalId: "AIDACKCEVSQ6C2EXAMPLE",
    arn: "arn:aws:iam::111111111111:user/emergency-admin-1",
    accountId: "111111111111",
    userName: "emergency-admin-1",
  },
  eventTime: "2026-11-25T09:14:02Z",
  eventSource: "signin.amazonaws.com",
  eventName: "ConsoleLogin",
  awsRegion: "us-east-1",
  sourceIPAddress: "192.0.2.44",
  userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:102.0) Gecko/20100101 Firefox/102.0",
  requestParameters: null,
  responseElements: { ConsoleLogin: "Success" },
  additionalEventData: {
    LoginTo: "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
    MobileVersion: "No",
    MFAIdentifier: "arn:aws:iam::111111111111:mfa/emergency-admin-1",
    MFAUsed: "Yes",
  },
  eventID: "3fcfb586-5f5d-4d4a-9a8e-1e2f9e8b0c41",
  readOnly: false,
  eventType: "AwsConsoleSignIn",
  managementEvent: true,
  recipientAccountId: "111111111111",
  eventCategory: "Management",
});

/** The root user's sign-in, recorded in us-east-1. */
const rootSignIn = onEventBus("aws.signin", "AWS Console Sign In via CloudTrail", {
  ...(iamUserSignIn.detail as Record<string, unknown>),
  userIdentity: {
    type: "Root",
    principalId: "111111111111",
    arn: "arn:aws:iam::111111111111:root",
    accountId: "111111111111",
    accessKeyId: "",
  },
  additionalEventData: { LoginTo: "https://console.aws.amazon.com/console/home", MobileVersion: "No", MFAUsed: "Yes" },
});

/** An API call made with the emergency role's session: the userIdentity CloudTrail's "userIdentity element" page shows for temporary credentials. */
const emergencyRoleApiCall = onEventBus("aws.ec2", "AWS API Call via CloudTrail", {
  eventVersion: "1.08",
  userIdentity: {
    type: "AssumedRole",
    principalId: "AROAIDPPEZS35WEXAMPLE:alice@example.com",
    arn: "arn:aws:sts::111111111111:assumed-role/BreakGlass/alice@example.com",
    accountId: "111111111111",
    accessKeyId: "ASIAIOSFODNN7EXAMPLE",
    sessionContext: {
      sessionIssuer: {
        type: "Role",
        principalId: "AROAIDPPEZS35WEXAMPLE",
        arn: emergencyRole,
        accountId: "111111111111",
        userName: "BreakGlass",
      },
      webIdFederationData: {},
      attributes: { creationDate: "2026-11-25T09:13:55Z", mfaAuthenticated: "false" },
    },
  },
  eventTime: "2026-11-25T09:15:10Z",
  eventSource: "ec2.amazonaws.com",
  eventName: "StopInstances",
  awsRegion: "eu-west-1",
  sourceIPAddress: "192.0.2.44",
  userAgent: "aws-cli/2.17.0",
  requestParameters: { instancesSet: { items: [{ instanceId: "i-0abcdef1234567890" }] }, force: false },
  responseElements: null,
  eventID: "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
  readOnly: false,
  eventType: "AwsApiCall",
  managementEvent: true,
  recipientAccountId: "111111111111",
  eventCategory: "Management",
});

const consoleSignInPattern = { source: ["aws.signin"], "detail-type": ["AWS Console Sign In via CloudTrail"] };
const roleUsePattern = {
  "detail-type": ["AWS API Call via CloudTrail"],
  detail: { userIdentity: { sessionContext: { sessionIssuer: { arn: [emergencyRole] } } } },
};

describe("matching event patterns", () => {
  it("matches exact values, and ignores fields the pattern does not name", () => {
    expect(matchesEventPattern(consoleSignInPattern, iamUserSignIn)).toBe(true);
    expect(matchesEventPattern(consoleSignInPattern, emergencyRoleApiCall)).toBe(false);
    expect(matchesEventPattern({}, emergencyRoleApiCall)).toBe(true);
  });

  it("matches nested fields and values in any of the listed forms", () => {
    expect(matchesEventPattern(roleUsePattern, emergencyRoleApiCall)).toBe(true);
    expect(
      matchesEventPattern({ detail: { eventName: ["ConsoleLogin", "StopInstances"] } }, emergencyRoleApiCall),
    ).toBe(true);
    expect(
      matchesEventPattern(
        { detail: { userIdentity: { sessionContext: { sessionIssuer: { arn: [secondEmergencyRole] } } } } },
        emergencyRoleApiCall,
      ),
    ).toBe(false);
  });

  it("compares exactly: case, type, and null versus empty string", () => {
    expect(matchesEventPattern({ source: ["AWS.SIGNIN"] }, iamUserSignIn)).toBe(false);
    expect(matchesEventPattern({ detail: { readOnly: [false] } }, iamUserSignIn)).toBe(true);
    expect(matchesEventPattern({ detail: { readOnly: ["false"] } }, iamUserSignIn)).toBe(false);
    expect(matchesEventPattern({ detail: { requestParameters: [null] } }, iamUserSignIn)).toBe(true);
    expect(matchesEventPattern({ detail: { requestParameters: [""] } }, iamUserSignIn)).toBe(false);
  });

  it("matches prefix and suffix, also ignoring case", () => {
    expect(
      matchesEventPattern(
        { detail: { userIdentity: { arn: [{ prefix: "arn:aws:sts::111111111111:assumed-role/BreakGlass/" }] } } },
        emergencyRoleApiCall,
      ),
    ).toBe(true);
    expect(
      matchesEventPattern(
        {
          detail: { userIdentity: { arn: [{ prefix: "arn:aws:sts::111111111111:assumed-role/BreakGlassReadOnly/" }] } },
        },
        emergencyRoleApiCall,
      ),
    ).toBe(false);
    expect(matchesEventPattern({ detail: { eventSource: [{ suffix: "amazonaws.com" }] } }, iamUserSignIn)).toBe(true);
    expect(
      matchesEventPattern(
        { detail: { eventName: [{ prefix: { "equals-ignore-case": "consolelog" } }] } },
        iamUserSignIn,
      ),
    ).toBe(true);
    expect(
      matchesEventPattern({ detail: { eventName: [{ "equals-ignore-case": "CONSOLELOGIN" }] } }, iamUserSignIn),
    ).toBe(true);
  });

  it("matches anything-but only on a field that is there", () => {
    expect(
      matchesEventPattern({ detail: { userIdentity: { type: [{ "anything-but": "AWSService" }] } } }, iamUserSignIn),
    ).toBe(true);
    expect(
      matchesEventPattern(
        { detail: { userIdentity: { type: [{ "anything-but": ["IAMUser", "Root"] }] } } },
        rootSignIn,
      ),
    ).toBe(false);
    expect(
      matchesEventPattern({ detail: { userIdentity: { type: [{ "anything-but": { prefix: "IAM" } }] } } }, rootSignIn),
    ).toBe(true);
    expect(matchesEventPattern({ detail: { errorCode: [{ "anything-but": "AccessDenied" }] } }, iamUserSignIn)).toBe(
      false,
    );
  });

  it("matches exists on leaves, and exists: false on a field that is absent", () => {
    expect(
      matchesEventPattern({ detail: { additionalEventData: { MFAIdentifier: [{ exists: true }] } } }, iamUserSignIn),
    ).toBe(true);
    expect(
      matchesEventPattern({ detail: { additionalEventData: { MFAIdentifier: [{ exists: true }] } } }, rootSignIn),
    ).toBe(false);
    expect(matchesEventPattern({ detail: { errorCode: [{ exists: false }] } }, iamUserSignIn)).toBe(true);
    expect(
      matchesEventPattern({ detail: { errorCode: [{ exists: false }] } }, { detail: { errorCode: "AccessDenied" } }),
    ).toBe(false);
    // An object is not a leaf, so it does not "exist" for the pattern.
    expect(matchesEventPattern({ detail: { userIdentity: [{ exists: true }] } }, iamUserSignIn)).toBe(false);
  });

  it("matches wildcards, with \\* for a literal asterisk", () => {
    expect(
      matchesEventPattern(
        { detail: { userIdentity: { arn: [{ wildcard: "arn:aws:sts::*:assumed-role/BreakGlass/*" }] } } },
        emergencyRoleApiCall,
      ),
    ).toBe(true);
    expect(
      matchesEventPattern(
        { detail: { userIdentity: { arn: [{ wildcard: "arn:aws:sts::*:assumed-role/Other/*" }] } } },
        emergencyRoleApiCall,
      ),
    ).toBe(false);
    expect(matchesEventPattern({ key: [{ wildcard: "a\\*b" }] }, { key: "a*b" })).toBe(true);
    expect(matchesEventPattern({ key: [{ wildcard: "a\\*b" }] }, { key: "axxb" })).toBe(false);
  });

  it("matches inside arrays of values and of objects", () => {
    expect(
      matchesEventPattern(
        { detail: { requestParameters: { instancesSet: { items: { instanceId: ["i-0abcdef1234567890"] } } } } },
        emergencyRoleApiCall,
      ),
    ).toBe(true);
    expect(
      matchesEventPattern(
        { resources: ["arn:aws:ec2:eu-west-1:111111111111:instance/i-1"] },
        {
          resources: [
            "arn:aws:ec2:eu-west-1:111111111111:instance/i-0",
            "arn:aws:ec2:eu-west-1:111111111111:instance/i-1",
          ],
        },
      ),
    ).toBe(true);
  });

  it("matches numeric ranges and $or alternatives", () => {
    expect(matchesEventPattern({ detail: { count: [{ numeric: [">", 0, "<=", 5] }] } }, { detail: { count: 5 } })).toBe(
      true,
    );
    expect(matchesEventPattern({ detail: { count: [{ numeric: [">", 5] }] } }, { detail: { count: 5 } })).toBe(false);
    const either = {
      $or: [
        { source: ["aws.signin"] },
        { detail: { userIdentity: { sessionContext: { sessionIssuer: { arn: [emergencyRole] } } } } },
      ],
    };
    expect(matchesEventPattern(either, rootSignIn)).toBe(true);
    expect(matchesEventPattern(either, emergencyRoleApiCall)).toBe(true);
    expect(matchesEventPattern(either, { source: "aws.ec2", detail: {} })).toBe(false);
  });

  it("never matches an operator it does not know, or a field holding a bare value", () => {
    expect(matchesEventPattern({ detail: { sourceIPAddress: [{ cidr: "192.0.2.0/24" }] } }, iamUserSignIn)).toBe(false);
    expect(matchesEventPattern({ source: "aws.signin" }, iamUserSignIn)).toBe(false);
  });
});

let nextRule = 0;
function rule(pattern: unknown, changes: Partial<EventRuleFacts> = {}): EventRuleFacts {
  nextRule++;
  const name = changes.name ?? `rule-${nextRule}`;
  return {
    name,
    arn: `arn:aws:events:us-east-1:111111111111:rule/${name}`,
    eventBusName: "default",
    state: "ENABLED",
    eventPattern: pattern === null ? null : JSON.stringify(pattern),
    ...changes,
  };
}

const found = (...rules: EventRuleFacts[]): EventBridgeFacts => ({ status: "found", rules });
const messagesFor = (facts: EventBridgeFacts, roles: readonly string[] = [emergencyRole]) =>
  checkEventBridgeRules(facts, roles, "111111111111").map((finding) => [finding.code, finding.message]);
const signInUnwatched = (who = "", note = "") => [
  "EVENTBRIDGE_RULE_MISSING",
  `No enabled EventBridge rule on the default event bus matches console sign-in to the emergency account${who}; disabled rules do not count${note}.`,
];
const roleUnwatched = (roles: string, note = "", plural = false) => [
  "EVENTBRIDGE_RULE_MISSING",
  `No enabled EventBridge rule on the default event bus matches use of the ` +
    `emergency ${plural ? "roles" : "role"} ${roles} (its SAML sign-in or its API calls); disabled rules ` +
    `do not count${note}.`,
];

describe("alert rules in the emergency account", () => {
  it("passes a console sign-in rule and a rule on the emergency role's session", () => {
    expect(
      checkEventBridgeRules(found(rule(consoleSignInPattern), rule(roleUsePattern)), [emergencyRole], "111111111111"),
    ).toEqual([]);
  });

  it("passes one rule that watches both, written with $or", () => {
    const either = { $or: [consoleSignInPattern, roleUsePattern] };
    expect(checkEventBridgeRules(found(rule(either)), [emergencyRole], "111111111111")).toEqual([]);
  });

  it("accepts role-use rules on the assumed-role ARN prefix or on the AssumeRoleWithSAML call", () => {
    const byPrefix = {
      detail: { userIdentity: { arn: [{ prefix: "arn:aws:sts::111111111111:assumed-role/BreakGlass/" }] } },
    };
    const bySamlSignIn = {
      source: ["aws.sts"],
      detail: { eventName: ["AssumeRoleWithSAML"], requestParameters: { roleArn: [emergencyRole] } },
    };
    expect(messagesFor(found(rule(consoleSignInPattern), rule(byPrefix)))).toEqual([]);
    expect(messagesFor(found(rule(consoleSignInPattern), rule(bySamlSignIn)))).toEqual([]);
  });

  it("finds a role with a path by the session ARN, which has no path", () => {
    const byPrefix = {
      detail: { userIdentity: { arn: [{ prefix: "arn:aws:sts::111111111111:assumed-role/BreakGlassReadOnly/" }] } },
    };
    expect(messagesFor(found(rule(consoleSignInPattern), rule(byPrefix)), [secondEmergencyRole])).toEqual([]);
  });

  it("counts a rule that also receives read-only management events", () => {
    expect(
      messagesFor(
        found(
          rule(consoleSignInPattern, { state: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" }),
          rule(roleUsePattern),
        ),
      ),
    ).toEqual([]);
  });

  it("accepts a broader rule on every sign-in event name", () => {
    expect(messagesFor(found(rule({ detail: { eventName: ["ConsoleLogin"] } }), rule(roleUsePattern)))).toEqual([]);
  });
});

describe("alerts that would not fire", () => {
  it("reports both needs when there are no rules, with the right code and severity", () => {
    const findings = checkEventBridgeRules(found(), [emergencyRole], "111111111111");
    expect(findings.map((finding) => [finding.code, finding.severity, finding.accountId])).toEqual([
      ["EVENTBRIDGE_RULE_MISSING", "medium", "111111111111"],
      ["EVENTBRIDGE_RULE_MISSING", "medium", "111111111111"],
    ]);
    expect(findings.map((finding) => [finding.code, finding.message])).toEqual([
      signInUnwatched(),
      roleUnwatched(emergencyRole),
    ]);
  });

  it("does not count disabled rules, and names them", () => {
    const facts = found(
      rule(consoleSignInPattern, { name: "emergency-console-sign-in", state: "DISABLED" }),
      rule(roleUsePattern, { name: "emergency-role-use", state: "DISABLED" }),
    );
    expect(messagesFor(facts)).toEqual([
      signInUnwatched("", " (emergency-console-sign-in is DISABLED)"),
      roleUnwatched(emergencyRole, " (emergency-role-use is DISABLED)"),
    ]);
  });

  it("does not count a rule on a custom event bus, which AWS events never reach", () => {
    const facts = found(
      rule(consoleSignInPattern, { name: "sign-in", eventBusName: "security" }),
      rule(roleUsePattern),
    );
    expect(messagesFor(facts)).toEqual([
      signInUnwatched("", " (sign-in is on event bus security, which AWS events do not reach)"),
    ]);
  });

  it("names the sign-ins a narrow rule misses", () => {
    const rootOnly = { ...consoleSignInPattern, detail: { userIdentity: { type: ["Root"] } } };
    expect(messagesFor(found(rule(rootOnly), rule(roleUsePattern)))).toEqual([
      signInUnwatched(" by an IAM user or a responder federated from the emergency IdP"),
    ]);
  });

  it("reports a rule that alerts only on sign-in without MFA", () => {
    const withoutMfa = { ...consoleSignInPattern, detail: { additionalEventData: { MFAUsed: ["No"] } } };
    expect(messagesFor(found(rule(withoutMfa), rule(roleUsePattern)))).toEqual([
      signInUnwatched(" by the root user or an IAM user"),
    ]);
  });

  it("names the emergency roles no rule watches", () => {
    expect(
      messagesFor(found(rule(consoleSignInPattern), rule(roleUsePattern)), [emergencyRole, secondEmergencyRole]),
    ).toEqual([roleUnwatched(secondEmergencyRole)]);
    expect(messagesFor(found(rule(consoleSignInPattern)), [emergencyRole, secondEmergencyRole])).toEqual([
      roleUnwatched(`${emergencyRole}, ${secondEmergencyRole}`, "", true),
    ]);
  });

  it("does not count a role-use rule filtered on another role", () => {
    const otherRole = {
      detail: {
        userIdentity: { sessionContext: { sessionIssuer: { arn: ["arn:aws:iam::111111111111:role/Admin"] } } },
      },
    };
    expect(messagesFor(found(rule(consoleSignInPattern), rule(otherRole)))).toEqual([roleUnwatched(emergencyRole)]);
  });

  it("ignores scheduled rules and patterns that are not JSON", () => {
    const facts = found(rule(null, { name: "nightly" }), { ...rule(null), eventPattern: '{"source": [' });
    expect(messagesFor(facts)).toEqual([signInUnwatched(), roleUnwatched(emergencyRole)]);
  });

  it("reports the EventBridge error instead of missing rules", () => {
    const facts: EventBridgeFacts = {
      status: "error",
      error: { code: "AccessDeniedException", message: "User is not authorized to perform: events:ListRules" },
      rules: [],
    };
    expect(messagesFor(facts)).toEqual([
      [
        "AWS_READ_FAILED",
        "Could not read the EventBridge rules of the emergency account: AccessDeniedException: User is not authorized to perform: events:ListRules.",
      ],
    ]);
  });
});
