// Okta group membership through the Users and Groups APIs, with an SSWS API token or an OAuth service app's token, and
// Link-header paging.
import {
  describeGroup,
  describeUsers,
  exactGroupMatches,
  exactMatches,
  type DirectoryGroup,
  type DirectoryUser,
  type GroupDirectory,
  type UserCandidate,
} from "../../domain/ports/group-directory.js";
import { expectArray, expectRecord, expectString, optionalString } from "./foreign-json.js";
import {
  IdpHttpClient,
  pathSegment,
  type IdpConnectionOptions,
  type IdpRequest,
  type IdpResponse,
} from "./http-client.js";

/** Users read with status DEPROVISIONED (deactivated: a leaver's account Okta keeps). */
const deprovisioned = new WeakSet<DirectoryUser>();

/** Okta's largest page for users and group members. */
const PAGE_SIZE = 200;

/**
 * Statuses of an account that exists and is enabled, even if its owner must first reset a password or be unlocked.
 * STAGED and PROVISIONED users have never activated; SUSPENDED and DEPROVISIONED ones cannot sign in.
 */
const ENABLED_STATUSES = new Set(["ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY"]);

export class OktaGroupDirectory implements GroupDirectory {
  readonly kind = "okta" as const;
  private readonly client: IdpHttpClient;

  /**
   * `baseUrl` is the org URL, e.g. https://example.okta.com. A static token is an API token (SSWS); a token source is
   * an OAuth service app's (client credentials with private_key_jwt), sent as a Bearer token.
   */
  constructor(options: IdpConnectionOptions) {
    const authScheme = typeof options.token === "string" ? "SSWS" : "Bearer";
    this.client = new IdpHttpClient({ ...options, api: "Okta", authScheme });
  }

  async findUser(loginOrEmail: string): Promise<DirectoryUser | null> {
    this.client.requireValue(loginOrEmail, "the user to look up");
    const operation = `looking up user ${loginOrEmail}`;
    const literal = oktaString(loginOrEmail);
    // `search`, not `filter`: Okta compares login and email without case only in search expressions.
    const candidates = await this.client.collectPages(
      {
        method: "GET",
        path: "/api/v1/users",
        query: { search: `profile.login eq ${literal} or profile.email eq ${literal}`, limit: PAGE_SIZE },
        operation,
      },
      readUserPage,
    );
    const everyMatch = exactMatches(candidates, loginOrEmail);
    // Okta keeps a leaver's account, DEPROVISIONED, and search returns it: a re-hire's old account is not a second match.
    const current = everyMatch.filter((user) => !deprovisioned.has(user));
    const matches = current.length > 0 ? current : everyMatch;
    if (matches.length > 1) {
      throw this.client.error("USAGE", `${operation}: ${matches.length} users match: ${describeUsers(matches)}`, {
        hint: "name the responder by their Okta login",
      });
    }
    return matches[0] ?? null;
  }

  async findGroup(nameOrId: string): Promise<DirectoryGroup | null> {
    this.client.requireValue(nameOrId, "the group to look up");
    const operation = `looking up group ${nameOrId}`;
    // GET /api/v1/groups with a search expression on profile.name, all pages; then the id itself, so that a name which
    // is also another group's id is reported, not guessed.
    const named = await this.client.collectPages(
      {
        method: "GET",
        path: "/api/v1/groups",
        query: { search: `profile.name eq ${oktaString(nameOrId)}`, limit: PAGE_SIZE },
        operation,
      },
      readGroupPage,
    );
    const byId: IdpRequest = {
      method: "GET",
      path: `/api/v1/groups/${pathSegment(nameOrId)}`,
      operation,
      handles: [404],
    };
    const response = await this.client.send(byId);
    const found =
      response.status === 404 ? [] : [this.client.read(byId, response.body, (body) => readGroup(body, "the group"))];
    const matches = exactGroupMatches([...named, ...found], nameOrId);
    if (matches.length > 1) {
      throw this.client.error(
        "USAGE",
        `${operation}: ${matches.length} groups match: ${matches.map(describeGroup).join(", ")}`,
        { hint: "name the group by its Okta id (00g…)" },
      );
    }
    return matches[0] ?? null;
  }

  async listMembers(groupId: string): Promise<DirectoryUser[]> {
    this.client.requireValue(groupId, "the group id");
    const members = await this.client.collectPages(
      {
        method: "GET",
        path: `/api/v1/groups/${pathSegment(groupId)}/users`,
        query: { limit: PAGE_SIZE },
        operation: `listing members of group ${groupId}`,
      },
      readUserPage,
    );
    // A member who joins while we page can appear on two pages.
    return [...new Map(members.map(({ user }) => [user.id, user])).values()];
  }

