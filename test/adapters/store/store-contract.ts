// The store contract: what every BreakglassStore (SQLite today, DynamoDB next) must do, run by each implementation's test file.
import { afterEach, describe, expect, it } from "vitest";
import { verifyChain, type AuditEntry } from "../../../src/domain/audit/audit-chain.js";
import type { Fence } from "../../../src/domain/ports/leadership-store.js";
import type { BreakglassStore } from "../../../src/domain/ports/store.js";
import type { NewRun } from "../../../src/domain/runbooks/run-store.js";
import type { Artefact } from "../../../src/domain/runbooks/runbook-schema.js";
import { MAX_ARTEFACT_BYTES, sha256Of } from "../../../src/domain/ports/artefact-store.js";
import type { Judgement } from "../../../src/domain/watch/classify-event.js";

/** One empty store location; each open() is another process's handle on that same store. */
export interface StoreUnderTest {
  open(): BreakglassStore;
  /** Alters one byte of the content kept for the run's artefact behind the store's back (a chunk rotted, an admin's edit). */
  corruptArtefact(runId: string, name: Artefact): void;
}

export interface StoreContractOptions {
  readonly newStore: () => StoreUnderTest;
}

const t = (hour: number, minute = 0) => new Date(Date.UTC(2026, 10, 25, hour, minute));
const MINUTE = 60_000;
const LEASE = 10 * MINUTE;
const INSTANCE = "arn:aws:sso:::instance/ssoins-1234567890abcdef";

const newRun = (id: string, overrides: Partial<NewRun> = {}): NewRun => ({
  id,
  runbookId: "fm2-reimport-metadata",
  runbookDigest: "ab".repeat(32),
  inputs: { incident: "INC-1", groups: ["g1", "g2"] },
  initiator: "alice",
  initiatorPerson: "person:alice",
  dryRun: false,
  stepIds: ["check-idp", "import", "confirm"],
  ...overrides,
});

const entry = (
  action: string,
  runId: string | null,
  subject: string,
  detail: Record<string, unknown> = {},
): AuditEntry => ({ actor: "alice", action, runId, subject, detail });

