// SCIM 2.0 (RFC 7643/7644) group membership: users found by userName or email, members read from the group and changed with PATCH.
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
import {
  expectArray,
  expectRecord,
  expectString,
  isRecord,
  optionalBoolean,
  optionalNumber,
  optionalString,
  type JsonRecord,
} from "./foreign-json.js";
import {
  IdpHttpClient,
  pathSegment,
  type IdpConnectionOptions,
  type IdpRequest,
  type IdpResponse,
} from "./http-client.js";

const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const PAGE_SIZE = 100;
const MAX_PAGES = 1_000;
/**
 * The most resources a listing read to match locally is allowed to hold, when the server refuses the filter that would
 * have selected them (an email lookup on a server that filters users only by userName): past it, the lookup fails.
 */
const MAX_LISTED = 20_000;
/** Member records read at once when a group lists its members inline; emergency groups are small. */
const MEMBER_READS_IN_FLIGHT = 8;

interface ScimUser extends UserCandidate {
  /** The group ids the server lists on the user, or null when it does not return the attribute. */
  readonly groups: readonly string[] | null;
}

interface ScimMember {
  readonly value: string;
  readonly type: string | null;
}

export class ScimGroupDirectory implements GroupDirectory {
  readonly kind = "scim" as const;
  private readonly client: IdpHttpClient;

  constructor(options: IdpConnectionOptions) {
    this.client = new IdpHttpClient({
      ...options,
      api: "SCIM",
      authScheme: "Bearer",
      mediaType: "application/scim+json",
    });
  }

  async findUser(loginOrEmail: string): Promise<DirectoryUser | null> {
    this.client.requireValue(loginOrEmail, "the user to look up");
    const operation = `looking up user ${loginOrEmail}`;
    const literal = scimString(loginOrEmail);
    // Both lookups always run: a login that is also someone else's address is ambiguous, and the responder must hear so.
    const byLogin = await this.searchUsers(`userName eq ${literal}`, operation);
    const byEmail = await this.searchUsers(`emails.value eq ${literal}`, operation);
    // A server that filters users only by userName (IAM Identity Center's SCIM) refuses the email filter: then every
    // user is listed, page by page, and matched here.
    const candidates =
      byLogin === null || byEmail === null
        ? await this.listAll("/Users", {}, operation, readUserPage, (candidate) => candidate.user.id)
        : [...byLogin, ...byEmail];
    const matches = exactMatches(candidates, loginOrEmail);
    if (matches.length > 1) {
      throw this.client.error("USAGE", `${operation}: ${matches.length} users match: ${describeUsers(matches)}`, {
        hint: "name the responder by a login only one user has",
      });
    }
    return matches[0] ?? null;
  }

  async findGroup(nameOrId: string): Promise<DirectoryGroup | null> {
    this.client.requireValue(nameOrId, "the group to look up");
    const operation = `looking up group ${nameOrId}`;
    // By name (displayName is caseExact false in RFC 7643 §8.7.1, so servers compare it without case), and by id: both
    // always, so that a name which is also another group's id is reported, not guessed.
    const named =
      (await this.searchGroups(`displayName eq ${scimString(nameOrId)}`, operation)) ??
      (await this.listAll("/Groups", { attributes: "displayName" }, operation, readGroupPage, (group) => group.id));
    // Some servers answer 400 invalidValue, not 404, to an id not in their format (a name is seldom a UUID): no such id.
    const byId: IdpRequest = {
      method: "GET",
      path: `/Groups/${pathSegment(nameOrId)}`,
      query: { attributes: "displayName" },
      operation,
      handles: [400, 404],
    };
    const response = await this.client.send(byId);
    const found =
      response.status === 200 ? [this.client.read(byId, response.body, (body) => readGroup(body, "the group"))] : [];
    const matches = exactGroupMatches([...named, ...found], nameOrId);
    if (matches.length > 1) {
      throw this.client.error(
        "USAGE",
        `${operation}: ${matches.length} groups match: ${matches.map(describeGroup).join(", ")}`,
        { hint: "name the group by its id" },
      );
    }
    return matches[0] ?? null;
  }

