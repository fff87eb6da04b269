// Requests as Slack sends them to an app (https://docs.slack.dev/authentication/verifying-requests-from-slack),
// signed with the signing secret: slash commands, button presses (block_actions), view submissions and events.
import { createHmac } from "node:crypto";

export const TEST_SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";

export interface SignedRequest {
  readonly body: string;
  readonly headers: Record<string, string>;
}

export function sign(
  body: string,
  secret: string = TEST_SIGNING_SECRET,
  timestamp: number = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const signature = `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
  return { "x-slack-request-timestamp": String(timestamp), "x-slack-signature": signature };
}

export interface CommandOptions {
  readonly user?: string;
  readonly channel?: string;
  readonly responseUrl: string;
  readonly triggerId?: string;
}

/** A slash command as Slack POSTs it (application/x-www-form-urlencoded). */
export function slashCommand(text: string, options: CommandOptions): string {
  return new URLSearchParams({
    token: "verification-token-unused",
    team_id: "T0000000001",
    team_domain: "example",
    channel_id: options.channel ?? "C0INCIDENT01",
    channel_name: "incident-room",
    user_id: options.user ?? "U0ALICE0001",
    user_name: (options.user ?? "U0ALICE0001").toLowerCase(),
    command: "/breakglass",
    text,
    api_app_id: "A0000000001",
    is_enterprise_install: "false",
    response_url: options.responseUrl,
    trigger_id: options.triggerId ?? "1234567890.1234567890.abcdef",
  }).toString();
}

export interface ButtonOptions {
  readonly user: string;
  readonly channel: string;
  readonly messageTs: string;
  readonly responseUrl: string;
}

/** A button press in a message (block_actions), sent as a form field `payload` holding JSON. */
export function buttonPress(actionId: string, value: string, options: ButtonOptions): string {
  const payload = {
    type: "block_actions",
    user: {
      id: options.user,
      username: options.user.toLowerCase(),
      name: options.user.toLowerCase(),
      team_id: "T0000000001",
    },
    api_app_id: "A0000000001",
    token: "verification-token-unused",
    container: { type: "message", message_ts: options.messageTs, channel_id: options.channel, is_ephemeral: false },
    trigger_id: "1234567890.1234567890.fedcba",
    team: { id: "T0000000001", domain: "example" },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: options.channel, name: "incident-room" },
    message: { type: "message", ts: options.messageTs, text: "", user: "U0BREAKGLASS" },
    response_url: options.responseUrl,
    actions: [
      {
        action_id: actionId,
        block_id: "run-actions",
        text: { type: "plain_text", text: actionId },
        value,
        type: "button",
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A modal's submission (view_submission), values keyed by block id then action id. */
export function viewSubmission(
  callbackId: string,
  privateMetadata: string,
  user: string,
  values: Record<string, Record<string, string>>,
): string {
  const state: Record<string, Record<string, { type: string; value: string }>> = {};
  for (const [blockId, actions] of Object.entries(values)) {
    state[blockId] = Object.fromEntries(
      Object.entries(actions).map(([actionId, value]) => [actionId, { type: "plain_text_input", value }]),
    );
  }
  const payload = {
    type: "view_submission",
    team: { id: "T0000000001", domain: "example" },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: "T0000000001" },
    api_app_id: "A0000000001",
    token: "verification-token-unused",
    trigger_id: "1234567890.1234567890.abcabc",
    view: {
      id: "V0000000001",
      type: "modal",
      callback_id: callbackId,
      private_metadata: privateMetadata,
      state: { values: state },
      hash: "1",
      title: { type: "plain_text", text: "breakglass" },
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A modal's submission whose one input is a file_input holding these uploaded files (Slack's file objects). */
export function fileSubmission(
  callbackId: string,
  privateMetadata: string,
  user: string,
  input: { readonly blockId: string; readonly actionId: string; readonly files: readonly object[] },
): string {
  const body = new URLSearchParams(viewSubmission(callbackId, privateMetadata, user, {}));
  const payload = JSON.parse(body.get("payload") ?? "{}") as { view: { state: { values: unknown } } };
  payload.view.state.values = { [input.blockId]: { [input.actionId]: { type: "file_input", files: input.files } } };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** The Events API's app_home_opened, as JSON. */
export function appHomeOpened(user: string): string {
  return JSON.stringify({
    token: "verification-token-unused",
    team_id: "T0000000001",
    api_app_id: "A0000000001",
    event: { type: "app_home_opened", user, channel: "D0000000001", tab: "home", event_ts: `${Date.now() / 1000}` },
    type: "event_callback",
    event_id: `Ev${Math.floor(Math.random() * 1e10)}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: "T0000000001",
        user_id: "U0BREAKGLASS",
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
  });
}

export interface PostResult {
  readonly status: number;
  readonly body: string;
  readonly json: unknown;
}

/** POSTs a signed (or deliberately mis-signed) request to the app. */
export async function postToSlackEndpoint(
  url: string,
  body: string,
  headers: Record<string, string>,
  contentType = "application/x-www-form-urlencoded",
): Promise<PostResult> {
  const response = await fetch(url, { method: "POST", body, headers: { "content-type": contentType, ...headers } });
  const text = await response.text();
  let json: unknown = undefined;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, body: text, json };
}
