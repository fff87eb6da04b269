// Judges whether EventBridge in the emergency account would raise an alert on console sign-in and on use of the
// emergency roles, by matching rule patterns against the events CloudTrail would send.
import { createFinding, type Finding } from "./finding.js";
import type { EventBridgeFacts, EventRuleFacts } from "./posture-facts.js";
import { describeFactError } from "./fact-error.js";

/** A rule in either state sees CloudTrail's sign-in and write events; ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS sees read-only ones as well. */
const MATCHING_STATES = new Set(["ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"]);

/** An event a rule must match for a need to be met, and who it stands for in a message. */
export interface ProbeEvent {
  readonly who: string;
  readonly event: Record<string, unknown>;
}

export function checkEventBridgeRules(
  facts: EventBridgeFacts,
  emergencyRoleArns: readonly string[],
  emergencyAccountId: string,
): Finding[] {
  const roles = emergencyRoleArns.flatMap((arn) => {
    const role = parseRoleArn(arn);
    return role ? [role] : [];
  });
  const accountId = emergencyAccountId;
  const subject = { accountId };
  if (facts.status === "error") {
    return [
      createFinding(
        "AWS_READ_FAILED",
        `Could not read the EventBridge rules of the emergency account: ${describeFactError(facts.error)}.`,
        subject,
      ),
    ];
  }

  const rules = facts.rules.map((rule) => ({ rule, pattern: parseEventPattern(rule.eventPattern) }));
  const counting = rules.filter(({ rule }) => countsForAlerts(rule));
  const matchedBy = (candidates: typeof rules, probe: ProbeEvent) =>
    candidates
      .filter(({ pattern }) => pattern !== null && matchesEventPattern(pattern, probe.event))
      .map(({ rule }) => rule);
  const findings: Finding[] = [];

  const signInProbes = consoleSignInEvents(accountId, roles[0] ?? null);
  const unseenSignIns = signInProbes.filter((probe) => matchedBy(counting, probe).length === 0);
  if (unseenSignIns.length > 0) {
    const who =
      unseenSignIns.length === signInProbes.length ? "" : ` by ${unseenSignIns.map((probe) => probe.who).join(" or ")}`;
    const ignored = unseenSignIns.flatMap((probe) => matchedBy(rules, probe));
    findings.push(
      createFinding(
        "EVENTBRIDGE_RULE_MISSING",
        describeUnmetNeed(`console sign-in to the emergency account${who}`, ignored),
        subject,
      ),
    );
  }

  const unwatched = roles.filter((role) => !roleUseEvents(role).some((probe) => matchedBy(counting, probe).length > 0));
  if (unwatched.length > 0) {
    const ignored = unwatched.flatMap((role) => roleUseEvents(role).flatMap((probe) => matchedBy(rules, probe)));
    const need =
      `use of the emergency ${unwatched.length === 1 ? "role" : "roles"} ${unwatched.map((role) => role.arn).join(", ")} ` +
      `(its SAML sign-in or its API calls)`;
    findings.push(createFinding("EVENTBRIDGE_RULE_MISSING", describeUnmetNeed(need, ignored), subject));
  }
  return findings;
}

/** AWS service events, CloudTrail's included, reach only the default event bus; a rule elsewhere never sees them. */
export function countsForAlerts(rule: EventRuleFacts): boolean {
  return MATCHING_STATES.has(rule.state) && isDefaultBus(rule.eventBusName);
}

function isDefaultBus(eventBusName: string): boolean {
  return eventBusName === "default" || /:event-bus\/default$/.test(eventBusName);
}

function describeUnmetNeed(need: string, ignored: readonly EventRuleFacts[]): string {
  const reasons = [
    ...new Set(
      ignored.map((rule) =>
        MATCHING_STATES.has(rule.state)
          ? `${rule.name} is on event bus ${rule.eventBusName}, which AWS events do not reach`
          : `${rule.name} is ${rule.state}`,
      ),
    ),
  ];
  const note = reasons.length > 0 ? ` (${reasons.join("; ")})` : "";
  return `No enabled EventBridge rule on the default event bus matches ${need}; disabled rules do not count${note}.`;
}

/** The rule's pattern as JSON, or null when there is none (a scheduled rule) or it is not JSON. */
export function parseEventPattern(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const json = JSON.parse(text) as unknown;
    return isRecord(json) ? json : null;
  } catch {
    return null;
  }
}

