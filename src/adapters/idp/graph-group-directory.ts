// Microsoft Graph (Entra ID) group membership: users by userPrincipalName or mail, members through the members navigation property.
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
  optionalString,
  UnexpectedAnswer,
} from "./foreign-json.js";
import { IdpHttpClient, pathSegment, type IdpConnectionOptions, type IdpRequest } from "./http-client.js";

const USER_FIELDS = "id,userPrincipalName,mail,displayName,accountEnabled";
const USER_TYPE = "#microsoft.graph.user";
/** The group's name and what decides whether its members can be changed through Graph. */
const GROUP_FIELDS = "id,displayName,groupTypes,mailEnabled,securityEnabled,onPremisesSyncEnabled,isAssignableToRole";
/** Entra ID object ids are GUIDs; Graph answers 400, not 404, to anything else in their place. */
const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** How Graph words a 400 to adding a member who is already one; it has no error code of its own. */
const ALREADY_A_MEMBER = /added object references already exist/i;
/**
 * How Graph words a 400 to removing an object that is not a member (notably after a retried DELETE whose first answer
 * was lost); Microsoft's own membership management takes it as already removed.
 */
const NOT_A_MEMBER = /removed object references do not exist/i;

interface GraphMember {
  readonly candidate: UserCandidate | null;
  readonly id: string;
  /** The OData type of a member that is not a user (a group, a device, a service principal), else null. */
  readonly otherType: string | null;
  /** Graph answered only its type and id: the app may not read that kind of object (limited information). */
  readonly limited: boolean;
}

/** The application permission that lets Graph return users' properties (not only ids) in a members listing. */
export const READ_USERS_PERMISSION = "User.Read.All";

export class GraphGroupDirectory implements GroupDirectory {
  readonly kind = "graph" as const;
  private readonly client: IdpHttpClient;

  /** `baseUrl` is https://graph.microsoft.com/v1.0, or a national cloud's v1.0 endpoint. */
  constructor(options: IdpConnectionOptions) {
    this.client = new IdpHttpClient({ ...options, api: "Graph", authScheme: "Bearer" });
  }

  async findUser(loginOrEmail: string): Promise<DirectoryUser | null> {
    this.client.requireValue(loginOrEmail, "the user to look up");
    const operation = `looking up user ${loginOrEmail}`;
    const literal = odataString(loginOrEmail);
    const members = await this.client.collectPages(
      {
        method: "GET",
        path: "/users",
        query: { $filter: `userPrincipalName eq ${literal} or mail eq ${literal}`, $select: USER_FIELDS },
        operation,
      },
      readMemberPage,
    );
    const matches = exactMatches(
      members.flatMap((member) => (member.candidate ? [member.candidate] : [])),
      loginOrEmail,
    );
    if (matches.length > 1) {
      throw this.client.error("USAGE", `${operation}: ${matches.length} users match: ${describeUsers(matches)}`, {
        hint: "name the responder by their userPrincipalName",
      });
    }
    return matches[0] ?? null;
  }

  async findGroup(nameOrId: string): Promise<DirectoryGroup | null> {
    this.client.requireValue(nameOrId, "the group to look up");
    const operation = `looking up group ${nameOrId}`;
    // `eq` on displayName is a default query capability of /groups: no ConsistencyLevel header, no $count. Graph
    // compares it without case. Then the id itself, so that a name which is also another group's id is reported.
    const named = await this.client.collectPages(
      {
        method: "GET",
        path: "/groups",
        query: { $filter: `displayName eq ${odataString(nameOrId)}`, $select: GROUP_FIELDS },
        operation,
      },
      readGroupPage,
    );
    const found: DirectoryGroup[] = [];
    if (OBJECT_ID.test(nameOrId)) {
      const req: IdpRequest = {
        method: "GET",
        path: `/groups/${pathSegment(nameOrId)}`,
        query: { $select: GROUP_FIELDS },
        operation,
        handles: [404],
      };
      const response = await this.client.send(req);
      if (response.status !== 404)
        found.push(this.client.read(req, response.body, (body) => readGroup(body, "the group")));
    }
    const matches = exactGroupMatches([...named, ...found], nameOrId);
    if (matches.length > 1) {
      throw this.client.error(
        "USAGE",
        `${operation}: ${matches.length} groups match: ${matches.map(describeGroup).join(", ")}`,
        { hint: "name the group by its object id" },
      );
    }
    return matches[0] ?? null;
  }

