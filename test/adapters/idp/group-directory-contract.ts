// The contract every GroupDirectory adapter keeps (src/domain/ports/group-directory.ts), run by each adapter's test file against its vendor's loopback server.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IdpConnectionOptions } from "../../../src/adapters/idp/http-client.js";
import type { DirectoryUser, GroupDirectory } from "../../../src/domain/ports/group-directory.js";

/** A user to create on the server, as the port will report it; the server picks an id in the vendor's format. */
export type NewDirectoryUser = Omit<DirectoryUser, "id">;

/** One vendor's loopback server, driven the same way whatever the vendor. */
export interface GroupDirectoryServer {
  /** How the adapter's messages name the API: "SCIM https://127.0.0.1:1234/scim/v2". */
  readonly input: string;
  /** The token the server accepts, and one in the vendor's format that it refuses: neither may ever appear in a message. */
  readonly token: string;
  readonly wrongToken: string;
  /** The adapter under test, against this server, with the test's overrides (sleep, token, limits). */
  connect(overrides: Partial<IdpConnectionOptions>): GroupDirectory;
  addUser(user: NewDirectoryUser): DirectoryUser;
  /** Creates an empty group (named `displayName`, else a name of the server's choosing) and returns its id. */
  addGroup(displayName?: string): string;
  /** Ids in the vendor's format that no group, and no user, has. */
  readonly missingGroupId: string;
  readonly missingUserId: string;
  /** The member ids the server holds, read from the server itself rather than through the adapter. */
  membersOf(groupId: string): string[];
  /** Answers member listings in pages of at most `size` (null: the server's usual page). */
  setPageSize(size: number | null): void;
  /** Answers the next `count` requests with 429, asking (in the vendor's own header) for a wait of `seconds`. */
  throttleNext(count: number, seconds: number): void;
  /** How long the adapter waits for such a 429: `seconds`, plus the 1 s Okta's SDK adds to its X-Rate-Limit-Reset. */
  waitFor(seconds: number): number;
  /** Answers the next `count` requests with `status` and the vendor's error body. */
  failNext(count: number, status: number): void;
  /** Takes the next `count` requests and never answers them. */
  hangNext(count: number): void;
  /** Forgets scripted faults a test left unused. */
  clearFaults(): void;
  /** Requests received so far. */
  requestCount(): number;
  /** The server's own words in its error bodies, which the adapter's messages quote. */
  readonly says: {
    readonly unauthorized: string;
    readonly throttled: string;
    readonly unavailable: string;
    missingGroup(groupId: string): string;
  };
  stop(): Promise<void>;
}

export interface GroupDirectoryContract {
  /** How the suite's titles name the adapter: "SCIM". */
  readonly name: string;
  readonly start: () => Promise<GroupDirectoryServer>;
}

