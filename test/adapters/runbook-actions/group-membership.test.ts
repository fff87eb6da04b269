// The membership actions and the lease reaper against a SCIM 2.0 server (scimmy), through ScimGroupDirectory, with a real SQLite store.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuditLog } from "../../../src/domain/audit/audit-log.js";
import { ScimGroupDirectory } from "../../../src/adapters/idp/scim-group-directory.js";
import {
  addGroupMembersExecutor,
  reapExpiredLeases,
  removeGroupMembersExecutor,
} from "../../../src/adapters/runbook-actions/group-membership.js";
import { openStore } from "../../../src/adapters/store/open-store.js";
import type { BreakglassStore } from "../../../src/domain/ports/store.js";
import { startScimServer, type ScimTestServer } from "../../support/idp-scim-server.js";
import { runContext } from "./run-context.js";
import { SteppingClock } from "../../support/stepping-clock.js";

const TOKEN = "scim-membership-token-3e7a91";
const ALICE = "8a1f0c52-1b7e-4d0e-9a43-7f5e2a6c1d01";
const BOB = "c3d9e1f4-52a8-4b6f-8e17-0d2b9a4c7e02";
const CAROL = "f6b2a7d8-93c1-4e5a-b0f9-1c8d3e6a2b03";
/** The group's display name, which runbooks use, and its SCIM id, which the API is called with. */
const OPERATORS = "aws-emergency-operators";
const OPERATORS_ID = "e9e30dba-f08f-4109-8486-d5c6a331660a";
const GROUP = `group ${OPERATORS} (${OPERATORS_ID})`;
const NOW = new Date("2026-11-25T10:00:00Z");

let server: ScimTestServer;
let directory: ScimGroupDirectory;
let store: BreakglassStore;

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
  server.store.addGroup(OPERATORS_ID, OPERATORS);
  store = openStore({ path: join(mkdtempSync(join(tmpdir(), "breakglass-leases-")), "breakglass.db") });
});

afterEach(() => {
  store.close();
});

describe("adding responders", () => {
  it("adding twice leaves one membership and one active lease, and the second plan is already done", async () => {
    const add = addGroupMembersExecutor({ directory, store: store.leases });
    const parameters = { groups: [OPERATORS], members: ["alice@example.com", "bob@example.com"], ttl: "4h" };
    const context = runContext({ now: NOW });

    const plan = await add.plan(parameters, context);
    expect(plan.alreadyDone).toBe(false);
    expect(plan.changes.map((change) => change.target)).toEqual([`${GROUP}: alice@example.com`, `${GROUP}: bob`]);
    await add.apply(plan, parameters, context);
    // A resumed run applies again: nothing doubles.
    await add.apply(plan, parameters, context);

    expect(server.store.membersOf(OPERATORS_ID).sort()).toEqual([ALICE, BOB].sort());
    const leases = store.leases.activeLeases();
    expect(leases.map((lease) => [lease.groupId, lease.login, lease.expiresAt])).toEqual([
      [OPERATORS_ID, "alice@example.com", "2026-11-25T14:00:00.000Z"],
      [OPERATORS_ID, "bob", "2026-11-25T14:00:00.000Z"],
    ]);
    await expect(add.plan(parameters, context)).resolves.toMatchObject({ alreadyDone: true, changes: [] });
    await expect(add.verify(parameters, context)).resolves.toMatchObject({ ok: true });
  });

  it("refuses an unknown responder, naming them, and adds nobody", async () => {
    const add = addGroupMembersExecutor({ directory, store: store.leases });
    const parameters = { groups: [OPERATORS], members: ["alice@example.com", "mallory@example.com"], ttl: "1h" };
    await expect(add.plan(parameters, runContext())).rejects.toMatchObject({
      code: "IDP_NOT_FOUND",
      message:
        "idp.add-group-members members: no user in the IdP (scim) has the login or email mallory@example.com; nothing was changed",
    });
    await expect(add.apply({ summary: "", changes: [], alreadyDone: false }, parameters, runContext())).rejects.toThrow(
      "mallory@example.com",
    );
    expect(server.store.membersOf(OPERATORS_ID)).toEqual([]);
    expect(store.leases.activeLeases()).toEqual([]);
  });

  it("refuses an unknown group, naming it, and adds nobody", async () => {
    const add = addGroupMembersExecutor({ directory, store: store.leases });
    const parameters = { groups: ["aws-emergency-operatorz"], members: ["alice@example.com"], ttl: "1h" };
    await expect(add.plan(parameters, runContext())).rejects.toMatchObject({
      code: "IDP_NOT_FOUND",
      message:
        "idp.add-group-members groups: no group in the IdP (scim) has the name or id aws-emergency-operatorz; nothing was changed",
    });
    expect(server.store.membersOf(OPERATORS_ID)).toEqual([]);
  });

  it("takes the group's id as well as its name, and tells the approver both", async () => {
    const add = addGroupMembersExecutor({ directory, store: store.leases });
    const parameters = { groups: [OPERATORS_ID], members: ["alice@example.com"], ttl: "1h" };
    await expect(add.plan(parameters, runContext({ now: NOW }))).resolves.toMatchObject({
      summary: `add alice@example.com (Alice Responder) to ${OPERATORS} (${OPERATORS_ID}) until 2026-11-25T11:00:00.000Z`,
      changes: [
        expect.objectContaining({
          membership: { group: OPERATORS_ID, groupName: OPERATORS, member: "alice@example.com" },
        }),
      ],
    });
  });

  it("fails verification when a responder was removed behind its back", async () => {
    const waits: number[] = [];
    const sleep = (ms: number) => Promise.resolve(void waits.push(ms));
    const add = addGroupMembersExecutor({ directory, store: store.leases, sleep });
    const parameters = { groups: [OPERATORS], members: ["carol@example.com"], ttl: "1h" };
    await add.apply(await add.plan(parameters, runContext()), parameters, runContext());
    await directory.removeMember(OPERATORS_ID, CAROL);
    await expect(add.verify(parameters, runContext())).resolves.toEqual({
      ok: false,
      detail: `${GROUP} does not list carol@example.com`,
    });
    // Read back 5 times over 10 s first: the directory may not show a write yet.
    expect(waits).toEqual([1_000, 2_000, 3_000, 4_000]);
  });
});

