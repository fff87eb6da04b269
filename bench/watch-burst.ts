// Benchmark: a burst of 10,000 emergency-account events through the watcher's SQS queue (the AWS emulator) into
// breakglass serve: how many events a second it judges and records, and how long a misuse event takes to reach Slack
// (a loopback stand-in for the Web API) once it is on the queue.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateQueueCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { loadConfig } from "../src/config/load-config.js";
import { startService } from "../src/server/service.js";
import { EMERGENCY_ACCOUNT, eventBridgeEnvelope, userCall } from "../test/support/cloudtrail-events.js";
import { makeCertificate } from "../test/support/certificates.js";
import { entityXml } from "../test/support/metadata-builder.js";
import { awsClientConfig, startMoto } from "../test/support/moto.js";
import { CHANNELS, configText } from "../test/support/serve-harness.js";
import { startSlackApiStub, STUB_BOT_TOKEN } from "../test/support/slack-api-stub.js";
import { TEST_SIGNING_SECRET } from "../test/support/slack-requests.js";

const ACTORS = 100;
const LATENCY_SAMPLES = 50;

export async function benchWatchBurst(events = 10_000): Promise<void> {
  const moto = await startMoto();
  const stub = await startSlackApiStub();
  const directory = mkdtempSync(join(tmpdir(), "breakglass-bench-watch-"));
  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
  });
  const sqs = new SQSClient(awsClientConfig(moto.endpoint));
  try {
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "breakglass-bench-watch" })))
      .QueueUrl as string;
    const users = Array.from({ length: ACTORS + LATENCY_SAMPLES }, (_, index) => `breakglass-${index}`);
    writeFileSync(
      join(directory, "idp-metadata.xml"),
      entityXml({ keys: [{ base64: makeCertificate().base64, use: "signing" }] }),
    );
    const watch = [
      "aws:",
      "  emergencyAccount:",
      `    accountId: "${EMERGENCY_ACCOUNT}"`,
      `    emergencyUsers: [${users.join(", ")}]`,
      "watch:",
      `  queueUrl: ${queueUrl}`,
      "  region: us-east-1",
      "",
    ].join("\n");
    writeFileSync(join(directory, "breakglass.yaml"), configText(directory, watch));
    const { config } = await loadConfig(join(directory, "breakglass.yaml"));

    // The burst: `events` misuse events by ACTORS users, already on the queue when serve starts.
    const now = Date.now();
    const burst = Array.from({ length: events }, (_, index) =>
      userCall(new Date(now - (events - index) * 10), users[index % ACTORS] as string, "ListAccessKeys"),
    );
    for (let start = 0; start < burst.length; start += 10)
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: burst.slice(start, start + 10).map((record, index) => ({
            Id: String(index),
            MessageBody: eventBridgeEnvelope(record),
          })),
        }),
      );

    const log = { info: () => undefined, warn: () => undefined, error: (line: string) => console.error(line) };
    const started = performance.now();
    const service = await startService({
      config,
      port: 0,
      host: "127.0.0.1",
      env: { SLACK_BOT_TOKEN: STUB_BOT_TOKEN, SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET, SLACK_API_URL: stub.apiUrl },
      runbookDirectory: join(directory, "runbooks"),
      log,
      schedule: false,
    });
    try {
      const store = service.services.store.watchedEvents;
      let recorded = 0;
      while (recorded < burst.length) {
        while (recorded < burst.length && store.findEvent((burst[recorded] as { eventID: string }).eventID) !== null)
          recorded++;
        if (recorded < burst.length) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const seconds = (performance.now() - started) / 1000;
      const alerts = () =>
        stub.callsTo("chat.postMessage").filter((call) => call.args["channel"] === CHANNELS.security);
      while (alerts().length < ACTORS) await new Promise((resolve) => setTimeout(resolve, 20));
      console.log(
        `  ${events.toLocaleString("en")} events (${ACTORS} actors) judged and recorded in ${seconds.toFixed(1)} s: ` +
          `${(events / seconds).toFixed(0)} events/s; ${alerts().length} misuse alerts (one per actor per burst)`,
      );

      // Latency: one misuse event at a time onto the idle queue (serve long-polling), until its alert reaches Slack.
      const latencies: number[] = [];
      for (let sample = 0; sample < LATENCY_SAMPLES; sample++) {
        const before = alerts().length;
        const record = userCall(new Date(), users[ACTORS + sample] as string);
        const sent = performance.now();
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: eventBridgeEnvelope(record) }));
        while (alerts().length === before) await new Promise((resolve) => setTimeout(resolve, 2));
        latencies.push(performance.now() - sent);
      }
      latencies.sort((a, b) => a - b);
      const at = (quantile: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor(quantile * latencies.length))] ?? 0;
      console.log(
        `  event on the queue to misuse alert posted (${LATENCY_SAMPLES} samples, long polling): ` +
          `p50 ${at(0.5).toFixed(0)} ms, p95 ${at(0.95).toFixed(0)} ms, max ${at(1).toFixed(0)} ms (target: within one poll, 20 s)`,
      );
    } finally {
      await service.stop();
    }
  } finally {
    process.env = saved;
    await stub.close();
    await moto.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^\.\//, "")))
  await benchWatchBurst(Number(process.env["BENCH_WATCH_EVENTS"] ?? 10_000));
