// Crash recovery without the lockout: the heartbeat keeps a slow step's short lease, a dead process of this host is
// taken over at once, another host's holder with --take-over after two missed heartbeats.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuditLog } from "../../../src/domain/audit/audit-log.js";
import type { StepExecutors } from "../../../src/domain/runbooks/engine-ports.js";
import { readRunbookSource } from "../../../src/adapters/runbook-files/runbook-files.js";
import { RunEngine } from "../../../src/domain/runbooks/run-engine.js";
import type { Heartbeat, LeaseHost } from "../../../src/domain/runbooks/run-lease.js";
import { openStore } from "../../../src/adapters/store/open-store.js";
import type { BreakglassStore } from "../../../src/domain/ports/store.js";
import { SteppingClock } from "../../support/stepping-clock.js";
import { person } from "../../support/actors.js";

const LEASE = 60_000;
const START = new Date("2026-11-25T03:00:00Z");
const at = (seconds: number) => new Date(START.getTime() + seconds * 1000).toISOString();

const RUNBOOK = `# A slow check, then a second person's approval.
id: lease-drill
title: Hold a lease
failureMode: recovery
summary: A check that takes its time, then a second person approves.
inputs:
  - name: incident
    description: The incident reference.
    type: string
    required: true
steps:
  - id: slow-check
    title: A check that takes its time
    kind: check
    checks: [metadata]
    expect: any
  - id: approve
    title: A second person approves
    kind: approval
    reason: Go on with \${inputs.incident}.
`;

/** A heartbeat stepped by the test: beat() runs every running timer once; `running` shows whether a step holds one. */
class ManualHeartbeat {
  private readonly beats = new Set<() => void>();
  readonly intervals: number[] = [];
  readonly heartbeat: Heartbeat = (everyMilliseconds, beat) => {
    this.intervals.push(everyMilliseconds);
    this.beats.add(beat);
    return () => this.beats.delete(beat);
  };
  get running(): number {
    return this.beats.size;
  }
  beat(): void {
    for (const beat of [...this.beats]) beat();
  }
}

/** A check the test finishes by hand: the first process's step is in flight until release() (or forever: it crashed). */
class SlowCheck {
  private release: (() => void) | null = null;
  started: Promise<void>;
  private markStarted: () => void = () => undefined;
  constructor() {
    this.started = new Promise((resolve) => (this.markStarted = resolve));
  }
  readonly check: StepExecutors["check"] = () =>
    new Promise((resolve) => {
      this.release = () => resolve({ findings: [] });
      this.markStarted();
    });
  finish(): void {
    this.release?.();
  }
}

function setUp() {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-lease-"));
  const runbookPath = join(directory, "lease-drill.yaml");
  writeFileSync(runbookPath, RUNBOOK);
  const store = openStore({ path: join(directory, "breakglass.db") });
  const clock = new SteppingClock(START);
  const audit = new AuditLog(store.audit, clock);
  const engine = (
    host: LeaseHost,
    check: StepExecutors["check"] = () => Promise.resolve({ findings: [] }),
    heartbeat = new ManualHeartbeat().heartbeat,
  ) =>
    new RunEngine({
      store: store.runs,
      audit,
      clock,
      executors: {
        check,
        actions: {} as StepExecutors["actions"],
        notify: () => Promise.resolve(),
        sleep: () => Promise.resolve(),
      },
      runbooks: () => readRunbookSource(runbookPath),
      leaseMilliseconds: LEASE,
      host,
      heartbeat,
      newRunId: () => "run-1",
    });
  const start = async (runner: RunEngine) =>
    runner.start(await readRunbookSource(runbookPath), { incident: "INC-9" }, person("alice"), { dryRun: false });
  return { store, clock, engine, start };
}

/** Hosts whose process tables the test decides: `dead` lists the pids that no longer run. */
const host = (hostname: string, pid: number, dead: readonly number[] = []): LeaseHost => ({
  hostname,
  pid,
  isProcessAlive: (candidate) => !dead.includes(candidate),
});

function takeOvers(store: BreakglassStore) {
  return store.audit
    .auditRecords()
    .filter((record) => record.action === "run.lease-taken-over")
    .map((record) => ({ actor: record.actor, detail: record.detail }));
}

describe("the run lease while a step runs", () => {
  it("is renewed by the heartbeat every lease / 3, so a slow step keeps it long after one lease, and the heartbeat stops with the step", async () => {
    const { store, clock, engine, start } = setUp();
    const slow = new SlowCheck();
    const heartbeat = new ManualHeartbeat();
    const first = engine(host("host-a", 100), slow.check, heartbeat.heartbeat);
    await start(first);
    const advancing = first.advance("run-1", "alice");
    await slow.started;
    expect(heartbeat.intervals).toEqual([LEASE / 3]);
    for (let beat = 0; beat < 6; beat++) {
      clock.advance(LEASE / 3);
      heartbeat.beat();
    }
    // Two leases later, the holder still has it, renewed at the last beat.
    expect(store.runs.findRun("run-1")).toMatchObject({ leaseExpiresAt: at(120 + 60) });
    const elsewhere = engine(host("host-b", 200));
    await expect(elsewhere.advance("run-1", "dave", { reason: "host-a is down" })).rejects.toThrow(
      /it renewed its lease at 2026-11-25T03:02:00\.000Z, so it may still be working/,
    );
    slow.finish();
    const view = await advancing;
    expect(view.waitingFor?.stepId).toBe("approve");
    expect(heartbeat.running).toBe(0);
    expect(takeOvers(store)).toEqual([]);
  });
});

