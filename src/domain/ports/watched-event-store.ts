// The port for what the emergency-account watcher keeps: each CloudTrail event judged once (by its event id), the
// misuse alerts (one per actor per burst, kept until Slack has them), and messages it could not read.
import type { Judgement, Verdict } from "../watch/classify-event.js";

/** A judged event as stored. */
export interface WatchedEvent {
  readonly eventId: string;
  readonly verdict: Verdict;
  /** ISO-8601 instants, as stored. */
  readonly time: string;
  readonly actor: string;
  readonly action: string;
  readonly sourceIp: string | null;
  readonly region: string;
  readonly accountId: string | null;
  readonly errorCode: string | null;
  /** The incident whose timeline it is on: the window it fell in, or the one it was attached to. */
  readonly incident: string | null;
  readonly derivedSession: string | null;
  readonly recordedAt: string;
  /** Who attached a misuse event to an incident (it was legitimate), and when; null otherwise. */
  readonly attachedBy: string | null;
  readonly attachedAt: string | null;
}

/** One alert for a burst of misuse by one actor: later events of the burst join it instead of posting again. */
export interface MisuseAlert {
  readonly id: number;
  readonly actor: string;
  /** The event that started the burst: what the alert shows. */
  readonly eventId: string;
  readonly firstAt: string;
  readonly lastAt: string;
  /** Misuse events in the burst so far. */
  readonly events: number;
  readonly postedAt: string | null;
}

export interface UnreadableMessage {
  readonly messageId: string;
  readonly problem: string;
  readonly body: string;
  readonly receivedAt: string;
}

export interface WatchedEventStore {
  /**
   * Records a judged event once: false (and nothing written) when its event id is already recorded. A misuse event
   * joins its actor's alert when that alert's last event is at most `burstGapMs` before it, else opens a new, unposted
   * alert; written with the event, in one transaction.
   */
  recordEvent(judgement: Judgement, recordedAt: Date, burstGapMs: number): boolean;
  /**
   * recordEvent for a batch (one SQS receive), in one transaction: one durable commit instead of one per event. The
   * answers are recordEvent's, in order.
   */
  recordEvents(judgements: readonly Judgement[], recordedAt: Date, burstGapMs: number): boolean[];
  findEvent(eventId: string): WatchedEvent | null;
  /** The events on an incident's timeline, the earliest first. */
  incidentEvents(incident: string): WatchedEvent[];
  /** Every session an emergency principal created, so that its later calls are judged as theirs. */
  derivedSessions(): string[];
  /** Puts a misuse event on an incident's timeline; false when it is on one already (nothing changed). */
  attachEvent(eventId: string, incident: string, attachedBy: string, at: Date): boolean;
  /** Misuse alerts not posted yet, the oldest first: a failed post stays here and is retried. */
  unpostedAlerts(): MisuseAlert[];
  markAlertPosted(id: number, at: Date): void;
  /** Keeps a message that was not a CloudTrail record, once per message id; true when new. */
  recordUnreadable(message: UnreadableMessage): boolean;
  unreadableMessages(): UnreadableMessage[];
}
