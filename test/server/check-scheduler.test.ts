// The scheduler as the alerts channel sees it: the real check on a metadata file, a real store file, a clock walked day by day.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { BreakglassConfig } from "../../src/config/config-schema.js";
import { parseConfig } from "../../src/config/load-config.js";
import type { CheckCycle } from "../../src/application/check-cycle.js";
import { CheckScheduler, EXPIRY_CLAIM_STALE_MS, type SchedulerLogger } from "../../src/server/check-scheduler.js";
import { planChecks } from "../../src/application/check-plan.js";
import { evaluatePosture, type PostureEvaluation } from "../../src/application/evaluate-posture.js";
import type { Announcer, ChannelRole, PostedMessage, SlackMessage } from "../../src/slack/slack-message.js";
import { openStore } from "../../src/adapters/store/open-store.js";
import type { BreakglassStore } from "../../src/domain/ports/store.js";
import { DAY, makeCertificate, type TestCertificate } from "../support/certificates.js";
import { eventually } from "../support/eventually.js";
import { entityXml } from "../support/metadata-builder.js";

const NOT_AFTER = new Date("2027-03-01T09:30:00Z");
const LONG_AGO = new Date("2025-01-01T00:00:00Z");

/** Slack as the scheduler reaches it: every message it was given, and a switch that makes delivery fail. */
class RecordingAnnouncer implements Announcer {
  readonly delivered: { role: ChannelRole; message: SlackMessage; at: Date }[] = [];
  down = false;

  constructor(private readonly clock: { now(): Date }) {}

  announce(role: ChannelRole, message: SlackMessage): Promise<PostedMessage | null> {
    if (this.down) return Promise.reject(new Error("slack: service_unavailable"));
    this.delivered.push({ role, message, at: this.clock.now() });
    return Promise.resolve({ channel: "C0ALERTS01", ts: `${this.delivered.length}.000100` });
  }

  update(): Promise<void> {
    return Promise.resolve();
  }

  /** The fallback text of each message delivered since the last call: what a phone's notifications show. */
  take(): string[] {
    return this.delivered.splice(0).map((entry) => entry.message.text);
  }
}

class RecordingLogger implements SchedulerLogger {
  readonly lines: string[] = [];
  info(message: string): void {
    this.lines.push(`info: ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn: ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error: ${message}`);
  }
}

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** One `breakglass serve` installation: its config, metadata file, store file and Slack, restartable like the real service. */
class Installation {
  readonly directory = mkdtempSync(join(tmpdir(), "breakglass-serve-"));
  readonly metadataPath = join(this.directory, "okta-metadata.xml");
  readonly storePath = join(this.directory, "breakglass.db");
  readonly clock = { at: new Date(LONG_AGO), now: (): Date => new Date(this.clock.at) };
  readonly slack = new RecordingAnnouncer(this.clock);
  readonly logger = new RecordingLogger();
  readonly config: BreakglassConfig;
  evaluations = 0;
  private store: BreakglassStore;
  scheduler: CheckScheduler;

  constructor(overrides: Partial<BreakglassConfig["serve"]> = {}) {
    directories.push(this.directory);
    const { config } = parseConfig(
      ["idp:", "  name: Okta", "  metadata: ./okta-metadata.xml", ""].join("\n"),
      join(this.directory, "breakglass.yaml"),
    );
    this.config = { ...config, serve: { ...config.serve, ...overrides } };
    this.store = openStore({ path: this.storePath });
    this.scheduler = this.newScheduler();
  }

  /** The IdP publishes these signing certificates (and a SingleSignOnService unless told otherwise). */
  publish(certificates: readonly TestCertificate[], options: { sso?: boolean } = {}): void {
    const xml = entityXml({
      keys: certificates.map((certificate) => ({ base64: certificate.base64, use: "signing" as const })),
      ...(options.sso === false ? { ssoLocations: [] } : {}),
    });
    writeFileSync(this.metadataPath, xml);
  }

