// The drill's world on loopback: the AWS emulator with a small organisation, an IdP that signs real SAML responses, its
// SCIM directory, a stand-in for Identity Center's API and for Slack, and the real `serve` service over a temporary
// config and store. Everything here is started at run time, with keys made at run time, and stopped by close().
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { loadConfig } from "../config/load-config.js";
import type { Clock } from "../domain/shared/clock.js";
import { BreakglassError } from "../domain/errors.js";
import { startService, type RunningService } from "../server/service.js";
import {
  buildOrganization,
  CROSS_ACCOUNT_ROLE,
  READ_ROLE,
  REGION,
  shippedPolicy,
  type TestOrganization,
} from "./loopback/aws-organization.js";
import { startScimServer, type ScimTestServer } from "./loopback/idp-scim-server.js";
import {
  findMotoServer,
  MOTO_DEFAULT_ACCOUNT_ID,
  MOTO_INSTALL_HINT,
  awsClientConfig,
  startMoto,
  type MotoServer,
} from "./loopback/moto.js";
import { startSsoAdmin, type SsoAdminServer } from "./loopback/runbook-sso-admin.js";
import { startSamlIdp, type SamlIdp } from "./loopback/saml-idp.js";
import { startSlackApiStub, STUB_BOT_TOKEN, type SlackApiStub } from "./loopback/slack-api-stub.js";
import { TEST_SIGNING_SECRET } from "./loopback/slack-requests.js";

/** The drill's people: two identity admins in Slack, and a responder known to the IdP. */
export const DRILL_PEOPLE = {
  alice: { slack: "U0DRILLALIC", login: "alice@drill.example" },
  bob: { slack: "U0DRILLBOB1", login: "bob@drill.example" },
  dana: { login: "dana@drill.example", idpId: randomUUID() },
} as const;
export const DRILL_CHANNELS = { alerts: "C0DRILLALRT", incidents: "C0DRILLINCD", security: "C0DRILLSECU" } as const;
export const EMERGENCY_GROUP = "aws-emergency-operators";
const SCIM_TOKEN_VARIABLE = "BREAKGLASS_DRILL_SCIM_TOKEN";

/** A clock that follows the system clock, which the drill may move forward (a lease's hour) instead of waiting. */
export class DrillClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(milliseconds: number): void {
    this.offsetMs += milliseconds;
  }
}

export interface DrillWorld {
  readonly directory: string;
  readonly configPath: string;
  readonly clock: DrillClock;
  readonly moto: MotoServer;
  readonly organization: TestOrganization;
  readonly idp: SamlIdp;
  readonly scim: ScimTestServer;
  readonly emergencyGroupId: string;
  readonly identityCenter: SsoAdminServer;
  readonly slack: SlackApiStub;
  readonly service: RunningService;
  /** The emulator's SQS queue serve's watcher reads (watch.queueUrl): the drill delivers CloudTrail's records there. */
  readonly watchQueueUrl: string;
  /** serve's log lines, for the drill's report when something fails. */
  readonly logs: string[];
  close(): Promise<void>;
}

/** Refuses at once, in one line, when the AWS emulator is not installed (in the project's .venv or on `path`). */
export function requireMoto(path?: string, project?: string): void {
  if (findMotoServer(path, project) === undefined)
    throw new BreakglassError("USAGE", "moto_server", `the AWS emulator is not installed: ${MOTO_INSTALL_HINT}`);
}