export function runStoreContract(options: StoreContractOptions): void {
  const opened: BreakglassStore[] = [];
  /** A fresh store and a way to open more handles on it (a second process, or the same one after a restart). */
  const fresh = () => {
    const location = options.newStore();
    const open = () => {
      const store = location.open();
      opened.push(store);
      return store;
    };
    return { store: open(), open, location };
  };

  afterEach(() => {
    for (const store of opened.splice(0)) {
      try {
        store.close();
      } catch {
        // Closed by the test already.
      }
    }
  });

  describe("runs", () => {
    it("creates a run with its steps pending and the audit record of its start, and finds it again from another handle", () => {
      const { store, open } = fresh();
      const record = store.runs.createRun(
        newRun("run-1"),
        entry("run.started", "run-1", "fm2-reimport-metadata", { dryRun: false }),
        t(1),
      );
      expect(record).toMatchObject({ sequence: 1, action: "run.started", runId: "run-1", at: t(1).toISOString() });
      const other = open();
      expect(other.runs.findRun("run-1")).toEqual({
        id: "run-1",
        runbookId: "fm2-reimport-metadata",
        runbookDigest: "ab".repeat(32),
        inputs: { incident: "INC-1", groups: ["g1", "g2"] },
        initiator: "alice",
        initiatorPerson: "person:alice",
        dryRun: false,
        preflight: [],
        status: "running",
        createdAt: t(1).toISOString(),
        updatedAt: t(1).toISOString(),
        leaseHolder: null,
        leaseExpiresAt: null,
      });
      expect(
        other.runs
          .runSteps("run-1")
          .map((step) => [step.stepId, step.position, step.status, step.attempts, step.outcome]),
      ).toEqual([
        ["check-idp", 0, "pending", 0, null],
        ["import", 1, "pending", 0, null],
        ["confirm", 2, "pending", 0, null],
      ]);
      expect(other.audit.auditRecords()).toEqual([record]);
      expect(other.runs.findRun("run-2")).toBeNull();
    });

    it("answers the questions the front ends ask: recent runs, counts by status, unfinished runs, runs by short id", () => {
      const { store } = fresh();
      store.runs.createRun(newRun("a1b2-first"), entry("run.started", "a1b2-first", "fm2"), t(1));
      store.runs.createRun(newRun("a1c3-second"), entry("run.started", "a1c3-second", "fm2"), t(2));
      store.runs.createRun(newRun("ffff-third"), entry("run.started", "ffff-third", "fm2"), t(3));
      store.runs.acquireLease("ffff-third", "engine-a", t(3), LEASE);
      store.runs.recordTransition(
        "ffff-third",
        "engine-a",
        { runStatus: "succeeded", audit: [entry("run.succeeded", "ffff-third", "fm2")] },
        t(3, 5),
      );
      expect(store.runs.recentRuns(2).map((run) => run.id)).toEqual(["ffff-third", "a1c3-second"]);
      expect(store.runs.runCounts()).toEqual({ running: 2, succeeded: 1 });
      expect(store.runs.unfinishedRunIds(10)).toEqual(["a1c3-second", "a1b2-first"]);
      expect(store.runs.runIdsStartingWith("a1b2")).toEqual(["a1b2-first"]);
      expect(store.runs.runIdsStartingWith("a1").sort()).toEqual(["a1b2-first", "a1c3-second"]);
      // A LIKE wildcard in the prefix is a plain character, not "anything".
      expect(store.runs.runIdsStartingWith("a_")).toEqual([]);
      expect(store.runs.runIdsStartingWith("%")).toEqual([]);
    });

    it("writes nothing of a new run whose audit record cannot be written", () => {
      const { store } = fresh();
      const unwritable = entry("run.started", "run-1", "fm2", { size: BigInt(1) });
      expect(() => store.runs.createRun(newRun("run-1"), unwritable, t(1))).toThrow();
      expect(store.runs.findRun("run-1")).toBeNull();
      expect(store.runs.runSteps("run-1")).toEqual([]);
      expect(store.audit.auditRecords()).toEqual([]);
    });
  });

  describe("run leases", () => {
    it("gives a free lease to one of two holders racing for it; the other is told who has it and until when", () => {
      const { store, open } = fresh();
      const second = open();
      store.runs.createRun(newRun("run-1"), entry("run.started", "run-1", "fm2"), t(1));
      store.runs.acquireLease("run-1", "engine-a", t(1), LEASE);
      expect(() => second.runs.acquireLease("run-1", "engine-b", t(1, 1), LEASE)).toThrow(
        `run run-1: it is being advanced by engine-a, whose lease expires at ${t(1, 10).toISOString()}; try again after that`,
      );
      expect(second.runs.findRun("run-1")).toMatchObject({
        leaseHolder: "engine-a",
        leaseExpiresAt: t(1, 10).toISOString(),
      });
      // The holder renews its own lease.
      store.runs.acquireLease("run-1", "engine-a", t(1, 5), LEASE);
      expect(second.runs.findRun("run-1")).toMatchObject({
        leaseHolder: "engine-a",
        leaseExpiresAt: t(1, 15).toISOString(),
      });
    });

    it("lets another holder take over a lease once it expired, and frees one that is released", () => {
      const { store, open } = fresh();
      const second = open();
      store.runs.createRun(newRun("run-1"), entry("run.started", "run-1", "fm2"), t(1));
      store.runs.acquireLease("run-1", "engine-a", t(1), LEASE);
      expect(() => second.runs.acquireLease("run-1", "engine-b", t(1, 9), LEASE)).toThrow(/engine-a/);
      second.runs.acquireLease("run-1", "engine-b", t(1, 10), LEASE);
      expect(store.runs.findRun("run-1")).toMatchObject({ leaseHolder: "engine-b" });
      // Releasing a lease one no longer holds changes nothing.
      store.runs.releaseLease("run-1", "engine-a");
      expect(store.runs.findRun("run-1")).toMatchObject({ leaseHolder: "engine-b" });
      second.runs.releaseLease("run-1", "engine-b");
      expect(store.runs.findRun("run-1")).toMatchObject({ leaseHolder: null, leaseExpiresAt: null });
      store.runs.acquireLease("run-1", "engine-a", t(1, 11), LEASE);
    });

    it("refuses a lease on a run that does not exist", () => {
      const { store } = fresh();
      expect(() => store.runs.acquireLease("run-404", "engine-a", t(1), LEASE)).toThrow(
        "run run-404: no run has this id in the store",
      );
    });

    it("refuses every write of a holder that lost its lease (RUN_BUSY), and writes nothing of it, audit included", () => {
      const { store, open } = fresh();
      const second = open();
      store.runs.createRun(newRun("run-1"), entry("run.started", "run-1", "fm2"), t(1));
      store.runs.acquireLease("run-1", "engine-a", t(1), LEASE);
      second.runs.acquireLease("run-1", "engine-b", t(1, 10), LEASE);
      const before = {
        steps: store.runs.runSteps("run-1"),
        audit: store.audit.auditRecords(),
        run: store.runs.findRun("run-1"),
      };
      const stalled = () =>
        store.runs.recordTransition(
          "run-1",
          "engine-a",
          {
            runStatus: "failed",
            steps: [{ stepId: "check-idp", status: "succeeded", outcome: { summary: "clean" } }],
            artefacts: [{ name: "metadata-file", path: "/tmp/x.xml", stepId: "check-idp" }],
            audit: [entry("step.succeeded", "run-1", "check-idp")],
          },
          t(1, 11),
        );
      expect(stalled).toThrow(expect.objectContaining({ code: "RUN_BUSY" }));
      expect(stalled).toThrow(
        `run run-1: engine-a lost its lease, so it stopped without writing; it is being advanced by ` +
          `engine-b, whose lease expires at ${t(1, 20).toISOString()}; try again after that`,
      );
      expect(second.runs.runSteps("run-1")).toEqual(before.steps);
      expect(second.audit.auditRecords()).toEqual(before.audit);
      expect(second.runs.findRun("run-1")).toEqual({
        ...before.run,
        leaseHolder: "engine-b",
        leaseExpiresAt: t(1, 20).toISOString(),
      });
      expect(second.runs.runArtefacts("run-1")).toEqual({});
    });
  });

  describe("taking a lease over", () => {
    it("takes over the lease of a holder whose process died, before it lapses, in one conditional write", () => {
      const { store, open } = fresh();
      const second = open();
      store.runs.createRun(newRun("run-1"), entry("run.started", "run-1", "fm2"), t(1));
      store.runs.acquireLease("run-1", "engine-a", t(1), LEASE);
      // engine-a died: nothing renews its lease, which would run until 1:10.
      second.runs.takeOverLease(
        "run-1",
        { holder: "engine-a", expiresAt: t(1, 10).toISOString() },
        "engine-b",
        t(1, 1),
        LEASE,
      );
      expect(store.runs.findRun("run-1")).toMatchObject({
        leaseHolder: "engine-b",
        leaseExpiresAt: t(1, 11).toISOString(),
      });
    });

    it("refuses to take over a live holder, one that renewed since it was read, and writes nothing", () => {
      const { store, open } = fresh();
      const second = open();
      store.runs.createRun(newRun("run-1"), entry("run.started", "run-1", "fm2"), t(1));
      store.runs.acquireLease("run-1", "engine-a", t(1), LEASE);
      const read = { holder: "engine-a", expiresAt: t(1, 10).toISOString() };
      store.runs.acquireLease("run-1", "engine-a", t(1, 2), LEASE); // its heartbeat
      const takeOver = () => second.runs.takeOverLease("run-1", read, "engine-b", t(1, 3), LEASE);
      expect(takeOver).toThrow(expect.objectContaining({ code: "RUN_BUSY" }));
      expect(takeOver).toThrow(
        "run run-1: engine-a renewed its lease or was taken over first, so it was not taken over; " +
          `it is being advanced by engine-a, whose lease expires at ${t(1, 12).toISOString()}; try again after that`,
      );
      expect(store.runs.findRun("run-1")).toMatchObject({
        leaseHolder: "engine-a",
        leaseExpiresAt: t(1, 12).toISOString(),
      });
    });

    it("lets only one of two processes taking over the same holder have the lease", () => {
      const { store, open } = fresh();
      const second = open();
      const third = open();
      store.runs.createRun(newRun("run-1"), entry("run.started", "run-1", "fm2"), t(1));
      store.runs.acquireLease("run-1", "engine-a", t(1), LEASE);
      const read = { holder: "engine-a", expiresAt: t(1, 10).toISOString() };
      second.runs.takeOverLease("run-1", read, "engine-b", t(1, 1), LEASE);
      expect(() => third.runs.takeOverLease("run-1", read, "engine-c", t(1, 1), LEASE)).toThrow(
        /it is being advanced by engine-b/,
      );
      expect(store.runs.findRun("run-1")).toMatchObject({ leaseHolder: "engine-b" });
    });

    it("renews only a lease the holder still has: never one taken over, nor one released in the meantime", () => {
      const { store, open } = fresh();
      const second = open();
      store.runs.createRun(newRun("run-1"), entry("run.started", "run-1", "fm2"), t(1));
      store.runs.acquireLease("run-1", "engine-a", t(1), LEASE);
      store.runs.renewLease("run-1", "engine-a", t(1, 3), LEASE);
      expect(store.runs.findRun("run-1")).toMatchObject({ leaseExpiresAt: t(1, 13).toISOString() });
      second.runs.takeOverLease(
        "run-1",
        { holder: "engine-a", expiresAt: t(1, 13).toISOString() },
        "engine-b",
        t(1, 4),
        LEASE,
      );
      expect(() => store.runs.renewLease("run-1", "engine-a", t(1, 5), LEASE)).toThrow(
        "run run-1: engine-a lost its lease, so it stopped; " +
          `it is being advanced by engine-b, whose lease expires at ${t(1, 14).toISOString()}; try again after that`,
      );
      second.runs.releaseLease("run-1", "engine-b");
      expect(() => store.runs.renewLease("run-1", "engine-a", t(1, 6), LEASE)).toThrow(
        expect.objectContaining({ code: "RUN_BUSY" }),
      );
      expect(store.runs.findRun("run-1")).toMatchObject({ leaseHolder: null, leaseExpiresAt: null });
      expect(() => store.runs.renewLease("run-404", "engine-a", t(1, 6), LEASE)).toThrow(
        "run run-404: no run has this id in the store",
      );
    });

    it("refuses every write and renewal of the holder it was taken from, which writes nothing afterwards", () => {
      const { store, open } = fresh();
      const second = open();
      store.runs.createRun(newRun("run-1"), entry("run.started", "run-1", "fm2"), t(1));
      store.runs.acquireLease("run-1", "engine-a", t(1), LEASE);
      second.runs.takeOverLease(
        "run-1",
        { holder: "engine-a", expiresAt: t(1, 10).toISOString() },
        "engine-b",
        t(1, 1),
        LEASE,
      );
      const auditBefore = second.audit.auditRecords();
      const stalled = () =>
        store.runs.recordTransition(
          "run-1",
          "engine-a",
          {
            steps: [{ stepId: "check-idp", status: "succeeded", outcome: { summary: "clean" } }],
            audit: [entry("step.succeeded", "run-1", "check-idp")],
          },
          t(1, 2),
        );
      expect(stalled).toThrow(
        "run run-1: engine-a lost its lease, so it stopped without writing; " +
          `it is being advanced by engine-b, whose lease expires at ${t(1, 11).toISOString()}; try again after that`,
      );
      expect(() => store.runs.acquireLease("run-1", "engine-a", t(1, 2), LEASE)).toThrow(/advanced by engine-b/);
      expect(() => store.runs.renewLease("run-1", "engine-a", t(1, 2), LEASE)).toThrow(/advanced by engine-b/);
      expect(second.audit.auditRecords()).toEqual(auditBefore);
      expect(second.runs.runSteps("run-1")[0]).toMatchObject({ status: "pending" });
    });
  });

  describe("a transition and its audit records", () => {
    it("writes the run's status, its steps and their audit records together, and returns the records sealed in order", () => {
      const { store, open } = fresh();
      store.runs.createRun(newRun("run-1"), entry("run.started", "run-1", "fm2"), t(1));
      store.runs.acquireLease("run-1", "engine-a", t(1), LEASE);
      const started = store.runs.recordTransition(
        "run-1",
        "engine-a",
        {
          steps: [{ stepId: "check-idp", status: "running", outcome: null, started: true }],
          audit: [entry("step.started", "run-1", "check-idp")],
        },
        t(1, 1),
      );
      const failed = store.runs.recordTransition(
        "run-1",
        "engine-a",
        {
          runStatus: "failed",
          steps: [
            { stepId: "check-idp", status: "failed", outcome: { summary: "failed: not clean", error: "not clean" } },
          ],
          audit: [
            entry("step.failed", "run-1", "check-idp"),
            entry("run.failed", "run-1", "fm2", { stoppedAt: "check-idp" }),
          ],
        },
        t(1, 2),
      );
      expect(started.map((record) => [record.sequence, record.action])).toEqual([[2, "step.started"]]);
      expect(failed.map((record) => [record.sequence, record.action])).toEqual([
        [3, "step.failed"],
        [4, "run.failed"],
      ]);
      const other = open();
      expect(other.runs.findRun("run-1")).toMatchObject({ status: "failed", updatedAt: t(1, 2).toISOString() });
      expect(other.runs.runSteps("run-1")[0]).toEqual({
        stepId: "check-idp",
        position: 0,
        status: "failed",
        outcome: { summary: "failed: not clean", error: "not clean" },
        attempts: 1,
        updatedAt: t(1, 2).toISOString(),
      });
      const records = other.audit.auditRecords();
      expect(records.slice(1)).toEqual([...started, ...failed]);
      expect(verifyChain(records)).toEqual([]);
    });

    it("writes nothing of a transition whose audit record cannot be written", () => {
      const { store } = fresh();
      store.runs.createRun(newRun("run-1"), entry("run.started", "run-1", "fm2"), t(1));
      store.runs.acquireLease("run-1", "engine-a", t(1), LEASE);
      const before = {
        steps: store.runs.runSteps("run-1"),
        audit: store.audit.auditRecords(),
        run: store.runs.findRun("run-1"),
      };
      // A detail that cannot be serialised fails the audit write after the step's own write: both must be undone.
      const unwritable = entry("step.succeeded", "run-1", "check-idp", { size: BigInt(1) });
      expect(() =>
        store.runs.recordTransition(
          "run-1",
          "engine-a",
          {
            runStatus: "waiting",
            steps: [{ stepId: "check-idp", status: "succeeded", outcome: { summary: "clean" } }],
            artefacts: [{ name: "metadata-file", path: "/tmp/x.xml", stepId: "check-idp" }],
            audit: [entry("step.started", "run-1", "check-idp"), unwritable],
          },
          t(1, 1),
        ),
      ).toThrow();
      expect(store.runs.runSteps("run-1")).toEqual(before.steps);
      expect(store.audit.auditRecords()).toEqual(before.audit);
      expect(store.runs.findRun("run-1")).toEqual(before.run);
      expect(store.runs.runArtefacts("run-1")).toEqual({});
    });

    it("refuses to change a step's status without an audit record, and writes nothing", () => {
      const { store } = fresh();
      store.runs.createRun(newRun("run-1"), entry("run.started", "run-1", "fm2"), t(1));
      store.runs.acquireLease("run-1", "engine-a", t(1), LEASE);
      expect(() =>
        store.runs.recordTransition(
          "run-1",
          "engine-a",
          { steps: [{ stepId: "import", status: "applying", outcome: { summary: "applying" } }] },
          t(1, 1),
        ),
      ).toThrow(
        "run run-1: a step's status cannot change without its audit record (steps import); nothing was written",
      );
      expect(store.runs.runSteps("run-1")[1]).toMatchObject({ status: "pending", outcome: null });
      // A change of the run's status alone (it now waits for a person) needs no record of its own.
      expect(store.runs.recordTransition("run-1", "engine-a", { runStatus: "waiting" }, t(1, 2))).toEqual([]);
      expect(store.runs.findRun("run-1")).toMatchObject({ status: "waiting" });
    });

    it("keeps the artefact a step produced, the newest path of each name", () => {
      const { store } = fresh();
      store.runs.createRun(newRun("run-1"), entry("run.started", "run-1", "fm2"), t(1));
      store.runs.acquireLease("run-1", "engine-a", t(1), LEASE);
      const produce = (path: string) =>
        store.runs.recordTransition(
          "run-1",
          "engine-a",
          {
            steps: [{ stepId: "check-idp", status: "succeeded", outcome: { summary: "clean" } }],
            artefacts: [{ name: "metadata-file", path, stepId: "check-idp" }],
            audit: [entry("step.succeeded", "run-1", "check-idp")],
          },
          t(1, 1),
        );
      produce("/artefacts/run-1/first.xml");
      produce("/artefacts/run-1/second.xml");
      expect(store.runs.runArtefacts("run-1")).toEqual({ "metadata-file": "/artefacts/run-1/second.xml" });
      expect(store.runs.runArtefacts("run-2")).toEqual({});
    });
  });

  describe("artefact contents", () => {
    /** Bytes no two chunks of which are alike, so a chunk read back in the wrong place changes the digest. */
    const content = (size: number) => {
      const bytes = new Uint8Array(size);
      for (let index = 0; index < size; index++) bytes[index] = (index * 31 + Math.floor(index / 251)) % 256;
      return bytes;
    };

    it("keeps a content of several DynamoDB items' size whole, and gives another handle the same bytes and digest", () => {
      const { store, open } = fresh();
      const metadata = content(1_200_000);
      expect(store.artefacts.putArtefact("run-1", "metadata-file", metadata)).toEqual({ sha256: sha256Of(metadata) });
      const kept = open().artefacts.artefactContent("run-1", "metadata-file");
      expect(kept?.sha256).toBe(sha256Of(metadata));
      expect(Buffer.from(kept?.content ?? []).equals(Buffer.from(metadata))).toBe(true);
      expect(store.artefacts.artefactContent("run-1", "activity-summary")).toBeNull();
      expect(store.artefacts.artefactContent("run-2", "metadata-file")).toBeNull();
    });

    it("replaces a run's content with a newer one of the same name, and keeps an empty one", () => {
      const { store } = fresh();
      store.artefacts.putArtefact("run-1", "metadata-file", content(500_000));
      store.artefacts.putArtefact("run-1", "metadata-file", new TextEncoder().encode("<EntityDescriptor/>"));
      store.artefacts.putArtefact("run-1", "activity-summary", new Uint8Array(0));
      const kept = store.artefacts.artefactContent("run-1", "metadata-file");
      expect(new TextDecoder().decode(kept?.content)).toBe("<EntityDescriptor/>");
      expect(store.artefacts.artefactContent("run-1", "activity-summary")?.content.byteLength).toBe(0);
    });

    it("keeps a document a step saved under its own name, apart from the run's artefacts and from other runs", () => {
      const { store, open } = fresh();
      const previous = new TextEncoder().encode("<EntityDescriptor entityID='held before'/>");
      store.artefacts.putArtefact("run-1", "metadata-file", content(1_000));
      store.artefacts.putArtefact("run-1", "saved/import-previous-EmergencyIdP-0a1b2c3d.xml", previous);
      const kept = open().artefacts.artefactContent("run-1", "saved/import-previous-EmergencyIdP-0a1b2c3d.xml");
      expect(new TextDecoder().decode(kept?.content)).toBe("<EntityDescriptor entityID='held before'/>");
      expect(kept?.sha256).toBe(sha256Of(previous));
      expect(store.artefacts.artefactContent("run-1", "metadata-file")?.content.byteLength).toBe(1_000);
      expect(store.artefacts.artefactContent("run-2", "saved/import-previous-EmergencyIdP-0a1b2c3d.xml")).toBeNull();
    });

    it("refuses a content that does not hash to its digest, naming the run and the artefact", () => {
      const { store, location } = fresh();
      store.artefacts.putArtefact("run-1", "metadata-file", content(400_000));
      location.corruptArtefact("run-1", "metadata-file");
      expect(() => store.artefacts.artefactContent("run-1", "metadata-file")).toThrow(
        /^artefact metadata-file of run run-1: the content in .+ hashes to SHA-256 [0-9a-f]{64}, not the [0-9a-f]{64} kept with it/,
      );
    });

    it("refuses a content over the size it keeps, naming the artefact, and keeps nothing of it", () => {
      const { store } = fresh();
      expect(() =>
        store.artefacts.putArtefact("run-1", "metadata-file", new Uint8Array(MAX_ARTEFACT_BYTES + 1)),
      ).toThrow(
        "artefact metadata-file of run run-1: 67108865 bytes, more than the 64 MB a store keeps of one artefact",
      );
      expect(store.artefacts.artefactContent("run-1", "metadata-file")).toBeNull();
    });
  });

  describe("the audit log", () => {
    it("seals records onto one chain when two handles on the store append in turn: intact, and no sequence twice", () => {
      const { store, open } = fresh();
      const second = open();
      store.runs.createRun(newRun("run-1"), entry("run.started", "run-1", "fm2"), t(1));
      store.runs.acquireLease("run-1", "engine-a", t(1), LEASE);
      for (let round = 0; round < 25; round++) {
        store.audit.appendAudit(entry("slack.button", null, `press-${round}`), t(2));
        second.audit.appendAudit(entry("identity-center.attest", null, INSTANCE, { round }), t(2));
        // A transition seals its records onto the same chain, between the plain appends.
        store.runs.recordTransition(
          "run-1",
          "engine-a",
          {
            steps: [{ stepId: "check-idp", status: "running", outcome: null, started: true }],
            audit: [entry("step.started", "run-1", "check-idp")],
          },
          t(2),
        );
      }
      const records = open().audit.auditRecords();
      expect(records).toHaveLength(1 + 25 * 3);
      expect(records.map((record) => record.sequence)).toEqual(records.map((_record, index) => index + 1));
      expect(verifyChain(records)).toEqual([]);
    });

    it("moves its head with every record written from any handle", () => {
      const { store, open } = fresh();
      const second = open();
      const empty = store.audit.auditHead();
      second.audit.appendAudit(entry("slack.button", null, "press"), t(1));
      const once = store.audit.auditHead();
      expect(once).not.toBe(empty);
      store.audit.appendAudit(entry("slack.button", null, "press"), t(1));
      expect(second.audit.auditHead()).not.toBe(once);
    });

    it("keeps a record's detail exactly as given", () => {
      const { store, open } = fresh();
      const detail = {
        inputs: { groups: ["g1", "g2"] },
        dryRun: false,
        count: 3,
        nothing: null,
        text: '«quoted» "text"\n',
      };
      const written = store.audit.appendAudit(entry("run.started", "run-1", "fm2", detail), t(1));
      expect(open().audit.auditRecords()).toEqual([{ ...written, detail }]);
    });
  });

  describe("attestations", () => {
    it("keeps attestations and returns the newest for an instance, and the newest of every instance", () => {
      const { store, open } = fresh();
      store.attestations.recordAttestation({
        instanceArn: INSTANCE,
        fingerprints: ["bb", "aa"],
        attestedAt: t(1),
        attestedBy: "alice",
        source: "idp.xml",
      });
      store.attestations.recordAttestation({
        instanceArn: INSTANCE,
        fingerprints: ["cc"],
        attestedAt: t(5),
        attestedBy: "bob",
        source: "https://idp/metadata",
      });
      store.attestations.recordAttestation({
        instanceArn: "arn:aws:sso:::instance/ssoins-other",
        fingerprints: ["dd"],
        attestedAt: t(9),
        attestedBy: "eve",
        source: "x",
      });
      const reopened = open();
      const newest = {
        instanceArn: INSTANCE,
        fingerprints: ["cc"],
        attestedAt: t(5),
        attestedBy: "bob",
        source: "https://idp/metadata",
      };
      expect(reopened.attestations.latestAttestation(INSTANCE)).toEqual(newest);
      // What serve hands its check thread: the newest of every instance.
      expect(reopened.attestations.latestAttestations()).toEqual([
        newest,
        {
          instanceArn: "arn:aws:sso:::instance/ssoins-other",
          fingerprints: ["dd"],
          attestedAt: t(9),
          attestedBy: "eve",
          source: "x",
        },
      ]);
      expect(reopened.attestations.latestAttestation("arn:aws:sso:::instance/ssoins-none")).toBeNull();
    });

    it("keeps an attestation's fingerprints sorted, whatever order they were given in", () => {
      const { store } = fresh();
      store.attestations.recordAttestation({
        instanceArn: INSTANCE,
        fingerprints: ["bb", "aa", "cc"],
        attestedAt: t(1),
        attestedBy: "alice",
        source: "idp.xml",
      });
      expect(store.attestations.latestAttestation(INSTANCE)?.fingerprints).toEqual(["aa", "bb", "cc"]);
    });

    const idpChange = (eventId: string, hour: number, instanceArn = INSTANCE) => ({
      instanceArn,
      eventId,
      eventName: "EnableExternalIdPConfigurationForDirectory",
      changedAt: t(hour),
      changedBy: "arn:aws:sts::999999999999:assumed-role/AWSReservedSSO_Admin_0123/mallory@example.com",
      sourceIp: "203.0.113.7",
    });

    it("records each IdP configuration change once per CloudTrail event and answers the newest with the attestation", () => {
      const { store, open } = fresh();
      store.attestations.recordAttestation({
        instanceArn: INSTANCE,
        fingerprints: ["aa"],
        attestedAt: t(5),
        attestedBy: "alice",
        source: "idp.xml",
      });
      expect(store.attestations.latestAttestation(INSTANCE)).not.toHaveProperty("lastIdpChange");
      expect(store.attestations.recordIdpChange(idpChange("event-later", 7))).toBe(true);
      expect(store.attestations.recordIdpChange(idpChange("event-earlier", 3))).toBe(true);
      // CloudTrail delivered the same event again (or another process saw it): the first record stands.
      expect(store.attestations.recordIdpChange({ ...idpChange("event-later", 9), changedBy: "someone-else" })).toBe(
        false,
      );
      expect(
        store.attestations.recordIdpChange(idpChange("event-other", 8, "arn:aws:sso:::instance/ssoins-other")),
      ).toBe(true);

      const reopened = open();
      expect(reopened.attestations.latestAttestation(INSTANCE)?.lastIdpChange).toEqual(idpChange("event-later", 7));
      // An instance nobody attested has no attestation for a change to invalidate.
      expect(reopened.attestations.latestAttestations().map((attestation) => attestation.lastIdpChange)).toEqual([
        idpChange("event-later", 7),
      ]);
      expect(reopened.attestations.latestAttestation("arn:aws:sso:::instance/ssoins-other")).toBeNull();
    });
  });

  describe("emergency windows", () => {
    const opening = (incident: string, hour: number, runId: string | null = null) => ({
      incident,
      openedAt: t(hour),
      openedBy: "alice",
      reason: `reason ${incident}`,
      runId,
    });

    it("opens a window once per incident, closes it once, and reopens a closed one", () => {
      const { store, open } = fresh();
      expect(store.windows.openWindow(opening("INC-1", 1, "run-1"))).toBe(true);
      expect(store.windows.openWindow({ ...opening("INC-1", 2), openedBy: "mallory" })).toBe(false);
      expect(open().windows.findWindow("INC-1")).toEqual({
        incident: "INC-1",
        openedAt: t(1).toISOString(),
        openedBy: "alice",
        reason: "reason INC-1",
        runId: "run-1",
        closedAt: null,
        closedBy: null,
      });
      expect(store.windows.closeWindow("INC-1", t(3), "bob")).toBe(true);
      expect(store.windows.closeWindow("INC-1", t(4), "carol")).toBe(false);
      expect(store.windows.findWindow("INC-1")).toMatchObject({ closedAt: t(3).toISOString(), closedBy: "bob" });
      expect(store.windows.closeWindow("INC-404", t(4), "carol")).toBe(false);
      expect(store.windows.findWindow("INC-404")).toBeNull();
      expect(store.windows.openWindow({ ...opening("INC-1", 5), openedBy: "dave" })).toBe(true);
      expect(store.windows.findWindow("INC-1")).toMatchObject({
        openedAt: t(5).toISOString(),
        openedBy: "dave",
        closedAt: null,
        closedBy: null,
      });
    });

    it("lists the open windows, the most recently opened first", () => {
      const { store } = fresh();
      store.windows.openWindow(opening("INC-1", 1));
      store.windows.openWindow(opening("INC-2", 3));
      store.windows.openWindow(opening("INC-3", 2));
      store.windows.closeWindow("INC-3", t(4), "bob");
      expect(store.windows.openWindows().map((window) => window.incident)).toEqual(["INC-2", "INC-1"]);
      expect(store.windows.allWindows().map((window) => [window.incident, window.closedAt])).toEqual([
        ["INC-1", null],
        ["INC-3", t(4).toISOString()],
        ["INC-2", null],
      ]);
    });
  });

  describe("member leases", () => {
    const lease = (groupId: string, userId: string, expiresHour: number) => ({
      runId: "INC-1",
      groupId,
      userId,
      login: `${userId}@example.com`,
      addedAt: t(1),
      expiresAt: t(expiresHour),
    });

    it("keeps one active lease per group and user, and a new one once it ended", () => {
      const { store, open } = fresh();
      expect(store.leases.recordLease(lease("g1", "alice", 5))).toBe(true);
      expect(open().leases.recordLease(lease("g1", "alice", 9))).toBe(false);
      expect(store.leases.recordLease(lease("g2", "alice", 5))).toBe(true);
      expect(store.leases.activeLease("g1", "alice")).toMatchObject({
        runId: "INC-1",
        groupId: "g1",
        userId: "alice",
        login: "alice@example.com",
        addedAt: t(1).toISOString(),
        expiresAt: t(5).toISOString(),
        removedAt: null,
      });
      expect(store.leases.endLease("g1", "alice", t(2))).toBe(true);
      expect(store.leases.endLease("g1", "alice", t(3))).toBe(false);
      expect(store.leases.activeLease("g1", "alice")).toBeNull();
      expect(store.leases.recordLease(lease("g1", "alice", 9))).toBe(true);
      expect(store.leases.activeLease("g1", "alice")).toMatchObject({ expiresAt: t(9).toISOString() });
    });

    it("lists active leases soonest to expire first, and those expired at a given time", () => {
      const { store } = fresh();
      store.leases.recordLease(lease("g1", "carol", 7));
      store.leases.recordLease(lease("g1", "alice", 3));
      store.leases.recordLease(lease("g2", "bob", 5));
      store.leases.endLease("g2", "bob", t(2));
      expect(store.leases.activeLeases().map((active) => active.userId)).toEqual(["alice", "carol"]);
      expect(store.leases.expiredLeases(t(2)).map((expired) => expired.userId)).toEqual([]);
      expect(store.leases.expiredLeases(t(3)).map((expired) => expired.userId)).toEqual(["alice"]);
      expect(store.leases.expiredLeases(t(8)).map((expired) => expired.userId)).toEqual(["alice", "carol"]);
    });
  });

  describe("serve state", () => {
    const drift = {
      key: '{"code":"SAML_PROVIDER_DRIFT","resource":"arn:aws:iam::111111111111:saml-provider/Emergency"}',
      code: "SAML_PROVIDER_DRIFT",
      severity: "high",
      message: "drifts",
    };

    it("keeps an alert open across sightings, bringing its message up to date but not its first sighting", () => {
      const { store, open } = fresh();
      store.serveState.recordSeen(drift, t(1));
      store.serveState.markPosted(drift.key, t(1));
      store.serveState.recordSeen({ ...drift, message: "drifts differently", severity: "critical" }, t(2));
      expect(open().serveState.openAlerts()).toEqual([
        {
          ...drift,
          message: "drifts differently",
          severity: "critical",
          firstSeen: t(1).toISOString(),
          lastSeen: t(2).toISOString(),
          postedAt: t(1).toISOString(),
          resolvedAt: null,
          resolutionPostedAt: null,
        },
      ]);
    });

    it("announces a resolution only for an alert that was posted, once", () => {
      const { store, open } = fresh();
      const state = store.serveState;
      const quiet = { ...drift, key: "quiet", message: "never posted" };
      state.recordSeen(drift, t(1));
      state.recordSeen(quiet, t(1));
      state.markPosted(drift.key, t(1));
      state.markResolved(drift.key, t(2));
      state.markResolved(quiet.key, t(2));
      expect(state.openAlerts()).toEqual([]);
      expect(state.unannouncedResolutions().map((alert) => [alert.key, alert.resolvedAt])).toEqual([
        [drift.key, t(2).toISOString()],
      ]);
      state.markResolutionPosted(drift.key, t(3));
      expect(open().serveState.unannouncedResolutions()).toEqual([]);
    });

    it("starts a new, unposted alert when a resolved finding is seen again", () => {
      const { store } = fresh();
      const state = store.serveState;
      state.recordSeen(drift, t(1));
      state.markPosted(drift.key, t(1));
      state.markResolved(drift.key, t(2));
      state.markResolutionPosted(drift.key, t(2));
      state.recordSeen(drift, t(5));
      expect(state.openAlerts()).toEqual([
        {
          ...drift,
          firstSeen: t(5).toISOString(),
          lastSeen: t(5).toISOString(),
          postedAt: null,
          resolvedAt: null,
          resolutionPostedAt: null,
        },
      ]);
    });

    it("writes a check's sightings all or none", () => {
      const { store } = fresh();
      const state = store.serveState;
      expect(() =>
        state.inTransaction(() => {
          state.recordSeen(drift, t(1));
          state.recordSeen({ ...drift, key: "other" }, t(1));
          throw new Error("the check's diff failed half-way");
        }),
      ).toThrow("the check's diff failed half-way");
      expect(state.openAlerts()).toEqual([]);
      expect(state.inTransaction(() => (state.recordSeen(drift, t(1)), "done"))).toBe("done");
      expect(state.openAlerts().map((alert) => alert.key)).toEqual([drift.key]);
    });

    it("lets one caller claim each expiry step, and forgets a claim Slack refused so it can be posted again", () => {
      const { store, open } = fresh();
      const state = store.serveState;
      expect(state.claimExpiryStep("ab12", "30d", t(1), 120_000)).toBe(true);
      expect(open().serveState.claimExpiryStep("ab12", "30d", t(1), 120_000)).toBe(false);
      expect(state.claimExpiryStep("cd34", "30d", t(1), 120_000)).toBe(true);
      expect(open().serveState.postedExpirySteps("ab12")).toEqual(new Set(["30d"]));
      state.forgetExpiryStep("ab12", "30d");
      expect(state.postedExpirySteps("ab12")).toEqual(new Set());
      expect(state.claimExpiryStep("ab12", "30d", t(2), 120_000)).toBe(true);
    });

    it("never gives a delivered step out again, but lets a stale undelivered claim (its process died) be taken over", () => {
      const { store, open } = fresh();
      const state = store.serveState;
      const minutes = (base: Date, count: number) => new Date(base.getTime() + count * MINUTE);
      expect(state.claimExpiryStep("ab12", "7d", t(1), 120_000)).toBe(true);
      state.deliveredExpiryStep("ab12", "7d", t(1));
      state.forgetExpiryStep("ab12", "7d");
      expect(state.claimExpiryStep("ab12", "7d", t(9), 120_000)).toBe(false);
      expect(state.postedExpirySteps("ab12")).toEqual(new Set(["7d"]));

      // Claimed, then the process died before delivering: nobody else posts it while the claim is fresh.
      expect(state.claimExpiryStep("ab12", "3d", t(2), 120_000)).toBe(true);
      const restarted = open().serveState;
      expect(restarted.claimExpiryStep("ab12", "3d", minutes(t(2), 1), 120_000)).toBe(false);
      expect(restarted.claimExpiryStep("ab12", "3d", minutes(t(2), 2), 120_000)).toBe(true);
      expect(restarted.claimExpiryStep("ab12", "3d", minutes(t(2), 3), 120_000)).toBe(false);
    });

    it("keeps named facts and the message that shows each subject", () => {
      const { store, open } = fresh();
      store.serveState.setState("last-check-completed-at", t(1).toISOString());
      store.serveState.setState("last-check-completed-at", t(2).toISOString());
      store.serveState.rememberMessage("run:r1", { channel: "C0ALERTS01", ts: "1.0001" }, t(1));
      store.serveState.rememberMessage("run:r1", { channel: "C0ALERTS01", ts: "1.0002" }, t(2));
      const state = open().serveState;
      expect(state.state("last-check-completed-at")).toBe(t(2).toISOString());
      expect(state.state("never-set")).toBeNull();
      expect(state.message("run:r1")).toEqual({ channel: "C0ALERTS01", ts: "1.0002" });
      expect(state.message("run:r2")).toBeNull();
      expect(state.subjectOf({ channel: "C0ALERTS01", ts: "1.0002" })).toBe("run:r1");
      expect(state.subjectOf({ channel: "C0ALERTS01", ts: "1.0001" })).toBeNull();
    });
  });

  describe("leader leases", () => {
    const SECOND = 1_000;
    const at = (seconds: number) => new Date(t(1).getTime() + seconds * SECOND);
    const TTL = 30 * SECOND;

    it("gives a free lease to the first replica with token 1, and refuses a second while it runs", () => {
      const { store, open } = fresh();
      expect(store.leadership.read("serve")).toBeNull();
      expect(store.leadership.acquireOrRenew("serve", "replica-a", at(0), TTL)).toEqual({
        name: "serve",
        holder: "replica-a",
        token: 1,
        version: 1,
        acquiredAt: at(0).toISOString(),
        renewedAt: at(0).toISOString(),
        expiresAt: at(30).toISOString(),
      });
      expect(open().leadership.acquireOrRenew("serve", "replica-b", at(29), TTL)).toBeNull();
      expect(open().leadership.read("serve")).toMatchObject({ holder: "replica-a", token: 1, version: 1 });
    });

    it("renews the holder's lease with the same token and a new version, keeping when it was acquired", () => {
      const { store } = fresh();
      store.leadership.acquireOrRenew("serve", "replica-a", at(0), TTL);
      expect(store.leadership.acquireOrRenew("serve", "replica-a", at(10), TTL)).toEqual({
        name: "serve",
        holder: "replica-a",
        token: 1,
        version: 2,
        acquiredAt: at(0).toISOString(),
        renewedAt: at(10).toISOString(),
        expiresAt: at(40).toISOString(),
      });
    });

    it("lets another replica take an expired lease with the next token, and the old holder cannot renew it back", () => {
      const { store, open } = fresh();
      const b = open();
      store.leadership.acquireOrRenew("serve", "replica-a", at(0), TTL);
      expect(b.leadership.acquireOrRenew("serve", "replica-b", at(30), TTL)).toMatchObject({
        holder: "replica-b",
        token: 2,
        acquiredAt: at(30).toISOString(),
      });
      expect(store.leadership.acquireOrRenew("serve", "replica-a", at(31), TTL)).toBeNull();
      expect(store.leadership.read("serve")).toMatchObject({ holder: "replica-b", token: 2 });
    });

    it("never lowers the token: each change of holder, a release included, gives the next one", () => {
      const { store, open } = fresh();
      const b = open();
      const tokens: number[] = [];
      let second = 0;
      for (const holder of ["replica-a", "replica-b", "replica-a", "replica-a"]) {
        const handle = holder === "replica-a" ? store : b;
        const lease = handle.leadership.acquireOrRenew("serve", holder, at(second), TTL);
        tokens.push(lease?.token ?? -1);
        second += 31;
      }
      expect(tokens).toEqual([1, 2, 3, 3]);
      expect(store.leadership.release("serve", "replica-b")).toBe(false);
      expect(store.leadership.release("serve", "replica-a")).toBe(true);
      expect(store.leadership.read("serve")).toMatchObject({ holder: null, token: 3 });
      // Released: anyone may take it at once, the same replica included, with a new token.
      expect(store.leadership.acquireOrRenew("serve", "replica-a", at(second), TTL)).toMatchObject({ token: 4 });
    });

    it("lets a replica take a running lease over at the exact version it judged dead, and not once it was renewed", () => {
      const { store, open } = fresh();
      const b = open();
      store.leadership.acquireOrRenew("serve", "replica-a", at(0), TTL);
      const seen = store.leadership.acquireOrRenew("serve", "replica-a", at(10), TTL);
      expect(b.leadership.acquireOrRenew("serve", "replica-b", at(11), TTL, (seen?.version ?? 0) - 1)).toBeNull();
      expect(b.leadership.acquireOrRenew("serve", "replica-b", at(11), TTL, seen?.version)).toMatchObject({
        holder: "replica-b",
        token: 2,
        version: 3,
      });
      expect(store.leadership.acquireOrRenew("serve", "replica-a", at(12), TTL, seen?.version)).toBeNull();
    });

    it("keeps leases of different names apart", () => {
      const { store } = fresh();
      store.leadership.acquireOrRenew("serve", "replica-a", at(0), TTL);
      expect(store.leadership.acquireOrRenew("other", "replica-b", at(0), TTL)).toMatchObject({ token: 1 });
    });
  });

  describe("a leader's fenced writes", () => {
    const TTL = 30_000;
    const alert = { key: "k1", code: "SAML_PROVIDER_DRIFT", severity: "high", message: "drifts" };
    const membership = {
      runId: null,
      groupId: "g1",
      userId: "alice",
      login: "alice@example.com",
      addedAt: t(1),
      expiresAt: t(2),
    };

    it("writes through the fence of the current holder", () => {
      const { store } = fresh();
      const lease = store.leadership.acquireOrRenew("serve", "replica-a", t(1), TTL);
      const leader = store.fenced({ name: "serve", holder: "replica-a", token: lease?.token ?? 0 });
      leader.serveState.recordSeen(alert, t(1));
      leader.serveState.markPosted(alert.key, t(1));
      expect(leader.serveState.claimExpiryStep("ab12", "30d", t(1), 120_000)).toBe(true);
      expect(leader.leases.recordLease(membership)).toBe(true);
      expect(leader.leases.endLease("g1", "alice", t(2))).toBe(true);
      expect(store.serveState.openAlerts()).toMatchObject([{ key: "k1", postedAt: t(1).toISOString() }]);
    });

    it("refuses every write of a replaced leader with LEADERSHIP_LOST, writing nothing, while reads still answer", () => {
      const { store, open } = fresh();
      const a = store.leadership.acquireOrRenew("serve", "replica-a", t(1), TTL);
      const paused = store.fenced({ name: "serve", holder: "replica-a", token: a?.token ?? 0 });
      paused.serveState.recordSeen(alert, t(1));
      paused.leases.recordLease(membership);
      // replica-a is paused past its lease; replica-b takes over and acts.
      const b = open();
      const successor = b.leadership.acquireOrRenew("serve", "replica-b", t(2), TTL);
      expect(successor).toMatchObject({ token: 2 });
      const lost = expect.objectContaining({ code: "LEADERSHIP_LOST", message: expect.stringContaining("token 1") });
      expect(() => paused.serveState.markPosted(alert.key, t(2))).toThrow(lost);
      expect(() => paused.serveState.claimExpiryStep("ab12", "30d", t(2), 120_000)).toThrow(lost);
      expect(() => paused.serveState.inTransaction(() => paused.serveState.recordSeen(alert, t(2)))).toThrow(lost);
      expect(() => paused.leases.endLease("g1", "alice", t(2))).toThrow(lost);
      expect(() => paused.serveState.setState("last-check-completed-at", t(2).toISOString())).toThrow(lost);
      expect(paused.serveState.openAlerts()).toMatchObject([
        { key: "k1", postedAt: null, lastSeen: t(1).toISOString() },
      ]);
      expect(b.leases.activeLease("g1", "alice")).toMatchObject({ removedAt: null });
      expect(b.serveState.state("last-check-completed-at")).toBeNull();
      // The successor's own fence writes.
      const leader = b.fenced({ name: "serve", holder: "replica-b", token: 2 });
      expect(leader.serveState.claimExpiryStep("ab12", "30d", t(2), 120_000)).toBe(true);
    });

    it("refuses a fenced run transition and its audit records once the leader is replaced", () => {
      const { store, open } = fresh();
      store.runs.createRun(newRun("run-1"), entry("run.started", "run-1", "fm2-reimport-metadata"), t(1));
      store.leadership.acquireOrRenew("serve", "replica-a", t(1), TTL);
      const paused = store.fenced({ name: "serve", holder: "replica-a", token: 1 });
      paused.runs.acquireLease("run-1", "engine-a", t(1), LEASE);
      open().leadership.acquireOrRenew("serve", "replica-b", t(2), TTL);
      const head = store.audit.auditHead();
      expect(() =>
        paused.runs.recordTransition(
          "run-1",
          "engine-a",
          {
            runStatus: "running",
            steps: [{ stepId: "check-idp", status: "succeeded", outcome: { summary: "ok" }, started: true }],
            audit: [entry("step.succeeded", "run-1", "check-idp")],
          },
          t(2),
        ),
      ).toThrow(expect.objectContaining({ code: "LEADERSHIP_LOST" }));
      expect(store.runs.runSteps("run-1")[0]).toMatchObject({ stepId: "check-idp", status: "pending" });
      expect(store.audit.auditHead()).toBe(head);
    });

    it("refuses a run's step written with an old token once another replica holds the lease, leaving the run as it was", () => {
      const { store, open } = fresh();
      store.runs.createRun(newRun("run-1"), entry("run.started", "run-1", "fm2-reimport-metadata"), t(1));
      const a = store.leadership.acquireOrRenew("serve", "replica-a", t(1), TTL);
      // The view serve's engine writes steps through: the fence is the elector's term, read at each write.
      let term: Fence | undefined = { name: "serve", holder: "replica-a", token: a?.token ?? 0 };
      const engine = store.fenced(() => term).runs;
      engine.acquireLease("run-1", "engine-a", t(1), LEASE);
      engine.recordTransition(
        "run-1",
        "engine-a",
        {
          steps: [{ stepId: "check-idp", status: "running", outcome: null, started: true }],
          audit: [entry("step.started", "run-1", "check-idp")],
        },
        t(1),
      );
      // replica-a is paused in the middle of the step; replica-b takes the expired lease.
      expect(open().leadership.acquireOrRenew("serve", "replica-b", t(2), TTL)).toMatchObject({ token: 2 });
      const run = store.runs.findRun("run-1");
      const head = store.audit.auditHead();
      const finishing = () =>
        engine.recordTransition(
          "run-1",
          "engine-a",
          {
            runStatus: "succeeded",
            steps: [{ stepId: "check-idp", status: "succeeded", outcome: { summary: "ok" } }],
            audit: [entry("step.succeeded", "run-1", "check-idp")],
          },
          t(2),
        );
      expect(finishing).toThrow(
        expect.objectContaining({
          code: "LEADERSHIP_LOST",
          message: expect.stringMatching(
            /write refused: .*token 1 of leader lease serve, but replica-b holds it with token 2/,
          ),
        }),
      );
      expect(() => engine.renewLease("run-1", "engine-a", t(2), LEASE)).toThrow(
        expect.objectContaining({ code: "LEADERSHIP_LOST" }),
      );
      expect(store.runs.findRun("run-1")).toEqual(run);
      expect(store.runs.runSteps("run-1")[0]).toMatchObject({ stepId: "check-idp", status: "running", attempts: 1 });
      expect(store.audit.auditHead()).toBe(head);
      // Deposed: the getter answers no fence, and the view refuses, naming the store.
      term = undefined;
      expect(finishing).toThrow(
        expect.objectContaining({
          code: "LEADERSHIP_LOST",
          message: expect.stringContaining("this replica does not lead"),
        }),
      );
      expect(store.runs.findRun("run-1")).toEqual(run);
    });

    it("refuses writes with a fence whose lease was released, or never taken", () => {
      const { store } = fresh();
      expect(() =>
        store.fenced({ name: "serve", holder: "replica-a", token: 1 }).serveState.setState("x", "1"),
      ).toThrow(expect.objectContaining({ code: "LEADERSHIP_LOST" }));
      store.leadership.acquireOrRenew("serve", "replica-a", t(1), TTL);
      store.leadership.release("serve", "replica-a");
      expect(() =>
        store.fenced({ name: "serve", holder: "replica-a", token: 1 }).serveState.setState("x", "1"),
      ).toThrow(expect.objectContaining({ code: "LEADERSHIP_LOST" }));
      expect(store.serveState.state("x")).toBeNull();
    });
  });

  describe("watched events", () => {
    const HOUR = 60 * MINUTE;
    const judged = (eventId: string, overrides: Partial<Judgement> = {}): Judgement => ({
      verdict: "misuse",
      eventId,
      time: t(3).toISOString(),
      actor: "arn:aws:iam::111111111111:user/breakglass-1",
      action: "iam:CreateAccessKey",
      sourceIp: "203.0.113.7",
      region: "us-east-1",
      accountId: "111111111111",
      errorCode: null,
      incident: null,
      derivedSession: null,
      ...overrides,
    });

    it("records an event once by its event id, from any handle, and finds it again", () => {
      const { store, open } = fresh();
      expect(store.watchedEvents.recordEvent(judged("e-1"), t(4), HOUR)).toBe(true);
      expect(open().watchedEvents.recordEvent(judged("e-1", { verdict: "ignored" }), t(5), HOUR)).toBe(false);
      expect(store.watchedEvents.findEvent("e-1")).toEqual({
        eventId: "e-1",
        verdict: "misuse",
        time: t(3).toISOString(),
        actor: "arn:aws:iam::111111111111:user/breakglass-1",
        action: "iam:CreateAccessKey",
        sourceIp: "203.0.113.7",
        region: "us-east-1",
        accountId: "111111111111",
        errorCode: null,
        incident: null,
        derivedSession: null,
        recordedAt: t(4).toISOString(),
        attachedBy: null,
        attachedAt: null,
      });
      expect(store.watchedEvents.findEvent("e-2")).toBeNull();
      expect(store.watchedEvents.unpostedAlerts()).toHaveLength(1);
    });

    it("opens one alert per actor per burst: events within the gap join it, a later one starts another", () => {
      const { store } = fresh();
      const events = store.watchedEvents;
      events.recordEvent(judged("e-1", { time: t(3).toISOString() }), t(3), HOUR);
      events.recordEvent(judged("e-2", { time: t(3, 30).toISOString() }), t(3, 30), HOUR);
      events.recordEvent(
        judged("e-3", { time: t(3, 31).toISOString(), actor: "root (account 111111111111)" }),
        t(4),
        HOUR,
      );
      events.recordEvent(judged("e-4", { time: t(6).toISOString() }), t(6), HOUR);
      events.recordEvent(judged("e-5", { verdict: "ignored", actor: "someone" }), t(6), HOUR);
      const alerts = events.unpostedAlerts();
      expect(
        alerts.map(({ actor, eventId, events: count, firstAt, lastAt }) => [actor, eventId, count, firstAt, lastAt]),
      ).toEqual([
        ["arn:aws:iam::111111111111:user/breakglass-1", "e-1", 2, t(3).toISOString(), t(3, 30).toISOString()],
        ["root (account 111111111111)", "e-3", 1, t(3, 31).toISOString(), t(3, 31).toISOString()],
        ["arn:aws:iam::111111111111:user/breakglass-1", "e-4", 1, t(6).toISOString(), t(6).toISOString()],
      ]);
      events.markAlertPosted(alerts[0]!.id, t(7));
      expect(events.unpostedAlerts().map((alert) => alert.eventId)).toEqual(["e-3", "e-4"]);
      // A posted burst goes on quietly: the next event joins it, no new alert.
      events.recordEvent(judged("e-6", { time: t(3, 45).toISOString() }), t(7), HOUR);
      expect(events.unpostedAlerts().map((alert) => alert.eventId)).toEqual(["e-3", "e-4"]);
    });

    it("keeps an incident's timeline in time order, attaches a misuse event once, and lists created sessions", () => {
      const { store } = fresh();
      const events = store.watchedEvents;
      events.recordEvent(
        judged("e-2", { verdict: "incident", incident: "INC-1", time: t(5).toISOString() }),
        t(5),
        HOUR,
      );
      events.recordEvent(
        judged("e-1", {
          verdict: "incident",
          incident: "INC-1",
          time: t(4).toISOString(),
          derivedSession: "arn:aws:sts::222222222222:assumed-role/Admin/bg",
        }),
        t(5),
        HOUR,
      );
      events.recordEvent(judged("e-3", { time: t(6).toISOString() }), t(6), HOUR);
      expect(events.incidentEvents("INC-1").map((event) => event.eventId)).toEqual(["e-1", "e-2"]);
      expect(events.attachEvent("e-3", "INC-1", "alice", t(7))).toBe(true);
      expect(events.attachEvent("e-3", "INC-2", "bob", t(8))).toBe(false);
      expect(events.incidentEvents("INC-1").map((event) => [event.eventId, event.attachedBy])).toEqual([
        ["e-1", null],
        ["e-2", null],
        ["e-3", "alice"],
      ]);
      expect(events.findEvent("e-3")).toMatchObject({
        verdict: "misuse",
        incident: "INC-1",
        attachedAt: t(7).toISOString(),
      });
      expect(events.derivedSessions()).toEqual(["arn:aws:sts::222222222222:assumed-role/Admin/bg"]);
    });

    it("records a batch in one go, each event once, duplicates within the batch included", () => {
      const { store } = fresh();
      store.watchedEvents.recordEvent(judged("e-1"), t(4), HOUR);
      expect(
        store.watchedEvents.recordEvents([judged("e-1"), judged("e-2"), judged("e-2"), judged("e-3")], t(5), HOUR),
      ).toEqual([false, true, false, true]);
      expect(store.watchedEvents.unpostedAlerts().map((alert) => alert.events)).toEqual([3]);
    });

    it("keeps each unreadable message once", () => {
      const { store } = fresh();
      const message = { messageId: "m-1", problem: "not JSON", body: "{oops", receivedAt: t(1).toISOString() };
      expect(store.watchedEvents.recordUnreadable(message)).toBe(true);
      expect(store.watchedEvents.recordUnreadable({ ...message, problem: "again" })).toBe(false);
      expect(store.watchedEvents.unreadableMessages()).toEqual([message]);
    });
  });

  describe("the store itself", () => {
    it("answers a ping while open, and fails it once closed", () => {
      const { store } = fresh();
      expect(() => store.ping()).not.toThrow();
      store.close();
      expect(() => store.ping()).toThrow(expect.objectContaining({ code: "STORE_FAILED" }));
    });
  });
}