  async listMembers(groupId: string): Promise<DirectoryUser[]> {
    this.client.requireValue(groupId, "the group id");
    const operation = `listing members of group ${groupId}`;
    const req: IdpRequest = {
      method: "GET",
      path: `/Groups/${pathSegment(groupId)}`,
      query: { attributes: "members" },
      operation,
    };
    const response = await this.client.send(req);
    const members = this.client.read(req, response.body, readInlineMembers);
    // RFC 7643 §2.5 omits an empty attribute, and some servers omit members of large groups, or always answer an empty
    // list (IAM Identity Center): an absent or empty list is confirmed by asking the users instead.
    if (members === null || members.length === 0) return this.listMembersByFilter(groupId, operation);
    const nested = members.find((member) => member.type !== null && member.type.toLowerCase() !== "user");
    if (nested) {
      throw this.client.error(
        "IDP_FAILED",
        `${operation}: member ${nested.value} is a ${nested.type}, not a user; breakglass manages only direct user members`,
        { hint: "remove the nested member from the emergency group in the IdP" },
      );
    }
    return this.readMembers([...new Set(members.map((member) => member.value))], operation);
  }

  async addMember(groupId: string, userId: string): Promise<void> {
    this.client.requireValue(groupId, "the group id");
    this.client.requireValue(userId, "the user id");
    // RFC 7644 §3.5.2.1: adding a value the attribute already holds changes nothing and succeeds.
    await this.client.send({
      method: "PATCH",
      path: `/Groups/${pathSegment(groupId)}`,
      body: { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: userId }] }] },
      operation: `adding user ${userId} to group ${groupId}`,
    });
  }

  async removeMember(groupId: string, userId: string): Promise<void> {
    this.client.requireValue(groupId, "the group id");
    this.client.requireValue(userId, "the user id");
    const req: IdpRequest = {
      method: "PATCH",
      path: `/Groups/${pathSegment(groupId)}`,
      body: { schemas: [PATCH_OP], Operations: [{ op: "remove", path: `members[value eq ${scimString(userId)}]` }] },
      operation: `removing user ${userId} from group ${groupId}`,
      handles: [400],
    };
    const response = await this.client.send(req);
    // A server may answer 400 noTarget when the filter matches no member (RFC 7644 §3.12): the user is already out.
    if (response.status === 400 && !(isRecord(response.body) && response.body.scimType === "noTarget"))
      throw this.client.failure(req, response);
  }

  /** The users the filter selects; null when the server does not support the filter (400 invalidFilter). */
  private async searchUsers(filter: string, operation: string): Promise<ScimUser[] | null> {
    const req: IdpRequest = {
      method: "GET",
      path: "/Users",
      query: { filter, count: PAGE_SIZE },
      operation,
      handles: [400],
    };
    const response = await this.client.send(req);
    if (this.refusedFilter(req, response)) return null;
    const page = this.client.read(req, response.body, readListResponse);
    // More answers than fit a page to an exact-match filter means the server ignored the filter: a match could hide on page two.
    if (page.totalResults > page.users.length) {
      throw this.client.error(
        "IDP_FAILED",
        `${operation}: the server answered ${page.totalResults} users to the filter ${filter}; it cannot have applied it`,
      );
    }
    return page.users;
  }

  /** Every group the filter selects, all pages; null when the server does not support the filter. */
  private async searchGroups(filter: string, operation: string): Promise<DirectoryGroup[] | null> {
    try {
      return await this.listAll(
        "/Groups",
        { filter, attributes: "displayName" },
        operation,
        readGroupPage,
        (g) => g.id,
      );
    } catch (error) {
      if (error instanceof UnsupportedFilter) return null;
      throw error;
    }
  }

  /** Whether a 400 answer is RFC 7644 §3.12's invalidFilter ("the specified filter syntax was invalid … or not supported"). */
  private refusedFilter(req: IdpRequest, response: IdpResponse): boolean {
    if (response.status !== 400) return false;
    if (isRecord(response.body) && response.body.scimType === "invalidFilter") return true;
    throw this.client.failure(req, response);
  }

  /**
   * Every resource of a listing, all pages (at most MAX_LISTED resources): by startIndex (RFC 7644 §3.4.2.4), or by
   * cursor (RFC 9865) once the server answers a nextCursor, or when it ignores startIndex (it answers the same page
   * again), which servers that page only by cursor do. Throws UnsupportedFilter on a 400 invalidFilter.
   */
  private async listAll<T>(
    path: string,
    query: Readonly<Record<string, string>>,
    operation: string,
    readPage: (body: unknown) => ScimPage<T>,
    idOf: (item: T) => string,
  ): Promise<T[]> {
    const items = new Map<string, T>();
    let position: { startIndex: number } | { cursor: string } = { startIndex: 1 };
    let triedCursor = false;
    for (let page = 1; ; page++) {
      const req: IdpRequest = {
        method: "GET",
        path,
        query: { ...query, ...position, count: PAGE_SIZE },
        operation,
        handles: [400],
      };
      const response = await this.client.send(req);
      if (this.refusedFilter(req, response)) throw new UnsupportedFilter();
      const list = this.client.read(req, response.body, readPage);
      let added = 0;
      for (const item of list.items) {
        if (!items.has(idOf(item))) added++;
        items.set(idOf(item), item);
      }
      if (items.size > MAX_LISTED)
        throw this.client.error("IDP_FAILED", `${operation}: the listing holds more than ${MAX_LISTED} resources`);
      if (list.nextCursor !== null) position = { cursor: list.nextCursor };
      else if ("cursor" in position || list.items.length === 0) return [...items.values()];
      else {
        // A page of nothing new is a server that ignores startIndex, whatever its totalResults says.
        const ignored = added === 0 && position.startIndex > 1;
        if (!ignored && position.startIndex - 1 + list.items.length >= (list.totalResults ?? 0))
          return [...items.values()];
        if (ignored) {
          if (triedCursor)
            throw this.client.error(
              "IDP_FAILED",
              `${operation}: the page at startIndex ${position.startIndex} repeats resources already listed; the server ignores startIndex`,
            );
          // It ignores startIndex: ask again from the start by cursor (RFC 9865), which such servers page by.
          triedCursor = true;
          position = { cursor: "" };
        } else position = { startIndex: position.startIndex + list.items.length };
      }
      if (page >= MAX_PAGES) throw this.client.error("IDP_FAILED", `${operation}: gave up after ${MAX_PAGES} pages`);
    }
  }

  private async readMembers(ids: readonly string[], operation: string): Promise<DirectoryUser[]> {
    const users: DirectoryUser[] = [];
    for (let start = 0; start < ids.length; start += MEMBER_READS_IN_FLIGHT) {
      const batch = ids.slice(start, start + MEMBER_READS_IN_FLIGHT);
      users.push(...(await Promise.all(batch.map((id) => this.readMember(id, operation)))));
    }
    return users;
  }

  private async readMember(id: string, operation: string): Promise<DirectoryUser> {
    const req: IdpRequest = { method: "GET", path: `/Users/${pathSegment(id)}`, operation, handles: [404] };
    const response = await this.client.send(req);
    if (response.status === 404) {
      // Fail closed: something we cannot read may still grant access through the group.
      throw this.client.error("IDP_FAILED", `${operation}: member ${id} is not a user this API can read (HTTP 404)`, {
        hint: "look at the group in the IdP's console",
      });
    }
    return this.client.read(req, response.body, (body) => readUser(body, "the user").user);
  }

  private async listMembersByFilter(groupId: string, operation: string): Promise<DirectoryUser[]> {
    const filter = `groups.value eq ${scimString(groupId)}`;
    let listed: ScimUser[];
    try {
      listed = await this.listAll("/Users", { filter }, operation, readUserPage, (candidate) => candidate.user.id);
    } catch (error) {
      if (!(error instanceof UnsupportedFilter)) throw error;
      // Fail closed: a group whose members cannot be read is not an empty group.
      throw this.client.error(
        "IDP_FAILED",
        `${operation}: membership unknown: the server answers the group without members and refuses the filter ${filter} ` +
          "(400 invalidFilter), so breakglass cannot tell who is in it and does not take it as empty",
        {
          hint: "point idp.directory at an API that lists group members (IAM Identity Center's own SCIM endpoint does not, and is down in FM3)",
        },
      );
    }
    for (const { user, groups } of listed) {
      if (groups !== null && !groups.includes(groupId)) {
        throw this.client.error(
          "IDP_FAILED",
          `${operation}: the server answered user ${user.id}, who is not in the group, to the filter ${filter}`,
        );
      }
    }
    return listed.map((candidate) => candidate.user);
  }
}

