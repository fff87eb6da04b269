// `breakglass check --only watch` against the emulator's SQS and EventBridge: the watch queue, its dead-letter queue, and
// rules in the queue's Region and in us-east-1 whose patterns are run against the events the watch must see.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { awsClientConfig, MOTO_DEFAULT_ACCOUNT_ID, startMoto, type MotoServer } from "../support/moto.js";

const ACCOUNT = MOTO_DEFAULT_ACCOUNT_ID;
const QUEUE_REGION = "eu-west-1";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/EmergencyAccess`;
const PROVIDER = `arn:aws:iam::${ACCOUNT}:saml-provider/EmergencyIdP`;
const INSTANCE = "arn:aws:sso:::instance/ssoins-7223a2f5d3b4c6e8";
const QUEUE_REGION_BUS = `arn:aws:events:${QUEUE_REGION}:${ACCOUNT}:event-bus/default`;

/** What a security team's rule selects: console sign-in, the emergency role's use, its SAML sign-in, IdP changes. */
const alternatives = {
  signIn: { "detail-type": ["AWS Console Sign In via CloudTrail"] },
  roleCalls: { detail: { userIdentity: { sessionContext: { sessionIssuer: { arn: [ROLE] } } } } },
  samlSignIn: { detail: { eventName: ["AssumeRoleWithSAML"], requestParameters: { principalArn: [PROVIDER] } } },
  idpChanges: {
    source: ["aws.sso-directory"],
    detail: { eventName: [{ suffix: "ExternalIdPConfigurationForDirectory" }, "ImportExternalIdPCertificate"] },
  },
};
const pattern = (...chosen: (keyof typeof alternatives)[]) =>
  JSON.stringify({ $or: chosen.map((name) => alternatives[name]) });
const EVERYTHING = pattern("signIn", "roleCalls", "samlSignIn", "idpChanges");

let moto: MotoServer;
let directory: string;
let watchedQueueUrl: string;
let queueWithoutDeadLetterUrl: string;
const eventBridge = (region: string) => new EventBridgeClient(awsClientConfig(moto.endpoint, region));

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: QUEUE_REGION,
  });
  directory = mkdtempSync(join(tmpdir(), "breakglass-watch-check-"));
  const sqs = new SQSClient(awsClientConfig(moto.endpoint, QUEUE_REGION));
  const { QueueUrl: deadLetterUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "breakglass-watch-dlq" }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterUrl, AttributeNames: ["QueueArn"] }),
  );
  const watched = await sqs.send(
    new CreateQueueCommand({
      QueueName: "breakglass-watch",
      Attributes: {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.["QueueArn"], maxReceiveCount: 5 }),
      },
    }),
  );
  const bare = await sqs.send(new CreateQueueCommand({ QueueName: "breakglass-watch-bare" }));
  watchedQueueUrl = watched.QueueUrl ?? "";
  queueWithoutDeadLetterUrl = bare.QueueUrl ?? "";

  // In the queue's Region a rule targets both queues; in us-east-1 a rule forwards to the queue Region's bus.
  await eventBridge(QUEUE_REGION).send(new PutRuleCommand({ Name: "watch-emergency", EventPattern: EVERYTHING }));
  await eventBridge(QUEUE_REGION).send(
    new PutTargetsCommand({
      Rule: "watch-emergency",
      Targets: [
        { Id: "queue", Arn: `arn:aws:sqs:${QUEUE_REGION}:${ACCOUNT}:breakglass-watch` },
        { Id: "bare", Arn: `arn:aws:sqs:${QUEUE_REGION}:${ACCOUNT}:breakglass-watch-bare` },
      ],
    }),
  );
  await eventBridge("us-east-1").send(new PutRuleCommand({ Name: "forward-sign-in", EventPattern: EVERYTHING }));
  await eventBridge("us-east-1").send(
    new PutTargetsCommand({ Rule: "forward-sign-in", Targets: [{ Id: "bus", Arn: QUEUE_REGION_BUS }] }),
  );
}, 120_000);

afterAll(async () => {
  await moto?.stop();
});

interface Report {
  findings: { code: string; severity: string; message: string; entityID?: string }[];
  facts: Record<string, unknown>;
}

async function checkWatch(queueUrl = watchedQueueUrl): Promise<Report & { code: number }> {
  const configPath = join(directory, "breakglass.yaml");
  writeFileSync(
    configPath,
    [
      "idp:",
      "  name: Test IdP",
      `  metadata: ${join(directory, "idp.xml")}`,
      "aws:",
      `  region: ${QUEUE_REGION}`,
      "  emergencyAccount:",
      `    accountId: "${ACCOUNT}"`,
      "    samlProviders:",
      `      - ${PROVIDER}`,
      "    emergencyRoles:",
      `      - ${ROLE}`,
      "  identityCenter:",
      `    instanceArn: ${INSTANCE}`,
      `    region: ${QUEUE_REGION}`,
      "watch:",
      `  queueUrl: ${queueUrl}`,
      `  region: ${QUEUE_REGION}`,
      "store:",
      `  path: ${join(directory, "breakglass.db")}`,
      "",
    ].join("\n"),
  );
  let stdout = "";
  let stderr = "";
  const code = await main(["check", "--config", configPath, "--only", "watch", "--json"], {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    stdoutIsTty: false,
    env: { XDG_CACHE_HOME: join(directory, "cache") },
    clock: fixedClock(new Date("2026-12-05T06:00:00Z")),
  });
  expect(stderr).toBe("");
  return { code, ...(JSON.parse(stdout) as Report) };
}

const summary = (report: Report) =>
  report.findings.map((finding) => [finding.code, finding.entityID ?? null, finding.message]);

describe("check of the watch plumbing", () => {
  it("passes a queue with a dead-letter queue and rules in its Region and in us-east-1 that deliver every event", async () => {
    const report = await checkWatch();
    expect([report.code, report.findings]).toEqual([0, []]);
    // The facts say what was read: the queue, its dead-letter queue, and the rules in each Region.
    expect(report.facts["watchQueue"]).toMatchObject({
      queueUrl: watchedQueueUrl,
      status: "found",
      deadLetterTargetArn: `arn:aws:sqs:${QUEUE_REGION}:${ACCOUNT}:breakglass-watch-dlq`,
      regions: [
        { region: QUEUE_REGION, status: "found", rules: [{ name: "watch-emergency", state: "ENABLED" }] },
        { region: "us-east-1", status: "found", targetArn: QUEUE_REGION_BUS, rules: [{ name: "forward-sign-in" }] },
      ],
    });
  });

  it("finds console sign-in missed when the only rule is outside us-east-1", async () => {
    await eventBridge("us-east-1").send(new DisableRuleCommand({ Name: "forward-sign-in" }));
    try {
      const report = await checkWatch();
      expect(report.code).toBe(1);
      expect(summary(report)).toEqual([
        [
          "WATCH_RULE_MISSING",
          "us-east-1",
          "No enabled EventBridge rule on the default bus in us-east-1 delivers console sign-in by the root user; " +
            "console sign-in by an IAM user; a responder's SAML sign-in to the emergency role (AssumeRoleWithSAML); " +
            `API calls by the emergency role EmergencyAccess to the watch queue ${watchedQueueUrl} (through the ` +
            "default event bus of its Region, eu-west-1) (rules that target it: forward-sign-in DISABLED); console " +
            "sign-in of root and IAM users arrives in us-east-1, so a rule only in another Region misses it.",
        ],
      ]);
    } finally {
      await eventBridge("us-east-1").send(new EnableRuleCommand({ Name: "forward-sign-in" }));
    }
  });

  it("runs the rule's pattern against the events: one that leaves out Identity Center IdP changes is found", async () => {
    await eventBridge(QUEUE_REGION).send(
      new PutRuleCommand({ Name: "watch-emergency", EventPattern: pattern("signIn", "roleCalls", "samlSignIn") }),
    );
    try {
      const report = await checkWatch();
      expect(summary(report)).toEqual([
        [
          "WATCH_RULE_MISSING",
          QUEUE_REGION,
          "No enabled EventBridge rule on the default bus in eu-west-1 delivers an Identity Center IdP change " +
            `(sso-directory EnableExternalIdPConfigurationForDirectory) to the watch queue ${watchedQueueUrl} ` +
            "(rules that target it: watch-emergency ENABLED).",
        ],
      ]);
    } finally {
      await eventBridge(QUEUE_REGION).send(new PutRuleCommand({ Name: "watch-emergency", EventPattern: EVERYTHING }));
    }
  });

  it("finds a queue without a dead-letter queue", async () => {
    const report = await checkWatch(queueWithoutDeadLetterUrl);
    expect(report.code).toBe(0); // medium: worth fixing, not a failure
    expect(summary(report)).toEqual([
      [
        "WATCH_QUEUE_NO_DEAD_LETTER",
        null,
        `The watch queue ${queueWithoutDeadLetterUrl} has no redrive (dead-letter) policy: a message breakglass ` +
          "cannot parse is received again and again instead of being set aside.",
      ],
    ]);
  });

  it("says it cannot read a queue that does not exist, with SQS's error, instead of judging rules", async () => {
    const missing = watchedQueueUrl.replace(/breakglass-watch$/, "breakglass-watch-typo");
    const report = await checkWatch(missing);
    expect(report.code).toBe(1);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]?.code).toBe("WATCH_QUEUE_UNREADABLE");
    expect(report.findings[0]?.message).toMatch(
      new RegExp(
        `^Cannot read the watch queue ${missing} \\(sqs GetQueueAttributes: (AWS\\.SimpleQueueService\\.NonExistentQueue|QueueDoesNotExist): .+\\): ` +
          "breakglass watch cannot receive the emergency account's events from it\\.$",
      ),
    );
  });
});
