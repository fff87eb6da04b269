// The port the watcher reads the emergency account's CloudTrail events through: an SQS queue fed by EventBridge, or
// CloudTrail LookupEvents polled as the fallback. Both hand over the same records; each says what "done" means to it.
import type { ParsedRecord } from "../watch/cloudtrail-record.js";

export interface SourcedMessage {
  /** The source's id of the message (the SQS MessageId, or the event id for LookupEvents). */
  readonly messageId: string;
  /** The message as received, kept when it is not a CloudTrail record. */
  readonly body: string;
  readonly parsed: ParsedRecord;
}

export interface ReceiveOptions {
  /** Wait for messages (long polling) instead of answering at once. */
  readonly wait: boolean;
  /** Ends a wait early (shutdown). */
  readonly signal?: AbortSignal;
}

export interface CloudTrailEventSource {
  /** What the watcher reads, for its messages: `SQS queue https://…`, `CloudTrail LookupEvents in us-east-1`. */
  readonly description: string;
  /** The next messages; none when nothing is waiting (after the wait, when asked to wait). */
  receive(options: ReceiveOptions): Promise<readonly SourcedMessage[]>;
  /**
   * The messages' events are durably recorded (or were already): the source lets them go (SQS deletes them;
   * LookupEvents moves its cursor past them). Never called before they are recorded.
   */
  acknowledge(messages: readonly SourcedMessage[]): Promise<void>;
  /**
   * Messages that are not CloudTrail records, already kept in the store: the source's dead-letter path. Returns where
   * they went, for the operator (`left for the dead-letter queue …`, `deleted: no dead-letter queue`).
   */
  reject(messages: readonly SourcedMessage[]): Promise<string>;
}
