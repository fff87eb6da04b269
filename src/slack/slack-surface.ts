// The Bolt app of `breakglass serve`: Bolt's own HTTPReceiver (its request listener is mounted on serve's HTTP server
// at /slack/events) or Socket Mode, the Web API client pointed at slack.apiUrl, and every handler registered.
import type { IncomingMessage, ServerResponse } from "node:http";
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type Logger } from "@slack/bolt";
import { AccessPolicy } from "./access-policy.js";
import { registerHomeTab } from "./home-tab.js";
import { registerMisuseActions } from "./misuse-alerts.js";
import { registerRunActions } from "./run-actions.js";
import { RunDriver } from "./run-driver.js";
import { describeSlackError, SlackAnnouncer } from "./slack-announcer.js";
import type { SlackContext, SlackLog } from "./slack-context.js";
import { registerSamlPreflight } from "./saml-preflight.js";
import { registerSlashCommand } from "./slash-command.js";

/** Where Slack sends its events and interactions: Bolt's HTTPReceiver answers here, behind the host's request guard. */
export const SLACK_EVENTS_PATH = "/slack/events";

/** What the surface is given; it adds Slack's client, the announcer, the access policy and emergency access. */
export type SlackSurfaceOptions = Omit<SlackContext, "client" | "announcer" | "access" | "emergency"> & {
  /** How often run messages are brought up to date with changes made outside Slack (the CLI). */
  readonly runWatchIntervalMs: number;
};

export interface SlackSurface {
  readonly announcer: SlackAnnouncer;
  /** Bolt's HTTP request listener; undefined in Socket Mode. */
  readonly listener: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
  readonly driver: RunDriver;
  /** Settles once Socket Mode has connected or given up (at once for the HTTP receiver). */
  readonly connected: Promise<void>;
  stop(): Promise<void>;
}

/** Web API calls retry twice, quickly: a post that still fails is retried by its caller (the next check), not for 30 min. */
const CLIENT_OPTIONS = { retryConfig: { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 2_000 }, timeout: 10_000 };

export function startSlackSurface(options: SlackSurfaceOptions): SlackSurface {
  const { settings, log } = options;
  const logger = boltLogger(log);
  const clientOptions = { ...CLIENT_OPTIONS, slackApiUrl: settings.apiUrl };
  let receiver: HTTPReceiver | SocketModeReceiver;
  if (settings.socketMode) {
    receiver = new SocketModeReceiver({
      appToken: settings.appToken ?? "",
      logger,
      installerOptions: { clientOptions },
    });
  } else {
    receiver = new HTTPReceiver({
      signingSecret: settings.signingSecret ?? "",
      endpoints: [SLACK_EVENTS_PATH],
      logger,
      // Bolt answers Slack as soon as a handler acks; the work after the ack goes on in BackgroundWork.
      processBeforeResponse: false,
      // Its listener is mounted only behind ServiceHttp, whose RequestGuard has already checked the signature, the
      // 5-minute window and replays; checking the HMAC a second time cost every acknowledgement ~25 µs.
      signatureVerification: false,
    });
  }
  // No conversation store: breakglass keeps no per-conversation state in Bolt, and Bolt's in-memory one builds an
  // Error with a stack trace ("Conversation not found") for every request that names a channel.
  const app = new App({ token: settings.botToken, receiver, logger, clientOptions, convoStore: false });
  app.error((error) => {
    log.error(`Slack handler failed: ${error.message}`);
    return Promise.resolve();
  });

  const announcer = new SlackAnnouncer(app.client, settings.channels, log, (outcome) =>
    options.metrics.slackPosted(outcome),
  );
  const access = new AccessPolicy(
    settings.access,
    async (groupId) => {
      const answer = await app.client.usergroups.users.list({ usergroup: groupId });
      return answer.users ?? [];
    },
    {
      // Its members are refused until the group can be read: say why, or the refusal looks like a wrong config.
      onLookupFailure: (groupId, error) =>
        log.warn(
          `could not read the members of Slack user group ${groupId} (${describeSlackError(error)}; the app ` +
            `needs usergroups:read): its members are refused until it can`,
        ),
      personAllows: (userId, permission) =>
        options.services.people.allows(options.services.people.slackActor(userId), permission),
    },
  );
  const { runWatchIntervalMs, ...shared } = options;
  const context: SlackContext = {
    ...shared,
    client: app.client,
    announcer,
    access,
    emergency: options.services.emergency,
  };
  const driver = new RunDriver(context);
  registerSlashCommand(app, context, driver);
  registerRunActions(app, context, driver);
  registerSamlPreflight(app, context);
  registerHomeTab(app, context);
  registerMisuseActions(app, context);
  const stopWatching = driver.watchStore(runWatchIntervalMs);

  // Socket Mode connects in the background: Slack being unreachable must not keep the checks from starting.
  const connecting =
    receiver instanceof SocketModeReceiver
      ? app.start().then(
          () => log.info("connected to Slack over Socket Mode"),
          (error: unknown) =>
            log.error(
              `Slack Socket Mode could not connect (${describeSlackError(error)}): checks go on; Slack commands ` +
                `wait for a restart with a working SLACK_APP_TOKEN`,
            ),
        )
      : undefined;
  return {
    announcer,
    driver,
    listener: receiver instanceof HTTPReceiver ? receiver.requestListener : undefined,
    connected: connecting ?? Promise.resolve(),
    stop: async () => {
      stopWatching();
      if (!(receiver instanceof SocketModeReceiver)) return;
      await connecting;
      await app
        .stop()
        .catch((error: unknown) => log.warn(`Socket Mode did not close cleanly: ${describeSlackError(error)}`));
    },
  };
}

/** Bolt's log lines, into the service log; debug and info stay out unless something is wrong. */
function boltLogger(log: SlackLog): Logger {
  let level = LogLevel.WARN;
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (...messages: unknown[]) => log.warn(`slack: ${messages.map(String).join(" ")}`),
    error: (...messages: unknown[]) => log.error(`slack: ${messages.map(String).join(" ")}`),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
