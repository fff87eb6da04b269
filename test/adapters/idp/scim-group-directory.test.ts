// The SCIM adapter against a SCIM 2.0 service provider built on scimmy (its filters, paging and PATCH), over HTTPS on loopback.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScimGroupDirectory, scimString } from "../../../src/adapters/idp/scim-group-directory.js";
import type { IdpConnectionOptions } from "../../../src/adapters/idp/http-client.js";
import { startServer } from "../../support/https-server.js";
import { startScimServer, type ScimTestServer } from "../../support/idp-scim-server.js";

// The ids and names of RFC 7643 §8's examples.
const BABS = "2819c223-7f76-453a-919d-413861904646";
const MARK = "902c246b-6245-4190-8e05-00816be7344a";
const EMERGENCY = "e9e30dba-f08f-4109-8486-d5c6a331660a";
const LARGE = "fc348aa8-3835-40eb-a20e-c1f8d2a2f9a7";
const TOKEN = "scim-test-token-6f1d2c9a7b";

let server: ScimTestServer;
let options: IdpConnectionOptions;
let directory: ScimGroupDirectory;

beforeAll(async () => {
  server = await startScimServer(TOKEN);
  const { store } = server;
  store.addUser({ id: BABS, userName: "bjensen@example.com", displayName: "Babs Jensen", emails: ["babs@jensen.org", "bjensen@example.com"] });
  store.addUser({ id: MARK, userName: "mpepperidge", displayName: "Mark Pepperidge", emails: ["mark@example.com"], active: false });
  // Someone whose address is another user's login: looking that login up is ambiguous.
  store.addUser({ id: "5d48a0a8-9e7e-4f3d-9c52-1f2b2c3d4e5f", userName: "mark.impostor", emails: ["mpepperidge"] });
  store.addGroup(EMERGENCY, "Emergency Operations");
  options = { baseUrl: server.baseUrl, token: TOKEN, ca: server.ca, sleep: () => Promise.resolve() };
  directory = new ScimGroupDirectory(options);
});

afterAll(async () => {
  await server.close();
});

describe("finding a responder", () => {
  it("finds a user by userName", async () => {
    await expect(directory.findUser("bjensen@example.com")).resolves.toEqual({
      id: BABS,
      login: "bjensen@example.com",
      email: "babs@jensen.org",
      displayName: "Babs Jensen",
      active: true,
    });
  });

  it("finds a user by an email address, and reports a disabled account as inactive", async () => {
    await expect(directory.findUser("mark@example.com")).resolves.toMatchObject({ id: MARK, login: "mpepperidge", active: false });
  });

  it("answers null when nobody has that login or address", async () => {
    await expect(directory.findUser("nobody@example.com")).resolves.toBeNull();
  });

  it("refuses to choose when the login is also another user's address", async () => {
    await expect(directory.findUser("mpepperidge")).rejects.toThrow(
      `SCIM ${server.baseUrl}: looking up user mpepperidge: 2 users match: mpepperidge (${MARK}), mark.impostor (5d48a0a8-9e7e-4f3d-9c52-1f2b2c3d4e5f)`,
    );
  });

  it("writes filter values as JSON strings, quotes and backslashes escaped", () => {
    expect(scimString('o"brien\\x')).toBe('"o\\"brien\\\\x"');
  });
});

describe("membership", () => {
  it("adds a responder, adding again is harmless, and the group then lists exactly that responder", async () => {
    await directory.addMember(EMERGENCY, BABS);
    await directory.addMember(EMERGENCY, BABS);
    expect(server.store.membersOf(EMERGENCY)).toEqual([BABS]);
    const members = await directory.listMembers(EMERGENCY);
    expect(members.map((member) => member.login)).toEqual(["bjensen@example.com"]);
  });

  it("removes the responder, removing again is harmless, and the group is empty again", async () => {
    await directory.addMember(EMERGENCY, BABS);
    await directory.removeMember(EMERGENCY, BABS);
    await directory.removeMember(EMERGENCY, BABS);
    expect(server.store.membersOf(EMERGENCY)).toEqual([]);
    await expect(directory.listMembers(EMERGENCY)).resolves.toEqual([]);
  });

  it("sends SCIM PatchOp messages as application/scim+json", async () => {
    const before = server.received.length;
    await directory.addMember(EMERGENCY, MARK);
    await directory.removeMember(EMERGENCY, MARK);
    const patches = server.received.slice(before);
    expect(patches.map((request) => [request.method, request.url.pathname, request.contentType])).toEqual([
      ["PATCH", `/scim/v2/Groups/${EMERGENCY}`, "application/scim+json"],
      ["PATCH", `/scim/v2/Groups/${EMERGENCY}`, "application/scim+json"],
    ]);
  });

  it("lists every member of a group whose members the server leaves out, paging through the users in the group", async () => {
    for (let index = 0; index < 230; index++) {
      const id = `engineer-${String(index).padStart(3, "0")}`;
      server.store.addUser({ id, userName: `${id}@example.com` });
    }
    server.store.addGroup(LARGE, "All Engineering", { hideMembersOnRead: true, members: [...server.store.users.keys()].filter((id) => id.startsWith("engineer-")) });
    const before = server.received.length;
    const members = await directory.listMembers(LARGE);
    expect(members).toHaveLength(230);
    expect(new Set(members.map((member) => member.id)).size).toBe(230);
    const pages = server.received.slice(before).map((request) => request.url.searchParams);
    expect(pages.map((query) => [query.get("filter"), query.get("startIndex"), query.get("count")])).toEqual([
      [null, null, null], // GET /Groups/{id}?attributes=members: no members in the answer
      [`groups.value eq "${LARGE}"`, "1", "100"],
      [`groups.value eq "${LARGE}"`, "101", "100"],
      [`groups.value eq "${LARGE}"`, "201", "100"],
    ]);
  });
});

