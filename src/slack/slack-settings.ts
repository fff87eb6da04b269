// Slack's settings for serve: tokens only from the environment, everything else from breakglass.yaml's slack section.
import type { BreakglassConfig } from "../config/config-schema.js";
import { BreakglassError } from "../domain/errors.js";
import { identitySettingsOf } from "../application/runbook-runtime.js";
import type { IdentitySettings } from "../domain/identity/people.js";
import type { ChannelMap } from "./slack-announcer.js";

export const DEFAULT_SLACK_API_URL = "https://slack.com/api/";

type SlackConfig = NonNullable<BreakglassConfig["slack"]>;

export interface SlackSettings {
  readonly botToken: string;
  /** Required for the HTTP receiver; Socket Mode does not sign requests. */
  readonly signingSecret: string | undefined;
  readonly appToken: string | undefined;
  readonly socketMode: boolean;
  /** Always ends with a slash, as the Web API client expects. */
  readonly apiUrl: string;
  readonly channels: ChannelMap;
  /** Per permission: Slack user and user-group ids, and people's names (access and slack.access merged). */
  readonly access: IdentitySettings["access"];
  readonly grant: SlackConfig["grant"];
}

/**
 * The Slack settings, or undefined when SLACK_BOT_TOKEN is not set (serve then logs what it would post). A half-done
 * set-up is an error naming the missing variable: a service that looks connected but cannot verify Slack's requests
 * is worse than one that refuses to start. Token values never appear in a message.
 */
export function slackSettings(config: BreakglassConfig, env: NodeJS.ProcessEnv): SlackSettings | undefined {
  const botToken = nonEmpty(env["SLACK_BOT_TOKEN"]);
  const signingSecret = nonEmpty(env["SLACK_SIGNING_SECRET"]);
  const appToken = nonEmpty(env["SLACK_APP_TOKEN"]);
  const socketMode = config.slack?.socketMode ?? false;
  if (botToken === undefined) {
    if (signingSecret !== undefined || appToken !== undefined) {
      throw new BreakglassError(
        "CONFIG_INVALID",
        "SLACK_BOT_TOKEN",
        "is not set, but other Slack variables are: set it to the app's bot token (xoxb-…), or unset them all to run without Slack",
      );
    }
    return undefined;
  }
  if (!botToken.startsWith("xoxb-")) {
    throw new BreakglassError(
      "CONFIG_INVALID",
      "SLACK_BOT_TOKEN",
      "expected a bot token, which starts with xoxb- (OAuth & Permissions → Bot User OAuth Token)",
    );
  }
  if (socketMode) {
    if (appToken === undefined)
      throw new BreakglassError(
        "CONFIG_INVALID",
        "SLACK_APP_TOKEN",
        "is not set, but slack.socketMode is true: create an app-level token with connections:write (Basic Information → App-Level Tokens)",
      );
    if (!appToken.startsWith("xapp-"))
      throw new BreakglassError(
        "CONFIG_INVALID",
        "SLACK_APP_TOKEN",
        "expected an app-level token, which starts with xapp-",
      );
  } else if (signingSecret === undefined) {
    throw new BreakglassError(
      "CONFIG_INVALID",
      "SLACK_SIGNING_SECRET",
      "is not set: without it breakglass cannot tell Slack's requests from forged ones (Basic Information → Signing Secret)",
    );
  }
  const apiUrl = nonEmpty(env["SLACK_API_URL"]) ?? config.slack?.apiUrl ?? DEFAULT_SLACK_API_URL;
  if (!/^https?:\/\//i.test(apiUrl) || !URL.canParse(apiUrl))
    throw new BreakglassError(
      "CONFIG_INVALID",
      "SLACK_API_URL",
      "expected an http(s) URL such as https://slack.com/api/",
    );
  return {
    botToken,
    signingSecret,
    appToken,
    socketMode,
    apiUrl: apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`,
    channels: config.slack?.channels ?? {},
    // The rules every front end applies (access: people's names and Slack ids) and their Slack-only form (slack.access).
    access: identitySettingsOf(config).access,
    grant: config.slack?.grant,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}
