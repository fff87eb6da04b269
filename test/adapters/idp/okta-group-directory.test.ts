// The Okta adapter against a loopback server answering as Okta documents these endpoints:
// https://developer.okta.com/docs/reference/api/groups/ (members, assign, unassign: 204 either way)
// https://developer.okta.com/docs/reference/user-query/ (search, case-insensitive for login and email)
// https://developer.okta.com/docs/reference/rl-best-practices/ (429 with X-Rate-Limit-Reset)
// First the shared group directory contract, then what only Okta does.
import { createHash, createPublicKey } from "node:crypto";
import { Agent, request } from "undici";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IdpConnectionOptions } from "../../../src/adapters/idp/http-client.js";
import { nextLink, OktaGroupDirectory, oktaString } from "../../../src/adapters/idp/okta-group-directory.js";
import { ClientCredentialsTokenSource } from "../../../src/adapters/idp/token-source.js";
import { freshKeyPair } from "../../support/certificates.js";
import { startOktaServer, type OktaTestServer } from "../../support/idp-okta-server.js";
import { SteppingClock } from "../../support/stepping-clock.js";
import { runGroupDirectoryContract } from "./group-directory-contract.js";

const TOKEN = "00aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789-_";
const EMERGENCY = "00g1emaKYZTWRYYRRTSK";
const ISAAC = "00ub0oNGTSWTBKOLGLNR";

const CONTRACT_APP = "0oa1contractdpopapp00";
const contractKeys = freshKeyPair();

/**
 * The contract with an API token (SSWS), and again as an OAuth service app that requires DPoP: every call then fetches
 * its token with a proof and sends a proof of its own.
 */
for (const dpop of [false, true])
  runGroupDirectoryContract({
    name: dpop ? "Okta (DPoP service app)" : "Okta",
    start: async () => {
      const okta = await startOktaServer(TOKEN);
      okta.oauth.register({
        clientId: CONTRACT_APP,
        publicKey: createPublicKey(contractKeys.publicKeyPem),
        requireDpop: true,
      });
      const serviceApp = () =>
        new ClientCredentialsTokenSource({
          tokenUrl: okta.tokenUrl,
          clientId: CONTRACT_APP,
          credential: { kind: "private-key", privateKeyPem: contractKeys.privateKeyPem },
          scope: "okta.users.read okta.groups.manage",
          credentialInput: "idp.directory.auth.privateKeyFile (okta.pem)",
          ca: okta.ca,
          dpop: true,
        });
      let created = 0;
      // Okta's ids: a three-character prefix for the kind of object, then 17 more.
      const nextId = (prefix: string) => `${prefix}Contract${String(++created).padStart(9, "0")}`;
      return {
        input: `Okta ${okta.url}`,
        token: TOKEN,
        wrongToken: "00zYxWvUtSrQpOnMlKjIhGfEdCbA9876543210-_",
        connect: (overrides) =>
          new OktaGroupDirectory({ baseUrl: okta.url, token: dpop ? serviceApp() : TOKEN, ca: okta.ca, ...overrides }),
        addUser: (user) => {
          const id = nextId("00u");
          // Okta has no display name of its own here: the adapter makes it from the first and last names.
          const [firstName = "", ...rest] = (user.displayName ?? "").split(" ");
          okta.users.set(id, {
            id,
            login: user.login,
            email: user.email ?? "",
            firstName,
            lastName: rest.join(" "),
            status: user.active ? "ACTIVE" : "SUSPENDED",
          });
          return { id, ...user };
        },
        addGroup: (displayName) => {
          const id = nextId("00g");
          okta.groups.set(id, new Set());
          if (displayName !== undefined) okta.groupNames.set(id, displayName);
          return id;
        },
        missingGroupId: "00gDoesNotExist00000",
        missingUserId: "00uDoesNotExist00000",
        membersOf: (groupId) => [...(okta.groups.get(groupId) ?? [])],
        setPageSize: (size) => okta.setPageSize(size ?? 200),
        throttleNext: (count, seconds) => okta.faults.throttleNext(count, seconds),
        waitFor: (seconds) => (seconds + 1) * 1000,
        failNext: (count, status) => okta.faults.failNext(count, status),
        hangNext: (count) => okta.faults.hangNext(count),
        clearFaults: () => okta.faults.clear(),
        requestCount: () => okta.requests.length,
        says: {
          unauthorized: "Invalid token provided",
          throttled: "API call exceeded rate limit due to too many requests.",
          unavailable: "Internal Server Error",
          missingGroup: (groupId) => `Not found: Resource not found: ${groupId} (UserGroup)`,
        },
        stop: () => okta.close(),
      };
    },
  });

