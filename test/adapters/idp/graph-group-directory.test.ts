// The Microsoft Graph adapter against a loopback server answering as Graph documents these endpoints:
// https://learn.microsoft.com/en-us/graph/api/user-list ($filter on userPrincipalName and mail)
// https://learn.microsoft.com/en-us/graph/api/group-list-members (@odata.nextLink paging, typed members)
// https://learn.microsoft.com/en-us/graph/api/group-post-members (204; 400 when the reference already exists)
// https://learn.microsoft.com/en-us/graph/api/group-delete-members (204; 400 Request_BadRequest for a non-member)
// https://learn.microsoft.com/en-us/graph/throttling (429 with Retry-After)
// First the shared group directory contract, then what only Graph does.
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GraphGroupDirectory, odataString } from "../../../src/adapters/idp/graph-group-directory.js";
import type { IdpConnectionOptions } from "../../../src/adapters/idp/http-client.js";
import { ClientCredentialsTokenSource } from "../../../src/adapters/idp/token-source.js";
import { startGraphServer, type GraphTestServer } from "../../support/idp-graph-server.js";
import { SteppingClock } from "../../support/stepping-clock.js";
import { runGroupDirectoryContract } from "./group-directory-contract.js";

const TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.test-payload.test-signature";
const EMERGENCY = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
const ADELE = "87d349ed-44d7-43e1-9a83-5f2406dee5bd";
const MEGAN = "5bde3e51-d13b-4db1-9948-fe4b109d11a7";

runGroupDirectoryContract({
  name: "Graph",
  start: async () => {
    const graph = await startGraphServer(TOKEN);
    return {
      input: `Graph ${graph.baseUrl}`,
      token: TOKEN,
      wrongToken: "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.wrong-payload.wrong-signature",
      connect: (overrides) =>
        new GraphGroupDirectory({ baseUrl: graph.baseUrl, token: TOKEN, ca: graph.ca, ...overrides }),
      addUser: (user) => {
        const id = randomUUID();
        graph.users.set(id, {
          id,
          userPrincipalName: user.login,
          mail: user.email,
          displayName: user.displayName ?? "",
          accountEnabled: user.active,
        });
        return { id, ...user };
      },
      addGroup: (displayName) => {
        const id = randomUUID();
        graph.groups.set(id, new Set());
        if (displayName !== undefined) graph.groupNames.set(id, displayName);
        return id;
      },
      missingGroupId: "00000000-0000-0000-0000-000000000000",
      missingUserId: "00000000-0000-0000-0000-0000000000ff",
      membersOf: (groupId) => [...(graph.groups.get(groupId) ?? [])],
      setPageSize: (size) => graph.setPageSize(size ?? 100),
      throttleNext: (count, seconds) => graph.faults.throttleNext(count, seconds),
      waitFor: (seconds) => seconds * 1000,
      failNext: (count, status) => graph.faults.failNext(count, status),
      hangNext: (count) => graph.faults.hangNext(count),
      clearFaults: () => graph.faults.clear(),
      requestCount: () => graph.requests.length,
      says: {
        unauthorized: "InvalidAuthenticationToken: Access token validation failure. Invalid audience.",
        throttled: "TooManyRequests: Too many requests",
        unavailable: "serviceNotAvailable: The service is temporarily unavailable.",
        missingGroup: (groupId) =>
          `Request_ResourceNotFound: Resource '${groupId}' does not exist or one of its queried reference-property objects are not present.`,
      },
      stop: () => graph.close(),
    };
  },
});

let server: GraphTestServer;
let options: IdpConnectionOptions;
let directory: GraphGroupDirectory;

