// Verify and the reaper against Graph's eventual consistency: a write that succeeded is read back again, a bounded number
// of times, before a mismatch is reported (the loopback Graph server lags a chosen number of member listings).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GraphGroupDirectory } from "../../../src/adapters/idp/graph-group-directory.js";
import {
  addGroupMembersExecutor,
  READ_BACK_WAITS_MS,
  reapExpiredLeases,
  removeGroupMembersExecutor,
} from "../../../src/adapters/runbook-actions/group-membership.js";
import { openStore } from "../../../src/adapters/store/open-store.js";
import { AuditLog } from "../../../src/domain/audit/audit-log.js";
import type { BreakglassStore } from "../../../src/domain/ports/store.js";
import { startGraphServer, type GraphTestServer } from "../../support/idp-graph-server.js";
import { SteppingClock } from "../../support/stepping-clock.js";
import { runContext } from "./run-context.js";

const TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.read-back.test";
const OPERATORS = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
const ADELE = "87d349ed-44d7-43e1-9a83-5f2406dee5bd";
const NOW = new Date("2026-11-25T10:00:00Z");

let graph: GraphTestServer;
let directory: GraphGroupDirectory;
let store: BreakglassStore;
/** The waits verify and the reaper asked for, in order. */
let waited: number[];
const sleep = (ms: number) => {
  waited.push(ms);
  return Promise.resolve();
};

beforeAll(async () => {
  graph = await startGraphServer(TOKEN);
  graph.users.set(ADELE, { id: ADELE, userPrincipalName: "AdeleV@contoso.com", mail: null, displayName: "Adele" });
  directory = new GraphGroupDirectory({
    baseUrl: graph.baseUrl,
    token: TOKEN,
    ca: graph.ca,
    sleep: () => Promise.resolve(),
  });
});

afterAll(async () => {
  await graph.close();
});

beforeEach(() => {
  waited = [];
  graph.groups.set(OPERATORS, new Set());
  graph.groupNames.set(OPERATORS, "aws-emergency-operators");
  store = openStore({ path: join(mkdtempSync(join(tmpdir(), "breakglass-read-back-")), "breakglass.db") });
});

afterEach(() => {
  graph.lagReads(0);
  store.close();
});

const parameters = { groups: ["aws-emergency-operators"], members: ["AdeleV@contoso.com"], ttl: "1h" };

describe("reading back a write Graph has not yet made visible", () => {
  it("verifies an addition that shows up on the third read, after waiting 1 s and 2 s", async () => {
    const add = addGroupMembersExecutor({ directory, store: store.leases, sleep });
    const plan = await add.plan(parameters, runContext({ now: NOW }));
    graph.lagReads(2);
    await add.apply(plan, parameters, runContext({ now: NOW }));
    // apply's own planning read one stale listing; verify reads once more stale, then sees Adele.
    await expect(add.verify(parameters, runContext({ now: NOW }))).resolves.toMatchObject({ ok: true });
    expect(waited).toEqual([1_000]);
  });

  it("reports the mismatch after 5 reads over 10 s when the group never lists the responder", async () => {
    const add = addGroupMembersExecutor({ directory, store: store.leases, sleep });
    await add.apply(await add.plan(parameters, runContext({ now: NOW })), parameters, runContext({ now: NOW }));
    graph.lagReads(0);
    graph.groups.get(OPERATORS)?.delete(ADELE);
    await expect(add.verify(parameters, runContext({ now: NOW }))).resolves.toEqual({
      ok: false,
      detail: `group aws-emergency-operators (${OPERATORS}) does not list AdeleV@contoso.com`,
    });
    expect(waited).toEqual([...READ_BACK_WAITS_MS]);
    expect(READ_BACK_WAITS_MS.reduce((sum, ms) => sum + ms, 0)).toBe(10_000);
  });

  it("verifies a removal that the next reads still list", async () => {
    const add = addGroupMembersExecutor({ directory, store: store.leases, sleep });
    await add.apply(await add.plan(parameters, runContext({ now: NOW })), parameters, runContext({ now: NOW }));
    const remove = removeGroupMembersExecutor({ directory, store: store.leases, sleep });
    const everyone = { groups: ["aws-emergency-operators"], members: "everyone" };
    const plan = await remove.plan(everyone, runContext({ now: NOW }));
    await remove.apply(plan, everyone, runContext({ now: NOW }));
    graph.groups.get(OPERATORS)?.add(ADELE);
    graph.lagReads(3);
    graph.groups.get(OPERATORS)?.delete(ADELE);
    await expect(remove.verify(everyone, runContext({ now: NOW }))).resolves.toMatchObject({ ok: true });
    expect(waited).toEqual([1_000, 2_000, 3_000]);
  });

  it("reaps a lease whose removal Graph shows only on a later read, instead of retrying it forever", async () => {
    const add = addGroupMembersExecutor({ directory, store: store.leases, sleep });
    await add.apply(await add.plan(parameters, runContext({ now: NOW })), parameters, runContext({ now: NOW }));
    const clock = new SteppingClock(NOW);
    clock.advance(61 * 60_000);
    graph.lagReads(2); // still lists Adele on the two reads after the DELETE
    const result = await reapExpiredLeases({
      store: store.leases,
      directory,
      clock,
      audit: new AuditLog(store.audit, clock),
      sleep,
    });
    expect(result).toMatchObject({ failed: [], reaped: [expect.objectContaining({ login: "AdeleV@contoso.com" })] });
    expect(graph.groups.get(OPERATORS)?.size).toBe(0);
    expect(waited).toEqual([1_000, 2_000]);
  });
});
