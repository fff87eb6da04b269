// The emergency-account watcher, one use case for `breakglass watch` and serve: read CloudTrail events from the source,
// judge each once, record it, pass it to the sinks, and only then let the source delete it; post misuse alerts.
import type { Clock } from "../domain/shared/clock.js";
import { describeError } from "../domain/errors.js";
import type { CloudTrailEventSource, SourcedMessage } from "../domain/ports/cloudtrail-event-source.js";
import type { EmergencyWindowStore } from "../domain/ports/emergency-window-store.js";
import type { MisuseAlert, WatchedEvent, WatchedEventStore } from "../domain/ports/watched-event-store.js";
import type { CloudTrailRecord } from "../domain/watch/cloudtrail-record.js";
import { classifyEvent, type EmergencyPrincipals, type Judgement } from "../domain/watch/classify-event.js";

/** Misuse by one actor with no more than this between two events is one burst: one alert. */
export const DEFAULT_BURST_GAP_MS = 60 * 60_000;

/**
 * Told of every event the watcher judged for the first time, after it is recorded (part B's Identity Center IdP-change
 * invalidation plugs in here). A sink that throws is logged; the event stays recorded and is not judged again.
 */
export interface WatchedEventSink {
  accept(record: CloudTrailRecord, judgement: Judgement): Promise<void> | void;
}

/** Posts one misuse alert (Slack, or the log without Slack); throws when it could not, and the alert is retried. */
export interface MisuseAlertPoster {
  post(alert: MisuseAlert, event: WatchedEvent | null): Promise<void>;
}

export interface WatcherOptions {
  readonly events: WatchedEventStore;
  readonly windows: Pick<EmergencyWindowStore, "allWindows">;
  readonly principals: EmergencyPrincipals;
  readonly clock: Clock;
  readonly sinks?: readonly WatchedEventSink[];
  readonly burstGapMs?: number;
  /** Where a failing sink or post is told. */
  readonly warn?: (message: string) => void;
}

/** What one receive brought: the events judged now, those judged before (delivered again), and unreadable messages. */
export interface PollResult {
  readonly judged: readonly Judgement[];
  readonly duplicates: number;
  readonly unreadable: readonly { readonly messageId: string; readonly problem: string }[];
  /** Where unreadable messages went, when there were any. */
  readonly deadLetter: string | null;
  /** How many messages the source handed over (0: nothing was waiting). */
  readonly received: number;
}

export class EmergencyAccountWatcher {
  private readonly burstGapMs: number;
  private readonly warn: (message: string) => void;

  constructor(private readonly options: WatcherOptions) {
    this.burstGapMs = options.burstGapMs ?? DEFAULT_BURST_GAP_MS;
    this.warn = options.warn ?? (() => undefined);
  }

  /** One receive: each new event judged and recorded, then the sinks told, then the source acknowledged. */
  async poll(source: CloudTrailEventSource, options: { wait: boolean; signal?: AbortSignal }): Promise<PollResult> {
    const messages = await source.receive(options);
    const judged: Judgement[] = [];
    const readable: SourcedMessage[] = [];
    const unreadable: SourcedMessage[] = [];
    const recorded: { record: CloudTrailRecord; judgement: Judgement }[] = [];
    let duplicates = 0;
    // Read once per receive: the windows and the sessions emergency principals created so far.
    const windows = this.options.windows.allWindows();
    const sessions = new Set(this.options.events.derivedSessions());
    const now = this.options.clock.now();
    const batch: { record: CloudTrailRecord; judgement: Judgement }[] = [];
    for (const message of messages) {
      if (!message.parsed.ok) {
        this.options.events.recordUnreadable({
          messageId: message.messageId,
          problem: message.parsed.problem,
          body: message.body,
          receivedAt: now.toISOString(),
        });
        unreadable.push(message);
        continue;
      }
      const { record } = message.parsed;
      const judgement = classifyEvent(record, this.options.principals, windows, sessions);
      // A session created earlier in this batch is known to the events after it.
      if (judgement.derivedSession !== null) sessions.add(judgement.derivedSession);
      batch.push({ record, judgement });
      readable.push(message);
    }
    // One transaction for the batch: one durable commit, however many events it holds.
    const fresh = this.options.events.recordEvents(
      batch.map((entry) => entry.judgement),
      now,
      this.burstGapMs,
    );
    batch.forEach((entry, index) => {
      if (fresh[index]) {
        judged.push(entry.judgement);
        recorded.push(entry);
      } else duplicates++;
    });
    for (const { record, judgement } of recorded) await this.tellSinks(record, judgement);
    // Recorded (durably: each recordEvent committed) before the source may forget them.
    if (readable.length > 0) await source.acknowledge(readable);
    const deadLetter = unreadable.length > 0 ? await source.reject(unreadable) : null;
    return {
      judged,
      duplicates,
      unreadable: unreadable.map((message) => ({
        messageId: message.messageId,
        problem: message.parsed.ok ? "" : message.parsed.problem,
      })),
      deadLetter,
      received: messages.length,
    };
  }