/** A 400 invalidFilter to a listing: the caller falls back to a filter the server supports, or to listing everything. */
class UnsupportedFilter extends Error {
  override readonly name = "UnsupportedFilter";
}

/** One page of a listing: its items, and how to ask for the next (totalResults by index, nextCursor by cursor). */
interface ScimPage<T> {
  readonly items: readonly T[];
  readonly totalResults: number | null;
  readonly nextCursor: string | null;
}

function readUserPage(body: unknown): ScimPage<ScimUser> {
  const list = expectRecord(body, "the list response");
  const resources = list.Resources === undefined ? [] : expectArray(list.Resources, "Resources");
  return {
    items: resources.map((resource, index) => readUser(resource, `Resources[${index}]`)),
    totalResults: optionalNumber(list.totalResults, "totalResults"),
    nextCursor: optionalString(list.nextCursor, "nextCursor") || null,
  };
}

function readGroupPage(body: unknown): ScimPage<DirectoryGroup> {
  const list = expectRecord(body, "the list response");
  const resources = list.Resources === undefined ? [] : expectArray(list.Resources, "Resources");
  return {
    items: resources.map((resource, index) => readGroup(resource, `Resources[${index}]`)),
    totalResults: optionalNumber(list.totalResults, "totalResults"),
    nextCursor: optionalString(list.nextCursor, "nextCursor") || null,
  };
}

