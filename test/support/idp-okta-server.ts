// A loopback stand-in for the few Okta endpoints breakglass uses, answering with the documented shapes:
// https://developer.okta.com/docs/reference/api/groups/ (list and search groups, list members, assign, unassign, get group),
// https://developer.okta.com/docs/reference/user-query/ (search), https://developer.okta.com/docs/reference/error-codes/
// and https://developer.okta.com/docs/reference/rl-best-practices/ (429 with X-Rate-Limit-* headers).
import type { IncomingMessage, ServerResponse } from "node:http";
import { startServer, type TestServer } from "./https-server.js";
import { RequestFaults } from "./request-faults.js";
import { OAuthTokenIssuer } from "./oauth-token-issuer.js";
import { DpopVerifier } from "./dpop-verifier.js";

/** The Okta management scopes the stand-in's service apps are granted. */
const GRANTED_SCOPES = new Set(["okta.users.read", "okta.groups.read", "okta.groups.manage"]);

export interface OktaTestUser {
  readonly id: string;
  readonly login: string;
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly status?: string;
}

export interface OktaTestServer extends TestServer {
  readonly users: Map<string, OktaTestUser>;
  /** Group id to member ids, in the order they were added (Okta lists members by id; order is all we need). */
  readonly groups: Map<string, Set<string>>;
  /** Group id to its profile.name; a group without an entry is named "Emergency Operations". */
  readonly groupNames: Map<string, string>;
  /** Group id to its type; a group without an entry is an OKTA_GROUP (APP_GROUP and BUILT_IN cannot be changed: 403 E0000006). */
  readonly groupTypes: Map<string, "OKTA_GROUP" | "APP_GROUP" | "BUILT_IN">;
  /** Answer the next `count` requests with 429, the window resetting `resetInSeconds` from now. */
  rateLimitNext(count: number, resetInSeconds: number): void;
  /** Faults for the next requests, checked once the token is accepted: 429s (as rateLimitNext), 5xx, no answer. */
  readonly faults: RequestFaults;
  /** Members (or groups) per page of GET /groups/{id}/users and GET /groups, whatever `limit` asks, to exercise paging. */
  setPageSize(size: number): void;
  /**
   * The org authorization server's token endpoint (/oauth2/v1/token): client credentials for service apps, which
   * authenticate with private_key_jwt; register apps on `oauth`. Its tokens are sent as Bearer, API tokens as SSWS.
   */
  readonly tokenUrl: string;
  readonly oauth: OAuthTokenIssuer;
  /** Checks the DPoP proofs of API calls made with DPoP-bound tokens (RFC 9449 §7), with its own jti memory. */
  readonly apiDpop: DpopVerifier;
  /** A nonce the API demands in proofs from now on (401 use_dpop_nonce with it until a proof carries it). */
  demandApiNonce(nonce: string): void;
}

