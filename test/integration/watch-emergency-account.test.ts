// breakglass watch against the emulator's SQS queue, as EventBridge fills it: the emergency principals' events judged
// incident inside a declared window and misuse outside every one, others ignored; a message delivered twice judged once;
// a malformed one kept and left for the dead-letter queue without stopping the others; then a misuse event attached to
// an open incident from the CLI, and the incident timeline that shows it.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/adapters/store/open-store.js";
import { breakglassCli, type Breakglass } from "../support/runbook-cli.js";
import {
  EMERGENCY_ACCOUNT,
  EMERGENCY_ROLE,
  EMERGENCY_USER,
  SAML_PROVIDER,
  eventBridgeEnvelope,
  rootConsoleLogin,
  samlSignIn,
  sessionCall,
  userCall,
} from "../support/cloudtrail-events.js";
import { awsClientConfig, startMoto, type MotoServer } from "../support/moto.js";

const NOW = new Date("2026-12-05T03:00:00Z");
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);
const OPERATOR = userInfo().username;

let moto: MotoServer;
let sqs: SQSClient;
let directory: string;
let breakglass: Breakglass;
let queueUrl: string;
let deadLetterUrl: string;

const jsonLines = (text: string) =>
  text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
  });
  sqs = new SQSClient(awsClientConfig(moto.endpoint));
  deadLetterUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "breakglass-watch-dlq" }))).QueueUrl as string;
  const deadLetterArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterUrl, AttributeNames: ["QueueArn"] }))
  ).Attributes?.["QueueArn"] as string;
  queueUrl = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: "breakglass-watch",
        // A message not deleted is visible again at once, and moves to the dead-letter queue on its second receive.
        Attributes: {
          VisibilityTimeout: "0",
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: 1 }),
        },
      }),
    )
  ).QueueUrl as string;
  directory = mkdtempSync(join(tmpdir(), "breakglass-watch-"));
  writeFileSync(join(directory, "idp-metadata.xml"), "<EntityDescriptor/>");
  writeFileSync(
    join(directory, "breakglass.yaml"),
    [
      "idp:",
      "  name: Okta",
      `  metadata: ${join(directory, "idp-metadata.xml")}`,
      "aws:",
      "  region: eu-west-1",
      "  emergencyAccount:",
      `    accountId: "${EMERGENCY_ACCOUNT}"`,
      `    emergencyUsers: [${EMERGENCY_USER}]`,
      `    emergencyRoles: [${EMERGENCY_ROLE}]`,
      `    samlProviders: [${SAML_PROVIDER}]`,
      "store:",
      `  path: ${join(directory, "breakglass.db")}`,
      "watch:",
      `  queueUrl: ${queueUrl}`,
      "  region: us-east-1",
      "people:",
      `  - name: ${OPERATOR}`,
      "access:",
      `  run: [${OPERATOR}]`,
      "identity:",
      "  mode: lab",
      "",
    ].join("\n"),
  );
  breakglass = breakglassCli(() => ({ BREAKGLASS_CONFIG: join(directory, "breakglass.yaml") }), NOW);
  // INC-1 was declared two hours ago and closed an hour later.
  const store = openStore({ path: join(directory, "breakglass.db") });
  store.windows.openWindow({
    incident: "INC-1",
    openedAt: minutesAgo(120),
    openedBy: "alice",
    reason: "IdP down",
    runId: null,
  });
  store.windows.closeWindow("INC-1", minutesAgo(60), "alice");
  store.close();
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

async function send(bodies: readonly string[]): Promise<void> {
  for (let start = 0; start < bodies.length; start += 10)
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.slice(start, start + 10).map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
}

