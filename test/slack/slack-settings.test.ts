// Slack's settings: tokens only from the environment, and a half-done set-up refused with the variable to fix.
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load-config.js";
import { slackSettings } from "../../src/slack/slack-settings.js";

const config = (extra = "") =>
  parseConfig(`idp:\n  name: Okta\n  metadata: ./idp.xml\n${extra}`, "/srv/breakglass.yaml").config;
const BOT = "xoxb-1-2-abc";

describe("slackSettings", () => {
  it("is undefined without SLACK_BOT_TOKEN: serve then logs what it would post", () => {
    expect(slackSettings(config(), {})).toBeUndefined();
  });

  it("takes the API URL from SLACK_API_URL over slack.apiUrl, always ending in a slash", () => {
    const settings = slackSettings(config("slack:\n  apiUrl: https://slack-gov.com/api\n"), {
      SLACK_BOT_TOKEN: BOT,
      SLACK_SIGNING_SECRET: "s",
    });
    expect(settings?.apiUrl).toBe("https://slack-gov.com/api/");
    expect(
      slackSettings(config(), {
        SLACK_BOT_TOKEN: BOT,
        SLACK_SIGNING_SECRET: "s",
        SLACK_API_URL: "http://127.0.0.1:9/api",
      })?.apiUrl,
    ).toBe("http://127.0.0.1:9/api/");
    expect(slackSettings(config(), { SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: "s" })?.apiUrl).toBe(
      "https://slack.com/api/",
    );
  });

  it.each([
    [
      "a signing secret without a bot token",
      "",
      { SLACK_SIGNING_SECRET: "s" },
      "SLACK_BOT_TOKEN: is not set, but other Slack variables are",
    ],
    [
      "a user token where the bot token belongs",
      "",
      { SLACK_BOT_TOKEN: "xoxp-1-2", SLACK_SIGNING_SECRET: "s" },
      "SLACK_BOT_TOKEN: expected a bot token, which starts with xoxb-",
    ],
    [
      "the HTTP receiver without a signing secret",
      "",
      { SLACK_BOT_TOKEN: BOT },
      "SLACK_SIGNING_SECRET: is not set: without it breakglass cannot tell Slack's requests from forged ones",
    ],
    [
      "Socket Mode without an app token",
      "slack:\n  socketMode: true\n",
      { SLACK_BOT_TOKEN: BOT },
      "SLACK_APP_TOKEN: is not set, but slack.socketMode is true",
    ],
    [
      "Socket Mode with a bot token as app token",
      "slack:\n  socketMode: true\n",
      { SLACK_BOT_TOKEN: BOT, SLACK_APP_TOKEN: BOT },
      "SLACK_APP_TOKEN: expected an app-level token, which starts with xapp-",
    ],
    [
      "an API URL that is not one",
      "",
      { SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: "s", SLACK_API_URL: "slack.com" },
      "SLACK_API_URL: expected an http(s) URL",
    ],
  ] as const)("refuses %s, naming the variable and never its value", (_name, extra, env, message) => {
    let error: Error | undefined;
    try {
      slackSettings(config(extra), env);
    } catch (caught) {
      error = caught as Error;
    }
    expect(error?.message).toContain(message);
    expect(error?.message).not.toContain("xoxb-1-2-abc");
    expect(error?.message).not.toMatch(/\n/);
  });
});