  /** The IdP's metadata cannot be read any more. */
  unpublish(): void {
    rmSync(this.metadataPath, { force: true });
  }

  /** A check at this moment, as the timer would run it. */
  async checkAt(at: Date): Promise<CheckCycle | null> {
    this.clock.at = new Date(at);
    return this.scheduler.runOnce();
  }

  /** Stop the service, close the store, open the file again and start a new scheduler, as a redeploy does. */
  async restart(): Promise<void> {
    await this.scheduler.stop();
    this.store.close();
    this.store = openStore({ path: this.storePath });
    this.scheduler = this.newScheduler();
  }

  async close(): Promise<void> {
    await this.scheduler.stop();
    this.store.close();
  }

  /** Replaces the scheduler with one that has these hooks (and, when given, this check instead of the real one). */
  withHooks(hooks: SchedulerHooks): CheckScheduler {
    this.scheduler = this.newScheduler(hooks);
    return this.scheduler;
  }

  private newScheduler(hooks: SchedulerHooks = {}): CheckScheduler {
    return new CheckScheduler({
      config: this.config,
      clock: this.clock,
      state: this.store.serveState,
      announcer: this.slack,
      evaluate:
        hooks.evaluate ??
        ((now) => {
          this.evaluations++;
          return evaluatePosture(this.config, planChecks(this.config, "metadata"), {
            now,
            latestAttestation: () => null,
          });
        }),
      logger: this.logger,
      ...(hooks.onCycle ? { onCycle: hooks.onCycle } : {}),
      ...(hooks.onCycleFailed ? { onCycleFailed: hooks.onCycleFailed } : {}),
    });
  }
}

interface SchedulerHooks {
  readonly onCycle?: (cycle: CheckCycle) => void;
  readonly onCycleFailed?: (error: unknown) => void;
  readonly evaluate?: (now: Date) => Promise<PostureEvaluation>;
}

const signing = makeCertificate({ commonName: "okta-signing", notBefore: LONG_AGO, notAfter: NOT_AFTER });

/** What each day's check posted, walking from `from` to `to` days relative to the certificate's expiry. */
async function walk(
  installation: Installation,
  from: number,
  to: number,
  restartBefore: ReadonlySet<number> = new Set(),
): Promise<string[]> {
  const seen: string[] = [];
  for (let day = from; day <= to; day++) {
    if (restartBefore.has(day)) await installation.restart();
    await installation.checkAt(new Date(NOT_AFTER.getTime() + day * DAY));
    for (const text of installation.slack.take()) seen.push(`day ${day}: ${text}`);
  }
  return seen;
}

const LADDER_WALK = [
  "day -60: Okta signing certificate sha256 X (CN=okta-signing) expires in 60 days",
  "day -30: Okta signing certificate sha256 X (CN=okta-signing) expires in 30 days",
  "day -14: Okta signing certificate sha256 X (CN=okta-signing) expires in 14 days",
  "day -7: Okta signing certificate sha256 X (CN=okta-signing) expires in 7 days",
  "day -3: Okta signing certificate sha256 X (CN=okta-signing) expires in 3 days",
  "day -1: Okta signing certificate sha256 X (CN=okta-signing) expires in 1 day",
  "day 0: Critical NO_VALID_SIGNING_CERT: None of the 1 signing certificates of " +
    "https://idp.example.test/metadata is valid now; federation with this IdP fails.",
  "day 0: Okta signing certificate sha256 X (CN=okta-signing) expired less than a day ago",
  "day 1: Okta signing certificate sha256 X (CN=okta-signing) expired 1 day ago",
  "day 2: Okta signing certificate sha256 X (CN=okta-signing) expired 2 days ago",
];

/** The fingerprint's short form differs per run (the certificate is made by the test); the rest of the text does not. */
const normalise = (lines: readonly string[]) =>
  lines.map((line) => line.replace(/sha256 [0-9a-f]{8}…[0-9a-f]{4}/g, "sha256 X"));

