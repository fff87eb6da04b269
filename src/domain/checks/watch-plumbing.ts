// Judges the plumbing of `breakglass watch`: the queue is readable and has a dead-letter queue, and in each Region that
// matters an enabled rule delivers to it the events the watch must see, run against the events CloudTrail would send.
import {
  cloudTrailEvent,
  consoleSignInEvents,
  countsForAlerts,
  matchesEventPattern,
  parseEventPattern,
  parseRoleArn,
  roleUseEvents,
  type ProbeEvent,
  type RoleName,
} from "./eventbridge-rules.js";
import { describeFactError } from "./fact-error.js";
import { createFinding, type Finding } from "./finding.js";
import type { EventRuleFacts, WatchQueueFacts, WatchRegionRules } from "./posture-facts.js";

/** Console sign-in of root and IAM users, and calls to global services (IAM, STS's global endpoint), arrive here. */
export const GLOBAL_EVENTS_REGION = "us-east-1";

export interface WatchPlumbingContext {
  readonly emergencyAccountId: string;
  readonly samlProviderArns: readonly string[];
  readonly emergencyRoleArns: readonly string[];
  /** Whether Identity Center is configured: then its IdP changes must reach the queue too. */
  readonly watchesIdentityCenter: boolean;
}

export function checkWatchPlumbing(facts: WatchQueueFacts, context: WatchPlumbingContext): Finding[] {
  const subject = { resource: facts.queueUrl };
  if (facts.status === "error") {
    return [
      createFinding(
        "WATCH_QUEUE_UNREADABLE",
        `Cannot read the watch queue ${facts.queueUrl} (sqs GetQueueAttributes: ${describeFactError(facts.error)}): ` +
          "breakglass watch cannot receive the emergency account's events from it.",
        subject,
      ),
    ];
  }
  const findings: Finding[] = [];
  if (facts.deadLetterTargetArn === null) {
    findings.push(
      createFinding(
        "WATCH_QUEUE_NO_DEAD_LETTER",
        `The watch queue ${facts.queueUrl} has no redrive (dead-letter) policy: a message breakglass cannot parse ` +
          "is received again and again instead of being set aside.",
        subject,
      ),
    );
  }
  const [queueRegion] = facts.regions;
  if (queueRegion === undefined) return findings;
  for (const region of facts.regions) {
    if (region.status === "error") {
      findings.push(
        createFinding(
          "AWS_READ_FAILED",
          `Could not read which EventBridge rules in ${region.region} deliver to the watch queue ` +
            `(events ListRuleNamesByTarget ${region.targetArn}): ${describeFactError(region.error)}.`,
          { resource: facts.queueUrl, entityID: region.region },
        ),
      );
      continue;
    }
    const own = region === queueRegion;
    const unseen = probesFor(region.region, own, context).filter(
      (probe) => !delivers(region, probe) || (!own && queueRegion.status === "found" && !delivers(queueRegion, probe)),
    );
    if (unseen.length === 0) continue;
    findings.push(
      createFinding("WATCH_RULE_MISSING", describeUnseen(facts, region, own, unseen), {
        resource: facts.queueUrl,
        entityID: region.region,
      }),
    );
  }
  return findings;
}

/** Whether an enabled rule on the default bus in this Region delivers the event onward. */
function delivers(region: WatchRegionRules, probe: ProbeEvent): boolean {
  return region.rules.some((rule) => {
    const pattern = parseEventPattern(rule.eventPattern);
    return countsForAlerts(rule) && pattern !== null && matchesEventPattern(pattern, probe.event);
  });
}

/**
 * What must reach the queue from each Region: console sign-in and the SAML sign-in through the global endpoints arrive
 * in us-east-1, and IAM calls too; the emergency roles' calls arrive in the Region they are made in (the queue's
 * Region stands for the Regions the account works in), and Identity Center IdP changes are forwarded to it.
 */
