// A loopback stand-in for the few Microsoft Graph v1.0 endpoints breakglass uses, answering with the documented shapes:
// https://learn.microsoft.com/en-us/graph/api/user-list , https://learn.microsoft.com/en-us/graph/api/group-list ,
// https://learn.microsoft.com/en-us/graph/api/group-get , https://learn.microsoft.com/en-us/graph/api/group-list-members ,
// https://learn.microsoft.com/en-us/graph/api/group-post-members , https://learn.microsoft.com/en-us/graph/api/group-delete-members
// (204; 400 Request_BadRequest for an object that is not a member; 404 for one that does not exist),
// https://learn.microsoft.com/en-us/graph/errors and https://learn.microsoft.com/en-us/graph/throttling (429 with Retry-After).
import type { IncomingMessage, ServerResponse } from "node:http";
import { startServer, type TestServer } from "./https-server.js";
import { RequestFaults } from "./request-faults.js";
import { OAuthTokenIssuer } from "./oauth-token-issuer.js";

/** The tenant in the stand-in's token URL, as Entra ID's is https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token. */
export const GRAPH_TEST_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

export interface GraphTestUser {
  readonly id: string;
  readonly userPrincipalName: string;
  readonly mail: string | null;
  readonly displayName: string;
  readonly accountEnabled?: boolean;
}

export interface GraphTestServer extends TestServer {
  /** The v1.0 root, the adapter's base URL: https://127.0.0.1:port/v1.0. */
  readonly baseUrl: string;
  readonly users: Map<string, GraphTestUser>;
  /** Group id to member ids; a member id that is a key of `groups` is a nested group. */
  readonly groups: Map<string, Set<string>>;
  /**
   * Ids of service principals; one that is in a group's member set is a member that Graph v1.0 leaves out of
   * /members and /transitiveMembers listings (https://learn.microsoft.com/en-us/graph/api/group-list-members, "service
   * principals are not listed in v1.0") but counts under the OData cast /transitiveMembers/microsoft.graph.servicePrincipal.
   */
  readonly servicePrincipals: Set<string>;
  /** Group id to its displayName; a group without an entry is named "Emergency Operations". */
  readonly groupNames: Map<string, string>;
  /** Group id to more of its properties (groupTypes, mailEnabled, securityEnabled, onPremisesSyncEnabled, …). */
  readonly groupProperties: Map<string, Readonly<Record<string, unknown>>>;
  /** Answer the next `count` requests with 429 and `Retry-After: seconds`. */
  throttleNext(count: number, seconds: number): void;
  /** Faults for the next requests, checked once the token is accepted: 429s (as throttleNext), 5xx, no answer. */
  readonly faults: RequestFaults;
  setPageSize(size: number): void;
  /**
   * Eventual consistency (https://learn.microsoft.com/en-us/graph/aad-advanced-queries and "known issues"): the next
   * `count` member listings answer every group's membership as it is now, whatever is written meanwhile.
   */
  lagReads(count: number): void;
  /**
   * Answer member listings as to an app without User.Read.All: users with only `@odata.type` and `id`, every other
   * property null (https://learn.microsoft.com/en-us/graph/permissions-overview , limited information).
   */
  limitedMembers: boolean;
  /**
   * Entra ID's token endpoint for the client credentials grant (scope https://graph.microsoft.com/.default), served on
   * the same loopback origin; register clients on `oauth`. Tokens it issues are accepted until they expire on `now`.
   */
  readonly tokenUrl: string;
  readonly oauth: OAuthTokenIssuer;
}

const USER_TYPE = "#microsoft.graph.user";