  async addMember(groupId: string, userId: string): Promise<void> {
    this.client.requireValue(groupId, "the group id");
    this.client.requireValue(userId, "the user id");
    // Okta answers 204 whether or not the user was already a member.
    await this.client.send({
      method: "PUT",
      path: `/api/v1/groups/${pathSegment(groupId)}/users/${pathSegment(userId)}`,
      operation: `adding user ${userId} to group ${groupId}`,
    });
  }

  async removeMember(groupId: string, userId: string): Promise<void> {
    this.client.requireValue(groupId, "the group id");
    this.client.requireValue(userId, "the user id");
    const operation = `removing user ${userId} from group ${groupId}`;
    // Okta answers 204 for a user who was not a member; 404 means the group or the user does not exist.
    const response = await this.client.send({
      method: "DELETE",
      path: `/api/v1/groups/${pathSegment(groupId)}/users/${pathSegment(userId)}`,
      operation,
      handles: [404],
    });
    if (response.status !== 404) return;
    // A user that does not exist is in no group, which is what was asked; a missing group must still be reported.
    await this.client.send({ method: "GET", path: `/api/v1/groups/${pathSegment(groupId)}`, operation });
  }
}

/** A string literal in an Okta search expression: double-quoted, with quotes and backslashes escaped. */
export function oktaString(value: string): string {
  return JSON.stringify(value);
}

/** The target of the `rel="next"` link of an RFC 8288 Link header (Okta sends one header per link, or one joined by commas). */
export function nextLink(header: IdpResponse["headers"][string]): string | undefined {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  for (const value of values) {
    for (const [, target, parameters] of value.matchAll(/<([^>]*)>([^<]*)/g)) {
      const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(parameters ?? "");
      const relations = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/);
      if (target !== undefined && relations.includes("next")) return target;
    }
  }
  return undefined;
}

function readUserPage(
  body: unknown,
  headers: IdpResponse["headers"],
): { items: UserCandidate[]; next: string | undefined } {
  const items = expectArray(body, "the answer").map((value, index) => readUser(value, `[${index}]`));
  return { items, next: nextLink(headers.link) };
}

function readGroupPage(
  body: unknown,
  headers: IdpResponse["headers"],
): { items: DirectoryGroup[]; next: string | undefined } {
  const items = expectArray(body, "the answer").map((value, index) => readGroup(value, `[${index}]`));
  return { items, next: nextLink(headers.link) };
}

function readGroup(value: unknown, where: string): DirectoryGroup {
  const record = expectRecord(value, where);
  const profile = expectRecord(record.profile, `${where}.profile`);
  const type = optionalString(record.type, `${where}.type`);
  const unmodifiable = type === null ? undefined : UNMODIFIABLE_TYPES[type];
  return {
    id: expectString(record.id, `${where}.id`),
    displayName: expectString(profile.name, `${where}.profile.name`),
    ...(unmodifiable === undefined ? {} : { unmodifiable }),
  };
}

/** Group types whose members Okta lets no API client change (it answers 403 E0000006); only OKTA_GROUP can be used. */
const UNMODIFIABLE_TYPES: Readonly<Record<string, string>> = {
  APP_GROUP:
    "it is an Okta APP_GROUP, imported from an app or directory (AD, LDAP, Workday); its members are changed there, not in Okta",
  BUILT_IN: "it is an Okta BUILT_IN group (such as Everyone), whose members Okta manages itself",
};

function readUser(value: unknown, where: string): UserCandidate {
  const record = expectRecord(value, where);
  const profile = expectRecord(record.profile, `${where}.profile`);
  const status = expectString(record.status, `${where}.status`);
  const firstName = optionalString(profile.firstName, `${where}.profile.firstName`);
  const lastName = optionalString(profile.lastName, `${where}.profile.lastName`);
  const fullName = [firstName, lastName].filter((part) => part !== null && part !== "").join(" ");
  const user: DirectoryUser = {
    id: expectString(record.id, `${where}.id`),
    login: expectString(profile.login, `${where}.profile.login`),
    email: optionalString(profile.email, `${where}.profile.email`),
    displayName:
      optionalString(profile.displayName, `${where}.profile.displayName`) ?? (fullName === "" ? null : fullName),
    active: ENABLED_STATUSES.has(status),
  };
  if (status === "DEPROVISIONED") deprovisioned.add(user);
  return { user, names: [user.login, user.email] };
}
