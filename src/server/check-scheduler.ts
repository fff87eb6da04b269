// Runs the full check on an interval and tells the alerts channel, once each: new findings, their resolution, and expiry-ladder steps.
import { SEVERITY_ORDER } from "../domain/checks/finding.js";
import { configInputDefaults } from "../application/runbook-runtime.js";
import type { BreakglassConfig, CheckName } from "../config/config-schema.js";
import type { Clock } from "../domain/shared/clock.js";
import { BreakglassError, describeError } from "../domain/errors.js";
import { isLeadershipLost } from "../application/leader-elector.js";
import type { PostureEvaluation } from "../application/evaluate-posture.js";
import { planChecks } from "../application/check-plan.js";
import type { CheckCycle, CheckCycles } from "../application/check-cycle.js";
import type { Announcer, SlackMessage } from "../slack/slack-message.js";
import type { AlertRecord, ServeStateStore } from "../domain/ports/serve-state-store.js";
import {
  alertDigestMessage,
  DIGEST_ABOVE,
  expiryWarningMessage,
  newAlertMessage,
  resolutionDigestMessage,
  resolutionMessage,
  runbookGuide,
  type AlertView,
  type RunbookGuide,
  type RunbookSummary,
} from "../slack/alert-messages.js";
import { expiryStep, stepUrgency, watchedCertificates } from "../domain/checks/expiry-ladder.js";
import { collectAlerts, diffAlerts, parseAlertKey, type CheckReading } from "../application/finding-alerts.js";

export interface SchedulerLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface CheckSchedulerOptions {
  /** Reads serve.checkInterval, serve.expiryLadder, idp.name, and the checks the config enables. */
  readonly config: BreakglassConfig;
  readonly clock: Clock;
  readonly state: ServeStateStore;
  readonly announcer: Announcer;
  /** The full check, as `planChecks(config, undefined)` plans it. */
  readonly evaluate: (now: Date) => Promise<PostureEvaluation>;
  readonly logger: SchedulerLogger;
  readonly onCycle?: (cycle: CheckCycle) => void;
  readonly onCycleFailed?: (error: unknown) => void;
  /** The loaded runbooks, so an alert's runbook line lists the inputs `/breakglass runbook start` needs. */
  readonly runbooks?: readonly RunbookSummary[];
  /** The checks `evaluate` runs; by default those `planChecks(config, undefined)` finds runnable. */
  readonly checks?: ReadonlySet<CheckName>;
  /**
   * Asked right before each message is posted while leading: false when this replica no longer holds the leader lease,
   * and the cycle then stops (Slack posts cannot carry a fencing token, so this read keeps the window for a duplicate
   * to the instant between it and the post). Always true without it.
   */
  readonly stillLeading?: () => boolean;
  /** A write of the cycle was refused with LEADERSHIP_LOST: the service steps down. */
  readonly onLeadershipLost?: (error: unknown) => void;
  /** True in serve: the scheduler follows until lead() is called. Without it (one process, tests) it leads with `state`. */
  readonly awaitLeadership?: boolean;
}

/** Messages delivered and refused during one check. */
interface Tally {
  posted: number;
  failed: number;
}

/**
 * How long an expiry step claimed but never marked delivered is left to its claimant: far longer than one post can
 * take (Slack's client gives up after three 10 s attempts), well under the check interval.
 */
export const EXPIRY_CLAIM_STALE_MS = 2 * 60_000;

/** The service_state entry that keeps the end of the last full check across restarts (for /readyz). */
export const LAST_CHECK_COMPLETED_AT = "last-check-completed-at";

export class CheckScheduler implements CheckCycles {
  private readonly guide: RunbookGuide;
  private readonly checks: ReadonlySet<CheckName>;
  private inFlight: Promise<CheckCycle | null> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopped = false;
  private latestCycle: CheckCycle | undefined;
  private completedAt: Date | null | undefined;
  /** The store's fenced view while this replica leads; undefined on a follower, whose checks post and record nothing. */
  private leaderState: ServeStateStore | undefined;

  constructor(private readonly options: CheckSchedulerOptions) {
    this.guide = runbookGuide(configInputDefaults(options.config), options.runbooks);
    this.checks = options.checks ?? planChecks(options.config, undefined).runnable;
    this.leaderState = options.awaitLeadership === true ? undefined : options.state;
  }

  /** One full check and its announcements. Never throws: a failed check is logged and reported to onCycleFailed. */
  runOnce(): Promise<CheckCycle | null> {
    if (this.stopped) return Promise.resolve(null);
    // A second caller (a /breakglass command while the timer's check runs) gets the check in flight, not a second one.
    this.inFlight ??= this.cycle().finally(() => {
      this.inFlight = null;
      this.scheduleNext();
    });
    return this.inFlight;
  }