beforeAll(async () => {
  server = await startGraphServer(TOKEN);
  server.users.set(ADELE, {
    id: ADELE,
    userPrincipalName: "AdeleV@contoso.com",
    mail: "AdeleV@contoso.com",
    displayName: "Adele Vance",
  });
  server.users.set(MEGAN, {
    id: MEGAN,
    userPrincipalName: "MeganB@contoso.com",
    mail: "megan.bowen@contoso.com",
    displayName: "Megan Bowen",
    accountEnabled: false,
  });
  server.users.set("a1b2c3d4-0000-4000-8000-00000000000a", {
    id: "a1b2c3d4-0000-4000-8000-00000000000a",
    userPrincipalName: "o'brien@contoso.com",
    mail: null,
    displayName: "Pat O'Brien",
  });
  for (let index = 0; index < 5; index++) {
    const id = `c0ffee00-0000-4000-8000-00000000000${index}`;
    server.users.set(id, {
      id,
      userPrincipalName: `engineer${index}@contoso.com`,
      mail: null,
      displayName: `Engineer ${index}`,
    });
  }
});

beforeEach(() => {
  server.groups.set(EMERGENCY, new Set());
  server.setPageSize(100);
  options = { baseUrl: server.baseUrl, token: TOKEN, ca: server.ca, sleep: () => Promise.resolve() };
  directory = new GraphGroupDirectory(options);
});

afterAll(async () => {
  await server.close();
});

describe("finding a responder", () => {
  it("finds a name with an apostrophe, the quote doubled in the filter", async () => {
    const before = server.requests.length;
    await expect(directory.findUser("o'brien@contoso.com")).resolves.toMatchObject({ displayName: "Pat O'Brien" });
    const sent = new URL(server.requests[before]?.url ?? "/", server.url);
    expect(sent.searchParams.get("$filter")).toBe(
      "userPrincipalName eq 'o''brien@contoso.com' or mail eq 'o''brien@contoso.com'",
    );
    expect(odataString("it's")).toBe("'it''s'");
  });
});

describe("finding a group", () => {
  it("filters groups on displayName with the name quoted, an apostrophe doubled, without ConsistencyLevel", async () => {
    const id = "7d1e5c3a-0000-4000-8000-0000000000aa";
    const name = `O'Brien "ops" \\ team`;
    server.groups.set(id, new Set());
    server.groupNames.set(id, name);
    const before = server.requests.length;
    await expect(directory.findGroup(name)).resolves.toEqual({ id, displayName: name });
    const sent = server.requests.slice(before);
    // Not an object id: asked by name only (Graph answers 400 to a malformed id).
    expect(
      sent.map((request) => new URL(request.url ?? "/", "https://graph.test").searchParams.get("$filter")),
    ).toEqual([`displayName eq 'O''Brien "ops" \\ team'`]);
    expect(sent[0]?.headers["consistencylevel"]).toBeUndefined();
    await expect(directory.findGroup(id)).resolves.toEqual({ id, displayName: name });
  });
});