let server: OktaTestServer;
let options: IdpConnectionOptions;
let directory: OktaGroupDirectory;

beforeAll(async () => {
  server = await startOktaServer(TOKEN);
  server.users.set(ISAAC, {
    id: ISAAC,
    login: "isaac.brock@example.com",
    email: "isaac.brock@example.com",
    firstName: "Isaac",
    lastName: "Brock",
  });
  for (const [index, name] of ["alan", "barbara", "claude", "dennis", "edsger"].entries()) {
    server.users.set(`00upagedUSER0000000${index}`, {
      id: `00upagedUSER0000000${index}`,
      login: name,
      email: `${name}@example.com`,
      firstName: name,
      lastName: "Test",
    });
  }
  // Okta does not require emails to be unique.
  server.users.set("00ushared0000000000A", {
    id: "00ushared0000000000A",
    login: "oncall-a",
    email: "oncall@example.com",
    firstName: "On",
    lastName: "Call",
  });
  server.users.set("00ushared0000000000B", {
    id: "00ushared0000000000B",
    login: "oncall-b",
    email: "oncall@example.com",
    firstName: "On",
    lastName: "Call",
  });
});

beforeEach(() => {
  server.groups.set(EMERGENCY, new Set());
  server.setPageSize(200);
  options = { baseUrl: server.url, token: TOKEN, ca: server.ca, sleep: () => Promise.resolve() };
  directory = new OktaGroupDirectory(options);
});

afterAll(async () => {
  await server.close();
});

