// Benchmark: how fast `breakglass serve` acknowledges a signed slash command on loopback, beside a bare Bolt app that
// only acks, idle and with a full check running.
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { App, HTTPReceiver, LogLevel } from "@slack/bolt";
import { Agent, request } from "undici";
import { loadConfig } from "../src/config/load-config.js";
import { startService, type RunningService } from "../src/server/service.js";
import { SLACK_EVENTS_PATH } from "../src/slack/slack-surface.js";
import { CheckThread } from "../src/server/check-thread.js";
import { awsConfigSection, buildOrganization, REGION } from "../test/support/aws-organization.js";
import { makeCertificate } from "../test/support/certificates.js";
import { entityXml } from "../test/support/metadata-builder.js";
import { startMoto } from "../test/support/moto.js";
import { ALICE, CHANNELS, configText } from "../test/support/serve-harness.js";
import { startSlackApiStub, STUB_BOT_TOKEN } from "../test/support/slack-api-stub.js";
import { sign, slashCommand, TEST_SIGNING_SECRET } from "../test/support/slack-requests.js";

/** The issue's target: serve's p99 within 1.25x the bare Bolt app's, background work included. */
const TARGET_RATIO = 1.25;
/** Slack shows the user an error when an app has not answered a slash command within 3 s. */
const SLACK_DEADLINE_MS = 3_000;
/** A window's requests go in this many alternating blocks (sequential, then bursts), so both see every phase of a check. */
const BLOCKS_PER_WINDOW = 10;

const BACKGROUNDS = ["idle", "full check"] as const;
type Background = (typeof BACKGROUNDS)[number];

interface Target {
  readonly label: string;
  readonly url: string;
  readonly text: string;
  /** One full check of the kind this app does in the background: serve's own scheduler, or the bare evaluation. */
  readonly check: () => Promise<boolean>;
  readonly serve: boolean;
}

interface Samples {
  readonly sequential: number[];
  readonly concurrent: number[];
  cpuMicroseconds: number;
  checks: number;
  checkSeconds: number;
  failedChecks: number;
}

interface Figures {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly count: number;
  readonly failed: number;
}