describe("membership", () => {
  it("references the user by its directoryObjects URL under the configured base URL", async () => {
    const before = server.requests.length;
    await directory.addMember(EMERGENCY, MEGAN);
    const sent = server.requests[before];
    expect([sent?.method, sent?.url, sent?.headers["content-type"]]).toEqual([
      "POST",
      `/v1.0/groups/${EMERGENCY}/members/$ref`,
      "application/json",
    ]);
  });

  it("follows @odata.nextLink across pages to list every member", async () => {
    const ids = [...server.users.keys()].filter((id) => id.startsWith("c0ffee00"));
    server.groups.set(EMERGENCY, new Set(ids));
    server.setPageSize(2);
    const before = server.requests.length;
    const members = await directory.listMembers(EMERGENCY);
    expect(members.map((member) => member.id)).toEqual(ids);
    const asked = server.requests.slice(before).map((request) => new URL(request.url ?? "/", server.url));
    expect(
      asked.map((url) => [url.pathname.split("/").slice(4).join("/"), url.searchParams.get("$skiptoken")]),
    ).toEqual([
      ["transitiveMembers", null],
      ["transitiveMembers", "2"],
      ["transitiveMembers", "4"],
      ["transitiveMembers/microsoft.graph.servicePrincipal/$count", null],
    ]);
  });

  it("says which permission is missing when Graph lists members with only their id (limited information)", async () => {
    server.groups.set(EMERGENCY, new Set([ADELE]));
    server.limitedMembers = true;
    try {
      await expect(directory.listMembers(EMERGENCY)).rejects.toMatchObject({
        code: "IDP_UNAUTHORIZED",
        message:
          `Graph ${server.baseUrl}: listing members of group ${EMERGENCY}: Graph returned only the id of member ` +
          `${ADELE} (limited information): the app cannot read users`,
        hint: "grant the app the User.Read.All application permission (admin consent) in Entra ID",
      });
    } finally {
      server.limitedMembers = false;
    }
  });

  it("fails closed on a service principal, which Graph v1.0 leaves out of member listings, counting it by type", async () => {
    const app = "5b3e7c9a-6666-4000-8000-000000000000";
    server.servicePrincipals.add(app);
    server.groups.set(EMERGENCY, new Set([ADELE, app]));
    try {
      await expect(directory.listMembers(EMERGENCY)).rejects.toMatchObject({
        code: "IDP_FAILED",
        message:
          `Graph ${server.baseUrl}: listing members of group ${EMERGENCY}: 1 service principal is a member ` +
          "(Graph v1.0 leaves them out of member listings); breakglass manages only user members",
        hint: "remove the service principals (apps) from the emergency group in Entra ID",
      });
      const count = server.requests.at(-1);
      expect(count?.headers.consistencylevel).toBe("eventual");
    } finally {
      server.servicePrincipals.delete(app);
    }
  });

  it("sees a service principal and a user inside a nested group, not only the direct members", async () => {
    const nested = "0f3a6c1e-7777-4000-8000-000000000000";
    const app = "5b3e7c9a-8888-4000-8000-000000000000";
    server.servicePrincipals.add(app);
    server.groups.set(nested, new Set([app]));
    server.groups.set(EMERGENCY, new Set([nested]));
    try {
      // The nested group itself fails closed first; its members are listed with it (transitiveMembers).
      await expect(directory.listMembers(EMERGENCY)).rejects.toThrow(`member ${nested} is a #microsoft.graph.group`);
      const listing = server.requests.find((request) => request.url?.includes(`/${EMERGENCY}/transitiveMembers`));
      expect(listing).toBeDefined();
    } finally {
      server.servicePrincipals.delete(app);
    }
  });

  it("fails closed on a nested group: its members also get in, and breakglass cannot say who they are", async () => {
    const nested = "0f3a6c1e-5555-4000-8000-000000000000";
    server.groups.set(nested, new Set());
    server.groups.set(EMERGENCY, new Set([ADELE, nested]));
    await expect(directory.listMembers(EMERGENCY)).rejects.toMatchObject({
      code: "IDP_FAILED",
      message:
        `Graph ${server.baseUrl}: listing members of group ${EMERGENCY}: member ${nested} is a ` +
        `#microsoft.graph.group, not a user; breakglass manages only direct user members`,
      hint: "remove the nested member from the emergency group in Entra ID",
    });
  });
});

describe("throttling and errors", () => {
  it("takes Graph's 400 'removed object references do not exist' as already removed (a retried DELETE gets it)", async () => {
    server.groups.set(EMERGENCY, new Set([ADELE]));
    await directory.removeMember(EMERGENCY, ADELE);
    const before = server.requests.length;
    await expect(directory.removeMember(EMERGENCY, ADELE)).resolves.toBeUndefined();
    expect(server.requests.slice(before).map((request) => request.method)).toEqual(["DELETE"]);
    expect(server.groups.get(EMERGENCY)?.size).toBe(0);
  });

  it("reports a 400 other than 'already a member' as a failure", async () => {
    await expect(directory.addMember(EMERGENCY, "adele")).rejects.toMatchObject({
      code: "IDP_FAILED",
      message: `Graph ${server.baseUrl}: adding user adele to group ${EMERGENCY}: HTTP 400 Bad Request: Request_BadRequest: Invalid object identifier 'adele'.`,
    });
  });
});

