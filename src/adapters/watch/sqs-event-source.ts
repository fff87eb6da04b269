// The watcher's main source: the SQS queue an EventBridge rule fills with the emergency account's CloudTrail events.
// Long polling; a message is deleted only once the watcher has recorded its event; an unreadable one is left for the
// queue's dead-letter queue (SQS moves it there after maxReceiveCount receives) or, without one, deleted once kept.
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { BreakglassError, describeError } from "../../domain/errors.js";
import type {
  CloudTrailEventSource,
  ReceiveOptions,
  SourcedMessage,
} from "../../domain/ports/cloudtrail-event-source.js";
import { readQueuedRecord } from "../../domain/watch/cloudtrail-record.js";
import { awsErrorCode } from "../aws/aws-error.js";

/** SQS's longest wait: one request every 20 s while the emergency account is quiet. */
export const LONG_POLL_SECONDS = 20;
/** SQS's largest batch. */
const BATCH = 10;

export interface SqsSourceOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** How long a waiting receive may wait, in seconds (LONG_POLL_SECONDS by default). */
  readonly waitSeconds?: number;
}

interface Received extends SourcedMessage {
  readonly receiptHandle: string;
}

export class SqsEventSource implements CloudTrailEventSource {
  readonly description: string;
  private readonly receipts = new Map<string, string>();
  private redrive: Promise<string | null> | undefined;

  constructor(private readonly options: SqsSourceOptions) {
    this.description = `SQS queue ${options.queueUrl}`;
  }

  async receive(options: ReceiveOptions): Promise<readonly SourcedMessage[]> {
    const answer = await this.send("sqs:ReceiveMessage", () =>
      this.options.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.options.queueUrl,
          MaxNumberOfMessages: BATCH,
          WaitTimeSeconds: options.wait ? (this.options.waitSeconds ?? LONG_POLL_SECONDS) : 0,
        }),
        options.signal === undefined ? {} : { abortSignal: options.signal },
      ),
    );
    const messages: Received[] = [];
    for (const message of answer.Messages ?? []) {
      if (message.ReceiptHandle === undefined || message.MessageId === undefined) continue;
      const body = message.Body ?? "";
      this.receipts.set(message.MessageId, message.ReceiptHandle);
      messages.push({
        messageId: message.MessageId,
        body,
        parsed: readQueuedRecord(body),
        receiptHandle: message.ReceiptHandle,
      });
    }
    return messages;
  }

  async acknowledge(messages: readonly SourcedMessage[]): Promise<void> {
    await this.delete(messages);
  }

  async reject(messages: readonly SourcedMessage[]): Promise<string> {
    const deadLetterQueue = await this.deadLetterQueue();
    if (deadLetterQueue !== null) {
      for (const message of messages) this.receipts.delete(message.messageId);
      return `kept in the store and left on the queue: SQS moves it to the dead-letter queue ${deadLetterQueue} after its maxReceiveCount`;
    }
    await this.delete(messages);
    return "kept in the store and deleted from the queue, which has no dead-letter queue (RedrivePolicy)";
  }

  private async delete(messages: readonly SourcedMessage[]): Promise<void> {
    const handles = messages.flatMap((message) => {
      const handle = this.receipts.get(message.messageId);
      this.receipts.delete(message.messageId);
      return handle === undefined ? [] : [handle];
    });
    for (let start = 0; start < handles.length; start += BATCH) {
      const entries = handles
        .slice(start, start + BATCH)
        .map((handle, index) => ({ Id: String(index), ReceiptHandle: handle }));
      const answer = await this.send("sqs:DeleteMessageBatch", () =>
        this.options.client.send(new DeleteMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: entries })),
      );
      // A message not deleted comes back after its visibility timeout and is recorded as a duplicate: nothing is lost.
      const failed = answer.Failed ?? [];
      if (failed.length > 0)
        throw new BreakglassError(
          "AWS_FAILED",
          this.options.queueUrl,
          `sqs:DeleteMessageBatch refused ${failed.length} of ${entries.length} messages (${failed[0]?.Code ?? "?"}); ` +
            "they will be delivered again and recorded once",
        );
    }
  }

  /** The queue's dead-letter queue (its RedrivePolicy's deadLetterTargetArn), read once. */
  private deadLetterQueue(): Promise<string | null> {
    this.redrive ??= this.send("sqs:GetQueueAttributes", () =>
      this.options.client.send(
        new GetQueueAttributesCommand({ QueueUrl: this.options.queueUrl, AttributeNames: ["RedrivePolicy"] }),
      ),
    ).then((answer) => {
      const policy = answer.Attributes?.["RedrivePolicy"];
      if (policy === undefined || policy === "") return null;
      try {
        const target = (JSON.parse(policy) as { deadLetterTargetArn?: unknown }).deadLetterTargetArn;
        return typeof target === "string" ? target : null;
      } catch {
        return null;
      }
    });
    return this.redrive;
  }

  private async send<T>(call: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof BreakglassError) throw error;
      throw new BreakglassError(awsErrorCode(error), this.options.queueUrl, `${call} failed: ${describeError(error)}`, {
        cause: error,
      });
    }
  }
}

/** The Region in a queue URL (https://sqs.eu-west-1.amazonaws.com/…), or undefined for another endpoint. */
export function regionOfQueueUrl(queueUrl: string): string | undefined {
  return /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\//.exec(queueUrl)?.[1];
}
