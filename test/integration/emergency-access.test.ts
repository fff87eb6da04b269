// /breakglass incident declare|close, grant and revoke against a SCIM 2.0 server (scimmy) and a real SQLite store: the
// runbook actions, audited with the Slack actor.
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuditLog, verifyAudit } from "../../src/domain/audit/audit-log.js";
import type { GroupDirectory } from "../../src/domain/ports/group-directory.js";
import { ScimGroupDirectory } from "../../src/adapters/idp/scim-group-directory.js";
import { openWindowExecutor } from "../../src/adapters/runbook-actions/emergency-window.js";
import { addGroupMembersExecutor, reapExpiredLeases } from "../../src/adapters/runbook-actions/group-membership.js";
import { EmergencyAccess, type EmergencyAccessOptions } from "../../src/application/emergency-access.js";
import { jsonlAuditMirror } from "../../src/adapters/store/jsonl-audit-mirror.js";
import { openStore } from "../../src/adapters/store/open-store.js";
import type { BreakglassStore } from "../../src/domain/ports/store.js";
import { startScimServer, type ScimTestServer } from "../support/idp-scim-server.js";
import { runContext } from "../adapters/runbook-actions/run-context.js";
import { SteppingClock } from "../support/stepping-clock.js";
import { slackUser } from "../support/actors.js";

const TOKEN = "scim-emergency-access-token-5b21";
const ALICE = "4e0b7a1c-2d3f-4a5b-8c6d-7e8f9a0b1c21";
const BOB = "9c8d7e6f-5a4b-4c3d-8e2f-1a0b9c8d7e22";
const CAROL = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c23";
const OPERATORS = "aws-emergency-operators";
const READONLY = "aws-emergency-readonly";
const HOUR = 3_600_000;
const COMMANDER = "slack:U0COMMAND1";
const GRANTER = "slack:U0GRANTER2";
const GRANT = { groups: [OPERATORS, READONLY], defaultTtl: 4 * HOUR, maxTtl: 12 * HOUR };

let server: ScimTestServer;
let directory: ScimGroupDirectory;
let workDirectory: string;
let store: BreakglassStore;
let clock: SteppingClock;
let audit: AuditLog;

beforeAll(async () => {
  server = await startScimServer(TOKEN);
  server.store.addUser({ id: ALICE, userName: "alice@example.com", displayName: "Alice Responder" });
  server.store.addUser({ id: BOB, userName: "bob", emails: ["bob@example.com"] });
  server.store.addUser({ id: CAROL, userName: "carol@example.com" });
  directory = new ScimGroupDirectory({
    baseUrl: server.baseUrl,
    token: TOKEN,
    ca: server.ca,
    sleep: () => Promise.resolve(),
  });
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  server.store.addGroup(OPERATORS, "AWS emergency operators");
  server.store.addGroup(READONLY, "AWS emergency read-only");
  workDirectory = mkdtempSync(join(tmpdir(), "breakglass-emergency-access-"));
  store = openStore({ path: join(workDirectory, "breakglass.db") });
  clock = new SteppingClock(new Date("2026-11-25T03:42:17Z"));
  audit = new AuditLog(store.audit, clock);
});

afterEach(() => {
  store.close();
});

function emergencyAccess(overrides: Partial<EmergencyAccessOptions> = {}): EmergencyAccess {
  let request = 0;
  return new EmergencyAccess({
    store,
    audit,
    clock,
    directory,
    grant: GRANT,
    summaryDirectory: join(workDirectory, "artefacts"),
    newRequestId: () => `request-${++request}`,
    ...overrides,
  });
}

/** Everything a request could change: the IdP's groups, the store's leases and windows, the audit log, and the writes the IdP received. */
function world(access: EmergencyAccess) {
  return {
    operators: server.store.membersOf(OPERATORS).sort(),
    readonly: server.store.membersOf(READONLY).sort(),
    leases: store.leases.activeLeases(),
    openIncidents: access.openIncidents(),
    auditRecords: store.audit.auditRecords().length,
    idpWrites: server.received.filter((request) => request.method !== "GET").length,
  };
}