export async function startGraphServer(
  token: string,
  options: { readonly now?: () => number } = {},
): Promise<GraphTestServer> {
  const oauth = new OAuthTokenIssuer(options.now ?? Date.now, ENTRA_WORDING);
  const users = new Map<string, GraphTestUser>();
  const groups = new Map<string, Set<string>>();
  const groupNames = new Map<string, string>();
  const servicePrincipals = new Set<string>();
  const groupProperties = new Map<string, Readonly<Record<string, unknown>>>();
  const faults = new RequestFaults();
  let pageSize = 100;
  let lagging = 0;
  let state: { limitedMembers: boolean } = { limitedMembers: false };
  let snapshot = new Map<string, string[]>();
  let root = "";

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => answer(request, body, response));
  };

  function answer(request: IncomingMessage, body: string, response: ServerResponse): void {
    const url = new URL(request.url ?? "/", root);
    if (request.method === "POST" && url.pathname === `/${GRAPH_TEST_TENANT}/oauth2/v2.0/token`) {
      // https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
      const answer = oauth.answer(body, `${new URL(root).origin}${url.pathname}`, (scope) =>
        scope === "https://graph.microsoft.com/.default" ? "" : undefined,
      );
      return json(response, answer.status, answer.body);
    }
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
    const issued = bearer === undefined ? "unknown" : oauth.check(bearer);
    if (issued === "expired") {
      response.setHeader("www-authenticate", 'Bearer error="invalid_token", error_description="The token is expired"');
      return error(response, 401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.");
    }
    if (bearer !== token && issued !== "valid") {
      return error(response, 401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.");
    }
    const fault = faults.take();
    if (fault?.kind === "hang") return;
    if (fault?.kind === "fail")
      return error(response, fault.status, "serviceNotAvailable", "The service is temporarily unavailable.");
    if (fault?.kind === "throttle") {
      response.writeHead(429, { "content-type": "application/json", "retry-after": String(fault.seconds) });
      return void response.end(JSON.stringify(graphError("TooManyRequests", "Too many requests")));
    }
    const path = url.pathname.split("/").map(decodeURIComponent);
    // ["", "v1.0", "groups", groupId, "members", memberId?, "$ref"?]
    if (path[1] !== "v1.0") return error(response, 400, "BadRequest", "Invalid version.");
    if (request.method === "GET" && path.length === 3 && path[2] === "users") return listUsers(response, url);
    if (request.method === "GET" && path.length === 3 && path[2] === "groups") return listGroups(response, url);
    if (path[2] !== "groups" || path[3] === undefined)
      return error(response, 400, "BadRequest", `Resource not found for the segment '${path[2]}'.`);
    const groupId = path[3];
    const members = groups.get(groupId);
    if (!members)
      return error(
        response,
        404,
        "Request_ResourceNotFound",
        `Resource '${groupId}' does not exist or one of its queried reference-property objects are not present.`,
      );
    if (request.method === "GET" && path.length === 4) {
      const select = url.searchParams.get("$select") ?? "id";
      return json(response, 200, {
        "@odata.context": `${root}/$metadata#groups(${select})/$entity`,
        ...selectGroup(groupId, select),
      });
    }
    if (request.method === "GET" && path.length === 5 && (path[4] === "members" || path[4] === "transitiveMembers")) {
      const stale = lagging > 0 ? snapshot.get(groupId) : undefined;
      if (lagging > 0 && url.searchParams.get("$skiptoken") === null) lagging--;
      const direct = (stale ?? [...members]).filter((id) => !servicePrincipals.has(id));
      // transitiveMembers: a flat list of every nested member too, each once (group-list-transitivemembers).
      const listed = path[4] === "members" ? direct : [...new Set(flatten(direct, new Set([groupId])))];
      return listMembers(response, url, groupId, listed, path[4]);
    }
    // https://learn.microsoft.com/en-us/graph/aad-advanced-queries : an OData cast with $count needs ConsistencyLevel.
    if (
      request.method === "GET" &&
      path.length === 7 &&
      path[4] === "transitiveMembers" &&
      path[5] === "microsoft.graph.servicePrincipal" &&
      path[6] === "$count"
    ) {
      if (request.headers.consistencylevel !== "eventual")
        return error(
          response,
          400,
          "Request_BadRequest",
          "$count is not currently supported without the ConsistencyLevel header set to eventual.",
        );
      const count = [...flattenAll([...members], new Set([groupId]))].filter((id) => servicePrincipals.has(id)).length;
      return void response.writeHead(200, { "content-type": "text/plain" }).end(String(count));
    }
    if (request.method === "POST" && path.length === 6 && path[4] === "members" && path[5] === "$ref")
      return addMember(response, members, body);
    if (request.method === "DELETE" && path.length === 7 && path[4] === "members" && path[6] === "$ref") {
      const memberId = path[5] ?? "";
      if (!users.has(memberId) && !groups.has(memberId))
        return error(
          response,
          404,
          "Request_ResourceNotFound",
          `Resource '${memberId}' does not exist or one of its queried reference-property objects are not present.`,
        );
      // An existing object that is not a member: a 400, as group-delete-members and Microsoft's own samples show.
      if (!members.has(memberId))
        return error(
          response,
          400,
          "Request_BadRequest",
          "One or more removed object references do not exist for the following modified properties: 'members'.",
        );
      members.delete(memberId);
      return void response.writeHead(204).end();
    }
    error(response, 405, "Request_BadRequest", "The specified HTTP method is not allowed for the request target.");
  }

  function listUsers(response: ServerResponse, url: URL): void {
    // The one filter breakglass sends: userPrincipalName eq 'x' or mail eq 'x'. Graph compares both without case.
    const terms = [
      ...(url.searchParams.get("$filter") ?? "").matchAll(/(userPrincipalName|mail) eq '((?:[^']|'')*)'/g),
    ].map(([, field, literal]) => ({
      field: field as "userPrincipalName" | "mail",
      value: literal!.replaceAll("''", "'").toLowerCase(),
    }));
    const found = [...users.values()].filter((user) =>
      terms.some((term) => user[term.field]?.toLowerCase() === term.value),
    );
    json(response, 200, {
      "@odata.context": `${root}/$metadata#users(${url.searchParams.get("$select") ?? ""})`,
      value: found.map((user) => selectUser(user, false)),
    });
  }

  function selectGroup(id: string, select: string) {
    const fields = select.split(",");
    // A security group made in Entra ID, unless the test says otherwise.
    const properties: Record<string, unknown> = {
      groupTypes: [],
      mailEnabled: false,
      securityEnabled: true,
      onPremisesSyncEnabled: null,
      isAssignableToRole: null,
      ...groupProperties.get(id),
    };
    return {
      id,
      ...(fields.includes("displayName") ? { displayName: groupNames.get(id) ?? "Emergency Operations" } : {}),
      ...Object.fromEntries(Object.entries(properties).filter(([key]) => fields.includes(key))),
    };
  }

  /**
   * GET /groups?$filter=displayName eq 'x' (a default query capability: no ConsistencyLevel needed; compared without
   * case), paged with @odata.nextLink. Any other filter is answered as Graph answers one it does not support.
   */
  function listGroups(response: ServerResponse, url: URL): void {
    const filter = url.searchParams.get("$filter") ?? "";
    const term = /^displayName eq '((?:[^']|'')*)'$/.exec(filter);
    if (!term)
      return error(response, 400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified.");
    const wanted = term[1]!.replaceAll("''", "'").toLowerCase();
    const select = url.searchParams.get("$select") ?? "id,displayName";
    const ids = [...groups.keys()].filter(
      (id) => (groupNames.get(id) ?? "Emergency Operations").toLowerCase() === wanted,
    );
    const skip = Number(url.searchParams.get("$skiptoken") ?? "0");
    const page = ids.slice(skip, skip + pageSize);
    const query = new URLSearchParams({ $filter: filter, $select: select, $skiptoken: String(skip + pageSize) });
    const next = skip + pageSize < ids.length ? `${root}/groups?${query.toString().replaceAll("+", "%20")}` : undefined;
    json(response, 200, {
      "@odata.context": `${root}/$metadata#groups(${select})`,
      ...(next ? { "@odata.nextLink": next } : {}),
      value: page.map((id) => selectGroup(id, select)),
    });
  }

  /** The members and, for each nested group, its members, depth first, service principals left out. */
  function flatten(ids: readonly string[], seen: Set<string>): string[] {
    return [...flattenAll(ids, seen)].filter((id) => !servicePrincipals.has(id));
  }

  function flattenAll(ids: readonly string[], seen: Set<string>): Set<string> {
    const all = new Set<string>();
    for (const id of ids) {
      all.add(id);
      const nested = groups.get(id);
      if (nested && !seen.has(id)) {
        seen.add(id);
        for (const inner of flattenAll([...nested], seen)) all.add(inner);
      }
    }
    return all;
  }

  function listMembers(
    response: ServerResponse,
    url: URL,
    groupId: string,
    memberIds: string[],
    relation = "members",
  ): void {
    const skip = Number(url.searchParams.get("$skiptoken") ?? "0");
    const page = memberIds.slice(skip, skip + pageSize);
    const value = page.map((id) => {
      const user = users.get(id);
      if (user && state.limitedMembers)
        return {
          "@odata.type": USER_TYPE,
          id,
          userPrincipalName: null,
          mail: null,
          displayName: null,
          accountEnabled: null,
        };
      if (user) return selectUser(user, true);
      return { "@odata.type": "#microsoft.graph.group", id, displayName: `group ${id}` };
    });
    const next =
      skip + pageSize < memberIds.length
        ? `${root}/groups/${groupId}/${relation}?$select=${url.searchParams.get("$select") ?? ""}&$skiptoken=${skip + pageSize}`
        : undefined;
    json(response, 200, {
      "@odata.context": `${root}/$metadata#directoryObjects`,
      ...(next ? { "@odata.nextLink": next } : {}),
      value,
    });
  }

  function addMember(response: ServerResponse, members: Set<string>, body: string): void {
    let reference: unknown;
    try {
      reference = (JSON.parse(body) as Record<string, unknown>)["@odata.id"];
    } catch {
      return error(response, 400, "BadRequest", "Unable to read JSON request payload.");
    }
    const match = typeof reference === "string" ? /\/directoryObjects\/([^/]+)$/.exec(reference) : null;
    if (!match?.[1]) return error(response, 400, "BadRequest", "Invalid object identifier.");
    const userId = decodeURIComponent(match[1]);
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(userId))
      return error(response, 400, "Request_BadRequest", `Invalid object identifier '${userId}'.`);
    if (!users.has(userId))
      return error(
        response,
        404,
        "Request_ResourceNotFound",
        `Resource '${userId}' does not exist or one of its queried reference-property objects are not present.`,
      );
    if (members.has(userId))
      return error(
        response,
        400,
        "Request_BadRequest",
        "One or more added object references already exist for the following modified properties: 'members'.",
      );
    members.add(userId);
    response.writeHead(204).end();
  }

  const server = await startServer(handle);
  root = `${server.url}/v1.0`;
  // The handler reads the switch from the returned object, where tests set it.
  return (state = Object.assign(server, {
    limitedMembers: false,
    baseUrl: root,
    tokenUrl: `${server.url}/${GRAPH_TEST_TENANT}/oauth2/v2.0/token`,
    oauth,
    users,
    groups,
    groupNames,
    servicePrincipals,
    groupProperties,
    faults,
    throttleNext(count: number, seconds: number) {
      faults.throttleNext(count, seconds);
    },
    setPageSize(size: number) {
      pageSize = size;
    },
    lagReads(count: number) {
      lagging = count;
      snapshot = new Map([...groups].map(([id, members]) => [id, [...members]]));
    },
  }));
}

