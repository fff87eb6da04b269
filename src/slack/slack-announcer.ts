// The Announcer over Slack's Web API, and the one used without Slack credentials, which logs what it would have posted.
import type { webApi } from "@slack/bolt";
import { BreakglassError, describeError } from "../domain/errors.js";
import type { Announcer, ChannelRole, PostedMessage, SlackMessage } from "./slack-message.js";

export interface AnnouncerLog {
  info(message: string): void;
  warn(message: string): void;
}

export type ChannelMap = { readonly [Role in ChannelRole]?: string | undefined };

export interface PostOutcomeObserver {
  (outcome: "delivered" | "failed" | "logged"): void;
}

export class SlackAnnouncer implements Announcer {
  /** Per message (channel/ts): the update being sent and the one waiting, so one message's updates never overtake. */
  private readonly updates = new Map<string, UpdateQueue>();

  constructor(
    private readonly client: webApi.WebClient,
    private readonly channels: ChannelMap,
    private readonly log: AnnouncerLog,
    private readonly observe: PostOutcomeObserver = () => undefined,
  ) {}

  async announce(role: ChannelRole, message: SlackMessage, threadTs?: string): Promise<PostedMessage | null> {
    const channel = this.channels[role];
    if (channel === undefined) {
      this.log.info(`no slack.channels.${role} configured; not posted: ${message.text}`);
      this.observe("logged");
      return null;
    }
    return this.post(channel, message, threadTs);
  }

  /** Posts to a channel by its ID (a slash command's channel). Throws a one-line error naming the channel when Slack refuses. */
  async post(channel: string, message: SlackMessage, threadTs?: string): Promise<PostedMessage> {
    try {
      const result = await this.client.chat.postMessage({
        channel,
        text: message.text,
        blocks: [...message.blocks],
        unfurl_links: false,
        ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
      });
      this.observe("delivered");
      return { channel: result.channel ?? channel, ts: result.ts ?? "" };
    } catch (error) {
      this.observe("failed");
      throw new BreakglassError("FETCH_FAILED", `Slack chat.postMessage to ${channel}`, describeSlackError(error), {
        cause: error,
      });
    }
  }

  /**
   * Shares a file in a message's thread through Slack's upload flow (files.getUploadURLExternal, the bytes POSTed to the
   * URL it returns, files.completeUploadExternal with the channel and thread), as WebClient's filesUploadV2 does it.
   * Throws a one-line error with Slack's reason (missing_scope: the app lacks files:write; not_in_channel; …).
   */
  async attach(thread: PostedMessage, file: FileToShare): Promise<void> {
    try {
      await this.client.filesUploadV2({
        channel_id: thread.channel,
        thread_ts: thread.ts,
        file: file.bytes,
        filename: file.filename,
        title: file.title,
        initial_comment: file.comment,
      });
      this.observe("delivered");
    } catch (error) {
      this.observe("failed");
      throw new BreakglassError("FETCH_FAILED", `Slack file upload of ${file.filename}`, describeSlackError(error), {
        cause: error,
      });
    }
  }

  /**
   * Replaces a message's content. Updates of one message reach Slack one at a time and in order, the latest winning:
   * while one is in flight, a newer content waits, and replaces any content still waiting (which is never sent), so
   * Slack never shows an older view after a newer one. Resolves once this content, or a newer one, is delivered.
   */
  update(message: PostedMessage, content: SlackMessage): Promise<void> {
    const key = `${message.channel}/${message.ts}`;
    let queue = this.updates.get(key);
    if (queue === undefined) {
      queue = { sending: false, waiting: undefined };
      this.updates.set(key, queue);
    }
    const entry = queue;
    return new Promise<void>((resolve, reject) => {
      if (entry.waiting === undefined) entry.waiting = { content, settle: [{ resolve, reject }] };
      else entry.waiting = { content, settle: [...entry.waiting.settle, { resolve, reject }] };
      if (!entry.sending) void this.sendUpdates(key, message, entry);
    });
  }

  private async sendUpdates(key: string, message: PostedMessage, queue: UpdateQueue): Promise<void> {
    queue.sending = true;
    while (queue.waiting !== undefined) {
      const { content, settle } = queue.waiting;
      queue.waiting = undefined;
      try {
        await this.sendUpdate(message, content);
        for (const waiter of settle) waiter.resolve();
      } catch (error) {
        for (const waiter of settle) waiter.reject(error);
      }
    }
    queue.sending = false;
    this.updates.delete(key);
  }

  private async sendUpdate(message: PostedMessage, content: SlackMessage): Promise<void> {
    try {
      await this.client.chat.update({
        channel: message.channel,
        ts: message.ts,
        text: content.text,
        blocks: [...content.blocks],
      });
      this.observe("delivered");
    } catch (error) {
      this.observe("failed");
      throw new BreakglassError(
        "FETCH_FAILED",
        `Slack chat.update of ${message.channel}/${message.ts}`,
        describeSlackError(error),
        { cause: error },
      );
    }
  }
}

/** A file to share in Slack: its bytes, the name it gets, and the line that introduces it. */
export interface FileToShare {
  readonly bytes: Buffer;
  readonly filename: string;
  readonly title: string;
  readonly comment: string;
}

/** Per message: whether an update is on its way to Slack, and the newest content waiting to follow it. */
interface UpdateQueue {
  sending: boolean;
  waiting:
    | {
        readonly content: SlackMessage;
        readonly settle: readonly { resolve: () => void; reject: (error: unknown) => void }[];
      }
    | undefined;
}

/** Without Slack credentials: every message goes to the log, so an operator sees what the service would have said. */
export class LoggingAnnouncer implements Announcer {
  constructor(
    private readonly log: AnnouncerLog,
    private readonly observe: PostOutcomeObserver = () => undefined,
  ) {}

  announce(role: ChannelRole, message: SlackMessage, threadTs?: string): Promise<PostedMessage | null> {
    this.log.info(`would post to ${role}${threadTs === undefined ? "" : " (thread)"}: ${message.text}`);
    this.observe("logged");
    return Promise.resolve(null);
  }

  update(message: PostedMessage, content: SlackMessage): Promise<void> {
    this.log.info(`would update ${message.channel}/${message.ts}: ${content.text}`);
    this.observe("logged");
    return Promise.resolve();
  }
}

/** Slack's error code (channel_not_found, not_in_channel, ratelimited…) rather than the client's long text. */
export function describeSlackError(error: unknown): string {
  const data = (error as { data?: { error?: unknown } } | null)?.data;
  if (data && typeof data.error === "string") return data.error;
  return describeError(error);
}
