// Reads the emergency account's monitoring: CloudTrail trails with their logging status, and EventBridge rules on the default bus.
import { DescribeTrailsCommand, GetTrailStatusCommand, type CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { ListRulesCommand, type EventBridgeClient, type Rule } from "@aws-sdk/client-eventbridge";
import type { CloudTrailFacts, EventBridgeFacts, TrailFacts } from "../../domain/checks/posture-facts.js";
import type { AwsClients } from "./aws-clients.js";
import { toFactError } from "./aws-error.js";

export async function readCloudTrail(clients: AwsClients, cloudTrail: CloudTrailClient): Promise<CloudTrailFacts> {
  try {
    // Shadow trails are how an organization trail or another Region's multi-Region trail shows up here.
    const { trailList = [] } = await clients.call("cloudtrail", () =>
      cloudTrail.send(new DescribeTrailsCommand({ includeShadowTrails: true })),
    );
    const trails = await Promise.all(
      trailList.map(async (trail): Promise<TrailFacts> => {
        const arn = trail.TrailARN ?? trail.Name ?? "unknown";
        const status = await clients.call("cloudtrail", () =>
          cloudTrail.send(new GetTrailStatusCommand({ Name: arn })),
        );
        return {
          name: trail.Name ?? arn,
          arn,
          homeRegion: trail.HomeRegion ?? "unknown",
          isMultiRegionTrail: trail.IsMultiRegionTrail === true,
          isOrganizationTrail: trail.IsOrganizationTrail === true,
          isLogging: status.IsLogging === true,
        };
      }),
    );
    return { status: "found", trails };
  } catch (error) {
    return { status: "error", error: toFactError(error), trails: [] };
  }
}

export async function readEventBridge(clients: AwsClients, eventBridge: EventBridgeClient): Promise<EventBridgeFacts> {
  try {
    const rules: Rule[] = [];
    let nextToken: string | undefined;
    do {
      const page = await clients.call("eventbridge", () =>
        eventBridge.send(new ListRulesCommand({ EventBusName: "default", NextToken: nextToken, Limit: 100 })),
      );
      rules.push(...(page.Rules ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    return {
      status: "found",
      rules: rules.map((rule) => ({
        name: rule.Name ?? "unnamed",
        arn: rule.Arn ?? "",
        eventBusName: rule.EventBusName ?? "default",
        state: rule.State ?? "UNKNOWN",
        eventPattern: rule.EventPattern ?? null,
      })),
    };
  } catch (error) {
    return { status: "error", error: toFactError(error), rules: [] };
  }
}