function selectUser(user: GraphTestUser, typed: boolean) {
  return {
    ...(typed ? { "@odata.type": USER_TYPE } : {}),
    id: user.id,
    userPrincipalName: user.userPrincipalName,
    mail: user.mail,
    displayName: user.displayName,
    accountEnabled: user.accountEnabled ?? true,
  };
}

function graphError(code: string, message: string) {
  return {
    error: {
      code,
      message,
      innerError: {
        date: "2026-03-01T10:00:00",
        "request-id": "0d5c0b2e-1a2b-4c3d-8e9f-000000000000",
        "client-request-id": "0d5c0b2e-1a2b-4c3d-8e9f-000000000000",
      },
    },
  };
}

function error(response: ServerResponse, status: number, code: string, message: string): void {
  json(response, status, graphError(code, message));
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes (AADSTS7000215, AADSTS700016). */
const ENTRA_WORDING = {
  badSecret: (clientId: string) =>
    entraError(
      401,
      "invalid_client",
      7000215,
      "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client " +
        `secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
    ),
  badAssertion: entraError(
    401,
    "invalid_client",
    700027,
    "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.",
  ),
  unknownClient: (clientId: string) =>
    entraError(
      400,
      "unauthorized_client",
      700016,
      `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${GRAPH_TEST_TENANT}'.`,
    ),
};

function entraError(status: number, error: string, code: number, description: string) {
  const trace =
    "Trace ID: 0d5c0b2e-1a2b-4c3d-8e9f-000000000000 Correlation ID: 0d5c0b2e-1a2b-4c3d-8e9f-000000000001 Timestamp: 2026-03-01 10:00:00Z";
  return {
    status,
    body: {
      error,
      error_description: `${description} ${trace}`,
      error_codes: [code],
      timestamp: "2026-03-01 10:00:00Z",
      trace_id: "0d5c0b2e-1a2b-4c3d-8e9f-000000000000",
      correlation_id: "0d5c0b2e-1a2b-4c3d-8e9f-000000000001",
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}
