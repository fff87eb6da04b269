// The SCIM adapter against a SCIM 2.0 service provider built on scimmy (its filters, paging and PATCH), over HTTPS on loopback:
// the shared group directory contract, then what only SCIM does.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScimGroupDirectory, scimString } from "../../../src/adapters/idp/scim-group-directory.js";
import type { IdpConnectionOptions } from "../../../src/adapters/idp/http-client.js";
import { startServer } from "../../support/https-server.js";
import { startScimServer, type ScimTestServer } from "../../support/idp-scim-server.js";
import { runGroupDirectoryContract } from "./group-directory-contract.js";

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
  store.addUser({
    id: BABS,
    userName: "bjensen@example.com",
    displayName: "Babs Jensen",
    emails: ["babs@jensen.org", "bjensen@example.com"],
  });
  store.addUser({
    id: MARK,
    userName: "mpepperidge",
    displayName: "Mark Pepperidge",
    emails: ["mark@example.com"],
    active: false,
  });
  store.addGroup(EMERGENCY, "Emergency Operations");
  options = { baseUrl: server.baseUrl, token: TOKEN, ca: server.ca, sleep: () => Promise.resolve() };
  directory = new ScimGroupDirectory(options);
});

afterAll(async () => {
  await server.close();
});

runGroupDirectoryContract({
  name: "SCIM",
  // scimmy's resource declarations are process-wide: the contract shares this file's one server, seeding its own users and groups.
  start: () => {
    const scim = server;
    return Promise.resolve({
      input: `SCIM ${scim.baseUrl}`,
      token: TOKEN,
      wrongToken: "scim-wrong-token-0a9b8c7d",
      connect: (overrides) =>
        new ScimGroupDirectory({ baseUrl: scim.baseUrl, token: TOKEN, ca: scim.ca, ...overrides }),
      addUser: (user) => {
        const id = randomUUID();
        scim.store.addUser({
          id,
          userName: user.login,
          emails: user.email === null ? [] : [user.email],
          active: user.active,
          ...(user.displayName === null ? {} : { displayName: user.displayName }),
        });
        return { id, ...user };
      },
      addGroup: (displayName) => {
        const id = randomUUID();
        scim.store.addGroup(id, displayName ?? "Emergency Operations");
        return id;
      },
      missingGroupId: "00000000-0000-0000-0000-000000000000",
      missingUserId: "00000000-0000-0000-0000-0000000000ff",
      membersOf: (groupId) => scim.store.membersOf(groupId),
      setPageSize: (size) => void (scim.store.pageSize = size),
      throttleNext: (count, seconds) => scim.faults.throttleNext(count, seconds),
      waitFor: (seconds) => seconds * 1000,
      failNext: (count, status) => scim.faults.failNext(count, status),
      hangNext: (count) => scim.faults.hangNext(count),
      clearFaults: () => scim.faults.clear(),
      requestCount: () => scim.received.length,
      says: {
        unauthorized: "invalid bearer token",
        throttled: "Too many requests",
        unavailable: "Service temporarily unavailable",
        missingGroup: (groupId) => `Resource ${groupId} not found`,
      },
      stop: () => Promise.resolve(),
    });
  },
});

describe("finding a responder", () => {
  it("finds a user by userName, the primary of several addresses as their email", async () => {
    await expect(directory.findUser("bjensen@example.com")).resolves.toEqual({
      id: BABS,
      login: "bjensen@example.com",
      email: "babs@jensen.org",
      displayName: "Babs Jensen",
      active: true,
    });
  });

  it("finds a user by their second address", async () => {
    await expect(directory.findUser("bjensen@example.com")).resolves.toMatchObject({ id: BABS });
    await expect(directory.findUser("mark@example.com")).resolves.toMatchObject({
      id: MARK,
      login: "mpepperidge",
      active: false,
    });
  });

  it("writes filter values as JSON strings, quotes and backslashes escaped", () => {
    expect(scimString('o"brien\\x')).toBe('"o\\"brien\\\\x"');
  });
});

describe("membership", () => {
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
    server.store.addGroup(LARGE, "All Engineering", {
      hideMembersOnRead: true,
      members: [...server.store.users.keys()].filter((id) => id.startsWith("engineer-")),
    });
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
      message:
        `SCIM ${server.baseUrl}: listing members of group with-nested: member nested-admins is a Group, not ` +
        `a user; breakglass manages only direct user members`,
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
      response.end(
        JSON.stringify({
          schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
          status: "400",
          scimType,
          detail: "the path matches no value",
        }),
      );
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
  it("refuses to send the token over plain http", () => {
    expect(() => new ScimGroupDirectory({ ...options, baseUrl: "http://idp.example/scim/v2" })).toThrow(
      "SCIM http://idp.example/scim/v2: refused: an API token is only ever sent over https",
    );
  });
});

describe("a filter-limited server, like IAM Identity Center's SCIM", () => {
  const limited = async <T>(work: () => Promise<T>): Promise<T> => {
    server.store.filterLimited = true;
    server.store.cursorPageSize = 100;
    try {
      return await work();
    } finally {
      server.store.filterLimited = false;
    }
  };

  it("finds a responder by email though the server refuses the email filter (400 invalidFilter), paging by cursor", async () => {
    for (let index = 0; index < 120; index++) {
      const id = `contractor-${String(index).padStart(3, "0")}`;
      server.store.addUser({ id, userName: `${id}`, emails: [`${id}@example.org`] });
    }
    const before = server.received.length;
    const found = await limited(() => directory.findUser("contractor-117@example.org"));
    expect(found).toMatchObject({ id: "contractor-117", login: "contractor-117", email: "contractor-117@example.org" });
    const asked = server.received.slice(before).map((request) => request.url.searchParams);
    // The userName and the refused email filter; then every user, from the start by cursor once startIndex is ignored.
    expect(asked[1]?.get("filter")).toBe('emails.value eq "contractor-117@example.org"');
    const cursorPages = Math.ceil(server.store.users.size / 100);
    expect(asked.slice(2).map((query) => [query.get("startIndex"), query.has("cursor")])).toEqual([
      ["1", false],
      ["101", false],
      ...Array.from({ length: cursorPages }, () => [null, true]),
    ]);
  });

  it("finds a group by displayName, the filter it supports", async () => {
    server.store.addGroup("ic-operators", "aws-emergency-operators-limited");
    await expect(limited(() => directory.findGroup("AWS-emergency-operators-limited"))).resolves.toEqual({
      id: "ic-operators",
      displayName: "aws-emergency-operators-limited",
    });
  });

  it("takes a group answered with an empty member list as membership unknown, not as empty: verify-empty fails closed", async () => {
    server.store.addGroup("ic-group", "aws-emergency-operators-ic", { members: [BABS] });
    await expect(limited(() => directory.listMembers("ic-group"))).rejects.toMatchObject({
      code: "IDP_FAILED",
      message:
        `SCIM ${server.baseUrl}: listing members of group ic-group: membership unknown: the server answers the group ` +
        'without members and refuses the filter groups.value eq "ic-group" (400 invalidFilter), so breakglass cannot ' +
        "tell who is in it and does not take it as empty",
    });
  });

  it("still confirms an empty list on a server that supports the members filter", async () => {
    server.store.addGroup("really-empty", "Really empty");
    await expect(directory.listMembers("really-empty")).resolves.toEqual([]);
  });
});