describe("finding a responder", () => {
  it("finds a re-hire's current account, not the DEPROVISIONED one Okta still returns with the same email", async () => {
    server.users.set("00urehireOLD00000000", {
      id: "00urehireOLD00000000",
      login: "dana.scully@example.com",
      email: "dana.scully@example.com",
      firstName: "Dana",
      lastName: "Scully",
      status: "DEPROVISIONED",
    });
    server.users.set("00urehireNEW00000000", {
      id: "00urehireNEW00000000",
      login: "dana.scully2@example.com",
      email: "dana.scully@example.com",
      firstName: "Dana",
      lastName: "Scully",
    });
    await expect(directory.findUser("dana.scully@example.com")).resolves.toMatchObject({
      id: "00urehireNEW00000000",
      active: true,
    });
    // Alone, a deprovisioned account is still found, as disabled, so that the plan can say it cannot sign in.
    server.users.delete("00urehireNEW00000000");
    await expect(directory.findUser("dana.scully@example.com")).resolves.toMatchObject({
      id: "00urehireOLD00000000",
      active: false,
    });
  });

  it("finds a user by login, with the name Okta holds", async () => {
    await expect(directory.findUser("isaac.brock@example.com")).resolves.toEqual({
      id: ISAAC,
      login: "isaac.brock@example.com",
      email: "isaac.brock@example.com",
      displayName: "Isaac Brock",
      active: true,
    });
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

describe("finding a group", () => {
  it("searches groups on profile.name with the name quoted, quotes and backslashes escaped, then tries it as an id", async () => {
    const id = "00gQuoted0000000000A";
    const name = 'ops "break glass" \\ team';
    server.groups.set(id, new Set());
    server.groupNames.set(id, name);
    const before = server.requests.length;
    await expect(directory.findGroup(name)).resolves.toEqual({ id, displayName: name });
    expect(server.requests.slice(before).map((request) => request.url)).toEqual([
      `/api/v1/groups?search=${encodeURIComponent('profile.name eq "ops \\"break glass\\" \\\\ team"')}&limit=200`,
      `/api/v1/groups/${encodeURIComponent(name)}`,
    ]);
  });
});

describe("membership", () => {
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
    expect(
      nextLink(['<https://example.okta.com/a>; rel="self"', '<https://example.okta.com/b?after=x>; rel="next"']),
    ).toBe("https://example.okta.com/b?after=x");
    expect(nextLink('<https://example.okta.com/a>; rel="self", <https://example.okta.com/c>; rel=next')).toBe(
      "https://example.okta.com/c",
    );
    expect(nextLink('<https://example.okta.com/a>; rel="self"')).toBeUndefined();
    expect(nextLink(undefined)).toBeUndefined();
  });
});

describe("rate limits and errors", () => {
  it("reports adding a user who does not exist as IDP_NOT_FOUND, naming the user", async () => {
    await expect(directory.addMember(EMERGENCY, "00uDoesNotExist00000")).rejects.toThrow(
      `Okta ${server.url}: adding user 00uDoesNotExist00000 to group ${EMERGENCY}: HTTP 404 Not Found: ` +
        `Not found: Resource not found: 00uDoesNotExist00000 (User)`,
    );
  });

  it("sends the token as SSWS, Okta's API token scheme", async () => {
    const before = server.requests.length;
    await directory.listMembers(EMERGENCY);
    expect(server.requests[before]?.headers.authorization).toBe(`SSWS ${TOKEN}`);
  });
});

describe("an OAuth service app (client credentials with private_key_jwt)", () => {
  const CLIENT_ID = "0oa1serviceapp0000000";
  const KEY_INPUT = "idp.directory.auth.privateKeyFile (/etc/breakglass/okta-service-app.pem)";
  const keys = freshKeyPair();
  let clock: SteppingClock;
  let okta: OktaTestServer;

  beforeEach(async () => {
    clock = new SteppingClock(new Date("2026-03-01T03:00:00Z"));
    okta = await startOktaServer("unused-api-token", { now: () => clock.now().getTime() });
    okta.oauth.register({ clientId: CLIENT_ID, publicKey: createPublicKey(keys.publicKeyPem) });
    okta.groups.set(EMERGENCY, new Set());
    okta.users.set(ISAAC, {
      id: ISAAC,
      login: "isaac@example.com",
      email: "isaac@example.com",
      firstName: "Isaac",
      lastName: "Brock",
    });
  });

  afterEach(async () => {
    await okta.close();
  });

  function connect(privateKeyPem = keys.privateKeyPem) {
    const tokens = new ClientCredentialsTokenSource({
      tokenUrl: okta.tokenUrl,
      clientId: CLIENT_ID,
      credential: { kind: "private-key", privateKeyPem, keyId: "kid-1" },
      scope: "okta.users.read okta.groups.manage",
      credentialInput: KEY_INPUT,
      ca: okta.ca,
      now: () => clock.now().getTime(),
    });
    return new OktaGroupDirectory({ baseUrl: okta.url, token: tokens, ca: okta.ca, sleep: () => Promise.resolve() });
  }

  it("signs in with a signed client assertion, sends Bearer tokens, and fetches a new one after the hour", async () => {
    const directory = connect();
    await directory.addMember(EMERGENCY, ISAAC);
    clock.advance(61 * 60_000);
    await directory.removeMember(EMERGENCY, ISAAC);
    expect(okta.groups.get(EMERGENCY)?.size).toBe(0);
    expect(okta.oauth.tokenRequests).toBe(2);
    const api = okta.requests.filter((request) => request.url?.startsWith("/api/v1/"));
    expect(api.every((request) => request.headers.authorization?.startsWith("Bearer "))).toBe(true);
  });

  it("refreshes once when Okta refuses a token it issued, and the call succeeds", async () => {
    const directory = connect();
    await directory.listMembers(EMERGENCY);
    okta.oauth.revokeAll();
    await directory.addMember(EMERGENCY, ISAAC);
    expect([...(okta.groups.get(EMERGENCY) ?? [])]).toEqual([ISAAC]);
    expect(okta.oauth.tokenRequests).toBe(2);
  });

  it("names the key file's setting in one line when Okta does not hold the key's public half", async () => {
    const other = freshKeyPair();
    await expect(connect(other.privateKeyPem).listMembers(EMERGENCY)).rejects.toMatchObject({
      code: "IDP_UNAUTHORIZED",
      message:
        `${KEY_INPUT}: the token endpoint ${new URL(okta.tokenUrl).host} refused the client credentials ` +
        "(HTTP 401: invalid_client: The client_assertion signature is invalid.)",
    });
  });

  it("refuses a key file that is not a PEM private key before anything is sent", () => {
    expect(() => connect("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----")).toThrow(
      `${KEY_INPUT}: is not a PEM private key`,
    );
    expect(okta.requests).toEqual([]);
  });
});

describe("an OAuth service app that requires DPoP (RFC 9449)", () => {
  const CLIENT_ID = "0oa1dpopserviceapp000";
  const KEY_INPUT = "idp.directory.auth.privateKeyFile (/etc/breakglass/okta-service-app.pem)";
  const keys = freshKeyPair();
  let clock: SteppingClock;
  let okta: OktaTestServer;

  beforeEach(async () => {
    clock = new SteppingClock(new Date("2026-03-01T03:00:00Z"));
    okta = await startOktaServer("unused-api-token", { now: () => clock.now().getTime() });
    okta.oauth.register({ clientId: CLIENT_ID, publicKey: createPublicKey(keys.publicKeyPem), requireDpop: true });
    okta.groups.set(EMERGENCY, new Set());
    okta.users.set(ISAAC, {
      id: ISAAC,
      login: "isaac@example.com",
      email: "isaac@example.com",
      firstName: "Isaac",
      lastName: "Brock",
    });
  });

  afterEach(async () => {
    await okta.close();
  });

  function connect(dpop = true) {
    const tokens = new ClientCredentialsTokenSource({
      tokenUrl: okta.tokenUrl,
      clientId: CLIENT_ID,
      credential: { kind: "private-key", privateKeyPem: keys.privateKeyPem },
      scope: "okta.users.read okta.groups.manage",
      credentialInput: KEY_INPUT,
      ca: okta.ca,
      dpop,
      now: () => clock.now().getTime(),
    });
    return new OktaGroupDirectory({ baseUrl: okta.url, token: tokens, ca: okta.ca, sleep: () => Promise.resolve() });
  }

  const apiCalls = () => okta.requests.filter((request) => request.url?.startsWith("/api/v1/"));
  const tokenCalls = () => okta.requests.filter((request) => request.url === "/oauth2/v1/token");
  const claimsOf = (proof: string | string[] | undefined) =>
    JSON.parse(Buffer.from(String(proof).split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;

  /** Sends a request to the stand-in's API as a client other than breakglass would: to replay or strip a proof. */
  async function raw(path: string, headers: Record<string, string>) {
    const response = await request(`${okta.url}${path}`, {
      method: "GET",
      headers,
      dispatcher: new Agent({ connect: { ca: okta.ca } }),
    });
    await response.body.text();
    return { status: response.statusCode, challenge: String(response.headers["www-authenticate"]) };
  }

  it("adds and removes an emergency member with DPoP-bound tokens, answering the token endpoint's nonce", async () => {
    const directory = connect();
    await directory.addMember(EMERGENCY, ISAAC);
    expect([...(okta.groups.get(EMERGENCY) ?? [])]).toEqual([ISAAC]);
    await directory.removeMember(EMERGENCY, ISAAC);
    expect(okta.groups.get(EMERGENCY)?.size).toBe(0);
    // Okta's token endpoint asks for a nonce first (400 use_dpop_nonce); the second proof carries it.
    const [first, second] = tokenCalls();
    expect(claimsOf(first?.headers.dpop).nonce).toBeUndefined();
    expect(claimsOf(second?.headers.dpop).nonce).toBe(okta.oauth.dpopNonce);
    expect(tokenCalls()).toHaveLength(2);
    // Every API call: the DPoP scheme and its own proof, for its method and URL without the query, bound to the token.
    const calls = apiCalls();
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const call of calls) {
      expect(call.headers.authorization).toMatch(/^DPoP \S+$/);
      const claims = claimsOf(call.headers.dpop);
      expect(claims.htm).toBe(call.method);
      expect(claims.htu).toBe(`${okta.url}${call.url!.split("?")[0]}`);
      expect(claims.ath).toBe(createHash("sha256").update(call.headers.authorization!.slice(5)).digest("base64url"));
    }
    expect(new Set(calls.map((call) => claimsOf(call.headers.dpop).jti)).size).toBe(calls.length);
  });

  it("fetches a new token after the hour with the token endpoint's new nonce", async () => {
    const directory = connect();
    await directory.addMember(EMERGENCY, ISAAC);
    clock.advance(61 * 60_000);
    okta.oauth.rotateDpopNonce();
    await directory.removeMember(EMERGENCY, ISAAC);
    expect(okta.groups.get(EMERGENCY)?.size).toBe(0);
    expect(tokenCalls()).toHaveLength(4);
  });

  it("retries an API call once with the nonce the API asks for in its 401", async () => {
    const directory = connect();
    await directory.listMembers(EMERGENCY);
    okta.demandApiNonce("api-nonce-1");
    const before = apiCalls().length;
    await directory.addMember(EMERGENCY, ISAAC);
    expect([...(okta.groups.get(EMERGENCY) ?? [])]).toEqual([ISAAC]);
    const [refused, retried, ...rest] = apiCalls().slice(before);
    expect(claimsOf(refused?.headers.dpop).nonce).toBeUndefined();
    expect(claimsOf(retried?.headers.dpop).nonce).toBe("api-nonce-1");
    expect(rest).toEqual([]);
    // The same token: a nonce is not a reason to fetch another.
    expect(retried?.headers.authorization).toBe(refused?.headers.authorization);
    expect(tokenCalls()).toHaveLength(2);
  });

  it("has Okta refuse a replayed proof and a DPoP-bound token sent without one", async () => {
    await connect().listMembers(EMERGENCY);
    const [call] = apiCalls();
    const path = call!.url!;
    const authorization = call!.headers.authorization!;
    const replayed = await raw(path, { authorization, dpop: String(call!.headers.dpop) });
    expect(replayed).toMatchObject({ status: 401 });
    expect(replayed.challenge).toContain(`error="invalid_dpop_proof"`);
    expect(replayed.challenge).toContain("The DPoP proof 'jti' has already been used.");
    const withoutProof = await raw(path, { authorization });
    expect(withoutProof.status).toBe(401);
    expect(withoutProof.challenge).toContain("The DPoP proof JWT header is missing.");
    const asBearer = await raw(path, { authorization: authorization.replace(/^DPoP /, "Bearer ") });
    expect(asBearer.status).toBe(401);
    expect(asBearer.challenge).toContain(`error="invalid_token"`);
  });

  it("says to turn dpop on, naming the key's setting, when the app requires DPoP and breakglass sends no proof", async () => {
    const refusal = connect(false).listMembers(EMERGENCY);
    await expect(refusal).rejects.toMatchObject({
      code: "IDP_UNAUTHORIZED",
      message:
        `${KEY_INPUT}: the token endpoint ${new URL(okta.tokenUrl).host} refused the client credentials ` +
        "(HTTP 400: invalid_dpop_proof: The DPoP proof JWT header is missing.)",
      hint: "the service app requires DPoP: set idp.directory.auth.dpop: true",
    });
    expect(apiCalls()).toEqual([]);
  });
});