export async function benchSlackAck(): Promise<void> {
  const sequential = Number(process.env["BENCH_ACK_REQUESTS"] ?? 2_000);
  const concurrency = Number(process.env["BENCH_ACK_CONCURRENCY"] ?? 50);
  const bursts = Math.max(1, Math.ceil(sequential / concurrency));
  const accounts = Number(process.env["BENCH_ACK_ACCOUNTS"] ?? 100);
  const rounds = Math.max(1, Number(process.env["BENCH_ACK_ROUNDS"] ?? 6));

  const directory = mkdtempSync(join(tmpdir(), "breakglass-bench-ack-"));
  const stub = await startSlackApiStub();
  const moto = await startMoto();
  const previousEnvironment = saveEnvironment([
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
  ]);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: REGION,
  });
  let client: RequestClient | undefined;
  let bare: App | undefined;
  let service: RunningService | undefined;
  let bareThread: CheckThread | undefined;
  try {
    // One client for both apps, in its own process: keep-alive connections, as many as requests in flight.
    client = await RequestClient.start(concurrency, stub.responseUrl("bench-"));
    const metadata = entityXml({ keys: [{ base64: makeCertificate().base64, use: "signing" }] });
    const built = performance.now();
    const organization = await buildOrganization(moto.endpoint, { workloadAccounts: accounts, idpMetadata: metadata });
    writeFileSync(join(directory, "idp-metadata.xml"), metadata);
    const configPath = join(directory, "breakglass.yaml");
    writeFileSync(
      configPath,
      configText(directory, awsConfigSection(organization, { readerRoleName: "OrganizationAccountAccessRole" })),
    );
    const { config } = await loadConfig(configPath);
    console.log(
      `  organization of ${accounts} workload accounts built in the emulator in ${((performance.now() - built) / 1000).toFixed(1)} s`,
    );

    // The bare app: Bolt's HTTPReceiver on its own server, a handler that only acks.
    const receiver = new HTTPReceiver({
      signingSecret: TEST_SIGNING_SECRET,
      endpoints: [SLACK_EVENTS_PATH],
      logLevel: LogLevel.ERROR,
    });
    bare = new App({
      token: STUB_BOT_TOKEN,
      receiver,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: stub.apiUrl },
    });
    bare.command("/breakglass", async ({ ack }) => ack());
    const bareServer = await bare.start({ port: 0, host: "127.0.0.1" });
    const barePort = (bareServer.address() as { port: number }).port;

    const logged: string[] = [];
    service = await startService({
      config,
      port: 0,
      host: "127.0.0.1",
      env: { SLACK_BOT_TOKEN: STUB_BOT_TOKEN, SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET, SLACK_API_URL: stub.apiUrl },
      runbookDirectory: fileURLToPath(new URL("../runbooks/", import.meta.url)),
      log: {
        info: () => undefined,
        warn: (line) => logged.push(`warn ${line}`),
        error: (line) => logged.push(`error ${line}`),
      },
      schedule: false,
    });
    const scheduler = service.scheduler;
    bareThread = new CheckThread({ config });
    const bareThreadOf = bareThread;
    const bareCheck = () => bareThreadOf.evaluate(new Date(), []).then(() => true);
    const serveCheck = () => scheduler.runOnce().then((cycle) => cycle !== null);

    // The first check fills what /breakglass status shows (and posts its alerts once, as a fresh service would); one
    // more of each kind warms the check code, so neither app is measured against colder background work than the other.
    const firstCheck = performance.now();
    const cycle = await scheduler.runOnce();
    if (cycle === null) throw new Error(`the first full check failed: ${logged.join("; ")}`);
    const firstSeconds = (performance.now() - firstCheck) / 1000;
    if (!(await bareCheck()) || !(await serveCheck())) throw new Error(`a warm-up check failed: ${logged.join("; ")}`);
    console.log(
      `  a full check (IdP metadata, emergency account, Identity Center, ${accounts} workload accounts): ` +
        `first ${firstSeconds.toFixed(1)} s, ${cycle.evaluation.findings.length} findings`,
    );

    const serveUrl = `http://127.0.0.1:${service.port}${SLACK_EVENTS_PATH}`;
    const targets: Target[] = [
      {
        label: "bare Bolt 5 (ack only)",
        url: `http://127.0.0.1:${barePort}${SLACK_EVENTS_PATH}`,
        text: "status",
        check: bareCheck,
        serve: false,
      },
      { label: "serve: /breakglass status", url: serveUrl, text: "status", check: serveCheck, serve: true },
      { label: "serve: /breakglass help", url: serveUrl, text: "help", check: serveCheck, serve: true },
    ];
    const samples = new Map<string, Samples>();
    const key = (target: Target, background: Background) => `${target.label}|${background}`;
    const started = performance.now();
    // Rounds with the order rotated, so no app always goes first (colder) or last (after the others' garbage).
    for (const background of BACKGROUNDS) {
      for (let round = 0; round < rounds; round++) {
        for (let index = 0; index < targets.length; index++) {
          const target = targets[(index + round) % targets.length]!;
          const into = samples.get(key(target, background)) ?? {
            sequential: [],
            concurrent: [],
            cpuMicroseconds: 0,
            checks: 0,
            checkSeconds: 0,
            failedChecks: 0,
          };
          samples.set(key(target, background), into);
          await measureWindow(
            client,
            target,
            background === "full check",
            { sequential: Math.ceil(sequential / rounds), bursts: Math.ceil(bursts / rounds), firstRound: round === 0 },
            into,
          );
        }
      }
    }
    const elapsed = (performance.now() - started) / 1000;

    console.log(
      `  per app and background: ${sequential} sequential requests and ${bursts} bursts of ${concurrency} ` +
        `sent at once (the next burst when all are answered), in ${rounds} rounds with the order rotated, ` +
        `each window warmed up first; latency from send to the whole response, measured by a client in its ` +
        `own process, in ms`,
    );
    console.log(
      "  full check: serve runs its scheduler's runOnce() back to back (the check on serve's check " +
        "thread, the alerts and the store on the event loop); the bare app runs the same check on a check " +
        "thread of its own, back to back in the same process, so both share the machine with the same work; " +
        "each window spans whole checks",
    );
    console.log(
      `  ${"app / command".padEnd(26)} ${"background".padEnd(10)} ${"in flight".padStart(9)} ` +
        `${"n".padStart(5)} ${"p50".padStart(7)} ${"p99".padStart(7)} ${"max".padStart(7)}  ` +
        `serve p99 / bare p99`,
    );
    const missed: string[] = [];
    let slowest = 0;
    for (const background of BACKGROUNDS) {
      for (const inFlight of [1, concurrency]) {
        const figuresOf = (target: Target) => {
          const window = samples.get(key(target, background))!;
          return summarize(inFlight === 1 ? window.sequential : window.concurrent);
        };
        const baseline = figuresOf(targets[0]!);
        for (const target of targets) {
          const figures = figuresOf(target);
          slowest = Math.max(slowest, figures.max);
          let verdict = "";
          if (target.serve) {
            const ratio = figures.p99 / baseline.p99;
            const met = ratio <= TARGET_RATIO;
            if (!met)
              missed.push(
                `${target.label.replace("serve: ", "")} (${background}, ${inFlight} in flight, ${ratio.toFixed(2)}x)`,
              );
            verdict = `${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x: ${met ? "met" : "MISSED"})`;
          }
          const failures = figures.failed > 0 ? `  ${figures.failed} of ${figures.count} NOT answered 200` : "";
          console.log(
            `  ${target.label.padEnd(26)} ${background.padEnd(10)} ${String(inFlight).padStart(9)} ` +
              `${String(figures.count).padStart(5)} ${ms(figures.p50)} ${ms(figures.p99)} ${ms(figures.max)}  ` +
              `${verdict}${failures}`,
          );
        }
      }
    }
    const cpu = targets.map((target) => {
      const idle = samples.get(key(target, "idle"))!;
      return `${target.label.replace(" (ack only)", "")} ${(idle.cpuMicroseconds / 1000 / (idle.sequential.length + idle.concurrent.length)).toFixed(3)} ms`;
    });
    console.log(`  server CPU per acknowledgement while idle (the client runs in its own process): ${cpu.join(", ")}`);
    const checks = targets.map((target) => {
      const load = samples.get(key(target, "full check"))!;
      return (
        `${load.checks} during ${target.label.replace(" (ack only)", "")} ` +
        `(${(load.checkSeconds / Math.max(1, load.checks)).toFixed(1)} s ` +
        `each${load.failedChecks > 0 ? `, ${load.failedChecks} failed` : ""})`
      );
    });
    console.log(`  full checks completed while measuring: ${checks.join("; ")}`);
    console.log(
      `  slowest acknowledgement of all: ${slowest.toFixed(1)} ms (Slack gives up ` +
        `at ${SLACK_DEADLINE_MS.toLocaleString("en")} ms); section took ${elapsed.toFixed(0)} s`,
    );
    console.log(
      `  target serve p99 <= ${TARGET_RATIO}x bare Bolt p99: ${missed.length === 0 ? "met everywhere" : `MISSED for ${missed.join("; ")}`}`,
    );
    const problems = logged.filter((line) => line.startsWith("error") || line.includes("refused"));
    if (problems.length > 0) console.log(`  serve logged ${problems.length} errors or refusals; first: ${problems[0]}`);
  } finally {
    await service?.stop();
    await bareThread?.close();
    await bare?.stop();
    await client?.close();
    await stub.close();
    await moto.stop();
    Object.assign(process.env, previousEnvironment.set);
    for (const name of previousEnvironment.unset) delete process.env[name];
    rmSync(directory, { recursive: true, force: true });
  }
}