/**
 * Whether an EventBridge event pattern matches an event, for the subset of the pattern language the alert
 * rules use: exact values (strings, numbers, booleans, null), prefix, suffix, equals-ignore-case, wildcard,
 * anything-but, numeric, exists, nested objects and $or. A field the pattern does not name matches anything.
 * As in EventBridge, the event is read as leaf values by path: an array in the event matches when any element
 * does, and exists looks only at leaves. An operator outside the subset (cidr, say) never matches, so a rule
 * that needs it is not counted.
 */
export function matchesEventPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  return matchesFields(pattern, [event]);
}

/** `nodes` are every object found at the pattern's path in the event (more than one under an array of objects). */
function matchesFields(pattern: Record<string, unknown>, nodes: readonly unknown[]): boolean {
  for (const [field, expected] of Object.entries(pattern)) {
    // EventBridge reads $or as an operator only with two or more alternatives; otherwise it is a field name.
    if (field === "$or" && Array.isArray(expected) && expected.length >= 2 && expected.every(isRecord)) {
      if (!expected.some((alternative) => matchesFields(alternative, nodes))) return false;
      continue;
    }
    const children = nodes.flatMap((node) => (isRecord(node) && Object.hasOwn(node, field) ? [node[field]] : []));
    if (Array.isArray(expected)) {
      const leaves = children.flatMap(collectLeaves);
      if (!expected.some((matcher) => matchesValue(matcher, leaves))) return false;
    } else if (isRecord(expected)) {
      if (!matchesFields(expected, children.flatMap(collectObjects))) return false;
    } else {
      // EventBridge refuses a pattern whose field holds a bare value, so no event would ever reach it.
      return false;
    }
  }
  return true;
}

type Leaf = string | number | boolean | null;

function collectLeaves(value: unknown): Leaf[] {
  if (Array.isArray(value)) return value.flatMap(collectLeaves);
  if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    return [value];
  return [];
}

function collectObjects(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value)) return value.flatMap(collectObjects);
  return isRecord(value) ? [value] : [];
}

function matchesValue(matcher: unknown, leaves: readonly Leaf[]): boolean {
  if (!isRecord(matcher)) return leaves.some((leaf) => leaf === matcher);
  if (Object.hasOwn(matcher, "exists")) {
    if (matcher.exists === true) return leaves.length > 0;
    if (matcher.exists === false) return leaves.length === 0;
    return false;
  }
  return leaves.some((leaf) => matchesOperator(matcher, leaf));
}

function matchesOperator(matcher: Record<string, unknown>, leaf: Leaf): boolean {
  const entries = Object.entries(matcher);
  const [operator, argument] = entries[0] ?? [];
  if (entries.length !== 1) return false;
  switch (operator) {
    case "prefix":
      return matchesAffix(argument, leaf, (text, affix) => text.startsWith(affix));
    case "suffix":
      return matchesAffix(argument, leaf, (text, affix) => text.endsWith(affix));
    case "equals-ignore-case":
      return typeof argument === "string" && typeof leaf === "string" && foldCase(leaf) === foldCase(argument);
    case "wildcard":
      return typeof argument === "string" && typeof leaf === "string" && matchesWildcard(argument, leaf);
    case "anything-but":
      return matchesAnythingBut(argument, leaf);
    case "numeric":
      return Array.isArray(argument) && typeof leaf === "number" && matchesNumeric(argument, leaf);
    default:
      return false;
  }
}

/** prefix and suffix take a string, or {"equals-ignore-case": string}. */
function matchesAffix(argument: unknown, leaf: Leaf, test: (text: string, affix: string) => boolean): boolean {
  if (typeof leaf !== "string") return false;
  if (typeof argument === "string") return test(leaf, argument);
  if (isRecord(argument) && typeof argument["equals-ignore-case"] === "string")
    return test(foldCase(leaf), foldCase(argument["equals-ignore-case"]));
  return false;
}

