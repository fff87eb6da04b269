// SlackAnnouncer over Slack's real Web API client and the loopback Web API stand-in: what reaches Slack, in what order.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webApi } from "@slack/bolt";
import { SlackAnnouncer } from "../../src/slack/slack-announcer.js";
import type { SlackMessage } from "../../src/slack/slack-message.js";
import { startSlackApiStub, STUB_BOT_TOKEN, type SlackApiStub } from "../support/slack-api-stub.js";

let stub: SlackApiStub;
let announcer: SlackAnnouncer;

beforeAll(async () => {
  stub = await startSlackApiStub();
  const client = new webApi.WebClient(STUB_BOT_TOKEN, { slackApiUrl: stub.apiUrl, retryConfig: { retries: 0 } });
  announcer = new SlackAnnouncer(
    client,
    { incidents: "C0INCIDNT01" },
    { info: () => undefined, warn: () => undefined },
  );
});

afterAll(async () => {
  await stub?.close();
});

function content(text: string): SlackMessage {
  return { text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] };
}

function updatesOf(ts: string): string[] {
  return stub
    .callsTo("chat.update")
    .filter((call) => call.args["ts"] === ts)
    .map((call) => String(call.args["text"]));
}

describe("updates of one message", () => {
  it("reach Slack in order when the first is slow, the newest last, and a view overtaken while waiting is never sent", async () => {
    const message = await announcer.post("C0INCIDNT01", content("run started"));
    const held = stub.holdNext("chat.update");
    const first = announcer.update(message, content("waiting at step 2 [Abort]"));
    await held.reached;
    // Slack has not answered the first update yet: two newer views of the run are rendered meanwhile.
    const second = announcer.update(message, content("running step 3 [Abort]"));
    const third = announcer.update(message, content("succeeded"));
    held.release();
    await Promise.all([first, second, third]);
    expect(updatesOf(message.ts)).toEqual(["waiting at step 2 [Abort]", "succeeded"]);
  });

  it("still sends the newest view when the one before it was refused, and tells the caller whose update failed", async () => {
    const message = await announcer.post("C0INCIDNT01", content("run started"));
    stub.failNext("chat.update", { ok: false, error: "ratelimited" });
    const held = stub.holdNext("chat.update");
    const refused = announcer.update(message, content("step 1"));
    await held.reached;
    const newest = announcer.update(message, content("step 2"));
    held.release();
    await expect(refused).rejects.toThrow(/chat\.update of C0INCIDNT01\/.*ratelimited/);
    await newest;
    expect(updatesOf(message.ts)).toEqual(["step 1", "step 2"]);
  });

  it("does not hold back updates of another message", async () => {
    const slow = await announcer.post("C0INCIDNT01", content("slow run"));
    const other = await announcer.post("C0INCIDNT01", content("other run"));
    const held = stub.holdNext("chat.update");
    const pending = announcer.update(slow, content("slow run, step 2"));
    await held.reached;
    await announcer.update(other, content("other run, step 2"));
    expect(updatesOf(other.ts)).toEqual(["other run, step 2"]);
    held.release();
    await pending;
  });
});
