// The emergency window actions against a real SQLite store: idempotent per incident, and closing yields the activity-summary.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuditLog } from "../../../src/domain/audit/audit-log.js";
import { fixedClock } from "../../../src/domain/shared/clock.js";
import { closeWindowExecutor, openWindowExecutor } from "../../../src/adapters/runbook-actions/emergency-window.js";
import { openStore } from "../../../src/adapters/store/open-store.js";
import type { BreakglassStore } from "../../../src/domain/ports/store.js";
import { runContext } from "./run-context.js";

const OPENED = new Date("2026-11-25T10:00:00Z");
const CLOSED = new Date("2026-11-25T14:30:00Z");

let directory: string;
let store: BreakglassStore;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "breakglass-window-"));
  store = openStore({ path: join(directory, "breakglass.db") });
});

afterEach(() => {
  store.close();
});

describe("opening the emergency window", () => {
  it("opens it once: a second plan is already done and leaves who opened it and why", async () => {
    const open = openWindowExecutor({ store: store.windows });
    const parameters = { incident: "INC-42", reason: "FM1: IdP down" };
    const context = runContext({ now: OPENED, initiator: "alice" });

    const plan = await open.plan(parameters, context);
    expect(plan).toMatchObject({
      alreadyDone: false,
      changes: [{ target: "emergency window of incident INC-42", before: null, after: "open" }],
    });
    await open.apply(plan, parameters, context);
    await expect(open.verify(parameters, context)).resolves.toMatchObject({ ok: true });

    const later = runContext({ now: CLOSED, initiator: "bob", runId: "run-2" });
    await expect(open.plan(parameters, later)).resolves.toMatchObject({ alreadyDone: true, changes: [] });
    await open.apply(plan, { incident: "INC-42", reason: "other" }, later);
    expect(store.windows.findWindow("INC-42")).toEqual({
      incident: "INC-42",
      openedAt: OPENED.toISOString(),
      openedBy: "alice",
      reason: "FM1: IdP down",
      runId: "run-1",
      closedAt: null,
      closedBy: null,
    });
  });

  it("reopens a closed window, as rolling back its close does", async () => {
    const open = openWindowExecutor({ store: store.windows });
    const close = closeWindowExecutor({
      store: store.windows,
      audit: store.audit,
      events: store.watchedEvents,
      summaryDirectory: directory,
    });
    await open.apply(
      await open.plan({ incident: "INC-3" }, runContext({ now: OPENED })),
      { incident: "INC-3" },
      runContext({ now: OPENED }),
    );
    await close.apply(
      await close.plan({ incident: "INC-3" }, runContext({ now: CLOSED })),
      { incident: "INC-3" },
      runContext({ now: CLOSED, initiator: "bob" }),
    );

    const reopening = runContext({ now: new Date("2026-11-25T15:00:00Z"), initiator: "carol", runId: "run-2" });
    await expect(open.plan({ incident: "INC-3" }, reopening)).resolves.toMatchObject({
      alreadyDone: false,
      changes: [{ before: "closed", after: "open" }],
    });
    await open.apply(await open.plan({ incident: "INC-3" }, reopening), { incident: "INC-3" }, reopening);
    expect(store.windows.findWindow("INC-3")).toMatchObject({
      openedBy: "carol",
      runId: "run-2",
      closedAt: null,
      closedBy: null,
    });
    await expect(open.verify({ incident: "INC-3" }, reopening)).resolves.toMatchObject({ ok: true });
  });

  it("fails verification when the window is not open", async () => {
    const open = openWindowExecutor({ store: store.windows });
    await expect(open.verify({ incident: "INC-7" }, runContext())).resolves.toEqual({
      ok: false,
      detail: "the store holds no emergency window for incident INC-7",
    });
  });
});