/** anything-but matches a value that is present and is none of the listed ones (or none of the listed prefix, suffix, case-folded or wildcard forms). */
function matchesAnythingBut(argument: unknown, leaf: Leaf): boolean {
  if (Array.isArray(argument)) return !argument.some((excluded) => excluded === leaf);
  if (!isRecord(argument)) return argument !== leaf;
  const entries = Object.entries(argument);
  const [operator, value] = entries[0] ?? [];
  if (entries.length !== 1) return false;
  // A number, boolean or null has no prefix, suffix or case to compare, so it is never one of the excluded strings.
  if (typeof leaf !== "string") return true;
  const values: unknown[] = Array.isArray(value) ? value : [value];
  const texts = values.filter((item): item is string => typeof item === "string");
  switch (operator) {
    case "prefix":
      return !texts.some((text) => leaf.startsWith(text));
    case "suffix":
      return !texts.some((text) => leaf.endsWith(text));
    case "equals-ignore-case":
      return !texts.some((text) => foldCase(text) === foldCase(leaf));
    case "wildcard":
      return !texts.some((text) => matchesWildcard(text, leaf));
    default:
      return false;
  }
}

/** numeric takes pairs of a comparison and a number: [">", 0, "<=", 5]; every pair must hold. */
function matchesNumeric(conditions: readonly unknown[], leaf: number): boolean {
  if (conditions.length === 0 || conditions.length % 2 !== 0) return false;
  for (let index = 0; index < conditions.length; index += 2) {
    const operator = conditions[index];
    const bound = conditions[index + 1];
    if (typeof bound !== "number") return false;
    const holds =
      operator === "="
        ? leaf === bound
        : operator === "<"
          ? leaf < bound
          : operator === "<="
            ? leaf <= bound
            : operator === ">"
              ? leaf > bound
              : operator === ">="
                ? leaf >= bound
                : false;
    if (!holds) return false;
  }
  return true;
}