function recordsAbout(subject: string) {
  return store.audit.auditRecords().filter((record) => record.subject === subject);
}

describe("an incident declared, worked and closed from Slack", () => {
  // The name is held here, split, because the whole story does not fit on the it( line.
  const wholeIncident =
    "grants a responder on a lease in every emergency group, revokes them, and closes with an activity summary, " +
    "auditing each change with the Slack actor";
  it(wholeIncident, async () => {
    const access = emergencyAccess();
    const declared = await access.declareIncident("  Okta   is down\nfor everyone ", slackUser(COMMANDER));
    expect(declared.incident).toBe("INC-20261125-0342");
    expect(declared.window).toMatchObject({
      incident: "INC-20261125-0342",
      openedBy: COMMANDER,
      reason: "Okta is down for everyone",
      closedAt: null,
    });
    expect(declared.outcome.applied).toBe(true);
    expect(access.openIncident()?.incident).toBe("INC-20261125-0342");

    clock.advance(60_000);
    const granted = await access.grant("alice@example.com", undefined, slackUser(GRANTER));
    expect(granted.outcome.applied).toBe(true);
    expect(granted.outcome.verified).toBe(
      `AWS emergency operators (${OPERATORS}), AWS emergency read-only (${READONLY}) list alice@example.com, each on an active lease`,
    );
    expect(granted.user).toMatchObject({ id: ALICE, login: "alice@example.com", active: true });
    expect(granted.ttl).toBe(4 * HOUR);
    expect(granted.expiresAt).toBe("2026-11-25T07:43:17.000Z");
    expect(server.store.membersOf(OPERATORS)).toEqual([ALICE]);
    expect(server.store.membersOf(READONLY)).toEqual([ALICE]);
    // The same leases a runbook grant gets, carrying the incident's reference where a run's id would be.
    expect(store.leases.activeLeases()).toEqual([
      expect.objectContaining({
        runId: "INC-20261125-0342",
        groupId: OPERATORS,
        userId: ALICE,
        login: "alice@example.com",
        expiresAt: "2026-11-25T07:43:17.000Z",
      }),
      expect.objectContaining({
        runId: "INC-20261125-0342",
        groupId: READONLY,
        userId: ALICE,
        expiresAt: "2026-11-25T07:43:17.000Z",
      }),
    ]);
    const grantRecords = recordsAbout("grant alice@example.com");
    expect(grantRecords.map((record) => record.action)).toEqual([
      "action.planned",
      "action.applying",
      "action.applied",
      "action.verified",
    ]);
    expect(grantRecords.every((record) => record.actor === GRANTER && record.runId === "INC-20261125-0342")).toBe(true);
    expect(grantRecords[0]?.detail).toMatchObject({
      action: "idp.add-group-members",
      parameters: { groups: [OPERATORS, READONLY], members: ["alice@example.com"], ttl: "4h" },
    });

    // Asking again changes nothing: no second membership, no second lease, and the first lease is not extended.
    clock.advance(10 * 60_000);
    const writes = world(access).idpWrites;
    const again = await access.grant("alice@example.com", HOUR, slackUser(GRANTER));
    expect(again.outcome.applied).toBe(false);
    expect(again.outcome.summary).toBe(
      `alice@example.com (Alice Responder) already in AWS emergency operators (${OPERATORS}), ` +
        `AWS emergency read-only (${READONLY}), each on a lease`,
    );
    expect(again.leases).toEqual(granted.leases);
    expect(again.expiresAt).toBe("2026-11-25T07:43:17.000Z");
    expect(world(access).idpWrites).toBe(writes);
    expect(store.leases.activeLeases()).toHaveLength(2);
    expect(
      recordsAbout("grant alice@example.com")
        .map((record) => record.action)
        .slice(4),
    ).toEqual(["action.planned", "action.verified"]);

    clock.advance(60_000);
    const revoked = await access.revoke("alice@example.com", slackUser(GRANTER));
    expect(revoked).toMatchObject({ incident: "INC-20261125-0342", groups: [OPERATORS, READONLY] });
    expect(revoked.outcome.applied).toBe(true);
    expect(revoked.endedLeases.map((lease) => lease.groupId)).toEqual([OPERATORS, READONLY]);
    expect(server.store.membersOf(OPERATORS)).toEqual([]);
    expect(server.store.membersOf(READONLY)).toEqual([]);
    expect(store.leases.activeLeases()).toEqual([]);
    expect(recordsAbout("revoke alice@example.com").map((record) => [record.action, record.actor])).toEqual([
      ["action.planned", GRANTER],
      ["action.applying", GRANTER],
      ["action.applied", GRANTER],
      ["action.verified", GRANTER],
    ]);

    clock.advance(60_000);
    const closed = await access.closeIncident(slackUser(COMMANDER));
    expect(closed.window).toMatchObject({
      incident: "INC-20261125-0342",
      closedAt: "2026-11-25T03:55:17.000Z",
      closedBy: COMMANDER,
    });
    expect(closed).toMatchObject({ revoked: [], notRevoked: [], activeLeases: [] });
    expect(access.openIncident()).toBeNull();
    expect(existsSync(closed.activitySummary)).toBe(true);
    const summary = readFileSync(closed.activitySummary, "utf8");
    expect(summary).toContain("# Activity summary: incident INC-20261125-0342");
    expect(summary).toContain("- Reason: Okta is down for everyone");
    expect(summary).toContain(`| ${GRANTER} | action.applying | grant alice@example.com | INC-20261125-0342 |`);
    expect(summary).toContain(`| ${GRANTER} | action.applying | revoke alice@example.com | INC-20261125-0342 |`);
    expect(recordsAbout("incident close INC-20261125-0342").map((record) => record.actor)).toEqual([
      COMMANDER,
      COMMANDER,
      COMMANDER,
      COMMANDER,
    ]);
    expect(verifyAudit(store.audit).problems).toEqual([]);
  });

  it("closing removes the responders still granted from Slack, and leaves a runbook run's responders to their run", async () => {
    const access = emergencyAccess();
    const { incident } = await access.declareIncident("Identity Center is down in eu-west-1", slackUser(COMMANDER));
    await access.grant("bob@example.com", 2 * HOUR, slackUser(GRANTER));
    // Carol was added by an fm3 run, whose own remove step takes her out.
    const add = addGroupMembersExecutor({ directory, store: store.leases });
    const parameters = { groups: [OPERATORS], members: ["carol@example.com"], ttl: "4h" };
    const context = runContext({ runId: "run-7", now: clock.now() });
    await add.apply(await add.plan(parameters, context), parameters, context);

    clock.advance(30 * 60_000);
    const closed = await access.closeIncident(slackUser(COMMANDER));
    expect(closed.notRevoked).toEqual([]);
    expect(closed.revoked).toHaveLength(1);
    expect(closed.revoked[0]).toMatchObject({
      incident,
      user: { id: BOB, login: "bob" },
      groups: [OPERATORS, READONLY],
    });
    expect(server.store.membersOf(OPERATORS)).toEqual([CAROL]);
    expect(server.store.membersOf(READONLY)).toEqual([]);
    expect(closed.activeLeases).toEqual([
      expect.objectContaining({ runId: "run-7", groupId: OPERATORS, userId: CAROL }),
    ]);
    // The removal comes before the close, so the activity summary shows it inside the window.
    const actions = store.audit.auditRecords().map((record) => `${record.subject} ${record.action}`);
    expect(actions.indexOf("revoke bob action.verified")).toBeLessThan(
      actions.indexOf(`incident close ${incident} action.applying`),
    );
    expect(readFileSync(closed.activitySummary, "utf8")).toContain(
      `| ${COMMANDER} | action.applying | revoke bob | ${incident} |`,
    );
  });

  it("a Slack grant whose lease has ended is removed by the lease reaper like a runbook grant", async () => {
    const access = emergencyAccess();
    const { incident } = await access.declareIncident("Okta is down", slackUser(COMMANDER));
    await access.grant("alice@example.com", HOUR, slackUser(GRANTER));
    clock.advance(HOUR - 1000);
    expect((await reapExpiredLeases({ store: store.leases, directory, clock, audit })).reaped).toEqual([]);
    clock.advance(2000);
    const result = await reapExpiredLeases({ store: store.leases, directory, clock, audit });
    expect(result.failed).toEqual([]);
    expect(result.reaped.map((lease) => [lease.groupId, lease.runId])).toEqual([
      [OPERATORS, incident],
      [READONLY, incident],
    ]);
    expect(server.store.membersOf(OPERATORS)).toEqual([]);
    expect(server.store.membersOf(READONLY)).toEqual([]);
    expect(store.leases.activeLeases()).toEqual([]);
    expect(
      store.audit
        .auditRecords()
        .filter((record) => record.action === "lease.reaped")
        .map((record) => record.runId),
    ).toEqual([incident, incident]);
  });

  it("gives an incident declared in the same minute as a closed one a reference of its own", async () => {
    const access = emergencyAccess();
    await access.declareIncident("first", slackUser(COMMANDER));
    await access.closeIncident(slackUser(COMMANDER));
    const second = await access.declareIncident("second", slackUser(COMMANDER));
    expect(second.incident).toBe("INC-20261125-0342-2");
    expect(store.windows.findWindow("INC-20261125-0342")).toMatchObject({ reason: "first", closedBy: COMMANDER });
  });
});

