// Kill a process driving a run (SIGKILL) after every single write it makes to the SQLite store, inside transactions and
// between them: the store never holds a step's status without the audit record that tells of it, and the run resumes.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { openWindowExecutor } from "../../src/adapters/runbook-actions/emergency-window.js";
import { openStore } from "../../src/adapters/store/open-store.js";
import { verifyChain, type AuditRecord } from "../../src/domain/audit/audit-chain.js";
import { AuditLog } from "../../src/domain/audit/audit-log.js";
import type { ActionExecutor } from "../../src/domain/runbooks/engine-ports.js";
import { readRunbookSource, RunEngine } from "../../src/domain/runbooks/run-engine.js";
import type { StepStatus } from "../../src/domain/runbooks/run-store.js";
import { ACTION_NAMES, type ActionName } from "../../src/domain/runbooks/runbook-schema.js";
import type { BreakglassStore } from "../../src/domain/ports/store.js";
import { fixedClock } from "../../src/domain/shared/clock.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RUN_ID = "run-killed";
const STARTED_AT = new Date("2026-11-25T03:00:00Z");
const AFTER_LEASE = new Date(STARTED_AT.getTime() + 11 * 60_000); // the killed process's run lease (10 min) has expired

/** Every kind of step status change: a check that fails and is passed over, an action (applying), an approval, a notification. */
const RUNBOOK = `# The kill test's runbook: nothing in it needs AWS or an IdP.
id: kill-drill
title: Drill a crash
failureMode: recovery
summary: Fails a check and goes on, opens the emergency window, waits for a second person, and announces the end.
inputs:
  - name: incident
    description: The incident reference.
    type: string
    required: true
steps:
  - id: expect-outage
    title: Expect the IdP to be reported unreachable
    kind: check
    checks: [metadata]
    expect: findings
    codes: [METADATA_UNREACHABLE]
    onFailure: continue
  - id: open-window
    title: Open the emergency window
    kind: action
    action: emergency.open-window
    with:
      incident: \${inputs.incident}
      reason: drill
    compensate: emergency.close-window
  - id: approve
    title: A second person approves
    kind: approval
    reason: Go on with \${inputs.incident}.
  - id: announce
    title: Announce the end
    kind: notify
    channel: incident
    message: \${inputs.incident} drill complete.
`;

/** The status each audited action leaves its step in: the audit trail alone must tell where every step stands. */
const STATUS_AFTER: Readonly<Record<string, StepStatus>> = {
  "step.started": "running",
  "action.applying": "applying",
  "step.waiting": "waiting",
  "step.succeeded": "succeeded",
  "approval.granted": "succeeded",
  "manual.confirmed": "succeeded",
  "step.failed": "failed",
  "step.skipped": "skipped",
  "manual.skipped": "skipped",
};

const directories: string[] = [];
afterAll(() => {
  for (const made of directories.splice(0)) rmSync(made, { recursive: true, force: true });
});

function killedProcess(storePath: string, runbookPath: string, writes: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/support/store-kill-process.ts", storePath, runbookPath, String(writes), STARTED_AT.toISOString()], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** For every step, the status the store holds and the status its audit records say it is in (pending before any). */
function stepsAgainstAudit(store: BreakglassStore): { stored: Record<string, StepStatus>; audited: Record<string, StepStatus> } {
  const records = store.audit.auditRecords().filter((record: AuditRecord) => record.runId === RUN_ID);
  const stored = Object.fromEntries(store.runs.runSteps(RUN_ID).map((step) => [step.stepId, step.status]));
  const audited: Record<string, StepStatus> = Object.fromEntries(Object.keys(stored).map((stepId) => [stepId, "pending"]));
  for (const record of records) {
    const status = STATUS_AFTER[record.action];
    if (status !== undefined && record.subject in audited) audited[record.subject] = status;
  }
  return { stored, audited };
}

/** Resumes the run as a second process would once the dead one's lease lapsed, to its end. */
async function resume(store: BreakglassStore, runbookPath: string): Promise<string> {
  const clock = fixedClock(AFTER_LEASE);
  const refuse: ActionExecutor = { plan: () => Promise.reject(new TypeError("not in this runbook")), apply: () => Promise.reject(new TypeError("not in this runbook")), verify: () => Promise.reject(new TypeError("not in this runbook")) };
  const actions = Object.fromEntries(ACTION_NAMES.map((name) => [name, refuse])) as Record<ActionName, ActionExecutor>;
  const engine = new RunEngine({
    store: store.runs,
    audit: new AuditLog(store.audit, clock),
    clock,
    executors: { check: () => Promise.resolve({ findings: [] }), actions: { ...actions, "emergency.open-window": openWindowExecutor({ store: store.windows }) }, notify: () => Promise.resolve(), sleep: () => Promise.resolve() },
    runbooks: () => readRunbookSource(runbookPath),
    holder: "resuming-process",
    newRunId: () => RUN_ID,
  });
  if (store.runs.findRun(RUN_ID) === null) engine.start(await readRunbookSource(runbookPath), { incident: "INC-7" }, "alice", { dryRun: false });
  let view = await engine.advance(RUN_ID, "alice");
  if (view.waitingFor?.kind === "approval") {
    await engine.approve(RUN_ID, "bob");
    view = await engine.advance(RUN_ID, "bob");
  }
  return view.status;
}

describe("a run whose process is killed at any write to the store", () => {
  // No time limit (0): each kill point is a process start, and the machine may be busy; the loop ends when a process
  // makes every write without being killed.
  it(
    "never leaves a step's status without its audit record, and resumes to the end",
    async () => {
      const directory = mkdtempSync(join(tmpdir(), "breakglass-store-crash-"));
      directories.push(directory);
      const runbookPath = join(directory, "kill-drill.yaml");
      writeFileSync(runbookPath, RUNBOOK);
      let killPoints = 0;
      for (let writes = 1; ; writes++) {
        const storePath = join(directory, `kill-${writes}`, "breakglass.db");
        openStore({ path: storePath }).close();
        const killed = await killedProcess(storePath, runbookPath, writes);
        const store = openStore({ path: storePath });
        try {
          if (killed.signal !== "SIGKILL") {
            // Past the last write: the run went to its end unharmed.
            expect(killed).toMatchObject({ code: 0, stderr: "" });
            expect(store.runs.findRun(RUN_ID)?.status).toBe("succeeded");
            break;
          }
          killPoints = writes;
          const afterKill = stepsAgainstAudit(store);
          expect(afterKill.stored, `killed after write ${writes}`).toEqual(afterKill.audited);
          const started = store.audit.auditRecords().some((record) => record.action === "run.started" && record.runId === RUN_ID);
          expect(store.runs.findRun(RUN_ID) !== null, `killed after write ${writes}: the run exists exactly when its start is audited`).toBe(started);
          expect(verifyChain(store.audit.auditRecords())).toEqual([]);

          expect(await resume(store, runbookPath)).toBe("succeeded");
          const resumed = stepsAgainstAudit(store);
          expect(resumed.stored).toEqual(resumed.audited);
          expect(resumed.stored).toEqual({ "expect-outage": "failed", "open-window": "succeeded", approve: "succeeded", announce: "succeeded" });
          expect(verifyChain(store.audit.auditRecords())).toEqual([]);
          expect(store.windows.openWindows().map((window) => window.incident)).toEqual(["INC-7"]);
        } finally {
          store.close();
        }
      }
      // Every transition of the run is several writes (the run, its steps, its audit records, the commit): many kill points.
      expect(killPoints).toBeGreaterThanOrEqual(30);
    },
    0,
  );
});