describe("the expiry ladder, day by day", () => {
  it("posts each step once, then a reminder a day once expired", async () => {
    const installation = new Installation();
    installation.publish([signing]);
    expect(normalise(await walk(installation, -61, 2))).toEqual(LADDER_WALK);
    await installation.close();
  });

  it("neither repeats nor misses a step when the service restarts along the way", async () => {
    const installation = new Installation();
    installation.publish([signing]);
    const restarts = new Set([-59, -30, -29, -8, -7, -1, 0, 1]);
    expect(normalise(await walk(installation, -61, 2, restarts))).toEqual(LADDER_WALK);
    await installation.close();
  });

  it("gives a certificate that jumped from 40 to 5 days left (the service was down) only its current step", async () => {
    const installation = new Installation();
    installation.publish([signing]);
    await installation.checkAt(new Date(NOT_AFTER.getTime() - 40 * DAY));
    await installation.restart();
    await installation.checkAt(new Date(NOT_AFTER.getTime() - 5 * DAY));
    await installation.checkAt(new Date(NOT_AFTER.getTime() - 5 * DAY + 3_600_000));
    expect(normalise(installation.slack.take())).toEqual([
      // The 60-day step, on day 40; then the 7-day step, on day 5: never the 30- and 14-day ones it slept through.
      "Okta signing certificate sha256 X (CN=okta-signing) expires in 40 days",
      "Okta signing certificate sha256 X (CN=okta-signing) expires in 5 days",
    ]);
    await installation.close();
  });

  it("posts a step Slack refused on the next check, once", async () => {
    const installation = new Installation();
    installation.publish([signing]);
    installation.slack.down = true;
    await walk(installation, -31, -30);
    expect(installation.logger.lines.filter((line) => line.startsWith("warn:"))).toEqual([
      expect.stringMatching(
        /^warn: could not post the 60d expiry warning for [0-9a-f]{8} to Slack, will retry at the next check: slack: service_unavailable$/,
      ),
      expect.stringMatching(/^warn: could not post the 30d expiry warning/),
    ]);
    installation.slack.down = false;
    // Slack is back on day -29: the step the certificate is on now (30d) is posted, not the 60d one missed while Slack was down.
    expect(normalise(await walk(installation, -29, -28))).toEqual([
      "day -29: Okta signing certificate sha256 X (CN=okta-signing) expires in 29 days",
    ]);
    await installation.close();
  });

  it("posts a step a few minutes late, once, when the process that claimed it died before posting it", async () => {
    const installation = new Installation();
    installation.publish([signing]);
    const day = new Date(NOT_AFTER.getTime() - 7 * DAY);
    // The process before this one claimed the 7-day step and was killed while Slack was still answering.
    const dead = openStore({ path: installation.storePath });
    expect(
      dead.serveState.claimExpiryStep(
        createHash("sha256").update(signing.der).digest("hex"),
        "7d",
        day,
        EXPIRY_CLAIM_STALE_MS,
      ),
    ).toBe(true);
    dead.close();

    await installation.checkAt(new Date(day.getTime() + 30_000));
    expect(installation.slack.take()).toEqual([]);
    await installation.checkAt(new Date(day.getTime() + EXPIRY_CLAIM_STALE_MS + 30_000));
    // The 7-day step, telling the time left when it is finally posted.
    expect(normalise(installation.slack.take())).toEqual([
      "Okta signing certificate sha256 X (CN=okta-signing) expires in 6 days",
    ]);
    await installation.restart();
    await installation.checkAt(new Date(day.getTime() + 2 * EXPIRY_CLAIM_STALE_MS + 30_000));
    await installation.checkAt(new Date(day.getTime() + DAY / 2));
    expect(installation.slack.take()).toEqual([]);
    await installation.close();
  });

  it("stops reminding once the IdP publishes a new certificate and drops the expired one", async () => {
    const installation = new Installation();
    installation.publish([signing]);
    await walk(installation, -1, 1);
    installation.slack.take();
    const successor = makeCertificate({
      commonName: "okta-signing-2027",
      notBefore: LONG_AGO,
      notAfter: new Date(NOT_AFTER.getTime() + 700 * DAY),
    });
    installation.publish([successor]);
    expect(await walk(installation, 2, 4)).toEqual([
      "day 2: Resolved: NO_VALID_SIGNING_CERT (open 2d): None of the 1 signing certificates of " +
        "https://idp.example.test/metadata is valid now; federation with this IdP fails.",
    ]);
    await installation.close();
  });
});