export async function startOktaServer(
  token: string,
  options: { readonly now?: () => number } = {},
): Promise<OktaTestServer> {
  const clock = options.now ?? Date.now;
  const oauth = new OAuthTokenIssuer(clock, OKTA_WORDING);
  const users = new Map<string, OktaTestUser>();
  const groups = new Map<string, Set<string>>();
  const groupNames = new Map<string, string>();
  const groupTypes = new Map<string, "OKTA_GROUP" | "APP_GROUP" | "BUILT_IN">();
  const faults = new RequestFaults();
  const apiDpop = new DpopVerifier();
  let apiNonce: string | undefined;
  let pageSize = 200;
  let origin = "";

  const state = {
    oauth,
    users,
    groups,
    groupNames,
    groupTypes,
    faults,
    apiDpop,
    demandApiNonce(nonce: string) {
      apiNonce = nonce;
    },
    rateLimitNext(count: number, seconds: number) {
      faults.throttleNext(count, seconds);
    },
    setPageSize(size: number) {
      pageSize = size;
    },
  };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? "/", origin);
    if (request.method === "POST" && url.pathname === "/oauth2/v1/token") {
      // https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/
      let body = "";
      request.setEncoding("utf8");
      request.on("data", (chunk: string) => (body += chunk));
      request.on("end", () => {
        const answer = oauth.answer(
          body,
          `${origin}/oauth2/v1/token`,
          (scope) => {
            const asked = scope.split(" ").filter((part) => part !== "");
            return asked.length > 0 && asked.every((part) => GRANTED_SCOPES.has(part)) ? asked.join(" ") : undefined;
          },
          request.headers.dpop,
        );
        for (const [name, value] of Object.entries(answer.headers ?? {})) response.setHeader(name, value);
        json(response, answer.status, answer.body);
      });
      return;
    }
    const [, scheme, presented] = /^(Bearer|DPoP) (.+)$/.exec(request.headers.authorization ?? "") ?? [];
    const issued = presented === undefined ? "unknown" : oauth.check(presented);
    const boundTo = presented === undefined ? undefined : oauth.binding(presented);
    // RFC 9449 §7: a DPoP-bound token needs the DPoP scheme and a proof made for this call with the key it is bound to;
    // a Bearer token is not accepted under the DPoP scheme.
    if (issued === "valid" && (boundTo !== undefined || scheme === "DPoP")) {
      const checked =
        scheme === "DPoP" && boundTo !== undefined
          ? apiDpop.check(request.headers.dpop, {
              method: request.method ?? "GET",
              url: url.href,
              now: clock(),
              nonce: apiNonce,
              accessToken: presented!,
              boundTo,
            })
          : { ok: false as const, nonce: false, reason: "The access token is DPoP-bound and needs the DPoP scheme." };
      if (!checked.ok) {
        const code = checked.nonce ? "use_dpop_nonce" : scheme === "DPoP" ? "invalid_dpop_proof" : "invalid_token";
        response.setHeader(
          "www-authenticate",
          `DPoP algs="ES256", error="${code}", error_description="${checked.reason}"`,
        );
        if (checked.nonce) response.setHeader("dpop-nonce", apiNonce!);
        return error(response, 401, "E0000011", "Invalid token provided");
      }
    }
    if (issued === "expired") {
      response.setHeader(
        "www-authenticate",
        `Bearer authorization_uri="${origin}/oauth2/v1/authorize", realm="${origin}", error="invalid_token", error_description="The token has expired."`,
      );
      return error(response, 401, "E0000011", "Invalid token provided");
    }
    if (request.headers.authorization !== `SSWS ${token}` && issued !== "valid")
      return error(response, 401, "E0000011", "Invalid token provided");
    const fault = faults.take();
    if (fault?.kind === "hang") return;
    if (fault?.kind === "fail") return error(response, fault.status, "E0000009", "Internal Server Error");
    if (fault?.kind === "throttle") {
      // Whole epoch seconds, as Okta sends it, on the server's clock, which its Date header (whole seconds too) gives.
      const serverNow = Math.floor(clock() / 1000) * 1000;
      const reset = serverNow / 1000 + fault.seconds;
      response.writeHead(429, {
        date: new Date(serverNow).toUTCString(),
        "content-type": "application/json",
        "x-rate-limit-limit": "600",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": String(reset),
      });
      return void response.end(
        JSON.stringify(oktaError("E0000047", "API call exceeded rate limit due to too many requests.")),
      );
    }
    const path = url.pathname.split("/").map(decodeURIComponent);
    // ["", "api", "v1", "groups", groupId, "users", userId?]
    if (request.method === "GET" && url.pathname === "/api/v1/users")
      return void json(response, 200, searchUsers(users, url.searchParams.get("search") ?? ""));
    if (request.method === "GET" && url.pathname === "/api/v1/groups") return searchGroups(response, url);
    if (path[1] !== "api" || path[2] !== "v1" || path[3] !== "groups" || path[4] === undefined)
      return error(response, 404, "E0000022", "The endpoint does not support the provided HTTP method");
    const groupId = path[4];
    const members = groups.get(groupId);
    if (!members) return error(response, 404, "E0000007", `Not found: Resource not found: ${groupId} (UserGroup)`);
    if (path.length === 5 && request.method === "GET") return void json(response, 200, oktaGroup(groupId));
    if (path.length === 6 && path[5] === "users" && request.method === "GET")
      return listMembers(response, url, groupId, [...members]);
    const userId = path[6];
    if (path.length === 7 && path[5] === "users" && userId !== undefined) {
      if (!users.has(userId))
        return error(response, 404, "E0000007", `Not found: Resource not found: ${userId} (User)`);
      if (groupTypes.has(groupId) && groupTypes.get(groupId) !== "OKTA_GROUP")
        return error(response, 403, "E0000006", "You do not have permission to perform the requested action");
      // Both are idempotent in Okta: 204 whether or not the user already was (or still is) a member.
      if (request.method === "PUT") members.add(userId);
      else if (request.method === "DELETE") members.delete(userId);
      else return error(response, 405, "E0000022", "The endpoint does not support the provided HTTP method");
      return void response.writeHead(204).end();
    }
    error(response, 404, "E0000022", "The endpoint does not support the provided HTTP method");
  };

  function oktaGroup(id: string) {
    return {
      id,
      created: "2026-01-12T09:14:03.000Z",
      lastUpdated: "2026-01-12T09:14:03.000Z",
      lastMembershipUpdated: "2026-02-01T10:00:00.000Z",
      objectClass: [groupTypes.get(id) === "APP_GROUP" ? "okta:windows_security_principal" : "okta:user_group"],
      type: groupTypes.get(id) ?? "OKTA_GROUP",
      profile: { name: groupNames.get(id) ?? "Emergency Operations", description: null },
      _links: { users: { href: `${origin}/api/v1/groups/${id}/users` } },
    };
  }

  /**
   * GET /api/v1/groups?search=: the one expression breakglass sends, `profile.name eq "x"` (compared without case, as
   * Okta's search does), paged with an `after` cursor in the Link header. Any other search is a 400, as Okta answers a
   * malformed one.
   */
  function searchGroups(response: ServerResponse, url: URL): void {
    const search = url.searchParams.get("search") ?? "";
    const term = /^profile\.name eq ("(?:[^"\\]|\\.)*")$/.exec(search);
    if (!term) return error(response, 400, "E0000031", "Invalid search criteria.");
    const wanted = (JSON.parse(term[1]!) as string).toLowerCase();
    const ids = [...groups.keys()].filter(
      (id) => (groupNames.get(id) ?? "Emergency Operations").toLowerCase() === wanted,
    );
    const after = url.searchParams.get("after");
    const start = after === null ? 0 : ids.indexOf(after) + 1;
    const page = ids.slice(start, start + pageSize);
    const links = [`<${origin}/api/v1/groups${url.search}>; rel="self"`];
    if (start + pageSize < ids.length) {
      const next = new URLSearchParams({ search, limit: String(pageSize), after: page.at(-1)! });
      links.push(`<${origin}/api/v1/groups?${next.toString().replaceAll("+", "%20")}>; rel="next"`);
    }
    response.writeHead(200, { "content-type": "application/json", link: links });
    response.end(JSON.stringify(page.map(oktaGroup)));
  }

  function listMembers(response: ServerResponse, url: URL, groupId: string, memberIds: string[]): void {
    // Okta's cursor is opaque; here it is the id of the last member of the previous page.
    const after = url.searchParams.get("after");
    const start = after === null ? 0 : memberIds.indexOf(after) + 1;
    const page = memberIds.slice(start, start + pageSize);
    const self = `${origin}/api/v1/groups/${groupId}/users${url.search}`;
    const links = [`<${self}>; rel="self"`];
    if (start + pageSize < memberIds.length)
      links.push(`<${origin}/api/v1/groups/${groupId}/users?limit=${pageSize}&after=${page.at(-1)}>; rel="next"`);
    // Okta sends one Link header per relation.
    response.writeHead(200, { "content-type": "application/json", link: links });
    response.end(JSON.stringify(page.map((id) => oktaUser(users.get(id)!))));
  }

  const server = await startServer(handle);
  origin = server.url;
  return Object.assign(server, { ...state, tokenUrl: `${origin}/oauth2/v1/token` });
}

