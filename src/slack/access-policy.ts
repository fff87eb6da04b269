// Who may do what from Slack (access and slack.access in breakglass.yaml): a person listed by name, by Slack user id or
// through a user group; and the polite refusal for everyone else.
import { systemClock, type Clock } from "../domain/shared/clock.js";
import { contextBlock, sectionBlock } from "./blocks.js";
import { escapeMrkdwn, mentionPrincipal } from "./mrkdwn.js";
import type { SlackMessage } from "./slack-message.js";

/** What changes state needs a permission; reading (help, status, runbook list and status, the App Home) is open to anyone. */
export const PERMISSIONS = ["run", "approve", "grant"] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** slack.access: Slack user ids (U…, W…) and user-group ids (S…) per permission. */
export type AccessLists = Readonly<Record<Permission, readonly string[]>>;

/** The user ids in a Slack user group (usergroups.users.list); throws when Slack cannot say. */
export type UserGroupMembers = (groupId: string) => Promise<readonly string[]>;

export interface AccessPolicyOptions {
  /** How long a group's member list is trusted; default 60 s. */
  readonly cacheMilliseconds?: number;
  readonly clock?: Clock;
  /** Told of every failed group lookup, so the service can log it; the person is refused meanwhile. */
  readonly onLookupFailure?: (groupId: string, error: unknown) => void;
  /** The rules every front end shares (people's names, their Slack ids): whether the person behind this user id may. */
  readonly personAllows?: (userId: string, permission: Permission) => boolean;
}

export const DEFAULT_GROUP_CACHE_MILLISECONDS = 60_000;

const USER_ID = /^[UW][A-Z0-9]+$/;
const SLACK_ID = /^[UWS][A-Z0-9]+$/;
const MAX_NAMED = 8;

/** What each permission lets a person do, for the refusal and for people reading the config. */
export const PERMISSION_DESCRIPTIONS: Readonly<Record<Permission, string>> = {
  run: "start, resume and abort runbook runs, and declare or close incidents",
  approve: "approve or reject runbook steps",
  grant: "grant and revoke emergency group membership",
};

interface CachedMembers {
  readonly members: ReadonlySet<string>;
  readonly fetchedAt: number;
}

export class AccessPolicy {
  private readonly access: AccessLists;
  private readonly groupMembers: UserGroupMembers;
  private readonly cacheMilliseconds: number;
  private readonly clock: Clock;
  private readonly onLookupFailure: (groupId: string, error: unknown) => void;
  private readonly personAllows: (userId: string, permission: Permission) => boolean;
  private readonly cache = new Map<string, CachedMembers>();
  // One lookup per group at a time: a burst of button presses must not become a burst of API calls.
  private readonly pending = new Map<string, Promise<ReadonlySet<string> | null>>();

  constructor(access: AccessLists, groupMembers: UserGroupMembers, options: AccessPolicyOptions = {}) {
    this.access = { run: [...access.run], approve: [...access.approve], grant: [...access.grant] };
    this.groupMembers = groupMembers;
    this.cacheMilliseconds = options.cacheMilliseconds ?? DEFAULT_GROUP_CACHE_MILLISECONDS;
    this.clock = options.clock ?? systemClock;
    this.onLookupFailure = options.onLookupFailure ?? (() => undefined);
    this.personAllows = options.personAllows ?? (() => false);
  }

  /** Whether the person may; a user group that cannot be read grants nothing (fail closed) until it can. */
  async allows(userId: string, permission: Permission): Promise<boolean> {
    if (!USER_ID.test(userId)) return false;
    const principals = this.access[permission];
    if (principals.includes(userId) || this.personAllows(userId, permission)) return true;
    for (const groupId of principals.filter((principal) => principal.startsWith("S"))) {
      const members = await this.members(groupId);
      if (members?.has(userId) === true) return true;
    }
    return false;
  }

  /** The reply to someone refused: what they tried, and who could do it for them (or add them). */
  refusal(permission: Permission, what: string): SlackMessage {
    return refusal(permission, what, this.access);
  }

  /** A group's members, from the cache while fresh; null when the lookup failed (not cached, so the next call tries again). */
  private async members(groupId: string): Promise<ReadonlySet<string> | null> {
    const cached = this.cache.get(groupId);
    const now = this.clock.now().getTime();
    if (cached !== undefined && now - cached.fetchedAt < this.cacheMilliseconds && now >= cached.fetchedAt)
      return cached.members;
    const inFlight = this.pending.get(groupId);
    if (inFlight !== undefined) return inFlight;
    const lookup = this.lookUp(groupId).finally(() => this.pending.delete(groupId));
    this.pending.set(groupId, lookup);
    return lookup;
  }

  private async lookUp(groupId: string): Promise<ReadonlySet<string> | null> {
    try {
      const members = new Set(await this.groupMembers(groupId));
      this.cache.set(groupId, { members, fetchedAt: this.clock.now().getTime() });
      return members;
    } catch (error) {
      this.cache.delete(groupId);
      try {
        this.onLookupFailure(groupId, error);
      } catch {
        // A logger that throws must not turn a refusal into an error.
      }
      return null;
    }
  }
}

/**
 * "Sorry, you are not allowed to <what>." followed by who can, as mentions (a group mention in an ephemeral reply
 * notifies nobody), or by the config key to fill when nobody can.
 */
export function refusal(permission: Permission, what: string, access: AccessLists): SlackMessage {
  const principals = access[permission];
  const key = `slack.access.${permission}`;
  const sorry = `Sorry, you are not allowed to ${escapeMrkdwn(what.trim().replace(/\.$/, ""))}.`;
  let next: string;
  if (principals.length === 0) {
    next = `Nobody is allowed to from Slack yet: \`${key}\` in breakglass.yaml is empty. Ask whoever runs breakglass to list the responders there.`;
  } else {
    // People are listed by name too: a name is not a Slack id, so it is shown as written.
    const named = principals
      .slice(0, MAX_NAMED)
      .map((principal) => (SLACK_ID.test(principal) ? mentionPrincipal(principal) : escapeMrkdwn(principal)));
    const more = principals.length > MAX_NAMED ? ` and ${principals.length - MAX_NAMED} more` : "";
    const users = principals.filter((principal) => !/^S[A-Z0-9]+$/.test(principal)).length;
    const groups = principals.length - users;
    const who = groups === 0 ? "Ask" : users === 0 ? "Ask someone in" : "Ask one of";
    next = `${who} ${joinList(named)}${more} to do it, or to add you to \`${key}\` in breakglass.yaml.`;
  }
  const text = `${sorry} ${next}`;
  return {
    text,
    blocks: [sectionBlock(`:lock: ${text}`), contextBlock(`\`${key}\` may ${PERMISSION_DESCRIPTIONS[permission]}.`)],
  };
}

function joinList(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}