describe("removing responders", () => {
  it("removes everyone, ends their leases, and verifies the group is empty", async () => {
    const add = addGroupMembersExecutor({ directory, store: store.leases });
    const remove = removeGroupMembersExecutor({ directory, store: store.leases });
    const parameters = { groups: [OPERATORS], members: ["alice@example.com", "bob"], ttl: "4h" };
    await add.apply(await add.plan(parameters, runContext()), parameters, runContext());
    // Someone added by hand, with no lease: everyone means them too.
    await directory.addMember(OPERATORS_ID, CAROL);

    const everyone = { groups: [OPERATORS], members: "everyone" };
    const plan = await remove.plan(everyone, runContext());
    expect(plan.changes.map((change) => change.target).sort()).toEqual([
      `${GROUP}: alice@example.com`,
      `${GROUP}: bob`,
      `${GROUP}: carol@example.com`,
    ]);
    await remove.apply(plan, everyone, runContext());

    expect(server.store.membersOf(OPERATORS_ID)).toEqual([]);
    expect(store.leases.activeLeases()).toEqual([]);
    await expect(remove.verify(everyone, runContext())).resolves.toEqual({
      ok: true,
      detail: `${OPERATORS} (${OPERATORS_ID}) is empty`,
    });
    await expect(remove.plan(everyone, runContext())).resolves.toMatchObject({ alreadyDone: true });
  });

  it("removes only the named responders", async () => {
    const add = addGroupMembersExecutor({ directory, store: store.leases });
    const remove = removeGroupMembersExecutor({ directory, store: store.leases });
    const parameters = { groups: [OPERATORS], members: ["alice@example.com", "bob"], ttl: "4h" };
    await add.apply(await add.plan(parameters, runContext()), parameters, runContext());

    const named = { groups: [OPERATORS], members: ["bob@example.com"] };
    await remove.apply(await remove.plan(named, runContext()), named, runContext());
    expect(server.store.membersOf(OPERATORS_ID)).toEqual([ALICE]);
    expect(store.leases.activeLeases().map((lease) => lease.login)).toEqual(["alice@example.com"]);
    await expect(remove.verify(named, runContext())).resolves.toMatchObject({ ok: true });
  });
});

describe("reaping expired leases", () => {
  it("removes exactly the member whose lease expired, reads the group back and audits it", async () => {
    const add = addGroupMembersExecutor({ directory, store: store.leases });
    const short = { groups: [OPERATORS], members: ["alice@example.com"], ttl: "1h" };
    const long = { groups: [OPERATORS], members: ["bob"], ttl: "8h" };
    await add.apply(await add.plan(short, runContext({ now: NOW })), short, runContext({ now: NOW }));
    await add.apply(await add.plan(long, runContext({ now: NOW })), long, runContext({ now: NOW }));

    const clock = new SteppingClock(NOW);
    const audit = new AuditLog(store.audit, clock);
    clock.advance(30 * 60 * 1000);
    await expect(reapExpiredLeases({ store: store.leases, directory, clock, audit })).resolves.toEqual({
      reaped: [],
      failed: [],
    });

    clock.advance(31 * 60 * 1000);
    const result = await reapExpiredLeases({ store: store.leases, directory, clock, audit });
    expect(result.failed).toEqual([]);
    expect(result.reaped.map((lease) => lease.login)).toEqual(["alice@example.com"]);
    expect(server.store.membersOf(OPERATORS_ID)).toEqual([BOB]);
    expect(store.leases.activeLeases().map((lease) => lease.login)).toEqual(["bob"]);
    const reaped = store.audit.auditRecords().filter((record) => record.action === "lease.reaped");
    expect(reaped).toEqual([
      expect.objectContaining({
        actor: "breakglass",
        runId: "run-1",
        subject: `group ${OPERATORS_ID}`,
        detail: expect.objectContaining({ userId: ALICE, login: "alice@example.com" }),
      }),
    ]);

    // Reaping again finds nothing more to do.
    await expect(reapExpiredLeases({ store: store.leases, directory, clock, audit })).resolves.toEqual({
      reaped: [],
      failed: [],
    });
  });
});
