// A SCIM 2.0 service provider on loopback HTTPS: scimmy and scimmy-routers over an in-memory directory its owner (a test, the drill)
// seeds and reads, so filters, paging and PATCH are scimmy's, not ours.
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";
import { startServer, type TestServer } from "./https-server.js";
import { RequestFaults } from "./request-faults.js";

export interface ScimTestUser {
  readonly id: string;
  readonly userName: string;
  readonly emails?: readonly string[];
  readonly displayName?: string;
  readonly active?: boolean;
}

interface ScimTestGroup {
  readonly id: string;
  readonly displayName: string;
  /** Member ids. A set, as a directory keeps memberships: adding an existing member changes nothing (RFC 7644 §3.5.2.1). */
  readonly members: Set<string>;
  /** Like servers that leave members out of GET answers for large groups, so clients must ask the users instead. */
  readonly hideMembersOnRead: boolean;
}

/** The directory behind the SCIM server; tests seed it and read it directly to check what the client did. */
export class ScimDirectoryStore {
  readonly users = new Map<string, ScimTestUser>();
  readonly groups = new Map<string, ScimTestGroup>();
  /**
   * When set, like a server that caps `count` (RFC 7644 §3.4.2.4 lets it answer fewer): listings hold at most this many
   * users, and every group leaves its members out of GET answers so that clients must page through the users instead.
   */
  pageSize: number | null = null;
  /**
   * When set, answers reads as AWS IAM Identity Center's SCIM documents it (developer guide: ListUsers, ListGroups,
   * GetGroup, "Limitations from SCIM specification"): filters only `eq` on userName, externalId or id for users, and
   * displayName, externalId, id, or id and members for groups, any other a 400 invalidFilter; groups always with an
   * empty member list; lists without `cursor` in one page of at most `count` (default 100) with startIndex ignored, and
   * with `cursor` (RFC 9865) in pages of `cursorPageSize` with a nextCursor while more remain.
   */
  filterLimited = false;
  cursorPageSize = 100;

  addUser(user: ScimTestUser): void {
    this.users.set(user.id, user);
  }

  addGroup(
    id: string,
    displayName: string,
    options: { hideMembersOnRead?: boolean; members?: readonly string[] } = {},
  ): void {
    this.groups.set(id, {
      id,
      displayName,
      members: new Set(options.members ?? []),
      hideMembersOnRead: options.hideMembersOnRead ?? false,
    });
  }

  membersOf(groupId: string): string[] {
    return [...(this.groups.get(groupId)?.members ?? [])];
  }
}

export interface ScimTestServer extends TestServer {
  /** The SCIM base URL, e.g. https://127.0.0.1:1234/scim/v2. */
  readonly baseUrl: string;
  readonly store: ScimDirectoryStore;
  /** Every request as it arrived, before Express rewrote its URL for the mounted router. */
  readonly received: { readonly method: string; readonly url: URL; readonly contentType: string | undefined }[];
  /** Faults for the next requests, before scimmy sees them: 429 with Retry-After, 5xx, no answer. */
  readonly faults: RequestFaults;
}

interface RequestContext {
  readonly method: string;
}

/** Starts the server; scimmy's resource declarations are process-wide, so call this once per test file. */
export async function startScimServer(token: string): Promise<ScimTestServer> {
  const store = new ScimDirectoryStore();
  declareResources(store);

  const app = express();
  // scimmy-routers turns startIndex and count into numbers by assigning to req.query, which Express 5 recomputes on
  // every read; a plain copy lets the assignment stick, as it did in Express 4 for which scimmy-routers was written.
  app.use((req, _res, next) => {
    const query: Record<string, unknown> = { ...req.query };
    if (store.pageSize !== null && query.count !== undefined)
      query.count = String(Math.min(Number(query.count), store.pageSize));
    Object.defineProperty(req, "query", { value: query, writable: true, configurable: true, enumerable: true });
    next();
  });
  app.use("/scim/v2", (req, res, next) => {
    if (!store.filterLimited || req.method !== "GET") return next();
    if (req.header("authorization") !== `Bearer ${token}`) return next();
    answerAsIdentityCenter(store, req, res);
  });
  app.use(
    "/scim/v2",
    new SCIMMYRouters({
      type: "bearer",
      handler: (req) => {
        if (req.header("authorization") !== `Bearer ${token}`)
          throw new SCIMMY.Types.Error(401, "", "invalid bearer token");
        return "breakglass";
      },
      context: (req): RequestContext => ({ method: req.method }),
    }),
  );
  const received: ScimTestServer["received"] = [];
  const faults = new RequestFaults();
  const server = await startServer((request, response) => {
    received.push({
      method: request.method ?? "",
      url: new URL(request.url ?? "/", "https://127.0.0.1"),
      contentType: request.headers["content-type"],
    });
    const fault = faults.take();
    if (fault?.kind === "hang") return;
    if (fault !== undefined) {
      const status = fault.kind === "throttle" ? 429 : fault.status;
      const detail = fault.kind === "throttle" ? "Too many requests" : "Service temporarily unavailable";
      response.writeHead(status, {
        "content-type": "application/scim+json",
        ...(fault.kind === "throttle" ? { "retry-after": String(fault.seconds) } : {}),
      });
      return void response.end(
        JSON.stringify({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: String(status), detail }),
      );
    }
    void app(request, response);
  });
  return { ...server, baseUrl: `${server.url}/scim/v2`, store, received, faults };
}

