// Reads the plumbing of `breakglass watch`: the queue's ARN and redrive policy (sqs GetQueueAttributes), and in each
// Region that matters the EventBridge rules that deliver to it (events ListRuleNamesByTarget, then DescribeRule).
import { DescribeRuleCommand, ListRuleNamesByTargetCommand, type EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import type { EventRuleFacts, WatchQueueFacts, WatchRegionRules } from "../../domain/checks/posture-facts.js";
import { GLOBAL_EVENTS_REGION } from "../../domain/checks/watch-plumbing.js";
import type { AwsClients, Credentials } from "./aws-clients.js";
import { toFactError } from "./aws-error.js";

/** watch of breakglass.yaml. */
export interface WatchSource {
  readonly queueUrl: string;
  readonly region?: string | undefined;
}

/**
 * The queue is read with breakglass's own credentials (it consumes the queue); the rules with the emergency account's,
 * where the events happen. The queue's Region is read first, then us-east-1, where console sign-in arrives; outside
 * the queue's Region a rule cannot target the queue itself, only the default event bus of the queue's Region.
 */
export async function readWatchQueue(
  clients: AwsClients,
  source: WatchSource,
  emergencyCredentials: Credentials,
): Promise<WatchQueueFacts> {
  const queueUrl = source.queueUrl;
  const sqs = clients.sqs(undefined, source.region ?? regionOfQueueUrl(queueUrl));
  let attributes: Record<string, string>;
  try {
    const answer = await clients.call("sqs", () =>
      sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn", "RedrivePolicy"] })),
    );
    attributes = answer.Attributes ?? {};
  } catch (error) {
    return {
      queueUrl,
      status: "error",
      error: toFactError(error),
      queueArn: null,
      deadLetterTargetArn: null,
      regions: [],
    };
  } finally {
    sqs.destroy();
  }
  const queueArn = attributes["QueueArn"] ?? null;
  const deadLetterTargetArn = deadLetterTarget(attributes["RedrivePolicy"]);
  const [, partition = "aws", , queueRegion = "", accountId = ""] = (queueArn ?? "").split(":");
  if (queueArn === null || queueRegion === "")
    return { queueUrl, status: "found", queueArn, deadLetterTargetArn, regions: [] };
  const busArn = `arn:${partition}:events:${queueRegion}:${accountId}:event-bus/default`;
  const regions = [...new Set([queueRegion, GLOBAL_EVENTS_REGION])];
  const rules = await Promise.all(
    regions.map((region) =>
      readDeliveringRules(clients, emergencyCredentials, region, region === queueRegion ? queueArn : busArn),
    ),
  );
  return { queueUrl, status: "found", queueArn, deadLetterTargetArn, regions: rules };
}

async function readDeliveringRules(
  clients: AwsClients,
  credentials: Credentials,
  region: string,
  targetArn: string,
): Promise<WatchRegionRules> {
  const eventBridge = clients.eventBridge(credentials, region);
  try {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await clients.call("eventbridge", () =>
        eventBridge.send(new ListRuleNamesByTargetCommand({ TargetArn: targetArn, NextToken: nextToken })),
      );
      names.push(...(page.RuleNames ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    const rules = await Promise.all(names.map((name) => describeRule(clients, eventBridge, name)));
    return { region, status: "found", targetArn, rules };
  } catch (error) {
    return { region, status: "error", error: toFactError(error), targetArn, rules: [] };
  } finally {
    eventBridge.destroy();
  }
}

async function describeRule(
  clients: AwsClients,
  eventBridge: EventBridgeClient,
  name: string,
): Promise<EventRuleFacts> {
  const rule = await clients.call("eventbridge", () => eventBridge.send(new DescribeRuleCommand({ Name: name })));
  return {
    name,
    arn: rule.Arn ?? "",
    eventBusName: rule.EventBusName ?? "default",
    state: rule.State ?? "UNKNOWN",
    eventPattern: rule.EventPattern ?? null,
  };
}

/** https://sqs.eu-west-1.amazonaws.com/… and the legacy https://eu-west-1.queue.amazonaws.com/…; undefined otherwise. */
export function regionOfQueueUrl(queueUrl: string): string | undefined {
  const host = /^https?:\/\/([^/]+)/.exec(queueUrl)?.[1] ?? "";
  return /^sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(host)?.[1] ?? /^([a-z0-9-]+)\.queue\.amazonaws\.com/.exec(host)?.[1];
}

/** RedrivePolicy is JSON text: {"deadLetterTargetArn": "...", "maxReceiveCount": 5}. */
function deadLetterTarget(redrivePolicy: string | undefined): string | null {
  if (redrivePolicy === undefined || redrivePolicy === "") return null;
  try {
    const parsed = JSON.parse(redrivePolicy) as { deadLetterTargetArn?: unknown };
    return typeof parsed.deadLetterTargetArn === "string" && parsed.deadLetterTargetArn !== ""
      ? parsed.deadLetterTargetArn
      : null;
  } catch {
    return null;
  }
}