describe("closing the emergency window", () => {
  it("closes it, and summarises who opened and closed it and what breakglass recorded during it", async () => {
    const audit = new AuditLog(store.audit, fixedClock(new Date("2026-11-25T11:00:00Z")));
    const open = openWindowExecutor({ store: store.windows });
    const close = closeWindowExecutor({
      store: store.windows,
      audit: store.audit,
      events: store.watchedEvents,
      summaryDirectory: join(directory, "summaries"),
    });
    const opening = runContext({ now: OPENED, initiator: "alice" });
    await open.apply(await open.plan({ incident: "INC-42" }, opening), { incident: "INC-42", reason: "FM3" }, opening);
    audit.record({ actor: "alice", action: "action.applied", runId: "run-1", subject: "add-responders", detail: {} });
    store.watchedEvents.recordEvent(
      {
        verdict: "incident",
        eventId: "3f1c2a9e-0b7d-4c55-9d1e-2b6f8a0c4e11",
        time: "2026-11-25T11:05:00.000Z",
        actor: "arn:aws:sts::111111111111:assumed-role/EmergencyAdmin/dana",
        action: "iam:CreateAccessKey",
        sourceIp: "198.51.100.23",
        region: "us-east-1",
        accountId: "111111111111",
        errorCode: null,
        incident: "INC-42",
        derivedSession: null,
      },
      new Date("2026-11-25T11:06:00Z"),
      3_600_000,
    );

    const closing = runContext({ now: CLOSED, initiator: "bob" });
    const plan = await close.plan({ incident: "INC-42" }, closing);
    expect(plan).toMatchObject({ alreadyDone: false, changes: [{ before: "open", after: "closed" }] });
    const applied = await close.apply(plan, { incident: "INC-42" }, closing);
    const path = applied.artefacts?.["activity-summary"];
    expect(path).toBeDefined();
    const summary = readFileSync(path!, "utf8");
    expect(summary).toContain("# Activity summary: incident INC-42");
    expect(summary).toContain(`- Opened: ${OPENED.toISOString()} by alice (run run-1)`);
    expect(summary).toContain(`- Closed: ${CLOSED.toISOString()} by bob`);
    expect(summary).not.toContain("not included yet");
    expect(summary).toContain(
      "| 2026-11-25T11:05:00.000Z | arn:aws:sts::111111111111:assumed-role/EmergencyAdmin/dana | iam:CreateAccessKey " +
        "| 198.51.100.23 | us-east-1 | 3f1c2a9e-0b7d-4c55-9d1e-2b6f8a0c4e11 |  |",
    );
    expect(summary).toContain("`breakglass incident timeline INC-42`");
    expect(summary).toContain("| 1 | 2026-11-25T11:00:00.000Z | alice | action.applied | add-responders | run-1 |");

    const verification = await close.verify({ incident: "INC-42" }, closing);
    expect(verification).toMatchObject({ ok: true, artefacts: { "activity-summary": path } });
    await expect(close.plan({ incident: "INC-42" }, closing)).resolves.toMatchObject({ alreadyDone: true });
  });

  it("changes nothing for a window never opened, and still yields its activity-summary from verify", async () => {
    const close = closeWindowExecutor({
      store: store.windows,
      audit: store.audit,
      events: store.watchedEvents,
      summaryDirectory: directory,
    });
    const context = runContext({ now: CLOSED });
    await expect(close.plan({ incident: "INC-9" }, context)).resolves.toMatchObject({ alreadyDone: true, changes: [] });
    const verification = await close.verify({ incident: "INC-9" }, context);
    expect(verification.ok).toBe(true);
    expect(store.windows.findWindow("INC-9")).toBeNull();
    expect(readFileSync(verification.artefacts?.["activity-summary"] ?? "", "utf8")).toContain(
      "No emergency window was opened for this incident",
    );
  });

  it("fails verification while the window is still open", async () => {
    const open = openWindowExecutor({ store: store.windows });
    const close = closeWindowExecutor({
      store: store.windows,
      audit: store.audit,
      events: store.watchedEvents,
      summaryDirectory: directory,
    });
    const context = runContext({ now: OPENED });
    await open.apply(await open.plan({ incident: "INC-5" }, context), { incident: "INC-5" }, context);
    await expect(close.verify({ incident: "INC-5" }, context)).resolves.toEqual({
      ok: false,
      detail: `the emergency window of incident INC-5 is still open (opened ${OPENED.toISOString()} by alice)`,
    });
  });
});