/** Starts everything; on failure stops what was started. `runbookDirectory` holds the shipped runbooks. */
export async function startDrillWorld(runbookDirectory: string): Promise<DrillWorld> {
  requireMoto();
  const stops: (() => Promise<void>)[] = [];
  const directory = mkdtempSync(join(tmpdir(), "breakglass-drill-"));
  stops.push(() => Promise.resolve(rmSync(directory, { recursive: true, force: true })));
  const close = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const clock = new DrillClock();
    const moto = await startMoto();
    stops.push(() => moto.stop());
    // The drill process is the only user of its environment: the AWS SDK finds the emulator the standard way.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: REGION,
    });
    delete process.env["AWS_PROFILE"];
    delete process.env["AWS_SESSION_TOKEN"];

    const scimToken = randomUUID();
    const scim = await startScimServer(scimToken);
    stops.push(() => scim.close());
    const emergencyGroupId = randomUUID();
    scim.store.addUser({
      id: DRILL_PEOPLE.dana.idpId,
      userName: DRILL_PEOPLE.dana.login,
      displayName: "Dana Responder",
    });
    scim.store.addGroup(emergencyGroupId, EMERGENCY_GROUP);
    const isMember = (login: string) =>
      [...scim.store.users.values()].some(
        (user) => user.userName === login && scim.store.membersOf(emergencyGroupId).includes(user.id),
      );
    const idp = await startSamlIdp(clock.now(), isMember);
    stops.push(() => idp.close());

    const organization = await buildOrganization(moto.endpoint, { workloadAccounts: 1, idpMetadata: idp.metadata() });
    const { readerRoleArn, actionRoleArn } = await addBreakglassRoles(organization);
    const identityCenter = await startSsoAdmin(organization.instanceArn, "ACTIVE");
    stops.push(() => identityCenter.close());
    process.env["AWS_ENDPOINT_URL_SSO_ADMIN"] = identityCenter.endpoint;

    const slack = await startSlackApiStub();
    stops.push(() => slack.close());
    slack.setUser(DRILL_PEOPLE.alice.slack, DRILL_PEOPLE.alice.login, "alice");
    slack.setUser(DRILL_PEOPLE.bob.slack, DRILL_PEOPLE.bob.login, "bob");

    // The watch's queue (with its dead-letter queue) and the emergency account's EventBridge rule feeding it, as the
    // README sets them up; the emulator has no CloudTrail, so the drill puts its own calls' records on the queue.
    const watchQueueUrl = await createWatchPlumbing(moto.endpoint, organization);
    writeFileSync(join(directory, "scim-ca.pem"), scim.ca);
    const configPath = join(directory, "breakglass.yaml");
    writeFileSync(
      configPath,
      [
        "idp:",
        "  name: Drill IdP",
        `  metadata: ${idp.metadataUrl}`,
        "  directory:",
        "    kind: scim",
        `    baseUrl: ${scim.baseUrl}`,
        `    tokenVariable: ${SCIM_TOKEN_VARIABLE}`,
        `    ca: ${join(directory, "scim-ca.pem")}`,
        "aws:",
        `  region: ${REGION}`,
        "  emergencyAccount:",
        `    accountId: "${organization.emergencyAccountId}"`,
        `    roleArn: ${readerRoleArn}`,
        `    actionRoleArn: ${actionRoleArn}`,
        `    samlProviders: [${organization.samlProviderArn}]`,
        `    emergencyRoles: [${organization.emergencyRoleArn}]`,
        "  identityCenter:",
        `    instanceArn: ${organization.instanceArn}`,
        `    region: ${REGION}`,
        `    accountId: "${MOTO_DEFAULT_ACCOUNT_ID}"`,
        "  organization:",
        `    crossAccountRoleName: ${CROSS_ACCOUNT_ROLE}`,
        `    readRoleName: ${READ_ROLE}`,
        "    accounts: all",
        "watch:",
        `  queueUrl: ${watchQueueUrl}`,
        "store:",
        `  path: ${join(directory, "breakglass.db")}`,
        "slack:",
        "  channels:",
        `    alerts: ${DRILL_CHANNELS.alerts}`,
        `    incidents: ${DRILL_CHANNELS.incidents}`,
        `    security: ${DRILL_CHANNELS.security}`,
        "  access:",
        `    run: [${DRILL_PEOPLE.alice.slack}]`,
        `    approve: [${DRILL_PEOPLE.alice.slack}, ${DRILL_PEOPLE.bob.slack}]`,
        `    grant: [${DRILL_PEOPLE.alice.slack}]`,
        "",
      ].join("\n"),
    );
    const { config } = await loadConfig(configPath);
    const logs: string[] = [];
    const service = await startService({
      config,
      port: 0,
      host: "127.0.0.1",
      env: {
        SLACK_BOT_TOKEN: STUB_BOT_TOKEN,
        SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        [SCIM_TOKEN_VARIABLE]: scimToken,
      },
      runbookDirectory,
      log: {
        info: (line) => logs.push(`info ${line}`),
        warn: (line) => logs.push(`warn ${line}`),
        error: (line) => logs.push(`error ${line}`),
      },
      clock,
      schedule: false,
      // A short long poll: the drill's events arrive at once, and shutdown does not wait out SQS's 20 s.
      watchSeams: { waitSeconds: 1 },
    });
    stops.push(() => service.stop());
    return {
      directory,
      configPath,
      clock,
      moto,
      organization,
      idp,
      scim,
      emergencyGroupId,
      identityCenter,
      slack,
      service,
      watchQueueUrl,
      logs,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** breakglass's own roles in the emergency account, with the policies the project ships: one to read, one to act. */
async function addBreakglassRoles(
  organization: TestOrganization,
): Promise<{ readerRoleArn: string; actionRoleArn: string }> {
  const iam = new IAMClient(await organization.configFor(organization.emergencyAccountId));
  const trustManagement = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${MOTO_DEFAULT_ACCOUNT_ID}:root` }, Action: "sts:AssumeRole" },
    ],
  });
  const role = async (name: string, policy: string) => {
    const arn = (await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trustManagement })))
      .Role?.Arn;
    await iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: name, PolicyDocument: policy }));
    return arn ?? `arn:aws:iam::${organization.emergencyAccountId}:role/${name}`;
  };
  const providerName = organization.samlProviderArn.split("/").pop() ?? "";
  return {
    readerRoleArn: await role("breakglass-reader", shippedPolicy("emergency-account-reader-policy.json")),
    actionRoleArn: await role(
      "breakglass-action",
      shippedPolicy("action-role-policy.json")
        .replaceAll("EMERGENCY_ACCOUNT_ID", organization.emergencyAccountId)
        .replace("saml-provider/EmergencyIdP", `saml-provider/${providerName}`),
    ),
  };
}

/**
 * The watch queue in breakglass's own account (it consumes it), its dead-letter queue, and in the emergency account a
 * rule that selects the emergency principals' calls and their SAML sign-ins and targets the queue.
 */
async function createWatchPlumbing(endpoint: string, organization: TestOrganization): Promise<string> {
  const sqs = new SQSClient(awsClientConfig(endpoint, REGION));
  const suffix = randomUUID().slice(0, 8);
  const { QueueUrl: deadLetterUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `breakglass-drill-watch-dlq-${suffix}` }),
  );
  const deadLetter = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterUrl, AttributeNames: ["QueueArn"] }),
  );
  const name = `breakglass-drill-watch-${suffix}`;
  const { QueueUrl: queueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetter.Attributes?.["QueueArn"], maxReceiveCount: 5 }),
      },
    }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
  );
  const events = new EventBridgeClient(await organization.configFor(organization.emergencyAccountId));
  const pattern = JSON.stringify({
    $or: [
      { "detail-type": ["AWS Console Sign In via CloudTrail"] },
      { detail: { userIdentity: { sessionContext: { sessionIssuer: { arn: [organization.emergencyRoleArn] } } } } },
      {
        detail: {
          eventName: ["AssumeRoleWithSAML"],
          requestParameters: { principalArn: [organization.samlProviderArn] },
        },
      },
      {
        source: ["aws.sso-directory"],
        detail: { eventName: [{ suffix: "ExternalIdPConfigurationForDirectory" }, "ImportExternalIdPCertificate"] },
      },
    ],
  });
  await events.send(new PutRuleCommand({ Name: "breakglass-watch", EventPattern: pattern }));
  await events.send(
    new PutTargetsCommand({
      Rule: "breakglass-watch",
      Targets: [{ Id: "watch-queue", Arn: Attributes?.["QueueArn"] }],
    }),
  );
  return queueUrl ?? "";
}