function declareResources(store: ScimDirectoryStore): void {
  SCIMMY.Resources.declare(SCIMMY.Resources.User)
    .egress((resource) => {
      const users = [...store.users.values()].map((user) => scimUser(store, user));
      if (resource.id !== undefined) return users.find((user) => user.id === resource.id) ?? notFound(resource.id);
      return resource.filter ? matchIgnoringCase(resource.filter, users) : users;
    })
    .ingress(() => {
      throw new SCIMMY.Types.Error(501, "", "users are provisioned by the test, not over SCIM");
    })
    .degress(() => {
      throw new SCIMMY.Types.Error(501, "", "users are provisioned by the test, not over SCIM");
    });

  SCIMMY.Resources.declare(SCIMMY.Resources.Group)
    .egress((resource, context?: RequestContext) => {
      // A PATCH reads the group first; hiding members there would make scimmy write back a truncated list.
      const hide = context?.method === "GET";
      const groups = [...store.groups.values()].map((group) => scimGroup(store, group, hide));
      if (resource.id !== undefined) return groups.find((group) => group.id === resource.id) ?? notFound(resource.id);
      return resource.filter ? matchIgnoringCase(resource.filter, groups) : groups;
    })
    .ingress((resource, instance) => {
      const group = resource.id === undefined ? undefined : store.groups.get(resource.id);
      if (!group)
        throw new SCIMMY.Types.Error(
          resource.id === undefined ? 501 : 404,
          "",
          resource.id === undefined ? "groups are created by the test" : `Resource ${resource.id} not found`,
        );
      group.members.clear();
      for (const member of instance.members ?? []) group.members.add(member.value);
      return scimGroup(store, group, false);
    })
    .degress(() => {
      throw new SCIMMY.Types.Error(501, "", "groups are deleted by the test, not over SCIM");
    });
}

/**
 * scimmy compares filter values with their case; RFC 7643 makes userName, emails and members caseExact false, and servers
 * compare them without case. Every value here may be compared without case, so the filter and the resources are lowered.
 */
function matchIgnoringCase<T>(filter: SCIMMY.Types.Filter, resources: T[]): T[] {
  const lowered = resources.map((resource) => JSON.parse(JSON.stringify(resource).toLowerCase()) as object);
  const matched = new Set(new SCIMMY.Types.Filter(filter.expression.toLowerCase()).match(lowered));
  return resources.filter((_, index) => matched.has(lowered[index]!));
}

function scimUser(store: ScimDirectoryStore, user: ScimTestUser) {
  const groups = [...store.groups.values()].filter((group) => group.members.has(user.id));
  return {
    id: user.id,
    userName: user.userName,
    ...(user.displayName === undefined ? {} : { displayName: user.displayName }),
    active: user.active ?? true,
    // Always an array: scimmy's filter cannot descend into an absent multi-valued attribute.
    emails: (user.emails ?? []).map((value, index) => ({ value, type: "work", primary: index === 0 })),
    groups: groups.map((group) => ({ value: group.id, display: group.displayName, type: "direct" })),
  };
}

function scimGroup(store: ScimDirectoryStore, group: ScimTestGroup, hideMembers: boolean) {
  const members =
    hideMembers && (group.hideMembersOnRead || store.pageSize !== null)
      ? []
      : [...group.members].map((value) => ({ value, type: store.groups.has(value) ? "Group" : "User" }));
  return { id: group.id, displayName: group.displayName, ...(members.length === 0 ? {} : { members }) };
}

const SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";
const SCIM_LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/** Identity Center's filter grammar: `<attribute> eq "<value>"`, and for groups also `id eq "…" and members eq "…"`. */
const EQ = /^(\w+) eq "((?:[^"\\]|\\.)*)"$/;

function answerAsIdentityCenter(store: ScimDirectoryStore, req: express.Request, res: express.Response): void {
  const send = (status: number, body: unknown) =>
    void res.status(status).type("application/scim+json").send(JSON.stringify(body));
  const invalid = (detail: string) =>
    send(400, { schemas: [SCIM_ERROR], status: "400", scimType: "invalidFilter", detail });
  const group = (g: ScimTestGroup) => ({ id: g.id, displayName: g.displayName, members: [] });
  const user = (u: ScimTestUser) => {
    const { groups: _groups, ...rest } = scimUser(store, u);
    // One email at most: Identity Center keeps no multi-valued attributes for users.
    return { ...rest, emails: rest.emails.slice(0, 1) };
  };
  const path = req.path.split("/").filter(Boolean);
  if (path[0] === "Groups" && path[1] !== undefined) {
    const found = store.groups.get(decodeURIComponent(path[1]));
    if (!found) return send(404, { schemas: [SCIM_ERROR], status: "404", detail: `Resource ${path[1]} not found` });
    return send(200, group(found));
  }
  const query = req.query as Record<string, string | undefined>;
  let resources: object[];
  const clauses = (query.filter ?? "").split(/ and /i).filter(Boolean);
  const parsed = clauses.map((clause) => EQ.exec(clause.trim()));
  if (parsed.some((match) => match === null)) return invalid(`Unsupported filter: ${query.filter}`);
  const terms = new Map(parsed.map((match) => [match![1]!, JSON.parse(`"${match![2]!}"`) as string]));
  if (path[0] === "Users") {
    if ([...terms.keys()].some((key) => !["userName", "externalId", "id"].includes(key)) || terms.size > 1)
      return invalid(`Unsupported filter: ${query.filter}`);
    resources = [...store.users.values()]
      .filter((u) => (terms.has("userName") ? u.userName.toLowerCase() === terms.get("userName")!.toLowerCase() : true))
      .filter((u) => (terms.has("id") ? u.id === terms.get("id") : true))
      .filter(() => !terms.has("externalId"))
      .map(user);
  } else if (path[0] === "Groups") {
    const keys = [...terms.keys()].sort().join(",");
    if (!["", "displayName", "externalId", "id", "id,members"].includes(keys))
      return invalid(`Unsupported filter: ${query.filter}`);
    resources = [...store.groups.values()]
      .filter((g) =>
        terms.has("displayName") ? g.displayName.toLowerCase() === terms.get("displayName")!.toLowerCase() : true,
      )
      .filter((g) => (terms.has("id") ? g.id === terms.get("id") : true))
      .filter((g) => (terms.has("members") ? g.members.has(terms.get("members")!) : true))
      .filter(() => !terms.has("externalId"))
      .map(group);
  } else {
    return send(404, { schemas: [SCIM_ERROR], status: "404", detail: "Endpoint Not Found" });
  }
  const count = Math.min(Number(query.count ?? 100), 100);
  if (query.cursor === undefined) {
    // Not paginated: the first `count`, whatever startIndex says.
    const page = resources.slice(0, count);
    return send(200, {
      schemas: [SCIM_LIST],
      totalResults: resources.length,
      itemsPerPage: page.length,
      startIndex: 1,
      Resources: page,
    });
  }
  const offset = query.cursor === "" ? 0 : Number(Buffer.from(query.cursor, "base64url").toString());
  const size = Math.min(count, store.cursorPageSize);
  const page = resources.slice(offset, offset + size);
  const next = offset + size < resources.length ? Buffer.from(String(offset + size)).toString("base64url") : undefined;
  send(200, {
    schemas: [SCIM_LIST],
    itemsPerPage: page.length,
    Resources: page,
    ...(next === undefined ? {} : { nextCursor: next }),
  });
}

function notFound(id: string): never {
  throw new SCIMMY.Types.Error(404, "", `Resource ${id} not found`);
}
