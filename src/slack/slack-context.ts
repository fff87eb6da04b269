// Everything the Slack handlers share: the engine and store, the scheduler, Slack's client, who may do what, and where
// background work and metrics go.
import type { webApi } from "@slack/bolt";
import type { BreakglassConfig } from "../config/config-schema.js";
import type { Clock } from "../domain/shared/clock.js";
import type { CheckScheduler } from "../server/check-scheduler.js";
import type { BackgroundWork } from "../server/background-work.js";
import type { ServiceLog } from "../server/service-log.js";
import type { ServiceMetrics } from "../server/service-metrics.js";
import type { EmergencyAccess } from "../application/emergency-access.js";
import type { RunbookServices } from "../application/runbook-runtime.js";
import type { ServeStateStore } from "../domain/ports/serve-state-store.js";
import type { AccessPolicy } from "./access-policy.js";
import type { SlackAnnouncer } from "./slack-announcer.js";
import type { SlackSettings } from "./slack-settings.js";

export interface SlackContext {
  readonly config: BreakglassConfig;
  readonly settings: SlackSettings;
  readonly services: RunbookServices;
  readonly state: ServeStateStore;
  readonly scheduler: CheckScheduler;
  readonly metrics: ServiceMetrics;
  readonly work: BackgroundWork;
  readonly clock: Clock;
  readonly log: ServiceLog;
  readonly runbookDirectory: string;
  readonly client: webApi.WebClient;
  readonly announcer: SlackAnnouncer;
  readonly access: AccessPolicy;
  readonly emergency: EmergencyAccess;
}

/** How a Slack user is named in runs and the audit log. */
export function slackActor(userId: string): string {
  return `slack:${userId}`;
}