export function runGroupDirectoryContract({ name, start }: GroupDirectoryContract): void {
  describe(`${name}: the group directory contract`, () => {
    let server: GroupDirectoryServer;
    let sleeps: number[];
    let directory: GroupDirectory;
    let ada: DirectoryUser;
    let grace: DirectoryUser;
    const connect = (overrides: Partial<IdpConnectionOptions> = {}) =>
      server.connect({
        sleep: (ms) => {
          sleeps.push(ms);
          return Promise.resolve();
        },
        ...overrides,
      });

    beforeAll(async () => {
      server = await start();
      ada = server.addUser({
        login: "ada.lovelace@corp.example",
        email: "ada@example.com",
        displayName: "Ada Lovelace",
        active: true,
      });
      grace = server.addUser({
        login: "grace.hopper@corp.example",
        email: "grace@example.com",
        displayName: "Grace Hopper",
        active: false,
      });
    });

    beforeEach(() => {
      server.setPageSize(null);
      server.clearFaults();
      sleeps = [];
      directory = connect();
    });

    afterAll(async () => {
      await server?.stop();
    });

    describe("finding a responder", () => {
      it("finds a responder by login, whatever its case, as the IdP holds them", async () => {
        await expect(directory.findUser("ada.lovelace@corp.example")).resolves.toEqual(ada);
        await expect(directory.findUser("ADA.Lovelace@Corp.Example")).resolves.toEqual(ada);
      });

      it("finds a responder by email address, whatever its case", async () => {
        await expect(directory.findUser("ada@example.com")).resolves.toEqual(ada);
        await expect(directory.findUser("Ada@EXAMPLE.com")).resolves.toEqual(ada);
      });

      it("reports a disabled account as inactive", async () => {
        await expect(directory.findUser("grace.hopper@corp.example")).resolves.toEqual({ ...grace, active: false });
      });

      it("answers null when nobody has that login or address", async () => {
        await expect(directory.findUser("nobody@example.com")).resolves.toBeNull();
      });

      it("refuses to choose when one user's login is another user's address, naming both", async () => {
        const owner = server.addUser({
          login: "oncall@corp.example",
          email: "oncall.owner@example.com",
          displayName: "On Call",
          active: true,
        });
        const other = server.addUser({
          login: "someone.else@corp.example",
          email: "oncall@corp.example",
          displayName: "Someone Else",
          active: true,
        });
        await expect(directory.findUser("oncall@corp.example")).rejects.toMatchObject({
          code: "USAGE",
          message:
            `${server.input}: looking up user oncall@corp.example: 2 users match: oncall@corp.example ` +
            `(${owner.id}), someone.else@corp.example (${other.id})`,
        });
      });
    });

    describe("finding a group", () => {
      it("finds a group by its display name, whatever its case, and by its id", async () => {
        const id = server.addGroup("aws-emergency-operators-by-name");
        const group = { id, displayName: "aws-emergency-operators-by-name" };
        await expect(directory.findGroup("aws-emergency-operators-by-name")).resolves.toEqual(group);
        await expect(directory.findGroup("AWS-Emergency-Operators-BY-NAME")).resolves.toEqual(group);
        await expect(directory.findGroup(id)).resolves.toEqual(group);
      });

      it("finds a name with apostrophes, quoted as the API's filter language wants", async () => {
        // (Double quotes and backslashes: scimmy's filter parser reads no escapes; the Okta and Graph tests cover them.)
        const name = "O'Brien's break-glass ops";
        const id = server.addGroup(name);
        await expect(directory.findGroup(name)).resolves.toEqual({ id, displayName: name });
      });

      it("answers null when no group has that name or id", async () => {
        await expect(directory.findGroup("aws-emergency-nobody")).resolves.toBeNull();
        await expect(directory.findGroup(server.missingGroupId)).resolves.toBeNull();
      });

      it("refuses to choose between two groups of one name, naming both, even when the server answers them on two pages", async () => {
        const first = server.addGroup("aws-emergency-twice");
        const second = server.addGroup("AWS-Emergency-Twice");
        server.setPageSize(1);
        const refused = await directory.findGroup("aws-emergency-twice").catch((error: unknown) => error);
        expect(refused).toMatchObject({
          code: "USAGE",
          message: expect.stringMatching(
            new RegExp(`^${escapeRegExp(server.input)}: looking up group aws-emergency-twice: 2 groups match: `),
          ),
        });
        expect((refused as Error).message).toContain(`aws-emergency-twice (${first})`);
        expect((refused as Error).message).toContain(`AWS-Emergency-Twice (${second})`);
      });
    });

    describe("membership", () => {
      it("lists no one in an empty group", async () => {
        await expect(directory.listMembers(server.addGroup())).resolves.toEqual([]);
      });

      it("adds a responder, adding again is harmless, and the group then holds and lists exactly that responder", async () => {
        const group = server.addGroup();
        await directory.addMember(group, ada.id);
        await directory.addMember(group, ada.id);
        expect(server.membersOf(group)).toEqual([ada.id]);
        await expect(directory.listMembers(group)).resolves.toEqual([ada]);
      });

      it("removes the responder, removing again is harmless, and the group is empty again", async () => {
        const group = server.addGroup();
        await directory.addMember(group, ada.id);
        await directory.removeMember(group, ada.id);
        await directory.removeMember(group, ada.id);
        expect(server.membersOf(group)).toEqual([]);
        await expect(directory.listMembers(group)).resolves.toEqual([]);
      });

      it("takes removing a user who does not exist as done: nobody by that id is in the group", async () => {
        const group = server.addGroup();
        await directory.addMember(group, ada.id);
        await expect(directory.removeMember(group, server.missingUserId)).resolves.toBeUndefined();
        expect(server.membersOf(group)).toEqual([ada.id]);
      });

      it("lists every member of a group that the server answers in several pages", async () => {
        const group = server.addGroup();
        const engineers = ["alan", "barbara", "claude", "dennis", "edsger"].map((first) =>
          server.addUser({
            login: `${first}@corp.example`,
            email: `${first}@example.com`,
            displayName: `${first} Engineer`,
            active: true,
          }),
        );
        for (const engineer of engineers) await directory.addMember(group, engineer.id);
        server.setPageSize(2);
        const before = server.requestCount();
        await expect(directory.listMembers(group)).resolves.toEqual(engineers);
        // Five members in pages of two: at least three pages were asked for.
        expect(server.requestCount() - before).toBeGreaterThanOrEqual(3);
      });

      it("reports a group that does not exist as IDP_NOT_FOUND, naming the group, whatever the operation", async () => {
        const missing = server.missingGroupId;
        const notFound = `HTTP 404 Not Found: ${server.says.missingGroup(missing)}`;
        await expect(directory.listMembers(missing)).rejects.toMatchObject({
          code: "IDP_NOT_FOUND",
          message: `${server.input}: listing members of group ${missing}: ${notFound}`,
        });
        await expect(directory.addMember(missing, ada.id)).rejects.toMatchObject({
          code: "IDP_NOT_FOUND",
          message: `${server.input}: adding user ${ada.id} to group ${missing}: ${notFound}`,
        });
        await expect(directory.removeMember(missing, ada.id)).rejects.toMatchObject({
          code: "IDP_NOT_FOUND",
          message: `${server.input}: removing user ${ada.id} from group ${missing}: ${notFound}`,
        });
      });
    });

    describe("throttling and outages", () => {
      it("waits as long as the server asks when it throttles (429), then carries on", async () => {
        const group = server.addGroup();
        server.throttleNext(2, 41);
        await connect().addMember(group, ada.id);
        expect(sleeps).toEqual([server.waitFor(41), server.waitFor(41)]);
        expect(server.membersOf(group)).toEqual([ada.id]);
      });

      it("gives up when the server keeps throttling, and says so", async () => {
        const group = server.addGroup();
        server.throttleNext(3, 1);
        await expect(connect({ maxAttempts: 3 }).listMembers(group)).rejects.toMatchObject({
          code: "IDP_UNAVAILABLE",
          message: `${server.input}: listing members of group ${group}: HTTP 429 Too Many Requests: ${server.says.throttled} (gave up after 3 attempts)`,
          hint: "the IdP is rate-limiting breakglass; wait a minute and retry",
        });
      });

      it("retries a server error (5xx), backing off, then carries on", async () => {
        const group = server.addGroup();
        server.failNext(2, 503);
        await directory.addMember(group, ada.id);
        expect(sleeps).toHaveLength(2);
        expect(server.membersOf(group)).toEqual([ada.id]);
      });

      it("gives up on a server that stays down, saying how many attempts it made", async () => {
        const group = server.addGroup();
        server.failNext(6, 503);
        await expect(directory.listMembers(group)).rejects.toMatchObject({
          code: "IDP_UNAVAILABLE",
          message: `${server.input}: listing members of group ${group}: HTTP 503 Service Unavailable: ${server.says.unavailable} (gave up after 6 attempts)`,
        });
        expect(sleeps).toHaveLength(5);
      });

      it("gives up on a server that takes the request and never answers, and still works with it afterwards", async () => {
        server.hangNext(2);
        await expect(connect({ timeoutMs: 200, maxAttempts: 2 }).findUser("ada@example.com")).rejects.toMatchObject({
          code: "IDP_TIMEOUT",
          message: `${server.input}: looking up user ada@example.com: no complete answer within 0.2 s (gave up after 2 attempts)`,
        });
        await expect(directory.findUser("ada@example.com")).resolves.toEqual(ada);
      });

      it("reports a wrong token as IDP_UNAUTHORIZED, whatever the operation, without ever printing a token", async () => {
        const group = server.addGroup();
        const wrong = connect({ token: server.wrongToken });
        const failures = [
          await wrong.listMembers(group).catch((error: unknown) => error),
          await wrong.findUser("ada@example.com").catch((error: unknown) => error),
        ];
        expect(failures).toMatchObject([
          {
            code: "IDP_UNAUTHORIZED",
            message: `${server.input}: listing members of group ${group}: HTTP 401 Unauthorized: ${server.says.unauthorized}`,
            hint: "check that the API token is the right one and has not expired or been revoked",
          },
          {
            code: "IDP_UNAUTHORIZED",
            message: `${server.input}: looking up user ada@example.com: HTTP 401 Unauthorized: ${server.says.unauthorized}`,
          },
        ]);
        const everything = JSON.stringify(
          failures.map((failure) => JSON.stringify(failure, Object.getOwnPropertyNames(failure))),
        );
        expect(everything).not.toContain(server.wrongToken);
        expect(everything).not.toContain(server.token);
      });
    });
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