function probesFor(region: string, ownRegion: boolean, context: WatchPlumbingContext): ProbeEvent[] {
  const role = parseRoleArn(context.emergencyRoleArns[0] ?? "") ?? defaultRole(context.emergencyAccountId);
  const [assumeRoleWithSaml, roleApiCall] = roleUseEvents(role);
  const probes: ProbeEvent[] = [];
  if (region === GLOBAL_EVENTS_REGION) {
    const signIns = consoleSignInEvents(context.emergencyAccountId, role).slice(0, 2);
    probes.push(...signIns.map((probe) => ({ ...probe, who: `console sign-in by ${probe.who}` })));
    if (assumeRoleWithSaml) probes.push(throughProvider(assumeRoleWithSaml, context.samlProviderArns[0]));
  }
  if (roleApiCall) probes.push({ ...roleApiCall, who: `API calls by the emergency role ${role.name}` });
  if (ownRegion && context.watchesIdentityCenter) probes.push(identityCenterIdpChange(context.emergencyAccountId));
  return probes;
}

function defaultRole(accountId: string): RoleName {
  return {
    arn: `arn:aws:iam::${accountId}:role/EmergencyAccess`,
    partition: "aws",
    accountId,
    name: "EmergencyAccess",
  };
}

/** The SAML sign-in names the provider it came through: a rule may select the emergency provider by its ARN. */
function throughProvider(probe: ProbeEvent, providerArn: string | undefined): ProbeEvent {
  const who = "a responder's SAML sign-in to the emergency role (AssumeRoleWithSAML)";
  if (providerArn === undefined) return { ...probe, who };
  const providerName = providerArn.slice(providerArn.lastIndexOf("/") + 1);
  const event = structuredClone(probe.event) as { detail: Record<string, Record<string, unknown>> };
  const detail = event.detail;
  if (detail["requestParameters"]) detail["requestParameters"]["principalArn"] = providerArn;
  if (detail["userIdentity"]) {
    detail["userIdentity"]["identityProvider"] = providerName;
    detail["userIdentity"]["principalId"] = `${providerName}:responder@example.com`;
  }
  return { who, event };
}

/** An sso-directory change of Identity Center's external IdP, as the default bus delivers it. */
function identityCenterIdpChange(accountId: string): ProbeEvent {
  return {
    who: "an Identity Center IdP change (sso-directory EnableExternalIdPConfigurationForDirectory)",
    event: cloudTrailEvent("aws.sso-directory", "AWS API Call via CloudTrail", accountId, {
      userIdentity: {
        type: "AssumedRole",
        principalId: "AROAEXAMPLEADMIN0001:admin@example.com",
        arn: `arn:aws:sts::${accountId}:assumed-role/AWSReservedSSO_AdministratorAccess_0123abcd/admin@example.com`,
        accountId,
      },
      eventSource: "sso-directory.amazonaws.com",
      eventName: "EnableExternalIdPConfigurationForDirectory",
      userAgent: "aws-internal/3 aws-sdk-java/1.12.0",
      requestParameters: null,
      responseElements: null,
      readOnly: false,
      eventType: "AwsApiCall",
    }),
  };
}

function describeUnseen(
  facts: WatchQueueFacts,
  region: WatchRegionRules,
  own: boolean,
  unseen: readonly ProbeEvent[],
): string {
  const what = unseen.map((probe) => probe.who).join("; ");
  const path = own
    ? `to the watch queue ${facts.queueUrl}`
    : `to the watch queue ${facts.queueUrl} (through the default event bus of its Region, ${facts.regions[0]?.region})`;
  const why =
    region.region === GLOBAL_EVENTS_REGION
      ? "; console sign-in of root and IAM users arrives in us-east-1, so a rule only in another Region misses it"
      : "";
  return (
    `No enabled EventBridge rule on the default bus in ${region.region} delivers ${what} ${path}` +
    `${describeRules(region.rules)}${why}.`
  );
}

function describeRules(rules: readonly EventRuleFacts[]): string {
  if (rules.length === 0) return " (no rule there targets it)";
  return ` (rules that target it: ${rules.map((rule) => `${rule.name} ${rule.state}`).join(", ")})`;
}