  /**
   * Receives without waiting until nothing new comes: what `breakglass watch --once` does. A message handed over again
   * in the same drain (an unreadable one left for the dead-letter queue) ends it, so it cannot spin.
   */
  async drain(source: CloudTrailEventSource, onPoll?: (result: PollResult) => void): Promise<PollResult> {
    const total = { judged: [] as Judgement[], duplicates: 0, unreadable: [] as PollResult["unreadable"][number][] };
    let deadLetter: string | null = null;
    let received = 0;
    const seenUnreadable = new Set<string>();
    for (;;) {
      const result = await this.poll(source, { wait: false });
      onPoll?.(result);
      received += result.received;
      total.judged.push(...result.judged);
      total.duplicates += result.duplicates;
      const fresh = result.unreadable.filter((message) => !seenUnreadable.has(message.messageId));
      for (const message of fresh) seenUnreadable.add(message.messageId);
      total.unreadable.push(...fresh);
      deadLetter = result.deadLetter ?? deadLetter;
      const onlyRepeats = result.judged.length === 0 && result.duplicates === 0 && fresh.length === 0;
      if (result.received === 0 || onlyRepeats) break;
    }
    return { ...total, deadLetter, received };
  }

  /** Posts every misuse alert not posted yet, oldest first; one that fails stays unposted for the next poll. */
  async postAlerts(poster: MisuseAlertPoster): Promise<{ posted: number; failed: number }> {
    let posted = 0;
    let failed = 0;
    for (const alert of this.options.events.unpostedAlerts()) {
      try {
        await poster.post(alert, this.options.events.findEvent(alert.eventId));
        this.options.events.markAlertPosted(alert.id, this.options.clock.now());
        posted++;
      } catch (error) {
        failed++;
        this.warn(
          `misuse alert for ${alert.actor} (event ${alert.eventId}) not posted, retried next poll: ${describeError(error)}`,
        );
      }
    }
    return { posted, failed };
  }

  private async tellSinks(record: CloudTrailRecord, judgement: Judgement): Promise<void> {
    for (const sink of this.options.sinks ?? []) {
      try {
        await sink.accept(record, judgement);
      } catch (error) {
        this.warn(`event ${judgement.eventId}: a watched-event sink failed: ${describeError(error)}`);
      }
    }
  }
}

export interface ContinuousWatch {
  /** Stops the loop: a long poll in flight is aborted. */
  stop(): Promise<void>;
}

/**
 * Polls until stopped, and after every poll posts the misuse alerts not posted yet (so an alert reaches Slack within one
 * poll, and one whose post failed is posted on the next). `pauseMs` is waited between polls that do not block on their
 * own (LookupEvents); a failed poll waits `retryMs` and tries again. With `mayPost`, alerts are posted only while it says
 * so (serve's leader): another replica records events and alerts, and the leader posts them after its next poll.
 */
export function watchContinuously(
  watcher: EmergencyAccountWatcher,
  source: CloudTrailEventSource,
  poster: MisuseAlertPoster,
  options: {
    readonly pauseMs: number;
    readonly retryMs: number;
    readonly warn: (message: string) => void;
    readonly mayPost?: () => boolean;
  },
): ContinuousWatch {
  const stopping = new AbortController();
  const pause = (milliseconds: number) =>
    new Promise<void>((resolve) => {
      if (milliseconds <= 0 || stopping.signal.aborted) return resolve();
      const timer = setTimeout(resolve, milliseconds);
      stopping.signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      let wait = options.pauseMs;
      try {
        await watcher.poll(source, { wait: true, signal: stopping.signal });
      } catch (error) {
        if (stopping.signal.aborted) break;
        options.warn(`watching ${source.description} failed, trying again: ${describeError(error)}`);
        wait = options.retryMs;
      }
      if (options.mayPost?.() !== false)
        await watcher.postAlerts(poster).catch((error: unknown) => options.warn(describeError(error)));
      await pause(wait);
    }
  })();
  return {
    stop: async () => {
      stopping.abort();
      await loop;
    },
  };
}