describe("breakglass watch --once", () => {
  const rootInWindow = rootConsoleLogin(minutesAgo(90));
  const keyOutside = userCall(minutesAgo(30), EMERGENCY_USER);
  const someoneElse = userCall(minutesAgo(29), "ci-deployer", "ListUsers");
  const samlOutside = samlSignIn(minutesAgo(20), SAML_PROVIDER, `arn:aws:iam::${EMERGENCY_ACCOUNT}:role/ReadOnly`);
  // The session created above, acting in another account: still the emergency principal.
  const crossAccount = sessionCall(minutesAgo(19), "arn:aws:iam::210987654321:role/ReadOnly", "dana@example.com");
  (crossAccount["userIdentity"] as { arn: string }).arn =
    `arn:aws:sts::${EMERGENCY_ACCOUNT}:assumed-role/ReadOnly/dana@example.com`;

  it("judges each event once, prints JSON Lines, keeps a malformed message for the dead-letter queue and exits 0", async () => {
    await send([
      eventBridgeEnvelope(rootInWindow),
      eventBridgeEnvelope(keyOutside),
      "{ this is not an EventBridge event",
      eventBridgeEnvelope(someoneElse),
      eventBridgeEnvelope(keyOutside),
      eventBridgeEnvelope(samlOutside),
      eventBridgeEnvelope(crossAccount),
    ]);
    const watched = await breakglass("watch", "--once", "--json");
    expect(watched.code, watched.stderr).toBe(0);
    const lines = jsonLines(watched.stdout);
    const byId = new Map(lines.map((line) => [line["eventId"], line]));
    expect(lines).toHaveLength(5);
    expect(byId.get(rootInWindow.eventID)).toMatchObject({
      verdict: "incident",
      actor: `root (account ${EMERGENCY_ACCOUNT})`,
      action: "signin:ConsoleLogin",
      sourceIp: "203.0.113.9",
      time: minutesAgo(90).toISOString(),
      incident: "INC-1",
    });
    expect(byId.get(keyOutside.eventID)).toMatchObject({
      verdict: "misuse",
      actor: `arn:aws:iam::${EMERGENCY_ACCOUNT}:user/${EMERGENCY_USER}`,
      action: "iam:CreateAccessKey",
      sourceIp: "198.51.100.23",
      incident: null,
    });
    expect(byId.get(someoneElse.eventID)).toMatchObject({ verdict: "ignored" });
    expect(byId.get(samlOutside.eventID)).toMatchObject({
      verdict: "misuse",
      actor: `dana@example.com (SAML via ${SAML_PROVIDER})`,
      action: "sts:AssumeRoleWithSAML",
    });
    expect(byId.get(crossAccount.eventID)).toMatchObject({
      verdict: "misuse",
      actor: `arn:aws:sts::${EMERGENCY_ACCOUNT}:assumed-role/ReadOnly/dana@example.com`,
    });
    expect(watched.stderr).toMatch(
      /is not a CloudTrail event \(not JSON: .*\): kept in the store and left on the queue/,
    );

    // Nothing is lost: the malformed message is in the store and in the dead-letter queue; the queue is empty.
    const store = openStore({ path: join(directory, "breakglass.db") });
    try {
      expect(store.watchedEvents.unreadableMessages().map((message) => message.body)).toEqual([
        "{ this is not an EventBridge event",
      ]);
      expect(store.watchedEvents.unpostedAlerts().map((alert) => alert.eventId)).toEqual([
        keyOutside.eventID,
        samlOutside.eventID,
        crossAccount.eventID,
      ]);
    } finally {
      store.close();
    }
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: deadLetterUrl, MaxNumberOfMessages: 10 }));
    expect(dead.Messages?.map((message) => message.Body)).toEqual(["{ this is not an EventBridge event"]);
    const left = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    expect(left.Messages ?? []).toEqual([]);
  });

  it("judges an event delivered again later once: nothing new is printed", async () => {
    await send([eventBridgeEnvelope(keyOutside)]);
    const again = await breakglass("watch", "--once", "--json");
    expect(again).toMatchObject({ code: 0, stdout: "" });
    const text = await breakglass("watch", "--once");
    expect(text.stderr).toContain("0 new event(s)");
  });

  it("attaches a misuse event to an open incident from the CLI (audited), and the timeline shows it", async () => {
    const store = openStore({ path: join(directory, "breakglass.db") });
    store.windows.openWindow({
      incident: "INC-2",
      openedAt: minutesAgo(10),
      openedBy: "bob",
      reason: "follow-up",
      runId: null,
    });
    store.close();
    const refused = await breakglass("watch", "attach", "no-such-event", "--as", OPERATOR);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("event no-such-event: breakglass has not recorded this CloudTrail event");

    const attached = await breakglass("watch", "attach", keyOutside.eventID, "--as", OPERATOR);
    expect(attached.code, attached.stderr).toBe(0);
    expect(attached.stdout).toContain(`Attached event ${keyOutside.eventID}`);
    expect(attached.stdout).toContain("to INC-2");
    const twice = await breakglass("watch", "attach", keyOutside.eventID, "--as", OPERATOR);
    expect(twice.stderr).toContain("already on the timeline of INC-2");

    const timeline = await breakglass("incident", "timeline", "INC-2", "--json");
    expect(timeline.code, timeline.stderr).toBe(0);
    const entries = (JSON.parse(timeline.stdout) as { entries: Record<string, unknown>[] }).entries;
    expect(entries.filter((entry) => entry["kind"] === "cloudtrail")).toEqual([
      expect.objectContaining({ eventId: keyOutside.eventID, verdict: "misuse", attachedBy: `person:${OPERATOR}` }),
    ]);
    expect(entries).toContainEqual(expect.objectContaining({ kind: "audit", action: "watch.attach" }));

    const first = await breakglass("incident", "timeline", "INC-1");
    expect(first.stdout).toContain("1 CloudTrail event(s) of the emergency principals.");
    expect(first.stdout).toContain(
      `cloudtrail  root (account ${EMERGENCY_ACCOUNT})  signin:ConsoleLogin  from 203.0.113.9 in us-east-1  event ${rootInWindow.eventID}`,
    );
    const unknown = await breakglass("incident", "timeline", "INC-404");
    expect(unknown.stderr).toContain("INC-404: no such incident");
  });
});