describe("client credentials (Entra ID app registration)", () => {
  const SECRET = "Qx8~secret.value-from-the-app-registration";
  const CLIENT_ID = "4a1aa1d5-c567-49d0-ad0b-cd957a47f842";
  const SECRET_KEY = "idp.directory.auth.clientSecretVariable (BREAKGLASS_GRAPH_SECRET)";
  let clock: SteppingClock;
  let entra: GraphTestServer;
  /** Entra ID's clock, ahead of breakglass's by `skewMs`: a token can expire before the client expects. */
  let skewMs: number;

  beforeEach(async () => {
    clock = new SteppingClock(new Date("2026-03-01T03:00:00Z"));
    skewMs = 0;
    entra = await startGraphServer("static-token-unused", { now: () => clock.now().getTime() + skewMs });
    entra.oauth.register({ clientId: CLIENT_ID, secret: SECRET });
    entra.oauth.lifetimeSeconds = 3599;
    entra.groups.set(EMERGENCY, new Set());
    entra.users.set(ADELE, { id: ADELE, userPrincipalName: "AdeleV@contoso.com", mail: null, displayName: "Adele" });
  });

  afterEach(async () => {
    await entra.close();
  });

  function connect(secret = SECRET) {
    const tokens = new ClientCredentialsTokenSource({
      tokenUrl: entra.tokenUrl,
      clientId: CLIENT_ID,
      credential: { kind: "secret", secret },
      scope: "https://graph.microsoft.com/.default",
      credentialInput: SECRET_KEY,
      ca: entra.ca,
      now: () => clock.now().getTime(),
    });
    return new GraphGroupDirectory({
      baseUrl: entra.baseUrl,
      token: tokens,
      ca: entra.ca,
      sleep: () => Promise.resolve(),
    });
  }

  it("keeps working through a 4-hour lease: one token per hour, fetched before the last one expires", async () => {
    const graph = connect();
    await graph.addMember(EMERGENCY, ADELE);
    expect(entra.oauth.tokenRequests).toBe(1);
    clock.advance(30 * 60_000);
    await graph.listMembers(EMERGENCY);
    expect(entra.oauth.tokenRequests).toBe(1);
    clock.advance(4 * 60 * 60_000);
    await graph.removeMember(EMERGENCY, ADELE);
    expect(entra.groups.get(EMERGENCY)?.size).toBe(0);
    expect(entra.oauth.tokenRequests).toBe(2);
    const sent = entra.requests.filter((request) => request.url?.includes("/oauth2/v2.0/token"));
    expect(sent.map((request) => request.method)).toEqual(["POST", "POST"]);
  });

  it("refreshes a token that expires mid-run (Entra's clock ahead) once, and the call succeeds", async () => {
    const graph = connect();
    await graph.listMembers(EMERGENCY);
    skewMs = 10 * 60_000;
    clock.advance(52 * 60_000); // breakglass still trusts the token; Entra ID answers 401 "the token is expired"
    await graph.addMember(EMERGENCY, ADELE);
    expect([...(entra.groups.get(EMERGENCY) ?? [])]).toEqual([ADELE]);
    expect(entra.oauth.tokenRequests).toBe(2);
  });

  it("reports a second 401 after a fresh token instead of looping", async () => {
    const graph = connect();
    await graph.listMembers(EMERGENCY);
    entra.oauth.refuseIssued = true;
    await expect(graph.listMembers(EMERGENCY)).rejects.toMatchObject({
      code: "IDP_UNAUTHORIZED",
      message:
        `Graph ${entra.baseUrl}: listing members of group ${EMERGENCY}: HTTP 401 Unauthorized: ` +
        "InvalidAuthenticationToken: Lifetime validation failed, the token is expired.",
    });
    expect(entra.oauth.tokenRequests).toBe(2);
  });

  it("names the config key in one line when the client secret is wrong, and never prints the secret", async () => {
    const wrong = "not-the-secret-value-1234";
    const failure = await connect(wrong)
      .listMembers(EMERGENCY)
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "IDP_UNAUTHORIZED", hint: expect.stringContaining("idp.directory.auth") });
    const message = (failure as Error).message;
    expect(message).toContain(
      `${SECRET_KEY}: the token endpoint ${new URL(entra.tokenUrl).host} refused the client credentials ` +
        "(HTTP 401: invalid_client: AADSTS7000215: Invalid client secret provided.",
    );
    expect(message).not.toContain("\n");
    expect(message).not.toContain(wrong);
    expect(entra.requests.filter((request) => request.url?.startsWith("/v1.0/"))).toEqual([]);
  });
});