describe("a lease held by a process that crashed", () => {
  it("is taken over at once on the same host when that process is dead, audited with the old holder; the dead holder can write nothing after", async () => {
    const { store, engine, start } = setUp();
    const slow = new SlowCheck();
    const crashedHeartbeat = new ManualHeartbeat();
    const crashed = engine(host("host-a", 100), slow.check, crashedHeartbeat.heartbeat);
    await start(crashed);
    const stalled = crashed.advance("run-1", "alice");
    await slow.started;
    const oldHolder = store.runs.findRun("run-1")?.leaseHolder;
    expect(oldHolder).toMatch(/^host-a:100:/);

    const view = await engine(host("host-a", 200, [100])).advance("run-1", "bob");
    expect(view.waitingFor?.stepId).toBe("approve");
    expect(takeOvers(store)).toEqual([
      {
        actor: "bob",
        detail: expect.objectContaining({
          previousHolder: oldHolder,
          previousExpiresAt: at(60),
          because: "its process is no longer running on this host",
        }),
      },
    ]);
    // Had the process only stalled, its heartbeat cannot take the lease back, though it is free now, and its late
    // result is refused rather than written over the newer run.
    expect(store.runs.findRun("run-1")).toMatchObject({ leaseHolder: null });
    crashedHeartbeat.beat();
    expect(store.runs.findRun("run-1")).toMatchObject({ leaseHolder: null });
    expect(crashedHeartbeat.running).toBe(0);
    slow.finish();
    await expect(stalled).rejects.toMatchObject({ code: "RUN_BUSY" });
    expect(store.runs.runSteps("run-1").map((step) => step.status)).toEqual(["succeeded", "waiting"]);
  });

  it("is not taken over on the same host while that process still runs, and says how and when to take it over", async () => {
    const { engine, start } = setUp();
    const slow = new SlowCheck();
    const live = engine(host("host-a", 100), slow.check);
    await start(live);
    void live.advance("run-1", "alice");
    await slow.started;
    const busy = engine(host("host-a", 200)).advance("run-1", "bob");
    await expect(busy).rejects.toMatchObject({ code: "RUN_BUSY" });
    await expect(busy).rejects.toThrow(
      new RegExp(
        "^run run-1: it is being advanced by host-a:100:\\w+, whose lease expires at 2026-11-25T03:01:00\\.000Z; " +
          "try again after that, or, if that process is gone, take the run over with --take-over --reason <why> " +
          "from 2026-11-25T03:00:40\\.000Z$",
      ),
    );
    slow.finish();
  });

  it("is taken over from another host with a reason once its holder missed two heartbeats, and not before", async () => {
    const { store, clock, engine, start } = setUp();
    const slow = new SlowCheck();
    const crashed = engine(host("host-a", 100), slow.check);
    await start(crashed);
    const stalled = crashed.advance("run-1", "alice");
    await slow.started;
    const elsewhere = engine(host("host-b", 100));

    clock.advance(39_000);
    await expect(elsewhere.advance("run-1", "bob")).rejects.toThrow(
      /take the run over with --take-over --reason <why> from 2026-11-25T03:00:40\.000Z$/,
    );
    await expect(elsewhere.advance("run-1", "bob", { reason: "host-a lost power" })).rejects.toThrow(
      new RegExp(
        "^run run-1: it is being advanced by host-a:100:\\w+, whose lease expires at 2026-11-25T03:01:00\\.000Z; " +
          "it renewed its lease at 2026-11-25T03:00:00\\.000Z, so it may still be working: " +
          "it can be taken over from 2026-11-25T03:00:40\\.000Z, once it has missed 2 heartbeats$",
      ),
    );
    expect(takeOvers(store)).toEqual([]);

    clock.advance(1_000);
    const view = await elsewhere.advance("run-1", "bob", { reason: "host-a lost power" });
    expect(view.waitingFor?.stepId).toBe("approve");
    expect(takeOvers(store)).toEqual([
      {
        actor: "bob",
        detail: expect.objectContaining({
          because: "asked to take over",
          reason: "host-a lost power",
          renewedAt: at(0),
          previousExpiresAt: at(60),
        }),
      },
    ]);
    expect(store.runs.findRun("run-1")).toMatchObject({ leaseHolder: null });
    slow.finish();
    await expect(stalled).rejects.toThrow(/lost its lease, so it stopped without writing/);
  });

  it("lets a run be aborted with --take-over from another host after the grace", async () => {
    const { store, clock, engine, start } = setUp();
    const slow = new SlowCheck();
    const crashed = engine(host("host-a", 100), slow.check);
    await start(crashed);
    const stalled = crashed.advance("run-1", "alice");
    await slow.started;
    const elsewhere = engine(host("host-b", 300));
    await expect(elsewhere.abort("run-1", "bob", "wrong incident")).rejects.toMatchObject({ code: "RUN_BUSY" });
    clock.advance(40_000);
    const view = await elsewhere.abort("run-1", "bob", "wrong incident", { reason: "wrong incident" });
    expect(view.status).toBe("aborted");
    expect(takeOvers(store)).toHaveLength(1);
    expect(
      store.audit
        .auditRecords()
        .map((record) => record.action)
        .slice(-2),
    ).toEqual(["run.lease-taken-over", "run.aborted"]);
    slow.finish();
    await expect(stalled).rejects.toMatchObject({ code: "RUN_BUSY" });
    expect(store.runs.findRun("run-1")).toMatchObject({ status: "aborted" });
  });
});