describe("members that are not plain users", () => {
  it("fails closed on a nested group: its members also get in, and breakglass cannot say who they are", async () => {
    server.store.addGroup("nested-admins", "Nested Admins");
    server.store.addGroup("with-nested", "Emergency with a nested group", { members: [BABS, "nested-admins"] });
    await expect(directory.listMembers("with-nested")).rejects.toMatchObject({
      code: "IDP_FAILED",
      message: `SCIM ${server.baseUrl}: listing members of group with-nested: member nested-admins is a Group, not a user; breakglass manages only direct user members`,
      hint: "remove the nested member from the emergency group in the IdP",
    });
  });

  it("fails closed on a member it cannot read as a user", async () => {
    server.store.addGroup("with-ghost", "Emergency with a deleted user", { members: ["deleted-user-id"] });
    await expect(directory.listMembers("with-ghost")).rejects.toThrow(
      `SCIM ${server.baseUrl}: listing members of group with-ghost: member deleted-user-id is not a user this API can read (HTTP 404)`,
    );
  });
});

describe("servers that read RFC 7644 to the letter", () => {
  it("takes 400 noTarget to removing a non-member as done, and any other 400 as a failure", async () => {
    // RFC 7644 §3.12: noTarget is the answer when a path's filter matches nothing, which some servers give to this removal.
    const strict = await startServer((request, response) => {
      const scimType = request.url?.endsWith("/Groups/strict") ? "noTarget" : "invalidValue";
      response.writeHead(400, { "content-type": "application/scim+json" });
      response.end(JSON.stringify({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: "400", scimType, detail: "the path matches no value" }));
    });
    try {
      const directory = new ScimGroupDirectory({ ...options, baseUrl: strict.url, ca: strict.ca });
      await expect(directory.removeMember("strict", BABS)).resolves.toBeUndefined();
      await expect(directory.removeMember("other", BABS)).rejects.toMatchObject({
        code: "IDP_FAILED",
        message: `SCIM ${strict.url}: removing user ${BABS} from group other: HTTP 400 Bad Request: invalidValue: the path matches no value`,
      });
    } finally {
      await strict.close();
    }
  });
});

describe("errors", () => {
  it("reports a group that does not exist as IDP_NOT_FOUND, naming the group, whatever the operation", async () => {
    const missing = "00000000-0000-0000-0000-000000000000";
    await expect(directory.listMembers(missing)).rejects.toMatchObject({
      code: "IDP_NOT_FOUND",
      message: `SCIM ${server.baseUrl}: listing members of group ${missing}: HTTP 404 Not Found: Resource ${missing} not found`,
    });
    await expect(directory.addMember(missing, BABS)).rejects.toMatchObject({
      code: "IDP_NOT_FOUND",
      message: `SCIM ${server.baseUrl}: adding user ${BABS} to group ${missing}: HTTP 404 Not Found: Resource ${missing} not found`,
    });
    await expect(directory.removeMember(missing, BABS)).rejects.toMatchObject({
      code: "IDP_NOT_FOUND",
      message: `SCIM ${server.baseUrl}: removing user ${BABS} from group ${missing}: HTTP 404 Not Found: Resource ${missing} not found`,
    });
  });

  it("reports a wrong token as IDP_UNAUTHORIZED without ever printing a token", async () => {
    const wrong = "scim-wrong-token-0a9b8c7d";
    const failure = await new ScimGroupDirectory({ ...options, token: wrong }).listMembers(EMERGENCY).catch((error: unknown) => error);
    expect(failure).toMatchObject({
      code: "IDP_UNAUTHORIZED",
      message: `SCIM ${server.baseUrl}: listing members of group ${EMERGENCY}: HTTP 401 Unauthorized: invalid bearer token`,
      hint: "check that the API token is the right one and has not expired or been revoked",
    });
    expect(JSON.stringify(failure, Object.getOwnPropertyNames(failure))).not.toContain(wrong);
    expect(JSON.stringify(failure, Object.getOwnPropertyNames(failure))).not.toContain(TOKEN);
  });

  it("refuses to send the token over plain http", () => {
    expect(() => new ScimGroupDirectory({ ...options, baseUrl: "http://idp.example/scim/v2" })).toThrow("SCIM http://idp.example/scim/v2: refused: an API token is only ever sent over https");
  });
});
