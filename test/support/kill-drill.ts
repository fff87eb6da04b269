// The store kill test's run: a runbook that needs neither AWS nor an IdP, an engine over a given store, and a connection
// wrapper that lets the test (or the process under test) die at a chosen write.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openWindowExecutor } from "../../src/adapters/runbook-actions/emergency-window.js";
import type { SqlDatabase, SqlStatement } from "../../src/adapters/store/sqlite/sql-database.js";
import type { AuditRecord } from "../../src/domain/audit/audit-chain.js";
import { AuditLog } from "../../src/domain/audit/audit-log.js";
import type { BreakglassStore } from "../../src/domain/ports/store.js";
import type { ActionExecutor } from "../../src/domain/runbooks/engine-ports.js";
import { RunEngine } from "../../src/domain/runbooks/run-engine.js";
import { readRunbookSource } from "../../src/adapters/runbook-files/runbook-files.js";
import type { StepStatus } from "../../src/domain/runbooks/run-store.js";
import { ACTION_NAMES, type ActionName } from "../../src/domain/runbooks/runbook-schema.js";
import type { Clock } from "../../src/domain/shared/clock.js";
import { person } from "./actors.js";

export const DRILL_RUN_ID = "run-killed";

/** Every kind of step status change: a check that fails and is passed over, an action (applying), an approval, a notification. */
const DRILL_RUNBOOK = `# The kill test's runbook: nothing in it needs AWS or an IdP.
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

export function writeDrillRunbook(directory: string): string {
  const path = join(directory, "kill-drill.yaml");
  writeFileSync(path, DRILL_RUNBOOK);
  return path;
}

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

/** For every step of the drill run, the status the store holds and the status its audit records say (pending before any). */
export function stepsAgainstAudit(store: BreakglassStore): {
  stored: Record<string, StepStatus>;
  audited: Record<string, StepStatus>;
} {
  const records = store.audit.auditRecords().filter((record: AuditRecord) => record.runId === DRILL_RUN_ID);
  const stored = Object.fromEntries(store.runs.runSteps(DRILL_RUN_ID).map((step) => [step.stepId, step.status]));
  const audited: Record<string, StepStatus> = Object.fromEntries(
    Object.keys(stored).map((stepId) => [stepId, "pending"]),
  );
  for (const record of records) {
    const status = STATUS_AFTER[record.action];
    if (status !== undefined && record.subject in audited) audited[record.subject] = status;
  }
  return { stored, audited };
}

/**
 * Starts the drill run if it is not there yet and drives it to its end (advance, a second person's approval, advance),
 * resuming wherever an earlier process left it once that process's lease lapsed.
 */
export async function driveDrill(
  store: BreakglassStore,
  runbookPath: string,
  clock: Clock,
  holder: string,
): Promise<string> {
  const refuse: ActionExecutor = {
    plan: () => Promise.reject(new TypeError("not in this runbook")),
    apply: () => Promise.reject(new TypeError("not in this runbook")),
    verify: () => Promise.reject(new TypeError("not in this runbook")),
  };
  const actions = Object.fromEntries(ACTION_NAMES.map((name) => [name, refuse])) as Record<ActionName, ActionExecutor>;
  const engine = new RunEngine({
    store: store.runs,
    audit: new AuditLog(store.audit, clock),
    clock,
    executors: {
      check: () => Promise.resolve({ findings: [] }),
      actions: { ...actions, "emergency.open-window": openWindowExecutor({ store: store.windows }) },
      notify: () => Promise.resolve(),
      sleep: () => Promise.resolve(),
    },
    runbooks: () => readRunbookSource(runbookPath),
    holder,
    newRunId: () => DRILL_RUN_ID,
  });
  if (store.runs.findRun(DRILL_RUN_ID) === null)
    engine.start(await readRunbookSource(runbookPath), { incident: "INC-7" }, person("alice"), { dryRun: false });
  let view = await engine.advance(DRILL_RUN_ID, "alice");
  if (view.waitingFor?.kind === "approval") {
    await engine.approve(DRILL_RUN_ID, person("bob"));
    view = await engine.advance(DRILL_RUN_ID, "bob");
  }
  return view.status;
}

/**
 * The connection, told of every write: each statement that writes, and each COMMIT (the last point inside a
 * transaction). `before` may refuse the write by throwing; `after` runs once it is done.
 */
export function watchWrites(
  database: SqlDatabase,
  hooks: { before?: (write: number) => void; after?: (write: number) => void },
): SqlDatabase {
  let written = 0;
  const write = <T>(work: () => T): T => {
    const index = written + 1;
    hooks.before?.(index);
    const result = work();
    written = index;
    hooks.after?.(index);
    return result;
  };
  const watch = (statement: SqlStatement): SqlStatement => ({
    run: (...parameters) => write(() => statement.run(...parameters)),
    get: (...parameters) => statement.get(...parameters),
    all: (...parameters) => statement.all(...parameters),
  });
  return {
    name: database.name,
    prepare: (sql) => watch(database.prepare(sql)),
    exec: (sql) => database.exec(sql),
    pragma: (statement) => database.pragma(statement),
    // Refused at the COMMIT, the transaction is rolled back, as the journal rolls back one a killed process left open.
    immediate: (work) =>
      database.immediate(() => {
        const result = work();
        write(() => undefined);
        return result;
      }),
    backup: (destination) => database.backup(destination),
    close: () => database.close(),
  };
}