/** What the parent asks of the client process; `burst` is how many requests go at once. */
interface ClientOrder {
  readonly id: number;
  readonly url: string;
  readonly text: string;
  readonly count: number;
  readonly burst: number;
}

type ClientAnswer =
  { readonly id: number; readonly latencies: number[] } | { readonly id: number; readonly error: string };

const CLIENT_FLAG = "--slack-ack-client";

/**
 * The client runs in its own process, as Slack does: its signing and HTTP parsing then take nothing from the event
 * loop being measured (in-process it would add the same cost to both apps and flatten the ratio), and the server's
 * CPU per request can be read from this process alone.
 */
class RequestClient {
  private orders = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (latencies: number[]) => void; reject: (error: Error) => void }
  >();

  private constructor(
    private readonly child: ChildProcess,
    readonly concurrency: number,
  ) {
    child.on("message", (answer: ClientAnswer) => {
      const waiter = this.waiting.get(answer.id);
      this.waiting.delete(answer.id);
      if ("error" in answer) waiter?.reject(new Error(`the benchmark client failed: ${answer.error}`));
      else waiter?.resolve(answer.latencies);
    });
    child.once("exit", (code) => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`the benchmark client exited (${code})`));
      this.waiting.clear();
    });
  }

  static async start(concurrency: number, responseUrlPrefix: string): Promise<RequestClient> {
    const child = fork(fileURLToPath(import.meta.url), [CLIENT_FLAG, String(concurrency), responseUrlPrefix], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    await new Promise<void>((resolve, reject) => {
      child.once("message", () => resolve());
      child.once("exit", (code) => reject(new Error(`the benchmark client exited (${code}) before it was ready`)));
    });
    return new RequestClient(child, concurrency);
  }

  sequential(target: Target, count: number): Promise<number[]> {
    return this.order(target, count, 1);
  }

  /** `concurrency` requests sent at once, the next burst when all are answered. */
  bursts(target: Target, count: number): Promise<number[]> {
    return this.order(target, count, this.concurrency);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.disconnect();
    await exited;
  }

  private order(target: Target, count: number, burst: number): Promise<number[]> {
    const order: ClientOrder = { id: ++this.orders, url: target.url, text: target.text, count, burst };
    return new Promise((resolve, reject) => {
      this.waiting.set(order.id, { resolve, reject });
      this.child.send(order);
    });
  }
}