describe("emergency groups by display name", () => {
  it("grants to slack.grant.groups named as people know them, and keeps each lease by the group's id", async () => {
    const access = emergencyAccess({
      grant: { ...GRANT, groups: ["aws emergency OPERATORS", READONLY] },
    });
    await access.declareIncident("Okta is down", slackUser(COMMANDER));
    const granted = await access.grant("alice@example.com", undefined, slackUser(GRANTER));
    expect(server.store.membersOf(OPERATORS)).toEqual([ALICE]);
    expect(server.store.membersOf(READONLY)).toEqual([ALICE]);
    expect(granted.leases.map((lease) => lease.groupId)).toEqual([OPERATORS, READONLY]);
    expect(granted.expiresAt).toBe("2026-11-25T07:42:17.000Z");
    await access.revoke("alice@example.com", slackUser(GRANTER));
    expect(server.store.membersOf(OPERATORS)).toEqual([]);
    expect(store.leases.activeLeases()).toEqual([]);
  });
});

describe("failures", () => {
  it("an IdP failure part-way through a grant is audited and reported, and asking again finishes the job", async () => {
    let failures = 1;
    // The real SCIM directory, but the IdP refuses the first write to the read-only group.
    const flaky: GroupDirectory = {
      kind: directory.kind,
      findUser: (login) => directory.findUser(login),
      findGroup: (nameOrId) => directory.findGroup(nameOrId),
      listMembers: (groupId) => directory.listMembers(groupId),
      removeMember: (groupId, userId) => directory.removeMember(groupId, userId),
      addMember: (groupId, userId) =>
        groupId === READONLY && failures-- > 0
          ? Promise.reject(new Error("HTTP 503 from the IdP"))
          : directory.addMember(groupId, userId),
    };
    const access = emergencyAccess({ directory: flaky });
    await access.declareIncident("Okta is down", slackUser(COMMANDER));
    await expect(access.grant("alice@example.com", undefined, slackUser(GRANTER))).rejects.toMatchObject({
      code: "ACTION_FAILED",
      message:
        "grant alice@example.com: HTTP 503 from the IdP; the change may be half made; run the same command again: it plans afresh and finishes the job",
    });
    expect(server.store.membersOf(OPERATORS)).toEqual([ALICE]);
    expect(server.store.membersOf(READONLY)).toEqual([]);
    expect(recordsAbout("grant alice@example.com").map((record) => record.action)).toEqual([
      "action.planned",
      "action.applying",
      "action.failed",
    ]);

    const again = await access.grant("alice@example.com", undefined, slackUser(GRANTER));
    expect(again.outcome.applied).toBe(true);
    expect(server.store.membersOf(READONLY)).toEqual([ALICE]);
    expect(again.leases.map((lease) => lease.groupId)).toEqual([OPERATORS, READONLY]);
  });

  it("changes nothing in the IdP when the audit record cannot be written", async () => {
    const access = emergencyAccess();
    await access.declareIncident("Okta is down", slackUser(COMMANDER));
    // A mirror path that is a directory: every audit record fails after the store has it, as a full disk would.
    const mirror = join(workDirectory, "mirror-is-a-directory");
    mkdirSync(mirror);
    const failing = emergencyAccess({ audit: new AuditLog(store.audit, clock, jsonlAuditMirror(mirror)) });
    const writes = world(access).idpWrites;
    await expect(failing.grant("alice@example.com", undefined, slackUser(GRANTER))).rejects.toMatchObject({
      code: "AUDIT_FAILED",
    });
    expect(server.store.membersOf(OPERATORS)).toEqual([]);
    expect(server.store.membersOf(READONLY)).toEqual([]);
    expect(store.leases.activeLeases()).toEqual([]);
    expect(world(access).idpWrites).toBe(writes);
  });
});

