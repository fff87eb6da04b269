// Starts the real `breakglass serve` service in-process on loopback, with its Slack Web API pointed at a recording stub,
// and sends it requests signed the way Slack signs them.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load-config.js";
import type { Clock } from "../../src/domain/shared/clock.js";
import { startService, type RunningService, type ServiceOptions } from "../../src/server/service.js";
import type { TestCertificate } from "./certificates.js";
import { entityXml } from "./metadata-builder.js";
import { startSlackApiStub, STUB_BOT_TOKEN, type SlackApiStub } from "./slack-api-stub.js";
import {
  appHomeOpened,
  buttonPress,
  postToSlackEndpoint,
  sign,
  slashCommand,
  TEST_SIGNING_SECRET,
  viewSubmission,
  type PostResult,
} from "./slack-requests.js";

export const CHANNELS = { alerts: "C0ALERTS001", incidents: "C0INCIDNT01", security: "C0SECURTY01" } as const;
export const ALICE = "U0ALICE0001";
export const BOB = "U0BOB000001";
export const MALLORY = "U0MALLORY01";
export const RESPONDERS_GROUP = "S0RESPOND01";

export interface HarnessOptions {
  /** breakglass.yaml, with `{dir}` standing for the harness's temporary folder. */
  readonly configYaml: string;
  readonly clock?: Clock;
  readonly runbookDirectory: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Reuse a folder (and so the store) of an earlier harness: a restart. */
  readonly directory?: string;
  readonly stub?: SlackApiStub;
  readonly slack?: boolean;
  readonly shutdownGraceMs?: number;
  /** How often serve looks for runs changed from the CLI (its default: 15 s). */
  readonly runWatchIntervalMs?: number;
  /** Health and metrics on a listener of their own (port 0: any free one). */
  readonly operationsPort?: number;
  /** The runbook engine's test seams (the wait between a check's attempts). */
  readonly runbookSeams?: ServiceOptions["runbookSeams"];
  /** The watcher's test seams (a short SQS long poll). */
  readonly watchSeams?: ServiceOptions["watchSeams"];
}

export interface ServeHarness {
  readonly directory: string;
  readonly stub: SlackApiStub;
  readonly service: RunningService;
  readonly url: string;
  readonly logs: string[];
  command(text: string, user?: string, channel?: string): Promise<PostResult>;
  press(actionId: string, value: string, user: string, message: { channel: string; ts: string }): Promise<PostResult>;
  submit(
    callbackId: string,
    privateMetadata: string,
    user: string,
    values: Record<string, Record<string, string>>,
  ): Promise<PostResult>;
  homeOpened(user: string): Promise<PostResult>;
  /** POSTs a body with the given headers, signed or not. */
  raw(body: string, headers: Record<string, string>, contentType?: string): Promise<PostResult>;
  get(path: string): Promise<{ status: number; text: string }>;
  stop(): Promise<void>;
}

/** Publishes the IdP metadata that configText's config reads ({dir}/idp-metadata.xml), with this signing certificate. */
export function publishIdpMetadata(directory: string, certificate: TestCertificate): void {
  writeFileSync(
    join(directory, "idp-metadata.xml"),
    entityXml({ keys: [{ base64: certificate.base64, use: "signing" }] }),
  );
}

export function configText(directory: string, extra = ""): string {
  return `idp:
  name: Okta
  metadata: ${join(directory, "idp-metadata.xml")}
store:
  path: ${join(directory, "breakglass.db")}
slack:
  channels:
    alerts: ${CHANNELS.alerts}
    incidents: ${CHANNELS.incidents}
    security: ${CHANNELS.security}
  access:
    run: [${ALICE}, ${RESPONDERS_GROUP}]
    approve: [${ALICE}, ${BOB}, ${RESPONDERS_GROUP}]
    grant: [${ALICE}]
${extra}`;
}

export async function startHarness(options: HarnessOptions): Promise<ServeHarness> {
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), "breakglass-serve-"));
  const stub = options.stub ?? (await startSlackApiStub());
  const configPath = join(directory, "breakglass.yaml");
  writeFileSync(configPath, options.configYaml.replaceAll("{dir}", directory));
  const { config } = await loadConfig(configPath);
  const logs: string[] = [];
  const slackEnv =
    options.slack === false
      ? {}
      : { SLACK_BOT_TOKEN: STUB_BOT_TOKEN, SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET, SLACK_API_URL: stub.apiUrl };
  const service = await startService({
    config,
    configPath,
    port: 0,
    host: "127.0.0.1",
    env: { ...slackEnv, ...options.env },
    runbookDirectory: options.runbookDirectory,
    log: {
      info: (line) => logs.push(`info ${line}`),
      warn: (line) => logs.push(`warn ${line}`),
      error: (line) => logs.push(`error ${line}`),
    },
    ...(options.clock ? { clock: options.clock } : {}),
    schedule: false,
    shutdownGraceMs: options.shutdownGraceMs ?? 5_000,
    ...(options.operationsPort === undefined ? {} : { operationsPort: options.operationsPort }),
    ...(options.runbookSeams === undefined ? {} : { runbookSeams: options.runbookSeams }),
    ...(options.watchSeams === undefined ? {} : { watchSeams: options.watchSeams }),
    ...(options.runWatchIntervalMs === undefined ? {} : { runWatchIntervalMs: options.runWatchIntervalMs }),
  });
  const url = `http://127.0.0.1:${service.port}`;
  const events = `${url}/slack/events`;
  let commands = 0;
  const signed = (body: string, contentType?: string) => postToSlackEndpoint(events, body, sign(body), contentType);
  return {
    directory,
    stub,
    service,
    url,
    logs,
    command: (text, user = ALICE, channel = CHANNELS.incidents) =>
      signed(slashCommand(text, { user, channel, responseUrl: stub.responseUrl(`command-${++commands}`) })),
    press: (actionId, value, user, message) =>
      signed(
        buttonPress(actionId, value, {
          user,
          channel: message.channel,
          messageTs: message.ts,
          responseUrl: stub.responseUrl(`press-${++commands}`),
        }),
      ),
    submit: (callbackId, privateMetadata, user, values) =>
      signed(viewSubmission(callbackId, privateMetadata, user, values)),
    homeOpened: (user) => signed(appHomeOpened(user), "application/json"),
    raw: (body, headers, contentType) => postToSlackEndpoint(events, body, headers, contentType),
    async get(path) {
      const response = await fetch(`${url}${path}`);
      return { status: response.status, text: await response.text() };
    },
    async stop() {
      await service.stop();
      if (options.stub === undefined) await stub.close();
    },
  };
}