/** A SCIM filter string literal (RFC 7644 §3.4.2.2): a JSON string, so quotes and backslashes are escaped. */
export function scimString(value: string): string {
  return JSON.stringify(value);
}

function readListResponse(body: unknown): { users: ScimUser[]; totalResults: number } {
  const list = expectRecord(body, "the list response");
  // Resources may be absent when nothing matched (RFC 7644 §3.4.2).
  const resources = list.Resources === undefined ? [] : expectArray(list.Resources, "Resources");
  const users = resources.map((resource, index) => readUser(resource, `Resources[${index}]`));
  const totalResults = optionalNumber(list.totalResults, "totalResults") ?? users.length;
  return { users, totalResults };
}

function readGroup(value: unknown, where: string): DirectoryGroup {
  const record = expectRecord(value, where);
  return {
    id: expectString(record.id, `${where}.id`),
    displayName: expectString(record.displayName, `${where}.displayName`),
  };
}

function readInlineMembers(body: unknown): ScimMember[] | null {
  const group = expectRecord(body, "the group");
  if (group.members === undefined || group.members === null) return null;
  return expectArray(group.members, "members").map((member, index) => {
    const where = `members[${index}]`;
    const record = expectRecord(member, where);
    return { value: expectString(record.value, `${where}.value`), type: optionalString(record.type, `${where}.type`) };
  });
}

function readUser(value: unknown, where: string): ScimUser {
  const record = expectRecord(value, where);
  const emails = readEmails(record, where);
  const name =
    record.name === undefined || record.name === null ? undefined : expectRecord(record.name, `${where}.name`);
  const user: DirectoryUser = {
    id: expectString(record.id, `${where}.id`),
    login: expectString(record.userName, `${where}.userName`),
    email: (emails.find((email) => email.primary) ?? emails[0])?.value ?? null,
    displayName:
      optionalString(record.displayName, `${where}.displayName`) ??
      (name ? optionalString(name.formatted, `${where}.name.formatted`) : null),
    // `active` is optional in SCIM; a server that does not model it has no disabled users to report.
    active: optionalBoolean(record.active, `${where}.active`) !== false,
  };
  const groups =
    record.groups === undefined || record.groups === null
      ? null
      : expectArray(record.groups, `${where}.groups`).map((group, index) =>
          expectString(expectRecord(group, `${where}.groups[${index}]`).value, `${where}.groups[${index}].value`),
        );
  return { user, names: [user.login, ...emails.map((email) => email.value)], groups };
}

function readEmails(record: JsonRecord, where: string): { value: string; primary: boolean }[] {
  if (record.emails === undefined || record.emails === null) return [];
  return expectArray(record.emails, `${where}.emails`).flatMap((email, index) => {
    const entry = expectRecord(email, `${where}.emails[${index}]`);
    const value = optionalString(entry.value, `${where}.emails[${index}].value`);
    if (value === null) return [];
    return [{ value, primary: optionalBoolean(entry.primary, `${where}.emails[${index}].primary`) === true }];
  });
}
