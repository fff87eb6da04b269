// The watcher wired to Identity Center: an sso-directory event that changes Identity Center's external IdP, delivered
// through the SQS queue (twice, as SQS may), ends the last attestation once, audited once, and says so on stderr.
// Real parts: the CLI's `watch --once`, the emulator's SQS queue, the SQLite store file.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/adapters/store/open-store.js";
import { EMERGENCY_ACCOUNT, EMERGENCY_USER, eventBridgeEnvelope } from "../support/cloudtrail-events.js";
import { awsClientConfig, startMoto, type MotoServer } from "../support/moto.js";
import { breakglassCli, type Breakglass } from "../support/runbook-cli.js";

const INSTANCE = "arn:aws:sso:::instance/ssoins-7223a2f5d3b4c6e8";
const ADMIN_ACCOUNT = "999999999999";
const NOW = new Date("2026-12-05T03:00:00Z");
const CHANGED_AT = new Date("2026-12-05T02:30:00Z");
const MALLORY = `arn:aws:sts::${ADMIN_ACCOUNT}:assumed-role/AWSReservedSSO_AdministratorAccess_0123abcd/mallory@example.com`;

/** The record CloudTrail writes when the console's "Change identity source" is saved, as EventBridge forwards it. */
const IDP_CHANGE = {
  eventVersion: "1.08",
  eventID: "4c1b7a3e-6f2d-4e0a-9b8c-1d2e3f405162",
  eventTime: CHANGED_AT.toISOString().replace(/\.000Z$/, "Z"),
  eventSource: "sso-directory.amazonaws.com",
  eventName: "EnableExternalIdPConfigurationForDirectory",
  awsRegion: "eu-west-1",
  sourceIPAddress: "203.0.113.7",
  userIdentity: { type: "AssumedRole", arn: MALLORY, principalId: "AROAEXAMPLEADMIN0001:mallory@example.com" },
  requestParameters: null,
  responseElements: null,
  recipientAccountId: ADMIN_ACCOUNT,
  eventType: "AwsApiCall",
};

let moto: MotoServer;
let directory: string;
let breakglass: Breakglass;

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
  });
  const sqs = new SQSClient(awsClientConfig(moto.endpoint));
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "breakglass-watch" }))).QueueUrl as string;
  const envelope = eventBridgeEnvelope(IDP_CHANGE);
  await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: [
        { Id: "first", MessageBody: envelope },
        { Id: "again", MessageBody: envelope },
      ],
    }),
  );
  directory = mkdtempSync(join(tmpdir(), "breakglass-watch-ic-"));
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
      "  identityCenter:",
      `    instanceArn: ${INSTANCE}`,
      "    region: eu-west-1",
      `    accountId: "${ADMIN_ACCOUNT}"`,
      "store:",
      `  path: ${join(directory, "breakglass.db")}`,
      "watch:",
      `  queueUrl: ${queueUrl}`,
      "  region: us-east-1",
      "people:",
      `  - name: ${userInfo().username}`,
      "identity:",
      "  mode: lab",
      "",
    ].join("\n"),
  );
  breakglass = breakglassCli(() => ({ BREAKGLASS_CONFIG: join(directory, "breakglass.yaml") }), NOW);
  const store = openStore({ path: join(directory, "breakglass.db") });
  store.attestations.recordAttestation({
    instanceArn: INSTANCE,
    fingerprints: ["a".repeat(64)],
    attestedAt: new Date("2026-12-01T09:00:00Z"),
    attestedBy: "alice",
    source: "breakglass identity-center attest",
  });
  store.close();
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

describe("breakglass watch with aws.identityCenter", () => {
  it("ends the attestation once when an sso-directory change arrives, however often it is delivered", async () => {
    const { code, stdout, stderr } = await breakglass("watch", "--once", "--json");
    expect(code, stderr).toBe(0);
    // Not an emergency principal: ignored as misuse, but acted on as an Identity Center change.
    expect(
      stdout
        .trim()
        .split("\n")
        .map((line) => (JSON.parse(line) as { verdict: string }).verdict),
    ).toEqual(["ignored"]);
    expect(stderr).toContain(
      `Identity Center's IdP configuration changed (EnableExternalIdPConfigurationForDirectory by ${MALLORY}): ` +
        "its attestation no longer holds",
    );

    const store = openStore({ path: join(directory, "breakglass.db") });
    try {
      expect(store.attestations.latestAttestation(INSTANCE)?.lastIdpChange).toEqual({
        instanceArn: INSTANCE,
        eventId: IDP_CHANGE.eventID,
        eventName: "EnableExternalIdPConfigurationForDirectory",
        changedAt: CHANGED_AT,
        changedBy: MALLORY,
        sourceIp: "203.0.113.7",
      });
      expect(
        store.audit.auditRecords().filter((record) => record.action === "identity-center.idp-changed"),
      ).toHaveLength(1);
    } finally {
      store.close();
    }
  });
});
