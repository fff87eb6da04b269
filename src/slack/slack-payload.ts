// The shape of what arrives at /slack/events, checked before Bolt sees it: a signed request that is not one of the
// shapes Slack documents is answered 400 at once (Bolt would wait 3 s for an ack that never comes, or fail inside a
// handler), and a response_url may only point at Slack (or at the Web API's own host: a proxy, a test stub).
// Shapes: https://docs.slack.dev/interactivity/implementing-slash-commands, …/handling-user-interaction, Events API.

export const SLACK_RESPONSE_HOSTS: readonly string[] = ["hooks.slack.com", "hooks.slack-gov.com"];

type Json = Record<string, unknown>;

/** The problem with a request body, in a few words; null when it has a shape breakglass handles (or passes on). */
export function slackPayloadProblem(
  contentType: string | undefined,
  body: Buffer,
  responseHosts: ReadonlySet<string>,
): string | null {
  const text = body.toString("utf8");
  if (contentType?.split(";")[0]?.trim() === "application/json") {
    const parsed = parseObject(text);
    if (parsed === null) return "the body is not a JSON object";
    if (typeof parsed["type"] !== "string") return "no type";
    if (parsed["type"] === "url_verification")
      return typeof parsed["challenge"] === "string" ? null : "url_verification without a challenge";
    if (parsed["type"] === "event_callback") {
      const event = parsed["event"];
      return isObject(event) && typeof event["type"] === "string" ? null : "event_callback without an event type";
    }
    return null;
  }
  const form = new URLSearchParams(text);
  if (form.get("ssl_check") === "1") return null;
  const payload = form.get("payload");
  if (payload !== null) return interactionProblem(payload, responseHosts);
  if (form.has("command")) return commandProblem(form, responseHosts);
  return "neither a slash command nor an interaction payload";
}

function commandProblem(form: URLSearchParams, responseHosts: ReadonlySet<string>): string | null {
  if (!/^\/\S+$/.test(form.get("command") ?? "")) return "a slash command without its /command";
  for (const field of ["user_id", "channel_id", "response_url"]) {
    if ((form.get(field) ?? "") === "") return `a slash command without ${field}`;
  }
  return responseUrlProblem(form.get("response_url") ?? "", responseHosts);
}

function interactionProblem(payload: string, responseHosts: ReadonlySet<string>): string | null {
  const parsed = parseObject(payload);
  if (parsed === null) return "payload is not a JSON object";
  const type = parsed["type"];
  if (typeof type !== "string") return "payload without a type";
  const user = parsed["user"];
  const userId = isObject(user) ? user["id"] : undefined;
  if (type === "block_actions") {
    if (typeof userId !== "string") return "block_actions without user.id";
    const actions = parsed["actions"];
    if (
      !Array.isArray(actions) ||
      actions.length === 0 ||
      !actions.every((action) => isObject(action) && typeof action["action_id"] === "string")
    ) {
      return "block_actions without actions";
    }
    const responseUrl = parsed["response_url"];
    return typeof responseUrl === "string" ? responseUrlProblem(responseUrl, responseHosts) : null;
  }
  if (type === "view_submission" || type === "view_closed") {
    if (typeof userId !== "string") return `${type} without user.id`;
    const view = parsed["view"];
    if (!isObject(view) || typeof view["callback_id"] !== "string") return `${type} without view.callback_id`;
    const state = view["state"];
    if (type === "view_submission" && !(isObject(state) && isObject(state["values"])))
      return "view_submission without view.state.values";
  }
  return null;
}

function responseUrlProblem(value: string, responseHosts: ReadonlySet<string>): string | null {
  if (!URL.canParse(value)) return "response_url is not a URL";
  const url = new URL(value);
  if (responseHosts.has(url.host)) return null;
  if (url.protocol === "https:" && SLACK_RESPONSE_HOSTS.includes(url.hostname)) return null;
  return `response_url points at ${url.host}, not at Slack`;
}

function parseObject(text: string): Json | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