const healthy = makeCertificate({
  commonName: "okta-healthy",
  notBefore: LONG_AGO,
  notAfter: new Date("2030-01-01T00:00:00Z"),
});
/** Hours after 2026-11-25 09:00 UTC, for checks a few hours apart. */
const at = (hours: number) => new Date(Date.UTC(2026, 10, 25, 9) + hours * 3_600_000);

describe("finding alerts", () => {
  const noSso =
    "High NO_SSO_SERVICE: https://idp.example.test/metadata lists no SingleSignOnService, so users cannot be sent to it to sign in.";

  it("posts a finding once however many checks see it, its resolution once, and again if it comes back", async () => {
    const installation = new Installation();
    installation.publish([healthy]);
    await installation.checkAt(at(0));
    expect(installation.slack.take()).toEqual([]);

    installation.publish([healthy], { sso: false });
    for (const hour of [1, 2, 3]) await installation.checkAt(at(hour));
    expect(installation.slack.take()).toEqual([noSso]);

    installation.publish([healthy]);
    await installation.checkAt(at(5.5));
    await installation.checkAt(at(6));
    expect(installation.slack.take()).toEqual([
      `Resolved: NO_SSO_SERVICE (open 4h30m): ${noSso.replace(/^High NO_SSO_SERVICE: /, "")}`,
    ]);

    installation.publish([healthy], { sso: false });
    await installation.checkAt(at(7));
    await installation.restart();
    await installation.checkAt(at(8));
    expect(installation.slack.take()).toEqual([noSso]);
    await installation.close();
  });

  it("posts an alert Slack refused on the next check, once, and its resolution likewise", async () => {
    const installation = new Installation();
    installation.publish([healthy], { sso: false });
    installation.slack.down = true;
    const refused = await installation.checkAt(at(0));
    expect(refused).toMatchObject({ posted: 0, failedPosts: 1 });
    expect(installation.logger.lines).toContain(
      "warn: could not post the NO_SSO_SERVICE alert to Slack, will retry at the next check: slack: service_unavailable",
    );

    installation.slack.down = false;
    await installation.checkAt(at(1));
    await installation.checkAt(at(2));
    expect(installation.slack.take()).toEqual([noSso]);

    installation.publish([healthy]);
    installation.slack.down = true;
    await installation.checkAt(at(3));
    installation.slack.down = false;
    await installation.checkAt(at(4));
    await installation.checkAt(at(5));
    expect(installation.slack.take()).toEqual([
      `Resolved: NO_SSO_SERVICE (open 3h): ${noSso.replace(/^High NO_SSO_SERVICE: /, "")}`,
    ]);
    await installation.close();
  });

  it("says nothing about a finding that resolved before Slack ever took it", async () => {
    const installation = new Installation();
    installation.publish([healthy], { sso: false });
    installation.slack.down = true;
    await installation.checkAt(at(0));
    installation.publish([healthy]);
    await installation.checkAt(at(1));
    installation.slack.down = false;
    await installation.checkAt(at(2));
    expect(installation.slack.take()).toEqual([]);
    await installation.close();
  });

  it("does not declare metadata findings resolved while the metadata cannot be read", async () => {
    const installation = new Installation();
    installation.publish([healthy], { sso: false });
    await installation.checkAt(at(0));
    expect(installation.slack.take()).toEqual([noSso]);

    installation.unpublish();
    for (const hour of [1, 2, 3]) await installation.checkAt(at(hour));
    expect(installation.slack.take()).toEqual([
      `Critical METADATA_UNREACHABLE: Could not read the metadata of Okta: ${installation.metadataPath}: no such file.`,
    ]);

    // Back, still without a SingleSignOnService: the outage is over, the finding never was.
    installation.publish([healthy], { sso: false });
    await installation.checkAt(at(4));
    expect(installation.slack.take()).toEqual([
      `Resolved: METADATA_UNREACHABLE (open 3h): Could not read the metadata of Okta: ${installation.metadataPath}: no such file.`,
    ]);

    installation.publish([healthy]);
    await installation.checkAt(at(5));
    expect(installation.slack.take()).toEqual([
      `Resolved: NO_SSO_SERVICE (open 5h): ${noSso.replace(/^High NO_SSO_SERVICE: /, "")}`,
    ]);
    await installation.close();
  });
});

