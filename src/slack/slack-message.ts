// The port between what breakglass says and where it goes: a Block Kit message, posted to a channel role or a channel.
import type { types } from "@slack/bolt";

type KnownBlock = types.KnownBlock;

/** The channels configured in slack.channels; runbooks' notify steps name them too ("incident" is incidents). */
export const CHANNEL_ROLES = ["alerts", "incidents", "security"] as const;
export type ChannelRole = (typeof CHANNEL_ROLES)[number];

export interface SlackMessage {
  /** The plain-text fallback: notifications, screen readers, and the log when Slack is not configured. */
  readonly text: string;
  readonly blocks: readonly KnownBlock[];
}

export interface PostedMessage {
  readonly channel: string;
  readonly ts: string;
}

/**
 * Posts to the configured channels. `announce` throws when the message could not be delivered, so a caller that must
 * say something exactly once records it only after a success; it returns null when Slack is not configured (the
 * message was logged instead) or the role has no channel.
 */
export interface Announcer {
  announce(role: ChannelRole, message: SlackMessage, threadTs?: string): Promise<PostedMessage | null>;
  update(message: PostedMessage, content: SlackMessage): Promise<void>;
}
