// The Microsoft Graph adapter against a loopback server answering as Graph documents these endpoints:
// https://learn.microsoft.com/en-us/graph/api/user-list ($filter on userPrincipalName and mail)
// https://learn.microsoft.com/en-us/graph/api/group-list-members (@odata.nextLink paging, typed members)
// https://learn.microsoft.com/en-us/graph/api/group-post-members (204; 400 when the reference already exists)
// https://learn.microsoft.com/en-us/graph/api/group-delete-members (204; 404 for a non-member)
// https://learn.microsoft.com/en-us/graph/throttling (429 with Retry-After)
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GraphGroupDirectory, odataString } from "../../../src/adapters/idp/graph-group-directory.js";
import type { IdpConnectionOptions } from "../../../src/adapters/idp/http-client.js";
import { startGraphServer, type GraphTestServer } from "../../support/idp-graph-server.js";

const TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.test-payload.test-signature";
const EMERGENCY = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
const ADELE = "87d349ed-44d7-43e1-9a83-5f2406dee5bd";
const MEGAN = "5bde3e51-d13b-4db1-9948-fe4b109d11a7";

let server: GraphTestServer;
let sleeps: number[];
let options: IdpConnectionOptions;
let directory: GraphGroupDirectory;

beforeAll(async () => {
  server = await startGraphServer(TOKEN);
  server.users.set(ADELE, { id: ADELE, userPrincipalName: "AdeleV@contoso.com", mail: "AdeleV@contoso.com", displayName: "Adele Vance" });
  server.users.set(MEGAN, { id: MEGAN, userPrincipalName: "MeganB@contoso.com", mail: "megan.bowen@contoso.com", displayName: "Megan Bowen", accountEnabled: false });
  server.users.set("a1b2c3d4-0000-4000-8000-00000000000a", { id: "a1b2c3d4-0000-4000-8000-00000000000a", userPrincipalName: "o'brien@contoso.com", mail: null, displayName: "Pat O'Brien" });
  // One user's address is another's sign-in name.
  server.users.set("a1b2c3d4-0000-4000-8000-00000000000b", { id: "a1b2c3d4-0000-4000-8000-00000000000b", userPrincipalName: "lynne@contoso.com", mail: "shared@contoso.com", displayName: "Lynne" });
  server.users.set("a1b2c3d4-0000-4000-8000-00000000000c", { id: "a1b2c3d4-0000-4000-8000-00000000000c", userPrincipalName: "shared@contoso.com", mail: null, displayName: "Shared Mailbox" });
  for (let index = 0; index < 5; index++) {
    const id = `c0ffee00-0000-4000-8000-00000000000${index}`;
    server.users.set(id, { id, userPrincipalName: `engineer${index}@contoso.com`, mail: null, displayName: `Engineer ${index}` });
  }
});

beforeEach(() => {
  server.groups.set(EMERGENCY, new Set());
  server.setPageSize(100);
  sleeps = [];
  options = {
    baseUrl: server.baseUrl,
    token: TOKEN,
    ca: server.ca,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  };
  directory = new GraphGroupDirectory(options);
});

afterAll(async () => {
  await server.close();
});

describe("finding a responder", () => {
  it("finds a user by userPrincipalName whatever its case", async () => {
    await expect(directory.findUser("adelev@CONTOSO.com")).resolves.toEqual({
      id: ADELE,
      login: "AdeleV@contoso.com",
      email: "AdeleV@contoso.com",
      displayName: "Adele Vance",
      active: true,
    });
  });

  it("finds a user by mail, and reports a disabled account as inactive", async () => {
    await expect(directory.findUser("megan.bowen@contoso.com")).resolves.toMatchObject({ id: MEGAN, login: "MeganB@contoso.com", active: false });
  });

  it("finds a name with an apostrophe, the quote doubled in the filter", async () => {
    const before = server.requests.length;
    await expect(directory.findUser("o'brien@contoso.com")).resolves.toMatchObject({ displayName: "Pat O'Brien" });
    const sent = new URL(server.requests[before]?.url ?? "/", server.url);
    expect(sent.searchParams.get("$filter")).toBe("userPrincipalName eq 'o''brien@contoso.com' or mail eq 'o''brien@contoso.com'");
    expect(odataString("it's")).toBe("'it''s'");
  });

  it("answers null when nobody has that name or address", async () => {
    await expect(directory.findUser("nobody@contoso.com")).resolves.toBeNull();
  });

  it("refuses to choose when one user's address is another's sign-in name", async () => {
    await expect(directory.findUser("shared@contoso.com")).rejects.toThrow(
      `Graph ${server.baseUrl}: looking up user shared@contoso.com: 2 users match: lynne@contoso.com (a1b2c3d4-0000-4000-8000-00000000000b), shared@contoso.com (a1b2c3d4-0000-4000-8000-00000000000c)`,
    );
  });
});