/** EventBridge wildcards: `*` is any run of characters, `\*` a literal asterisk, `\\` a literal backslash. */
function matchesWildcard(pattern: string, text: string): boolean {
  let source = "";
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern.charAt(index);
    if (char === "\\" && (pattern.charAt(index + 1) === "*" || pattern.charAt(index + 1) === "\\")) {
      source += `\\${pattern.charAt(index + 1)}`;
      index++;
    } else {
      source += char === "*" ? ".*" : char.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`, "s").test(text);
}

function foldCase(text: string): string {
  return text.toLocaleLowerCase("en-US");
}

export interface RoleName {
  readonly arn: string;
  readonly partition: string;
  readonly accountId: string;
  readonly name: string;
}

/** The parts of arn:aws:iam::111111111111:role/path/Name that CloudTrail spreads over an event; the session ARN drops the path. */
export function parseRoleArn(arn: string): RoleName | null {
  const match = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (!match) return null;
  const [, partition = "aws", accountId = "", name = ""] = match;
  return { arn, partition, accountId, name };
}

/** The partition's sign-in and STS hosts are the same names in every partition; only the ARNs change. */
export function consoleSignInEvents(accountId: string, role: RoleName | null): ProbeEvent[] {
  const partition = role?.partition ?? "aws";
  const roleName = role?.name ?? "EmergencyAccess";
  const roleArn = role?.arn ?? `arn:${partition}:iam::${accountId}:role/${roleName}`;
  const signIn = (userIdentity: Record<string, unknown>, additionalEventData: Record<string, unknown>) =>
    cloudTrailEvent("aws.signin", "AWS Console Sign In via CloudTrail", accountId, {
      userIdentity,
      eventSource: "signin.amazonaws.com",
      eventName: "ConsoleLogin",
      userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
      requestParameters: null,
      responseElements: { ConsoleLogin: "Success" },
      additionalEventData: {
        LoginTo: "https://console.aws.amazon.com/console/home",
        MobileVersion: "No",
        ...additionalEventData,
      },
      readOnly: false,
      eventType: "AwsConsoleSignIn",
    });
  return [
    {
      who: "the root user",
      event: signIn(
        {
          type: "Root",
          principalId: accountId,
          arn: `arn:${partition}:iam::${accountId}:root`,
          accountId,
          accessKeyId: "",
        },
        { MFAIdentifier: `arn:${partition}:iam::${accountId}:mfa/root-account-mfa-device`, MFAUsed: "Yes" },
      ),
    },
    {
      who: "an IAM user",
      event: signIn(
        {
          type: "IAMUser",
          principalId: "AIDAEMERGENCYADMIN01",
          arn: `arn:${partition}:iam::${accountId}:user/emergency-admin-1`,
          accountId,
          accessKeyId: "",
          userName: "emergency-admin-1",
        },
        { MFAIdentifier: `arn:${partition}:iam::${accountId}:mfa/emergency-admin-1`, MFAUsed: "Yes" },
      ),
    },
    {
      who: "a responder federated from the emergency IdP",
      event: signIn(assumedRoleIdentity(partition, accountId, roleName, roleArn), {
        MFAUsed: "No",
        SamlProviderArn: `arn:${partition}:iam::${accountId}:saml-provider/EmergencyIdP`,
      }),
    },
  ];
}

/** What CloudTrail sends when a responder takes the emergency role (AssumeRoleWithSAML) and then uses it (here, to reach a workload account). */
export function roleUseEvents(role: RoleName): ProbeEvent[] {
  const { partition, accountId, name, arn } = role;
  const session = "responder@example.com";
  return [
    {
      who: "its SAML sign-in",
      event: cloudTrailEvent("aws.sts", "AWS API Call via CloudTrail", accountId, {
        userIdentity: {
          type: "SAMLUser",
          principalId: "EmergencyIdP:responder@example.com",
          userName: session,
          identityProvider: "EmergencyIdP",
        },
        eventSource: "sts.amazonaws.com",
        eventName: "AssumeRoleWithSAML",
        userAgent: "signin.amazonaws.com",
        requestParameters: {
          sAMLAssertionID: "_a1b2c3d4e5f6",
          roleSessionName: session,
          principalArn: `arn:${partition}:iam::${accountId}:saml-provider/EmergencyIdP`,
          roleArn: arn,
          durationSeconds: 3600,
        },
        responseElements: {
          assumedRoleUser: {
            assumedRoleId: `AROAEMERGENCYROLE01:${session}`,
            arn: `arn:${partition}:sts::${accountId}:assumed-role/${name}/${session}`,
          },
          subjectType: "persistent",
          audience: "https://signin.aws.amazon.com/saml",
        },
        resources: [{ ARN: arn, accountId, type: "AWS::IAM::Role" }],
        eventType: "AwsApiCall",
      }),
    },
    {
      who: "its API calls",
      event: cloudTrailEvent("aws.sts", "AWS API Call via CloudTrail", accountId, {
        userIdentity: assumedRoleIdentity(partition, accountId, name, arn),
        eventSource: "sts.amazonaws.com",
        eventName: "AssumeRole",
        userAgent: "aws-cli/2.17.0 md/Botocore#1.35.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64",
        // The workload account's role is not known here, and no alert rule should depend on which one it is.
        requestParameters: {
          roleArn: `arn:${partition}:iam::123456789012:role/EmergencyAccess`,
          roleSessionName: session,
        },
        eventType: "AwsApiCall",
      }),
    },
  ];
}

function assumedRoleIdentity(
  partition: string,
  accountId: string,
  roleName: string,
  roleArn: string,
): Record<string, unknown> {
  return {
    type: "AssumedRole",
    principalId: "AROAEMERGENCYROLE01:responder@example.com",
    arn: `arn:${partition}:sts::${accountId}:assumed-role/${roleName}/responder@example.com`,
    accountId,
    accessKeyId: "ASIAEMERGENCYEXAMPLE",
    sessionContext: {
      sessionIssuer: { type: "Role", principalId: "AROAEMERGENCYROLE01", arn: roleArn, accountId, userName: roleName },
      webIdFederationData: {},
      attributes: { creationDate: "2026-01-01T00:00:00Z", mfaAuthenticated: "false" },
    },
  };
}

/** The EventBridge envelope around a CloudTrail record, as the default bus delivers it. */
export function cloudTrailEvent(
  source: string,
  detailType: string,
  accountId: string,
  detail: Record<string, unknown>,
): Record<string, unknown> {
  return {
    version: "0",
    id: "00000000-0000-4000-8000-000000000000",
    "detail-type": detailType,
    source,
    account: accountId,
    time: "2026-01-01T00:00:00Z",
    region: "us-east-1",
    resources: [],
    detail: {
      eventVersion: "1.08",
      eventTime: "2026-01-01T00:00:00Z",
      awsRegion: "us-east-1",
      sourceIPAddress: "192.0.2.10",
      eventID: "00000000-0000-4000-8000-000000000001",
      managementEvent: true,
      recipientAccountId: accountId,
      eventCategory: "Management",
      ...detail,
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