describe("the scheduler", () => {
  it("shares the check in flight between callers and reports each check to onCycle", async () => {
    const installation = new Installation();
    installation.publish([signing], { sso: false });
    const cycles: CheckCycle[] = [];
    const scheduler = installation.withHooks({ onCycle: (cycle) => cycles.push(cycle) });
    installation.clock.at = new Date(NOT_AFTER.getTime() - 10 * DAY);

    const [first, second] = await Promise.all([scheduler.runOnce(), scheduler.runOnce()]);
    expect(first).toBe(second);
    expect(installation.evaluations).toBe(1);
    expect(cycles).toEqual([first]);
    expect(first).toMatchObject({
      startedAt: installation.clock.at,
      completedAt: installation.clock.at,
      posted: 2,
      failedPosts: 0,
    });
    expect(first?.evaluation.findings.map((finding) => finding.code).sort()).toEqual([
      "CERT_EXPIRING",
      "NO_SSO_SERVICE",
    ]);
    expect(scheduler.latest()).toBe(first);
    await installation.close();
  });

  it("logs a check that fails, tells onCycleFailed, and never throws", async () => {
    const installation = new Installation();
    const failures: unknown[] = [];
    const scheduler = installation.withHooks({
      onCycleFailed: (error) => failures.push(error),
      evaluate: () => Promise.reject(new Error("the signer file is unreadable")),
    });
    await expect(scheduler.runOnce()).resolves.toBeNull();
    expect(failures).toEqual([new Error("the signer file is unreadable")]);
    expect(installation.logger.lines).toEqual(["error: check failed: the signer file is unreadable"]);
    expect(scheduler.latest()).toBeUndefined();
    expect(scheduler.lastCompletedAt()).toBeNull();
    await installation.close();
  });

  it("keeps when the last check completed across a restart", async () => {
    const installation = new Installation();
    installation.publish([healthy]);
    expect(installation.scheduler.lastCompletedAt()).toBeNull();
    await installation.checkAt(at(0));
    expect(installation.scheduler.lastCompletedAt()).toEqual(at(0));
    await installation.restart();
    expect(installation.scheduler.lastCompletedAt()).toEqual(at(0));
    expect(installation.scheduler.latest()).toBeUndefined();
    await installation.close();
  });

  it("checks at once on start, then every interval after the previous check ended, never two at a time, and not after stop", async () => {
    const installation = new Installation({ checkInterval: 15 });
    installation.publish([healthy]);
    let running = 0;
    let overlapped = false;
    let ended = 0;
    const scheduler = installation.withHooks({
      evaluate: async (now) => {
        running++;
        overlapped ||= running > 1;
        try {
          return await evaluatePosture(installation.config, planChecks(installation.config, "metadata"), {
            now,
            latestAttestation: () => null,
          });
        } finally {
          running--;
        }
      },
      onCycle: () => ended++,
    });

    scheduler.start();
    scheduler.start();
    await eventually(
      () => ended,
      (count) => count >= 4,
    );
    await scheduler.stop();
    const afterStop = ended;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(ended).toBe(afterStop);
    expect(overlapped).toBe(false);
    await expect(scheduler.runOnce()).resolves.toBeNull();
    await installation.close();
  });
});