/** The client process: signs each request freshly (serve refuses a signature it has seen) before its timer starts. */
async function runClient(concurrency: number, responseUrlPrefix: string): Promise<void> {
  const agent = new Agent({ connections: concurrency + 4, keepAliveTimeout: 30_000 });
  let sent = 0;
  const signed = (text: string) => {
    sent += 1;
    const body = slashCommand(text, {
      user: ALICE,
      channel: CHANNELS.incidents,
      responseUrl: `${responseUrlPrefix}${sent}`,
      triggerId: `${sent}.1234567890.bench`,
    });
    return { body, headers: { "content-type": "application/x-www-form-urlencoded", ...sign(body) } };
  };
  /** Milliseconds until the whole answer arrived; NaN when it was not a 200. */
  const send = async (url: string, { body, headers }: { body: string; headers: Record<string, string> }) => {
    const started = performance.now();
    const response = await request(url, { method: "POST", body, headers, dispatcher: agent });
    await response.body.text();
    const elapsed = performance.now() - started;
    return response.statusCode === 200 ? elapsed : Number.NaN;
  };
  const run = async (order: ClientOrder) => {
    const latencies: number[] = [];
    for (let round = 0; round < order.count; round++) {
      const requests = Array.from({ length: order.burst }, () => signed(order.text));
      latencies.push(...(await Promise.all(requests.map((request) => send(order.url, request)))));
    }
    return latencies;
  };
  process.on("message", (order: ClientOrder) => {
    run(order).then(
      (latencies) => process.send?.({ id: order.id, latencies } satisfies ClientAnswer),
      (error: unknown) =>
        process.send?.({
          id: order.id,
          error: error instanceof Error ? error.message : String(error),
        } satisfies ClientAnswer),
    );
  });
  process.once("disconnect", () => {
    void agent.close().finally(() => process.exit(0));
  });
  await Promise.resolve(process.send?.("ready"));
}

