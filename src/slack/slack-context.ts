// Everything the Slack handlers share: the engine and store, the full checks, Slack's client, who may do what, and the
// ports through which the service that hosts Slack takes its background work, its log lines and its metrics.
import type { webApi } from "@slack/bolt";
import type { Clock } from "../domain/shared/clock.js";
import type { CheckCycles } from "../application/check-cycle.js";
import type { EmergencyAccess } from "../application/emergency-access.js";
import type { RunbookServices } from "../application/runbook-runtime.js";
import type { ServeStateStore } from "../domain/ports/serve-state-store.js";
import type { AccessPolicy, Permission } from "./access-policy.js";
import type { SlackAnnouncer } from "./slack-announcer.js";
import type { SlackSettings } from "./slack-settings.js";

/** Where Slack's handlers write what happened: one line per event, never a token. */
export interface SlackLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** What Slack's handlers count for the service's metrics. */
export interface SlackMetrics {
  slackPosted(outcome: "delivered" | "failed" | "logged"): void;
  slackRefused(permission: Permission): void;
}

/**
 * Work that goes on after Slack has its answer (Slack gives up after 3 s): the host tracks it so that shutdown can wait
 * for it and a failure is logged. False when the host is shutting down and refused it.
 */
export interface BackgroundTasks {
  run(name: string, work: () => Promise<void>): boolean;
}

export interface SlackContext {
  readonly settings: SlackSettings;
  readonly services: RunbookServices;
  readonly state: ServeStateStore;
  readonly scheduler: CheckCycles;
  readonly metrics: SlackMetrics;
  readonly work: BackgroundTasks;
  readonly clock: Clock;
  readonly log: SlackLog;
  readonly runbookDirectory: string;
  /**
   * False while this serve replica follows: it keeps run messages up to date (an update is idempotent) but posts no
   * thread replies, which the leader alone posts, so each is posted once. Always leading without it (one process).
   */
  readonly leads?: () => boolean;
  readonly client: webApi.WebClient;
  readonly announcer: SlackAnnouncer;
  readonly access: AccessPolicy;
  readonly emergency: EmergencyAccess;
}