describe("membership", () => {
  it("adds a responder, adding again is harmless (Graph's 400 'already exist'), and the group then lists exactly that responder", async () => {
    await directory.addMember(EMERGENCY, ADELE);
    await directory.addMember(EMERGENCY, ADELE);
    expect([...server.groups.get(EMERGENCY)!]).toEqual([ADELE]);
    await expect(directory.listMembers(EMERGENCY)).resolves.toEqual([{ id: ADELE, login: "AdeleV@contoso.com", email: "AdeleV@contoso.com", displayName: "Adele Vance", active: true }]);
  });

  it("references the user by its directoryObjects URL under the configured base URL", async () => {
    const before = server.requests.length;
    await directory.addMember(EMERGENCY, MEGAN);
    const sent = server.requests[before];
    expect([sent?.method, sent?.url, sent?.headers["content-type"]]).toEqual(["POST", `/v1.0/groups/${EMERGENCY}/members/$ref`, "application/json"]);
  });

  it("removes the responder, removing again is harmless (Graph's 404 for a non-member), and the group is empty again", async () => {
    server.groups.set(EMERGENCY, new Set([ADELE]));
    await directory.removeMember(EMERGENCY, ADELE);
    await directory.removeMember(EMERGENCY, ADELE);
    await expect(directory.listMembers(EMERGENCY)).resolves.toEqual([]);
  });

  it("follows @odata.nextLink across pages to list every member", async () => {
    const ids = [...server.users.keys()].filter((id) => id.startsWith("c0ffee00"));
    server.groups.set(EMERGENCY, new Set(ids));
    server.setPageSize(2);
    const before = server.requests.length;
    const members = await directory.listMembers(EMERGENCY);
    expect(members.map((member) => member.id)).toEqual(ids);
    expect(server.requests.slice(before).map((request) => new URL(request.url ?? "/", server.url).searchParams.get("$skiptoken"))).toEqual([null, "2", "4"]);
  });

  it("fails closed on a nested group: its members also get in, and breakglass cannot say who they are", async () => {
    const nested = "0f3a6c1e-5555-4000-8000-000000000000";
    server.groups.set(nested, new Set());
    server.groups.set(EMERGENCY, new Set([ADELE, nested]));
    await expect(directory.listMembers(EMERGENCY)).rejects.toMatchObject({
      code: "IDP_FAILED",
      message: `Graph ${server.baseUrl}: listing members of group ${EMERGENCY}: member ${nested} is a #microsoft.graph.group, not a user; breakglass manages only direct user members`,
      hint: "remove the nested member from the emergency group in Entra ID",
    });
  });
});

describe("throttling and errors", () => {
  it("waits as long as Retry-After says when Graph throttles, then carries on", async () => {
    server.throttleNext(2, 3);
    await directory.addMember(EMERGENCY, ADELE);
    expect(sleeps).toEqual([3_000, 3_000]);
    expect([...server.groups.get(EMERGENCY)!]).toEqual([ADELE]);
  });

  it("reports a group that does not exist as IDP_NOT_FOUND, naming the group, even when removing", async () => {
    const missing = "00000000-0000-0000-0000-000000000000";
    const notFound = `HTTP 404 Not Found: Request_ResourceNotFound: Resource '${missing}' does not exist or one of its queried reference-property objects are not present.`;
    await expect(directory.addMember(missing, ADELE)).rejects.toMatchObject({ code: "IDP_NOT_FOUND", message: `Graph ${server.baseUrl}: adding user ${ADELE} to group ${missing}: ${notFound}` });
    await expect(directory.removeMember(missing, ADELE)).rejects.toMatchObject({ code: "IDP_NOT_FOUND", message: `Graph ${server.baseUrl}: removing user ${ADELE} from group ${missing}: ${notFound}` });
    await expect(directory.listMembers(missing)).rejects.toMatchObject({ code: "IDP_NOT_FOUND", message: `Graph ${server.baseUrl}: listing members of group ${missing}: ${notFound}` });
  });

  it("reports a 400 other than 'already a member' as a failure", async () => {
    await expect(directory.addMember(EMERGENCY, "adele")).rejects.toMatchObject({
      code: "IDP_FAILED",
      message: `Graph ${server.baseUrl}: adding user adele to group ${EMERGENCY}: HTTP 400 Bad Request: Request_BadRequest: Invalid object identifier 'adele'.`,
    });
  });

  it("reports a wrong token as IDP_UNAUTHORIZED without printing either token", async () => {
    const wrong = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.wrong-payload.wrong-signature";
    const failure = await new GraphGroupDirectory({ ...options, token: wrong }).findUser("AdeleV@contoso.com").catch((error: unknown) => error);
    expect(failure).toMatchObject({
      code: "IDP_UNAUTHORIZED",
      message: `Graph ${server.baseUrl}: looking up user AdeleV@contoso.com: HTTP 401 Unauthorized: InvalidAuthenticationToken: Access token validation failure. Invalid audience.`,
    });
    const everything = JSON.stringify(failure, Object.getOwnPropertyNames(failure));
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(TOKEN);
  });
});