  /** The first check now, then one every serve.checkInterval after the previous one ended. */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    void this.runOnce();
  }

  /**
   * This replica leads: every write of the checks from now on goes through `state` (the store's fenced view), and the
   * checks run on the interval, the first now.
   */
  lead(state: ServeStateStore, schedule = true): void {
    this.leaderState = state;
    this.completedAt = undefined;
    if (schedule) this.start();
  }

  /**
   * This replica follows: no more scheduled checks, and a check in flight posts nothing more (it stops at its next
   * post). A check asked for (from Slack) still runs, only to read the posture.
   */
  follow(): void {
    this.leaderState = undefined;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** No new checks; resolves once the one in flight has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  latest(): CheckCycle | undefined {
    return this.latestCycle;
  }

  /**
   * When the last full check ended, in this process or before a restart; null before the first. Reads the store once,
   * and throws STORE_FAILED when that read fails (a /readyz that asks should then answer not ready).
   */
  lastCompletedAt(): Date | null {
    // A follower reads what the leader last wrote; the leader knows its own.
    if (this.completedAt === undefined || this.leaderState === undefined) {
      const stored = this.options.state.state(LAST_CHECK_COMPLETED_AT);
      const parsed = stored === null ? null : new Date(stored);
      this.completedAt = parsed && !Number.isNaN(parsed.getTime()) ? parsed : null;
    }
    return this.completedAt;
  }

  private scheduleNext(): void {
    if (!this.running || this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runOnce();
    }, this.options.config.serve.checkInterval);
    // A pending check must not keep the process alive on its own: shutdown is stop() and the HTTP server's business.
    this.timer.unref();
  }

  private async cycle(): Promise<CheckCycle | null> {
    const { clock, evaluate, logger } = this.options;
    const startedAt = clock.now();
    const state = this.leaderState;
    try {
      const evaluation = await evaluate(startedAt);
      const tally: Tally = { posted: 0, failed: 0 };
      if (state === undefined || state !== this.leaderState) {
        const completedAt = clock.now();
        const cycle: CheckCycle = { startedAt, completedAt, evaluation, posted: 0, failedPosts: 0 };
        this.latestCycle = cycle;
        logger.info(`check completed as a follower: ${evaluation.findings.length} findings; the leader posts`);
        return cycle;
      }
      this.recordAlerts(state, evaluation, startedAt);
      await this.postAlerts(state, tally);
      await this.postResolutions(state, tally);
      await this.postExpiryWarnings(state, evaluation, startedAt, tally);
      const completedAt = clock.now();
      state.setState(LAST_CHECK_COMPLETED_AT, completedAt.toISOString());
      this.completedAt = completedAt;
      const cycle: CheckCycle = { startedAt, completedAt, evaluation, posted: tally.posted, failedPosts: tally.failed };
      this.latestCycle = cycle;
      logger.info(
        `check completed: ${evaluation.findings.length} findings, ${tally.posted} messages posted${tally.failed > 0 ? `, ${tally.failed} to retry` : ""}`,
      );
      this.notify(() => this.options.onCycle?.(cycle));
      return cycle;
    } catch (error) {
      if (isLeadershipLost(error)) {
        logger.warn(`check stopped, this replica no longer leads: ${describeError(error)}`);
        this.notify(() => this.options.onLeadershipLost?.(error));
        return null;
      }
      logger.error(`check failed: ${describeError(error)}`);
      this.notify(() => this.options.onCycleFailed?.(error));
      return null;
    }
  }

  /** Brings the store up to date with what this check saw; alerts it could have seen and did not are resolved. */
  private recordAlerts(state: ServeStateStore, evaluation: PostureEvaluation, now: Date): void {
    const current = collectAlerts(evaluation.findings);
    const reading: CheckReading = {
      idp: evaluation.idp,
      facts: evaluation.facts,
      checks: this.checks,
      emergencyGroups: evaluation.emergencyGroups,
    };
    state.inTransaction(() => {
      const { resolved } = diffAlerts(current, state.openAlerts(), reading);
      for (const alert of current) state.recordSeen(alert, now);
      for (const alert of resolved) state.markResolved(alert.key, now);
    });
  }

  /** Every open alert not posted yet: new this check, or one Slack failed to take before. Marked only once delivered. */
  private async postAlerts(state: ServeStateStore, tally: Tally): Promise<void> {
    const pending = state
      .openAlerts()
      .filter((record) => record.postedAt === null)
      .sort(bySeverity);
    if (pending.length > DIGEST_ABOVE) {
      // A flood (a first check, a broad outage) would bury the channel and run into Slack's rate limit: one digest.
      if (
        await this.announce(
          alertDigestMessage(pending.map(viewOf), this.guide),
          `a digest of ${pending.length} alerts`,
          tally,
        )
      ) {
        for (const alert of pending) state.markPosted(alert.key, this.options.clock.now());
      }
      return;
    }
    for (const alert of pending) {
      if (await this.announce(newAlertMessage(viewOf(alert), this.guide), `the ${alert.code} alert`, tally))
        state.markPosted(alert.key, this.options.clock.now());
    }
  }

  /** Resolutions of alerts that were posted; one never posted resolves without a word. */
  private async postResolutions(state: ServeStateStore, tally: Tally): Promise<void> {
    const pending = state.unannouncedResolutions();
    if (pending.length > DIGEST_ABOVE) {
      if (
        await this.announce(
          resolutionDigestMessage(pending.map(viewOf)),
          `a digest of ${pending.length} resolutions`,
          tally,
        )
      ) {
        for (const alert of pending) state.markResolutionPosted(alert.key, this.options.clock.now());
      }
      return;
    }
    for (const alert of pending) {
      const resolvedAt = new Date(alert.resolvedAt ?? alert.lastSeen);
      if (await this.announce(resolutionMessage(viewOf(alert), resolvedAt), `the resolution of ${alert.code}`, tally))
        state.markResolutionPosted(alert.key, this.options.clock.now());
    }
  }

  /**
   * Each certificate's current ladder step, once. The step is claimed first (claimExpiryStep is true for exactly one
   * caller, so two cycles or two processes on one store never both post it), posted, then marked delivered; when
   * Slack refuses it the claim is given back so the next check posts it. A process that dies between claiming and
   * delivering leaves a claim that goes stale after EXPIRY_CLAIM_STALE_MS: a later check posts the step then.
   */
  private async postExpiryWarnings(
    state: ServeStateStore,
    evaluation: PostureEvaluation,
    now: Date,
    tally: Tally,
  ): Promise<void> {
    const { config } = this.options;
    const ladder = config.serve.expiryLadder;
    for (const certificate of watchedCertificates(evaluation.idp, evaluation.facts)) {
      const step = expiryStep(certificate.notAfter, now, ladder);
      if (step === null) continue;
      const posted = state.postedExpirySteps(certificate.sha256);
      // A step less pressing than one already posted (the clock went back) would read as the danger receding.
      if ([...posted].some((earlier) => earlier !== step && stepUrgency(earlier) >= stepUrgency(step))) continue;
      if (!state.claimExpiryStep(certificate.sha256, step, now, EXPIRY_CLAIM_STALE_MS)) continue;
      const message = expiryWarningMessage(
        { idpName: config.idp.name, certificate, step, now, idpRead: evaluation.idp !== undefined, ladder },
        this.guide,
      );
      if (await this.announce(message, `the ${step} expiry warning for ${certificate.sha256.slice(0, 8)}`, tally))
        state.deliveredExpiryStep(certificate.sha256, step, this.options.clock.now());
      else state.forgetExpiryStep(certificate.sha256, step);
    }
  }

  /** True when the message was delivered (or logged, Slack not being configured). */
  private async announce(message: SlackMessage, what: string, tally: Tally): Promise<boolean> {
    if (this.leaderState === undefined || this.options.stillLeading?.() === false)
      throw new BreakglassError("LEADERSHIP_LOST", "leader lease", `${what} not posted: this replica no longer leads`);
    try {
      await this.options.announcer.announce("alerts", message);
      tally.posted++;
      return true;
    } catch (error) {
      tally.failed++;
      this.options.logger.warn(
        `could not post ${what} to Slack, will retry at the next check: ${describeError(error)}`,
      );
      return false;
    }
  }

  /** A metrics hook that throws must not turn a good check into a failed one. */
  private notify(hook: () => void): void {
    try {
      hook();
    } catch (error) {
      this.options.logger.warn(`a check listener failed: ${describeError(error)}`);
    }
  }
}

/** Most severe first, so the message that matters is on top when several arrive at once. */
function bySeverity(a: AlertRecord, b: AlertRecord): number {
  return (
    severityRank(a.severity) - severityRank(b.severity) ||
    a.firstSeen.localeCompare(b.firstSeen) ||
    a.key.localeCompare(b.key)
  );
}

function severityRank(severity: string): number {
  const rank = (SEVERITY_ORDER as readonly string[]).indexOf(severity);
  return rank === -1 ? SEVERITY_ORDER.length : rank;
}

function viewOf(alert: AlertRecord): AlertView {
  return {
    code: alert.code,
    severity: alert.severity,
    message: alert.message,
    subject: parseAlertKey(alert.key)?.subject ?? {},
    firstSeen: new Date(alert.firstSeen),
  };
}
