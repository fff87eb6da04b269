// Socket Mode, for organisations without inbound HTTP: serve opens the WebSocket with the app token
// (apps.connections.open), takes slash commands over it and acknowledges each envelope; /slack/events is closed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY, makeCertificate } from "../support/certificates.js";
import {
  ALICE,
  CHANNELS,
  configText,
  startHarness,
  publishIdpMetadata,
  type ServeHarness,
} from "../support/serve-harness.js";
import { startSlackApiStub, STUB_APP_TOKEN, type SlackApiStub } from "../support/slack-api-stub.js";
import { startSlackSocketServer, type SlackSocketServer } from "../support/slack-socket-server.js";
import { sign, slashCommand } from "../support/slack-requests.js";

const RUNBOOKS = new URL("./runbooks/", import.meta.url).pathname;

let stub: SlackApiStub;
let socket: SlackSocketServer;
let harness: ServeHarness;

beforeAll(async () => {
  stub = await startSlackApiStub();
  socket = await startSlackSocketServer();
  stub.setSocketUrl(socket.url);
  harness = await startHarness({
    configYaml: configText("{dir}").replace("slack:\n", "slack:\n  socketMode: true\n"),
    runbookDirectory: RUNBOOKS,
    stub,
    env: { SLACK_APP_TOKEN: STUB_APP_TOKEN, SLACK_SIGNING_SECRET: "" },
  });
  const certificate = makeCertificate({
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 400 * DAY),
  });
  publishIdpMetadata(harness.directory, certificate);
});

afterAll(async () => {
  await harness?.stop();
  await socket?.close();
  await stub?.close();
});

describe("breakglass serve in Socket Mode", () => {
  it("connects with the app token and answers slash commands over the socket", async () => {
    await harness.service.slackConnected;
    const open = stub.callsTo("apps.connections.open");
    expect(open).toHaveLength(1);
    expect(open[0]?.token).toBe(STUB_APP_TOKEN);

    const form = Object.fromEntries(
      new URLSearchParams(
        slashCommand("help", {
          user: ALICE,
          channel: CHANNELS.incidents,
          responseUrl: stub.responseUrl("socket-help"),
        }),
      ),
    );
    const ack = await socket.send("slash_commands", form);
    expect(ack.payload).toMatchObject({ response_type: "ephemeral" });
    expect(JSON.stringify(ack.payload)).toContain("runbook start");

    const unknown = await socket.send("slash_commands", { ...form, text: "launch" });
    expect(JSON.stringify(unknown.payload)).toContain('unknown command \\"launch\\"');
  });

  it("keeps checking when Socket Mode cannot connect, and says why", async () => {
    const refused = await startHarness({
      configYaml: configText("{dir}").replace("slack:\n", "slack:\n  socketMode: true\n"),
      runbookDirectory: RUNBOOKS,
      stub,
      env: { SLACK_APP_TOKEN: "xapp-revoked-token", SLACK_SIGNING_SECRET: "" },
    });
    try {
      await refused.service.slackConnected;
      expect(refused.logs.join("\n")).toContain("Slack Socket Mode could not connect (invalid_auth): checks go on");
      expect((await refused.get("/healthz")).status).toBe(200);
      publishIdpMetadata(refused.directory, makeCertificate({ notAfter: new Date(Date.now() + 400 * DAY) }));
      expect(await refused.service.scheduler.runOnce()).not.toBeNull();
    } finally {
      await refused.stop();
    }
  });

  it("takes no Slack requests over HTTP", async () => {
    const body = slashCommand("help", { responseUrl: stub.responseUrl("http") });
    const response = await harness.raw(body, sign(body));
    expect(response.status).toBe(404);
  });
});