/**
 * One app's share of a round: warm up, then alternate blocks of sequential requests and bursts. With a full check in
 * the background, measuring starts when a check ends and stops when one ends, so every phase of a check is covered.
 */
async function measureWindow(
  driver: RequestClient,
  target: Target,
  withCheck: boolean,
  quota: { sequential: number; bursts: number; firstRound: boolean },
  into: Samples,
): Promise<void> {
  globalThis.gc?.();
  const loop = withCheck ? startCheckLoop(target.check) : undefined;
  await driver.sequential(target, quota.firstRound ? 200 : 50);
  await driver.bursts(target, quota.firstRound ? 5 : 1);
  while (loop !== undefined && loop.completed() === 0) {
    await driver.sequential(target, 20);
    await driver.bursts(target, 1);
  }
  const countedFrom = loop?.completed() ?? 0;
  const cpu = process.cpuUsage();
  const sequentialBlock = Math.ceil(quota.sequential / BLOCKS_PER_WINDOW);
  const burstBlock = Math.ceil(quota.bursts / BLOCKS_PER_WINDOW);
  for (let block = 0; block < BLOCKS_PER_WINDOW || loop?.running(); block++) {
    if (block === BLOCKS_PER_WINDOW) loop?.finish();
    into.sequential.push(...(await driver.sequential(target, sequentialBlock)));
    into.concurrent.push(...(await driver.bursts(target, burstBlock)));
  }
  const used = process.cpuUsage(cpu);
  into.cpuMicroseconds += used.user + used.system;
  if (loop) {
    const report = await loop.stopped;
    into.checks += report.completed - countedFrom;
    into.checkSeconds += report.secondsAfter(countedFrom);
    into.failedChecks += report.failed;
  }
}

interface CheckLoop {
  completed(): number;
  running(): boolean;
  /** Ends the loop when the check in flight ends. */
  finish(): void;
  readonly stopped: Promise<{ completed: number; failed: number; secondsAfter(index: number): number }>;
}

/** Runs `check` back to back until finished. */
function startCheckLoop(check: () => Promise<boolean>): CheckLoop {
  let finishing = false;
  let ended = false;
  let failed = 0;
  const durations: number[] = [];
  const stopped = (async () => {
    while (!finishing) {
      const started = performance.now();
      if (await check().catch(() => false)) durations.push((performance.now() - started) / 1000);
      else failed += 1;
    }
    ended = true;
    return {
      completed: durations.length,
      failed,
      secondsAfter: (index: number) => durations.slice(index).reduce((sum, seconds) => sum + seconds, 0),
    };
  })();
  return {
    completed: () => durations.length,
    running: () => !ended,
    finish: () => {
      finishing = true;
    },
    stopped,
  };
}

function summarize(latencies: readonly number[]): Figures {
  const answered = latencies.filter((latency) => !Number.isNaN(latency)).sort((a, b) => a - b);
  const at = (quantile: number) => answered[Math.max(0, Math.ceil(quantile * answered.length) - 1)] ?? Number.NaN;
  return {
    p50: at(0.5),
    p99: at(0.99),
    max: answered.at(-1) ?? Number.NaN,
    count: latencies.length,
    failed: latencies.length - answered.length,
  };
}

function ms(value: number): string {
  return value.toFixed(value < 10 ? 2 : 1).padStart(7);
}

function saveEnvironment(names: readonly string[]): { set: Record<string, string>; unset: string[] } {
  const set: Record<string, string> = {};
  const unset: string[] = [];
  for (const name of names) {
    const value = process.env[name];
    if (value === undefined) unset.push(name);
    else set[name] = value;
  }
  return { set, unset };
}

if (process.argv[2] === CLIENT_FLAG && process.argv[1] === fileURLToPath(import.meta.url)) {
  await runClient(Number(process.argv[3]), process.argv[4] ?? "");
}