  async listMembers(groupId: string): Promise<DirectoryUser[]> {
    this.client.requireValue(groupId, "the group id");
    const operation = `listing members of group ${groupId}`;
    // Transitive: a nested group's members get in too, and are listed with the group itself (which fails closed below).
    const members = await this.client.collectPages(
      {
        method: "GET",
        path: `/groups/${pathSegment(groupId)}/transitiveMembers`,
        query: { $select: USER_FIELDS },
        operation,
      },
      readMemberPage,
    );
    // Graph's limited information: the member is a user whose properties the app may not read.
    const limited = members.find((member) => member.limited);
    if (limited) {
      throw this.client.error(
        "IDP_UNAUTHORIZED",
        `${operation}: Graph returned only the id of member ${limited.id} (limited information): the app cannot read users`,
        { hint: `grant the app the ${READ_USERS_PERMISSION} application permission (admin consent) in Entra ID` },
      );
    }
    // Fail closed: a nested group or a service principal in an emergency group also grants access, and we cannot list whom.
    const other = members.find((member) => member.candidate === null);
    if (other) {
      throw this.client.error(
        "IDP_FAILED",
        `${operation}: member ${other.id} is a ${other.otherType ?? "directory object"}, not a user; breakglass manages only direct user members`,
        { hint: "remove the nested member from the emergency group in Entra ID" },
      );
    }
    // Graph v1.0 leaves service principals out of member listings; counted by their type, they cannot hide.
    const servicePrincipals = await this.countServicePrincipals(groupId, operation);
    if (servicePrincipals > 0) {
      throw this.client.error(
        "IDP_FAILED",
        `${operation}: ${servicePrincipals} service principal${servicePrincipals === 1 ? " is a member" : "s are members"} ` +
          "(Graph v1.0 leaves them out of member listings); breakglass manages only user members",
        { hint: "remove the service principals (apps) from the emergency group in Entra ID" },
      );
    }
    return [
      ...new Map(
        members.flatMap((member) => (member.candidate ? [[member.id, member.candidate.user] as const] : [])),
      ).values(),
    ];
  }

  /** https://learn.microsoft.com/en-us/graph/api/group-list-transitivemembers : an OData cast, counted ($count needs ConsistencyLevel). */
  private async countServicePrincipals(groupId: string, operation: string): Promise<number> {
    const req: IdpRequest = {
      method: "GET",
      path: `/groups/${pathSegment(groupId)}/transitiveMembers/microsoft.graph.servicePrincipal/$count`,
      headers: { consistencylevel: "eventual" },
      operation,
    };
    const response = await this.client.send(req);
    return this.client.read(req, response.body, (body) => {
      if (typeof body !== "number" || !Number.isInteger(body) || body < 0)
        throw new UnexpectedAnswer(`expected a count of service principals, got ${JSON.stringify(body)}`);
      return body;
    });
  }

  async addMember(groupId: string, userId: string): Promise<void> {
    this.client.requireValue(groupId, "the group id");
    this.client.requireValue(userId, "the user id");
    const req: IdpRequest = {
      method: "POST",
      path: `/groups/${pathSegment(groupId)}/members/$ref`,
      body: { "@odata.id": `${this.client.root}/directoryObjects/${pathSegment(userId)}` },
      operation: `adding user ${userId} to group ${groupId}`,
      handles: [400],
    };
    const response = await this.client.send(req);
    if (response.status === 400 && !ALREADY_A_MEMBER.test(graphErrorMessage(response.body)))
      throw this.client.failure(req, response);
  }

