// serve.drill: the leader runs the live drill every so often, writes its evidence report, and posts a summary with the
// report's path to the alerts channel (logged without Slack). When the last drill ran is kept in the store, so a restart
// or a new leader neither repeats a drill nor skips one.
import type { LiveDrillOutcome } from "../application/live-drill.js";
import { describeError } from "../domain/errors.js";
import type { ServeStateStore } from "../domain/ports/serve-state-store.js";
import type { Clock } from "../domain/shared/clock.js";
import { drillFailedMessage, drillSummaryMessage } from "../slack/drill-messages.js";
import type { Announcer, SlackMessage } from "../slack/slack-message.js";
import type { SchedulerLogger } from "./check-scheduler.js";

/** The service_state entry holding when the last scheduled drill started. */
export const LAST_DRILL_STARTED_AT = "last-drill-started-at";
/** The longest single wait: setTimeout cannot wait past about 24.8 days, and a drill every 30d is usual. */
const LONGEST_WAIT_MS = 86_400_000;

export interface DrillScheduleOptions {
  /** serve.drill.every, in milliseconds. */
  readonly everyMs: number;
  readonly clock: Clock;
  readonly announcer: Announcer;
  readonly logger: SchedulerLogger;
  /** The live drill, as serve.drill configures it. */
  readonly run: () => Promise<LiveDrillOutcome>;
  /** Asked right before the drill starts and before its summary is posted: false once this replica no longer leads. */
  readonly stillLeading: () => boolean;
}

export type DrillScheduleResult =
  | { readonly ran: false; readonly reason: string }
  | { readonly ran: true; readonly outcome: LiveDrillOutcome | null; readonly posted: boolean };

export class DrillSchedule {
  private leaderState: ServeStateStore | undefined;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<DrillScheduleResult> | null = null;
  private stopped = false;

  constructor(private readonly options: DrillScheduleOptions) {}

  /** This replica leads: drills go through `state` (the fenced view), and with `schedule` a timer waits for the next. */
  lead(state: ServeStateStore, schedule = true): void {
    this.leaderState = state;
    if (schedule) this.scheduleNext();
  }

  follow(): void {
    this.leaderState = undefined;
    this.clearTimer();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    await this.inFlight;
  }

  /** When the next drill is due: now when none has run yet. */
  nextDueAt(): Date {
    const last = this.lastStartedAt();
    return last === null ? this.options.clock.now() : new Date(last.getTime() + this.options.everyMs);
  }

  /** The drill, when this replica leads and one is due; never throws (a failed drill is posted and logged). */
  runDue(): Promise<DrillScheduleResult> {
    this.inFlight ??= this.runIfDue()
      .catch((error: unknown): DrillScheduleResult => {
        // The store refused to record the start (no longer leader, or unreachable): no drill this time.
        this.options.logger.warn(`scheduled drill not started: ${describeError(error)}`);
        return { ran: false, reason: describeError(error) };
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  private async runIfDue(): Promise<DrillScheduleResult> {
    const state = this.leaderState;
    if (this.stopped || state === undefined || !this.options.stillLeading())
      return { ran: false, reason: "this replica does not lead" };
    const now = this.options.clock.now();
    if (this.nextDueAt().getTime() > now.getTime()) return { ran: false, reason: "not due" };
    // Recorded first: a drill that fails is retried at the next interval, not in a loop.
    state.setState(LAST_DRILL_STARTED_AT, now.toISOString());
    this.options.logger.info("scheduled drill (serve.drill) starting");
    let outcome: LiveDrillOutcome | null = null;
    let message: SlackMessage;
    try {
      outcome = await this.options.run();
      message = drillSummaryMessage(outcome);
      this.options.logger.info(
        `scheduled drill ${outcome.passed ? "passed" : "NOT passed"}: evidence ${outcome.markdownPath}`,
      );
    } catch (error) {
      message = drillFailedMessage(error);
      this.options.logger.error(`scheduled drill failed: ${describeError(error)}`);
    }
    if (!this.options.stillLeading()) {
      this.options.logger.warn("scheduled drill's summary not posted: this replica no longer leads");
      return { ran: true, outcome, posted: false };
    }
    try {
      await this.options.announcer.announce("alerts", message);
      return { ran: true, outcome, posted: true };
    } catch (error) {
      this.options.logger.warn(`could not post the scheduled drill's summary to Slack: ${describeError(error)}`);
      return { ran: true, outcome, posted: false };
    }
  }

  private scheduleNext(): void {
    this.clearTimer();
    if (this.stopped || this.leaderState === undefined) return;
    let wait: number;
    try {
      wait = Math.max(0, this.nextDueAt().getTime() - this.options.clock.now().getTime());
    } catch (error) {
      this.options.logger.warn(`could not read when the last drill ran, trying again later: ${describeError(error)}`);
      wait = LONGEST_WAIT_MS;
    }
    this.timer = setTimeout(
      () => {
        this.timer = null;
        void this.runDue().then(() => this.scheduleNext());
      },
      Math.min(wait, LONGEST_WAIT_MS),
    );
    // A pending drill must not keep the process alive on its own.
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private lastStartedAt(): Date | null {
    const stored = (this.leaderState ?? null)?.state(LAST_DRILL_STARTED_AT) ?? null;
    const parsed = stored === null ? null : new Date(stored);
    return parsed && !Number.isNaN(parsed.getTime()) ? parsed : null;
  }
}
