// Signed requests whose shape Slack never sends are refused at once, naming what is wrong; response_url must be Slack's.
import { describe, expect, it } from "vitest";
import { slackPayloadProblem } from "../../src/slack/slack-payload.js";
import { appHomeOpened, buttonPress, slashCommand, viewSubmission } from "../support/slack-requests.js";

const STUB = new Set(["127.0.0.1:4000"]);
const FORM = "application/x-www-form-urlencoded";
const problem = (body: string, contentType = FORM) => slackPayloadProblem(contentType, Buffer.from(body), STUB);
const interaction = (payload: unknown) => `payload=${encodeURIComponent(JSON.stringify(payload))}`;
const message = { user: "U0ALICE0001", channel: "C0INCIDNT01", messageTs: "1.2" };

describe("slackPayloadProblem", () => {
  it("accepts what Slack sends: commands, button presses, modal submissions, events, its checks", () => {
    expect(problem(slashCommand("help", { responseUrl: "https://hooks.slack.com/commands/T1/2/abc" }))).toBeNull();
    expect(problem(slashCommand("help", { responseUrl: "http://127.0.0.1:4000/response/1" }))).toBeNull();
    expect(
      problem(
        buttonPress("run.approve", "run-1", {
          ...message,
          responseUrl: "https://hooks.slack-gov.com/actions/T1/2/abc",
        }),
      ),
    ).toBeNull();
    expect(
      problem(viewSubmission("run.reject.reason", "run-1", "U0BOB000001", { reason: { reason: "no" } })),
    ).toBeNull();
    expect(problem(appHomeOpened("U0BOB000001"), "application/json")).toBeNull();
    expect(
      problem(
        '{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}',
        "application/json",
      ),
    ).toBeNull();
    expect(problem("ssl_check=1&token=x")).toBeNull();
  });

  it.each([
    ["a payload that is not JSON", "payload=%7Bnot-json", "payload is not a JSON object"],
    ["a payload that is a list", interaction([1, 2]), "payload is not a JSON object"],
    [
      "a button press without its user",
      interaction({ type: "block_actions", actions: [{ action_id: "run.approve" }] }),
      "block_actions without user.id",
    ],
    [
      "a button press without actions",
      interaction({ type: "block_actions", user: { id: "U1" }, actions: [] }),
      "block_actions without actions",
    ],
    [
      "a modal submission without its state",
      interaction({ type: "view_submission", user: { id: "U1" }, view: { callback_id: "run.confirm.record" } }),
      "view_submission without view.state.values",
    ],
    [
      "a command without its user",
      "command=%2Fbreakglass&text=help&channel_id=C1&response_url=https%3A%2F%2Fhooks.slack.com%2Fx",
      "a slash command without user_id",
    ],
    [
      "a command whose response_url points elsewhere",
      slashCommand("help", { responseUrl: "https://attacker.example/collect" }),
      "response_url points at attacker.example, not at Slack",
    ],
    [
      "a response_url on Slack's host over http",
      slashCommand("help", { responseUrl: "http://hooks.slack.com/commands/x" }),
      "response_url points at hooks.slack.com, not at Slack",
    ],
    ["a form that is neither", "text=help", "neither a slash command nor an interaction payload"],
  ])("refuses %s", (_name, body, expected) => {
    expect(problem(body)).toBe(expected);
  });

  it.each([
    ["not JSON", "not json", "the body is not a JSON object"],
    ["an event callback without its event", '{"type":"event_callback"}', "event_callback without an event type"],
    ["a verification without its challenge", '{"type":"url_verification"}', "url_verification without a challenge"],
  ])("refuses a JSON body that is %s", (_name, body, expected) => {
    expect(problem(body, "application/json")).toBe(expected);
  });
});