  async removeMember(groupId: string, userId: string): Promise<void> {
    this.client.requireValue(groupId, "the group id");
    this.client.requireValue(userId, "the user id");
    const operation = `removing user ${userId} from group ${groupId}`;
    const req: IdpRequest = {
      method: "DELETE",
      path: `/groups/${pathSegment(groupId)}/members/${pathSegment(userId)}/$ref`,
      operation,
      handles: [400, 404],
    };
    const response = await this.client.send(req);
    if (response.status === 400) {
      if (NOT_A_MEMBER.test(graphErrorMessage(response.body))) return;
      throw this.client.failure(req, response);
    }
    if (response.status !== 404) return;
    // Graph answers 404 both for an object that does not exist (in no group: success) and for a missing group, which
    // must be reported.
    await this.client.send({
      method: "GET",
      path: `/groups/${pathSegment(groupId)}`,
      query: { $select: "id" },
      operation,
    });
  }
}

/** An OData string literal: single-quoted, a quote inside doubled. */
export function odataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function graphErrorMessage(body: unknown): string {
  return isRecord(body) && isRecord(body.error) && typeof body.error.message === "string" ? body.error.message : "";
}

function readMemberPage(body: unknown): { items: GraphMember[]; next: string | undefined } {
  const page = expectRecord(body, "the answer");
  const items = expectArray(page.value, "value").map((value, index) => readMember(value, `value[${index}]`));
  const next = optionalString(page["@odata.nextLink"], "@odata.nextLink");
  return { items, next: next ?? undefined };
}

function readGroupPage(body: unknown): { items: DirectoryGroup[]; next: string | undefined } {
  const page = expectRecord(body, "the answer");
  const items = expectArray(page.value, "value").map((value, index) => readGroup(value, `value[${index}]`));
  return { items, next: optionalString(page["@odata.nextLink"], "@odata.nextLink") ?? undefined };
}

function readGroup(value: unknown, where: string): DirectoryGroup {
  const record = expectRecord(value, where);
  const unmodifiable = unmodifiableReason(record);
  return {
    id: expectString(record.id, `${where}.id`),
    displayName: expectString(record.displayName, `${where}.displayName`),
    ...(unmodifiable === undefined ? {} : { unmodifiable }),
  };
}

/** https://learn.microsoft.com/en-us/graph/api/resources/groups-overview : which groups Graph can change members of. */
function unmodifiableReason(record: Record<string, unknown>): string | undefined {
  const types = Array.isArray(record.groupTypes) ? record.groupTypes : [];
  if (types.includes("DynamicMembership"))
    return "it is a dynamic group: Entra ID sets its members from a rule, and no one can add or remove them";
  if (record.onPremisesSyncEnabled === true)
    return "it is synchronised from on-premises Active Directory: change its members there, not through Graph";
  if (record.mailEnabled === true && !types.includes("Unified"))
    return record.securityEnabled === true
      ? "it is a mail-enabled security group, whose members Graph cannot change (Exchange Online manages them)"
      : "it is a distribution list, whose members Graph cannot change (Exchange Online manages them)";
  if (record.isAssignableToRole === true)
    return "it is role-assignable: changing its members also needs RoleManagement.ReadWrite.Directory, which breakglass does not ask for";
  return undefined;
}

function readMember(value: unknown, where: string): GraphMember {
  const record = expectRecord(value, where);
  const id = expectString(record.id, `${where}.id`);
  const type = optionalString(record["@odata.type"], `${where}.@odata.type`);
  // /users answers without a type; a members listing types every entry.
  if (type !== null && type !== USER_TYPE) return { candidate: null, id, otherType: type, limited: false };
  // https://learn.microsoft.com/en-us/graph/permissions-overview#limited-information-returned-for-inaccessible-member-objects
  const login = optionalString(record.userPrincipalName, `${where}.userPrincipalName`);
  if (login === null) return { candidate: null, id, otherType: type, limited: true };
  const user: DirectoryUser = {
    id,
    login,
    email: optionalString(record.mail, `${where}.mail`),
    displayName: optionalString(record.displayName, `${where}.displayName`),
    active: optionalBoolean(record.accountEnabled, `${where}.accountEnabled`) !== false,
  };
  return { candidate: { user, names: [user.login, user.email] }, id, otherType: null, limited: false };
}