describe("refusals change nothing", () => {
  async function refused(
    access: EmergencyAccess,
    attempt: () => Promise<unknown>,
    message: string,
    code: string,
  ): Promise<void> {
    const before = world(access);
    await expect(attempt()).rejects.toMatchObject({ name: "BreakglassError", code, message });
    expect(world(access)).toEqual(before);
  }

  it("refuses a grant while no incident is open, and says how to declare one", async () => {
    const access = emergencyAccess();
    await refused(
      access,
      () => access.grant("alice@example.com", undefined, slackUser(GRANTER)),
      "grant alice@example.com: no incident is open; declare an incident first: /breakglass incident declare <title>",
      "NO_OPEN_INCIDENT",
    );
  });

  it("refuses a grant longer than slack.grant.maxTtl, naming the limit", async () => {
    const access = emergencyAccess();
    await access.declareIncident("Okta is down", slackUser(COMMANDER));
    await refused(
      access,
      () => access.grant("alice@example.com", 13 * HOUR, slackUser(GRANTER)),
      "grant alice@example.com: 13h is longer than the longest grant allowed, 12h (slack.grant.maxTtl); ask for 12h or less",
      "USAGE",
    );
  });

  it("refuses a grant for someone the IdP does not know, naming the login", async () => {
    const access = emergencyAccess();
    await access.declareIncident("Okta is down", slackUser(COMMANDER));
    await refused(
      access,
      () => access.grant("mallory@example.com", undefined, slackUser(GRANTER)),
      "grant mallory@example.com: no user in the IdP (scim) has the login or email mallory@example.com; nothing was changed",
      "IDP_NOT_FOUND",
    );
    await refused(
      access,
      () => access.revoke("mallory@example.com", slackUser(GRANTER)),
      "revoke mallory@example.com: no user in the IdP (scim) has the login or email mallory@example.com; nothing was changed",
      "IDP_NOT_FOUND",
    );
  });

  it("refuses to declare a second incident while one is open, naming it", async () => {
    const access = emergencyAccess();
    await access.declareIncident("Okta is down", slackUser(COMMANDER));
    await refused(
      access,
      () => access.declareIncident("Okta is still down", slackUser(GRANTER)),
      `incident declare: incident INC-20261125-0342 ("Okta is down", opened 2026-11-25T03:42:17.000Z ` +
        `by ${COMMANDER}) is already open; close it first: /breakglass incident close`,
      "INCIDENT_ALREADY_OPEN",
    );
  });

  it("refuses to guess which incident to close when a runbook opened another, and closes the one named", async () => {
    const access = emergencyAccess();
    const { incident: declared } = await access.declareIncident("Okta is down", slackUser(COMMANDER));
    // An fm3 run opened the window of its own incident reference.
    const open = openWindowExecutor({ store: store.windows });
    const parameters = { incident: "INC-4711", reason: "FM3: direct federation" };
    const context = runContext({ runId: "run-9", now: clock.now(), initiator: "alice" });
    await open.apply(await open.plan(parameters, context), parameters, context);

    await refused(
      access,
      () => access.closeIncident(slackUser(COMMANDER)),
      `incident close: incidents INC-4711 ("FM3: direct federation", opened 2026-11-25T03:42:17.000Z by ` +
        `alice), ${declared} ("Okta is down", opened 2026-11-25T03:42:17.000Z by ${COMMANDER}) are open; ` +
        `name the one to close: /breakglass incident close <reference>`,
      "USAGE",
    );
    await refused(
      access,
      () => access.closeIncident(slackUser(COMMANDER), "INC-9999"),
      "incident close INC-9999: no incident has this reference",
      "INCIDENT_NOT_FOUND",
    );
    const closed = await access.closeIncident(slackUser(COMMANDER), "INC-4711");
    expect(closed.window).toMatchObject({ incident: "INC-4711", closedBy: COMMANDER });
    expect(access.openIncident()?.incident).toBe(declared);
    expect((await access.closeIncident(slackUser(COMMANDER))).window.incident).toBe(declared);
  });

  it("refuses to close when no incident is open", async () => {
    const access = emergencyAccess();
    await refused(
      access,
      () => access.closeIncident(slackUser(COMMANDER)),
      "incident close: no incident is open, so there is nothing to close",
      "NO_OPEN_INCIDENT",
    );
  });

  it("refuses a grant or revoke without the IdP's group API, saying what to configure", async () => {
    const access = emergencyAccess({ directory: undefined });
    await access.declareIncident("Okta is down", slackUser(COMMANDER));
    const needs =
      "needs the IdP's group API: set idp.directory in breakglass.yaml and put its token in the environment variable it names";
    await refused(
      access,
      () => access.grant("alice@example.com", undefined, slackUser(GRANTER)),
      `grant alice@example.com: ${needs}`,
      "USAGE",
    );
    await refused(
      access,
      () => access.revoke("alice@example.com", slackUser(GRANTER)),
      `revoke alice@example.com: ${needs}`,
      "USAGE",
    );
  });

  it("refuses a grant without slack.grant, saying what to configure", async () => {
    const access = emergencyAccess({ grant: undefined });
    await access.declareIncident("Okta is down", slackUser(COMMANDER));
    await refused(
      access,
      () => access.grant("alice@example.com", undefined, slackUser(GRANTER)),
      "grant alice@example.com: needs slack.grant in breakglass.yaml: set slack.grant.groups to the IdP's emergency groups (names or ids)",
      "USAGE",
    );
  });

  it("refuses an empty title or login with the command to type", async () => {
    const access = emergencyAccess();
    await refused(
      access,
      () => access.declareIncident("   ", slackUser(COMMANDER)),
      "incident declare: give the incident a title: /breakglass incident declare <title>",
      "USAGE",
    );
    await refused(
      access,
      () => access.grant(" ", undefined, slackUser(GRANTER)),
      "grant: name the person: /breakglass grant @user [ttl]",
      "USAGE",
    );
  });
});
