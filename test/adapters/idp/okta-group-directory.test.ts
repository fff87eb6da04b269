// The Okta adapter against a loopback server answering as Okta documents these endpoints:
// https://developer.okta.com/docs/reference/api/groups/ (members, assign, unassign: 204 either way)
// https://developer.okta.com/docs/reference/user-query/ (search, case-insensitive for login and email)
// https://developer.okta.com/docs/reference/rl-best-practices/ (429 with X-Rate-Limit-Reset)
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IdpConnectionOptions } from "../../../src/adapters/idp/http-client.js";
import { nextLink, OktaGroupDirectory, oktaString } from "../../../src/adapters/idp/okta-group-directory.js";
import { startOktaServer, type OktaTestServer } from "../../support/idp-okta-server.js";

const TOKEN = "00aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789-_";
const EMERGENCY = "00g1emaKYZTWRYYRRTSK";
const ISAAC = "00ub0oNGTSWTBKOLGLNR";
const ADA = "00u1f96ECLNVOKVMUSEA";

let server: OktaTestServer;
let sleeps: number[];
let options: IdpConnectionOptions;
let directory: OktaGroupDirectory;

beforeAll(async () => {
  server = await startOktaServer(TOKEN);
  server.users.set(ISAAC, { id: ISAAC, login: "isaac.brock@example.com", email: "isaac.brock@example.com", firstName: "Isaac", lastName: "Brock" });
  server.users.set(ADA, { id: ADA, login: "ada", email: "Ada.Lovelace@example.com", firstName: "Ada", lastName: "Lovelace" });
  server.users.set("00u2suspendedUSER000", { id: "00u2suspendedUSER000", login: "grace", email: "grace@example.com", firstName: "Grace", lastName: "Hopper", status: "SUSPENDED" });
  for (const [index, name] of ["alan", "barbara", "claude", "dennis", "edsger"].entries()) {
    server.users.set(`00upagedUSER0000000${index}`, { id: `00upagedUSER0000000${index}`, login: name, email: `${name}@example.com`, firstName: name, lastName: "Test" });
  }
  // Okta does not require emails to be unique.
  server.users.set("00ushared0000000000A", { id: "00ushared0000000000A", login: "oncall-a", email: "oncall@example.com", firstName: "On", lastName: "Call" });
  server.users.set("00ushared0000000000B", { id: "00ushared0000000000B", login: "oncall-b", email: "oncall@example.com", firstName: "On", lastName: "Call" });
});

beforeEach(() => {
  server.groups.set(EMERGENCY, new Set());
  server.setPageSize(200);
  sleeps = [];
  options = { baseUrl: server.url, token: TOKEN, ca: server.ca, sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    } };
  directory = new OktaGroupDirectory(options);
});

afterAll(async () => {
  await server.close();
});

describe("finding a responder", () => {
  it("finds a user by login, with the name Okta holds", async () => {
    await expect(directory.findUser("isaac.brock@example.com")).resolves.toEqual({
      id: ISAAC,
      login: "isaac.brock@example.com",
      email: "isaac.brock@example.com",
      displayName: "Isaac Brock",
      active: true,
    });
  });

  it("finds a user by email address whatever its case", async () => {
    await expect(directory.findUser("ada.lovelace@EXAMPLE.com")).resolves.toMatchObject({ id: ADA, login: "ada" });
  });

  it("reports a suspended account as inactive", async () => {
    await expect(directory.findUser("grace")).resolves.toMatchObject({ login: "grace", active: false });
  });

  it("answers null when nobody has that login or address", async () => {
    await expect(directory.findUser("nobody@example.com")).resolves.toBeNull();
  });

  it("refuses to choose between two users who share an address", async () => {
    await expect(directory.findUser("oncall@example.com")).rejects.toMatchObject({
      code: "USAGE",
      message: `Okta ${server.url}: looking up user oncall@example.com: 2 users match: oncall-a (00ushared0000000000A), oncall-b (00ushared0000000000B)`,
    });
  });

  it("quotes search values with quotes and backslashes escaped", () => {
    expect(oktaString('o"brien')).toBe('"o\\"brien"');
  });
});