/** Evaluates the one search shape breakglass sends: `profile.login eq "x" or profile.email eq "x"`, without case, as Okta's search does. */
function searchUsers(users: Map<string, OktaTestUser>, search: string): unknown[] {
  const terms = [...search.matchAll(/profile\.(login|email) eq ("(?:[^"\\]|\\.)*")/g)].map(([, field, literal]) => ({
    field: field as "login" | "email",
    value: (JSON.parse(literal!) as string).toLowerCase(),
  }));
  return [...users.values()]
    .filter((user) => terms.some((term) => user[term.field].toLowerCase() === term.value))
    .map(oktaUser);
}

function oktaUser(user: OktaTestUser) {
  return {
    id: user.id,
    status: user.status ?? "ACTIVE",
    created: "2026-01-12T09:14:03.000Z",
    activated: "2026-01-12T09:14:04.000Z",
    statusChanged: "2026-01-12T09:14:04.000Z",
    lastLogin: null,
    lastUpdated: "2026-02-01T10:00:00.000Z",
    passwordChanged: null,
    type: { id: "oty1abcdEFGHijklm0g7" },
    profile: {
      firstName: user.firstName,
      lastName: user.lastName,
      mobilePhone: null,
      secondEmail: null,
      login: user.login,
      email: user.email,
    },
    credentials: { provider: { type: "OKTA", name: "OKTA" } },
    _links: { self: { href: `/api/v1/users/${user.id}` } },
  };
}

function oktaError(errorCode: string, errorSummary: string) {
  return { errorCode, errorSummary, errorLink: errorCode, errorId: "oaeTestErrorId0000000000000", errorCauses: [] };
}

function error(response: ServerResponse, status: number, errorCode: string, errorSummary: string): void {
  json(response, status, oktaError(errorCode, errorSummary));
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** The org authorization server's answers to a bad client (RFC 6749 §5.2 error and error_description). */
const OKTA_WORDING = {
  badSecret: () => ({
    status: 401,
    body: {
      error: "invalid_client",
      error_description: "The client secret supplied for a confidential client is invalid.",
    },
  }),
  badAssertion: {
    status: 401,
    body: { error: "invalid_client", error_description: "The client_assertion signature is invalid." },
  },
  unknownClient: () => ({
    status: 401,
    body: { error: "invalid_client", error_description: "The client_assertion token has an invalid 'iss' claim." },
  }),
};
