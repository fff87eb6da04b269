// serve watching the emergency account through the emulator's SQS queue: a misuse alert in the security channel within
// one poll (who, what, from where, when, the event id), one per actor per burst, a failed post retried from the store
// on the next poll, and the "Attach to incident" button pressed through the real Bolt receiver by signed requests.
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCertificate, DAY } from "../support/certificates.js";
import {
  EMERGENCY_ACCOUNT,
  EMERGENCY_USER,
  eventBridgeEnvelope,
  rootConsoleLogin,
  userCall,
} from "../support/cloudtrail-events.js";
import { eventually } from "../support/eventually.js";
import { awsClientConfig, startMoto, type MotoServer } from "../support/moto.js";
import {
  ALICE,
  CHANNELS,
  MALLORY,
  configText,
  publishIdpMetadata,
  startHarness,
  type ServeHarness,
} from "../support/serve-harness.js";
import { visibleText as blockText } from "../support/block-text.js";

const RUNBOOKS = new URL("./runbooks/", import.meta.url).pathname;
const USER_ARN = `arn:aws:iam::${EMERGENCY_ACCOUNT}:user/${EMERGENCY_USER}`;

let moto: MotoServer;
let sqs: SQSClient;
let queueUrl: string;
let harness: ServeHarness;

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
  });
  sqs = new SQSClient(awsClientConfig(moto.endpoint));
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "breakglass-serve-watch" }))).QueueUrl as string;
  const watch = [
    "aws:",
    "  emergencyAccount:",
    `    accountId: "${EMERGENCY_ACCOUNT}"`,
    `    emergencyUsers: [${EMERGENCY_USER}]`,
    "watch:",
    `  queueUrl: ${queueUrl}`,
    "  region: us-east-1",
    "",
  ].join("\n");
  harness = await startHarness({
    configYaml: configText("{dir}", watch),
    runbookDirectory: RUNBOOKS,
    watchSeams: { waitSeconds: 1 },
  });
  publishIdpMetadata(harness.directory, makeCertificate({ notAfter: new Date(Date.now() + 365 * DAY) }));
}, 60_000);

afterAll(async () => {
  await harness?.stop();
  await moto?.stop();
});

const securityPosts = () =>
  harness.stub
    .callsTo("chat.postMessage")
    .filter(
      (call) =>
        call.args["channel"] === CHANNELS.security && String(call.args["text"]).startsWith("Emergency access used"),
    );

describe("misuse alerts from serve", () => {
  const first = userCall(new Date(Date.now() - 60_000), EMERGENCY_USER, "CreateAccessKey", "198.51.100.23");

  it("posts a misuse alert whose first post failed on the next poll, saying who, what, from where, when and the event id", async () => {
    harness.stub.failNext("chat.postMessage", { ok: false, error: "fatal_error" });
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: eventBridgeEnvelope(first) }));
    // The stub records the refused call too: the alert was tried, refused, and posted again on a later poll.
    const [refused, posted] = await eventually(securityPosts, (posts) => posts.length === 2);
    expect(posted!.args["text"]).toBe(refused!.args["text"]);
    const text = blockText(posted!.args["blocks"]);
    expect(text).toContain(USER_ARN);
    expect(text).toContain("iam:CreateAccessKey");
    expect(text).toContain("198.51.100.23");
    expect(text).toContain(new Date(first.eventTime).toISOString());
    expect(text).toContain(first.eventID);
    expect(JSON.stringify(posted!.args["blocks"])).toContain('"action_id":"watch.attach"');
    expect(
      harness.logs.some((line) => line.includes(`misuse alert for ${USER_ARN}`) && line.includes("retried next poll")),
    ).toBe(true);
  });

  it("posts one alert per actor per burst: the same user's next call joins it, another actor gets their own", async () => {
    const again = userCall(new Date(Date.now() - 30_000), EMERGENCY_USER, "AttachUserPolicy");
    const root = rootConsoleLogin(new Date(Date.now() - 20_000));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: eventBridgeEnvelope(again) }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: eventBridgeEnvelope(root) }));
    const posts = await eventually(securityPosts, (all) =>
      all.some((post) => String(post.args["text"]).includes(root.eventID)),
    );
    const store = harness.service.services.store;
    // Both events were judged (the root alert came after both were sent), and the user's second call joined the first alert.
    expect(store.watchedEvents.findEvent(again.eventID)).toMatchObject({ verdict: "misuse" });
    // The user's refused post and its retry, then root's: no alert of its own for the user's second call.
    expect(posts.map((post) => String(post.args["text"]).includes(USER_ARN))).toEqual([true, true, false]);
    expect(posts.some((post) => String(post.args["text"]).includes(again.eventID))).toBe(false);
    expect(store.watchedEvents.unpostedAlerts()).toEqual([]);
  });

  it("attaches the event to the open incident when a person with run access presses the button; refuses anyone else", async () => {
    const store = harness.service.services.store;
    store.windows.openWindow({
      incident: "INC-7",
      openedAt: new Date(),
      openedBy: "slack:U0ALICE0001",
      reason: "IdP down",
      runId: null,
    });
    const message = { channel: CHANNELS.security, ts: "1733367600.000100" };

    await harness.press("watch.attach", first.eventID, MALLORY, message);
    const refused = await eventually(
      () => harness.stub.callsTo("chat.postEphemeral").filter((call) => call.args["user"] === MALLORY),
      (calls) => calls.length === 1,
    );
    expect(String(refused[0]!.args["text"])).toMatch(/attach events to incidents/);
    expect(store.watchedEvents.findEvent(first.eventID)?.incident).toBeNull();

    await harness.press("watch.attach", first.eventID, ALICE, message);
    const told = await eventually(
      () => harness.stub.callsTo("chat.postEphemeral").filter((call) => call.args["user"] === ALICE),
      (calls) => calls.length === 1,
    );
    expect(String(told[0]!.args["text"])).toBe(
      `Attached event ${first.eventID} to INC-7: it is on the incident's timeline now, not misuse.`,
    );
    const timeline = harness.service.services.activity.timeline("INC-7");
    expect(timeline.events.map((event) => [event.eventId, event.attachedBy])).toEqual([
      [first.eventID, `slack:${ALICE}`],
    ]);
    expect(store.audit.auditRecords().filter((record) => record.action === "watch.attach")).toEqual([
      expect.objectContaining({ actor: `slack:${ALICE}`, subject: `event ${first.eventID}`, runId: "INC-7" }),
    ]);

    await harness.press("watch.attach", first.eventID, ALICE, message);
    const second = await eventually(
      () => harness.stub.callsTo("chat.postEphemeral").filter((call) => call.args["user"] === ALICE),
      (calls) => calls.length === 2,
    );
    expect(blockText(second[1]!.args["blocks"])).toContain("already on the timeline of INC-7");
  });
});