describe("membership", () => {
  it("adds a responder, adding again is harmless, and the group then lists exactly that responder", async () => {
    await directory.addMember(EMERGENCY, ISAAC);
    await directory.addMember(EMERGENCY, ISAAC);
    expect([...server.groups.get(EMERGENCY)!]).toEqual([ISAAC]);
    await expect(directory.listMembers(EMERGENCY)).resolves.toEqual([
      { id: ISAAC, login: "isaac.brock@example.com", email: "isaac.brock@example.com", displayName: "Isaac Brock", active: true },
    ]);
  });

  it("removes the responder, removing again is harmless, and the group is empty again", async () => {
    server.groups.set(EMERGENCY, new Set([ISAAC]));
    await directory.removeMember(EMERGENCY, ISAAC);
    await directory.removeMember(EMERGENCY, ISAAC);
    await expect(directory.listMembers(EMERGENCY)).resolves.toEqual([]);
  });

  it("treats removing a user who does not exist as done: nobody by that id is in the group", async () => {
    await expect(directory.removeMember(EMERGENCY, "00uDoesNotExist00000")).resolves.toBeUndefined();
  });

  it("follows Link rel=next across pages to list every member", async () => {
    const ids = [...server.users.keys()].filter((id) => id.startsWith("00upaged"));
    server.groups.set(EMERGENCY, new Set(ids));
    server.setPageSize(2);
    const before = server.requests.length;
    const members = await directory.listMembers(EMERGENCY);
    expect(members.map((member) => member.login)).toEqual(["alan", "barbara", "claude", "dennis", "edsger"]);
    expect(server.requests.slice(before).map((request) => request.url)).toEqual([
      `/api/v1/groups/${EMERGENCY}/users?limit=200`,
      `/api/v1/groups/${EMERGENCY}/users?limit=2&after=00upagedUSER00000001`,
      `/api/v1/groups/${EMERGENCY}/users?limit=2&after=00upagedUSER00000003`,
    ]);
  });

  it("reads the next link among several Link headers or relations", () => {
    expect(nextLink(['<https://example.okta.com/a>; rel="self"', '<https://example.okta.com/b?after=x>; rel="next"'])).toBe("https://example.okta.com/b?after=x");
    expect(nextLink('<https://example.okta.com/a>; rel="self", <https://example.okta.com/c>; rel=next')).toBe("https://example.okta.com/c");
    expect(nextLink('<https://example.okta.com/a>; rel="self"')).toBeUndefined();
    expect(nextLink(undefined)).toBeUndefined();
  });
});

describe("rate limits and errors", () => {
  it("waits until Okta's rate-limit window resets, then carries on", async () => {
    server.rateLimitNext(1, 5);
    await directory.addMember(EMERGENCY, ADA);
    expect(sleeps).toHaveLength(1);
    // X-Rate-Limit-Reset is in whole epoch seconds, so the wait is within a second of the five asked for.
    expect(sleeps[0]).toBeGreaterThan(4_000);
    expect(sleeps[0]).toBeLessThanOrEqual(6_000);
    expect([...server.groups.get(EMERGENCY)!]).toEqual([ADA]);
  });

  it("gives up when Okta keeps rate-limiting, and says so", async () => {
    server.rateLimitNext(3, 1);
    await expect(new OktaGroupDirectory({ ...options, maxAttempts: 3 }).listMembers(EMERGENCY)).rejects.toMatchObject({
      code: "IDP_UNAVAILABLE",
      message: `Okta ${server.url}: listing members of group ${EMERGENCY}: HTTP 429 Too Many Requests: API call exceeded rate limit due to too many requests. (gave up after 3 attempts)`,
      hint: "the IdP is rate-limiting breakglass; wait a minute and retry",
    });
  });

  it("reports a group that does not exist as IDP_NOT_FOUND, naming the group", async () => {
    const missing = "00gDoesNotExist00000";
    await expect(directory.addMember(missing, ISAAC)).rejects.toMatchObject({
      code: "IDP_NOT_FOUND",
      message: `Okta ${server.url}: adding user ${ISAAC} to group ${missing}: HTTP 404 Not Found: Not found: Resource not found: ${missing} (UserGroup)`,
    });
    await expect(directory.removeMember(missing, ISAAC)).rejects.toMatchObject({
      code: "IDP_NOT_FOUND",
      message: `Okta ${server.url}: removing user ${ISAAC} from group ${missing}: HTTP 404 Not Found: Not found: Resource not found: ${missing} (UserGroup)`,
    });
    await expect(directory.listMembers(missing)).rejects.toMatchObject({ code: "IDP_NOT_FOUND" });
  });

  it("reports adding a user who does not exist as IDP_NOT_FOUND, naming the user", async () => {
    await expect(directory.addMember(EMERGENCY, "00uDoesNotExist00000")).rejects.toThrow(
      `Okta ${server.url}: adding user 00uDoesNotExist00000 to group ${EMERGENCY}: HTTP 404 Not Found: Not found: Resource not found: 00uDoesNotExist00000 (User)`,
    );
  });

  it("reports a wrong token as IDP_UNAUTHORIZED without printing either token", async () => {
    const wrong = "00zYxWvUtSrQpOnMlKjIhGfEdCbA9876543210-_";
    const failure = await new OktaGroupDirectory({ ...options, token: wrong }).listMembers(EMERGENCY).catch((error: unknown) => error);
    expect(failure).toMatchObject({
      code: "IDP_UNAUTHORIZED",
      message: `Okta ${server.url}: listing members of group ${EMERGENCY}: HTTP 401 Unauthorized: Invalid token provided`,
    });
    const everything = JSON.stringify(failure, Object.getOwnPropertyNames(failure));
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(TOKEN);
  });

  it("sends the token as SSWS, Okta's API token scheme", async () => {
    const before = server.requests.length;
    await directory.listMembers(EMERGENCY);
    expect(server.requests[before]?.headers.authorization).toBe(`SSWS ${TOKEN}`);
  });
});
