// The runbook engine: the step loop and its lease discipline, persisted after every transition, so a run resumes where it was and never applies a change twice.
import { createHash, randomUUID } from "node:crypto";
import type { AuditLog } from "../audit/audit-log.js";
import { describeActor, secondPersonProblem, type Actor } from "../identity/actor.js";
import type { Clock } from "../shared/clock.js";
import { BreakglassError, describeError } from "../errors.js";
import type { RunbookResolver, RunbookSource, RunContext, StepExecutors, StepWait } from "./engine-ports.js";
import { checkInputs } from "./check-inputs.js";
import { routeFailure } from "./failure-routing.js";
import { artefactNeededBy, artefactProducedBy, type Runbook, type RunbookStep } from "./runbook-schema.js";
import { lookupInRun } from "./run-lookup.js";
import type { RunProgressEvent, RunProgressListener } from "./run-progress.js";
import {
  DEFAULT_LEASE_MILLISECONDS,
  HEARTBEATS_PER_LEASE,
  holderIsDeadHere,
  holderName,
  intervalHeartbeat,
  localLeaseHost,
  MISSED_HEARTBEATS_BEFORE_TAKE_OVER,
  takeOverAllowedFrom,
  type Heartbeat,
  type LeaseHost,
  type TakeOverRequest,
} from "./run-lease.js";
import type {
  RunRecord,
  RunStatus,
  RunStepRecord,
  RunStore,
  StepChange,
  StepPreflight,
  StepOutcomeRecord,
  StepStatus,
} from "./run-store.js";
import { viewRun, type RunView } from "./run-view.js";
import { preflightRun } from "./run-preflight.js";
import { failed, type StepContext, type StepResult } from "./steps/step-kind.js";
import { executeStepKind } from "./steps/step-kinds.js";
import { planUnlockedActions } from "./unlocked-actions.js";
import { fingerprintRequirement, type ConfirmedFingerprint } from "./fingerprint-confirmation.js";
import { CONFIRM_HEX_LENGTH, describeIncomingCertificate, matchConfirmedFingerprint } from "../saml/key-continuity.js";

export type { RunView, StepView } from "./run-view.js";

/*
 * Compensation is not this engine's: an operator rolls a run back by starting a run of the runbook derived from it
 * (rollback-runbook.ts), which this engine runs like any other. Nothing here undoes anything on its own.
 */

export interface RunEngineOptions {
  readonly store: RunStore;
  /**
   * The store the steps of `advance` and `resume` are written through (their run lease, every transition, the lease's
   * heartbeat); `store` when not given. serve's leader view: each of these writes carries the leader's fencing token,
   * so a replica that no longer leads cannot write a step, while decisions (start, approve, confirm, skip, abort),
   * which any replica records for the person who made them, go through `store`.
   */
  readonly executionStore?: RunStore;
  readonly audit: AuditLog;
  /**
   * The audit log of the records a step writes on its own (an action's plan and read-back, a notification, a resumed
   * step); `audit` when not given. serve's leader view, over the same fenced store as `executionStore`.
   */
  readonly executionAudit?: AuditLog;
  readonly clock: Clock;
  readonly executors: StepExecutors;
  readonly runbooks: RunbookResolver;
  /** Short (a minute): the lease is renewed before every step, every retry, and by the heartbeat while a step runs. */
  readonly leaseMilliseconds?: number;
  /** Who holds leases for this engine; unique per process so a crashed process's lease is never mistaken for ours. */
  readonly holder?: string;
  /** This host and its process table, to take over at once the lease of a dead process of the same host. */
  readonly host?: LeaseHost;
  /** Renews the lease while a step runs (every lease / 3). */
  readonly heartbeat?: Heartbeat;
  readonly newRunId?: () => string;
  /** Told before every wait the engine makes (a check step's retry) and when the step that waited ends; optional. */
  readonly progress?: RunProgressListener;
}

export interface StartOptions {
  readonly dryRun: boolean;
  /** What the actions' preflight found (startChecked runs it); kept with the run and shown to the approver. */
  readonly preflight?: readonly StepPreflight[];
  /** The new run's id, when the caller derives it (a rollback's, so that a second rollback finds the first); a new UUID otherwise. */
  readonly runId?: string;
}

/** What an approver adds to an approval: the typed fingerprint, when an unlocked full key change asks for one. */
export interface ApprovalConfirmation {
  readonly fingerprint?: string | undefined;
}

const FINISHED: readonly StepStatus[] = ["succeeded", "skipped"];

export function runbookDigest(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

interface Loaded {
  readonly run: RunRecord;
  readonly runbook: Runbook;
}

export class RunEngine {
  private readonly store: RunStore;
  private readonly executionStore: RunStore;
  private readonly audit: AuditLog;
  private readonly executionAudit: AuditLog;
  private readonly clock: Clock;
  private readonly executors: StepExecutors;
  private readonly runbooks: RunbookResolver;
  private readonly leaseMilliseconds: number;
  private readonly holder: string;
  private readonly host: LeaseHost;
  private readonly heartbeat: Heartbeat;
  private readonly newRunId: () => string;
  private readonly progress: RunProgressListener | undefined;

  constructor(options: RunEngineOptions) {
    this.store = options.store;
    this.executionStore = options.executionStore ?? options.store;
    this.audit = options.audit;
    this.executionAudit = options.executionAudit ?? options.audit;
    this.clock = options.clock;
    this.executors = options.executors;
    this.runbooks = options.runbooks;
    this.leaseMilliseconds = options.leaseMilliseconds ?? DEFAULT_LEASE_MILLISECONDS;
    this.host = options.host ?? localLeaseHost();
    this.holder = options.holder ?? holderName(this.host, randomUUID().slice(0, 8));
    this.heartbeat = options.heartbeat ?? intervalHeartbeat;
    this.newRunId = options.newRunId ?? randomUUID;
    this.progress = options.progress;
  }

  /**
   * Checks the inputs, then has every action the run may take prove it can apply (run-preflight.ts), and only then
   * records the run: a run that could not apply is refused (RUN_PREFLIGHT_FAILED, every problem named) before anyone
   * approves it, and nothing is recorded. What the preflight found is kept with the run.
   */
  async startChecked(
    source: RunbookSource,
    inputs: Readonly<Record<string, unknown>>,
    initiator: Actor,
    options: StartOptions,
  ): Promise<RunView> {
    const values = checkInputs(source.runbook, inputs);
    const runId = options.runId ?? this.newRunId();
    const preflight = await preflightRun(
      {
        runbook: source.runbook,
        inputs: values,
        runId,
        initiator: initiator.label,
        dryRun: options.dryRun,
        now: this.clock.now(),
      },
      this.executors,
    );
    return this.start(source, values, initiator, { ...options, runId, preflight });
  }

  /**
   * Records a new run of the runbook with checked inputs (defaults applied); it runs nothing until advanced. The run
   * keeps the initiator's person id, which the two-person rule compares, and their label, which people read.
   */
  start(
    source: RunbookSource,
    inputs: Readonly<Record<string, unknown>>,
    initiator: Actor,
    options: StartOptions,
  ): RunView {
    const { runbook } = source;
    const values = checkInputs(runbook, inputs);
    const id = options.runId ?? this.newRunId();
    const digest = runbookDigest(source.text);
    // The run and the record of its start are one write: a run nobody can trace must not exist.
    const identity = { label: initiator.label, verification: initiator.verification };
    const started = {
      actor: initiator.person,
      action: "run.started",
      runId: id,
      subject: runbook.id,
      detail: {
        runbookDigest: digest,
        inputs: values,
        dryRun: options.dryRun,
        initiator: identity,
        ...(options.preflight === undefined ? {} : { preflight: options.preflight }),
      },
    };
    const run = {
      id,
      runbookId: runbook.id,
      runbookDigest: digest,
      inputs: values,
      initiator: initiator.label,
      initiatorPerson: initiator.person,
      dryRun: options.dryRun,
      preflight: options.preflight ?? [],
      stepIds: runbook.steps.map((step) => step.id),
    };
    this.audit.recordWith([started], () => [this.store.createRun(run, started, this.clock.now())]);
    return this.view(this.requireRun(id), runbook);
  }

  /**
   * Runs steps in order from the first unfinished one until the run waits for a person or ends; returns where it stands.
   * A lease held by a dead process of this host is taken over at once; one held elsewhere only with `takeOver`, once its
   * holder missed two heartbeats.
   */
  async advance(runId: string, actor: string, takeOver?: TakeOverRequest): Promise<RunView> {
    const { run, runbook } = await this.load(runId);
    if (run.status === "succeeded" || run.status === "aborted") return this.view(run, runbook);
    const writes = this.executionStore;
    this.takeLease(writes, runId, actor, takeOver);
    try {
      // Read again under the lease: another process may have finished or aborted the run in between.
      const current = this.requireRun(runId);
      if (current.status !== "succeeded" && current.status !== "aborted")
        await this.runSteps(writes, current, runbook, actor);
    } finally {
      // Giving the lease up through `store`: it only ever frees the run (conditional on this holder), so a replica that
      // lost the leadership in the middle of a step lets its successor go on at once instead of after the lease.
      this.store.releaseLease(runId, this.holder);
    }
    return this.view(this.requireRun(runId), runbook);
  }

  /**
   * Grants the approval the run waits for; the approver must be a second PERSON (compared by person id, whatever front
   * end either of them used and whatever they call themselves). The record names the approver as shown, and says so
   * when their identity was not verified (lab mode).
   */
  async approve(runId: string, approver: Actor, confirmation: ApprovalConfirmation = {}): Promise<RunView> {
    const name = describeActor(approver);
    return this.decide(runId, approver.person, "approval", (run, step, record) => {
      const problem = secondPersonProblem({ person: run.initiatorPerson, label: run.initiator }, approver);
      if (problem !== undefined) {
        this.audit.record({
          actor: approver.person,
          action: "approval.refused",
          runId,
          subject: step.id,
          detail: {
            reason: problem,
            approver: { label: approver.label, verification: approver.verification },
            initiator: run.initiatorPerson,
          },
        });
        throw new BreakglassError(
          "APPROVAL_REFUSED",
          `run ${runId}`,
          `step "${step.id}" needs a second person: ${problem}; ask someone other than ${run.initiator}`,
        );
      }
      const confirmed = this.confirmFingerprint(runId, step.id, record, approver, confirmation.fingerprint);
      const approval = {
        decision: "granted" as const,
        approver: name,
        initiator: run.initiator,
        approverPerson: approver.person,
        initiatorPerson: run.initiatorPerson,
        verification: approver.verification,
        ...(confirmed === undefined ? {} : { confirmedFingerprint: confirmed }),
      };
      const confirming =
        confirmed === undefined
          ? ""
          : `, confirming the SHA-256 of the new signing certificate ${confirmed.subject} (${confirmed.typed.slice(0, 8)}…)`;
      return {
        action: "approval.granted",
        status: "succeeded",
        outcome: { summary: `approved by ${name} (run started by ${run.initiator})${confirming}`, approval },
      };
    });
  }

  /**
   * When the approval unlocks a full key change nothing vouches for, the approver's typed fingerprint must match a new
   * certificate: missing, it is a usage error; wrong, it is refused and audited, and nothing is recorded as approved.
   */
  private confirmFingerprint(
    runId: string,
    stepId: string,
    record: RunStepRecord | undefined,
    approver: Actor,
    given: string | undefined,
  ): ConfirmedFingerprint | undefined {
    const requirement = fingerprintRequirement(record?.outcome?.unlocks);
    if (requirement === undefined) return undefined;
    const certificates = requirement.certificates.map((certificate) => describeIncomingCertificate(certificate));
    if (given === undefined || given.trim() === "") {
      throw new BreakglassError(
        "USAGE",
        `run ${runId}`,
        `step "${stepId}" unlocks a full key change not signed by the pinned metadata signer: approving it needs the ` +
          `first ${CONFIRM_HEX_LENGTH} hex characters of the SHA-256 of the new signing certificate ` +
          `${certificates.join("; or ")}, as the IdP's admin console shows it`,
      );
    }
    const match = matchConfirmedFingerprint(given, requirement.certificates);
    if (!match.ok) {
      this.audit.record({
        actor: approver.person,
        action: "approval.fingerprint-refused",
        runId,
        subject: stepId,
        detail: {
          typed: given.slice(0, 100),
          reason: match.problem,
          approver: { label: approver.label, verification: approver.verification },
          expected: requirement.certificates.map(({ sha256, subject }) => ({ sha256, subject })),
        },
      });
      throw new BreakglassError("APPROVAL_REFUSED", `run ${runId}`, `not approved: ${match.problem}`, {
        maxLength: 600,
      });
    }
    const { sha256, subject, notAfter } = match.certificate;
    return { sha256, subject, notAfter, typed: match.given };
  }

  /** Refuses the approval the run waits for: the step fails and the runbook's onFailure decides what follows. */
  async reject(runId: string, approver: Actor, reason: string): Promise<RunView> {
    const name = describeActor(approver);
    return this.decide(runId, approver.person, "approval", (run) => {
      const approval = {
        decision: "rejected" as const,
        approver: name,
        initiator: run.initiator,
        reason,
        approverPerson: approver.person,
        initiatorPerson: run.initiatorPerson,
        verification: approver.verification,
      };
      return {
        action: "approval.rejected",
        status: "failed",
        outcome: { summary: `rejected by ${name}: ${reason}`, approval, error: `rejected by ${name}: ${reason}` },
      };
    });
  }

  /** Confirms the manual step the run waits for; `record` answers the step's question, and is required when it asks one. */
  async confirm(runId: string, actor: string, record?: string): Promise<RunView> {
    return this.decide(runId, actor, "manual", (_run, step) => {
      const answer = record?.trim();
      if (step.kind === "manual" && step.record !== undefined && (answer === undefined || answer === "")) {
        throw new BreakglassError(
          "USAGE",
          `run ${runId}`,
          `step "${step.id}" needs a written answer to confirm it: ${step.record}`,
        );
      }
      const confirmation = answer === undefined || answer === "" ? { actor } : { actor, record: answer };
      return {
        action: "manual.confirmed",
        status: "succeeded",
        outcome: { summary: `confirmed by ${actor}`, confirmation },
      };
    });
  }

  /**
   * Passes over the manual step the run waits for without doing it (e.g. someone who could still sign in did it another
   * way). Only manual steps: an approval can be granted or rejected, never skipped, or the second person means nothing.
   */
  async skip(runId: string, actor: string, reason: string): Promise<RunView> {
    return this.decide(runId, actor, "manual", () => ({
      action: "manual.skipped",
      status: "skipped",
      outcome: { summary: `skipped by ${actor}: ${reason}`, confirmation: { actor, record: reason } },
    }));
  }

  /** Ends the run for good, wherever it is. Nothing is undone (see compensation above). The lease is taken as advance does. */
  async abort(runId: string, actor: string, reason: string, takeOver?: TakeOverRequest): Promise<RunView> {
    const { run, runbook } = await this.load(runId);
    if (run.status === "succeeded" || run.status === "aborted") {
      throw new BreakglassError(
        "RUN_STATE",
        `run ${runId}`,
        `has already ${run.status === "succeeded" ? "succeeded" : "been aborted"}, so there is nothing to abort`,
      );
    }
    this.takeLease(this.store, runId, actor, takeOver);
    try {
      this.audit.record({ actor, action: "run.aborted", runId, subject: runbook.id, detail: { reason } });
      this.store.recordTransition(runId, this.holder, { runStatus: "aborted" }, this.clock.now());
    } finally {
      this.store.releaseLease(runId, this.holder);
    }
    return this.view(this.requireRun(runId), runbook);
  }

  /**
   * Gives up this engine's lease on the run, for a process that stops while a step is still in flight: the step's
   * later writes are then refused (recordTransition checks the lease), and another process may resume the run at once
   * instead of waiting for the lease to lapse. The step is re-run from its start there; executors make that safe.
   */
  relinquish(runId: string): void {
    this.store.releaseLease(runId, this.holder);
  }

  async status(runId: string): Promise<RunView> {
    const { run, runbook } = await this.load(runId);
    return this.view(run, runbook);
  }

  private async runSteps(writes: RunStore, initial: RunRecord, runbook: Runbook, actor: string): Promise<void> {
    let records = this.store.runSteps(initial.id);
    if (initial.status === "failed") {
      this.transition(
        writes,
        initial.id,
        { runStatus: "running" },
        { actor, action: "run.resumed", subject: runbook.id, detail: {} },
      );
    }
    let index = firstUnfinished(runbook, records);
    while (index < runbook.steps.length) {
      const step = runbook.steps[index] as RunbookStep;
      const record = records[index] as RunStepRecord;
      if (record.status === "waiting") {
        this.transition(writes, initial.id, { runStatus: "waiting" }, null);
        return;
      }
      // Renewed before every step: a long run keeps its lease, and a lost one stops here before anything happens.
      writes.renewLease(initial.id, this.holder, this.clock.now(), this.leaseMilliseconds);
      const run = this.requireRun(initial.id);

      if (!this.conditionHolds(step, run, records)) {
        this.recordStep(
          writes,
          run.id,
          actor,
          { stepId: step.id, status: "skipped", outcome: { summary: "skipped: its when condition does not hold" } },
          "step.skipped",
        );
        records = this.store.runSteps(run.id);
        index += 1;
        continue;
      }
      if (record.status === "running" || record.status === "applying") {
        // The process stopped in the middle of this step: run it again from its start. An action re-plans, and its
        // executor's plan sees what the interrupted apply already did, so nothing is applied twice.
        this.executionAudit.record({
          actor,
          action: "step.resumed",
          runId: run.id,
          subject: step.id,
          detail: { interruptedWhile: record.status },
        });
      }
      this.recordStep(
        writes,
        run.id,
        actor,
        { stepId: step.id, status: "running", outcome: null, started: true },
        "step.started",
      );

      const stopHeartbeat = this.startHeartbeat(writes, run.id);
      const waits = { reported: false };
      let result: StepResult | undefined;
      try {
        result = await this.executeStep(writes, runbook, index, run, actor, waits);
      } finally {
        stopHeartbeat();
        if (waits.reported) {
          const status = result === undefined ? "interrupted" : result.status === "succeeded" ? "succeeded" : "failed";
          this.tell({ event: "waits-ended", ...stepOf(run, step), status });
        }
      }
      if (result.status === "waiting") {
        this.recordStep(
          writes,
          run.id,
          actor,
          { stepId: step.id, status: "waiting", outcome: result.outcome },
          "step.waiting",
          "waiting",
        );
        return;
      }
      let next: number | null = index + 1;
      const produced = artefactProducedBy(step);
      const path = produced === undefined || result.status !== "succeeded" ? undefined : result.artefacts?.[produced];
      // A dry run applies no action, so an action's artefact cannot exist; a check's still must.
      const excused = run.dryRun && step.kind === "action";
      if (result.status === "failed") next = this.failStep(writes, run.id, actor, runbook, index, result.outcome);
      else if (produced !== undefined && path === undefined && !excused) {
        next = this.failStep(writes, run.id, actor, runbook, index, {
          ...result.outcome,
          summary: `failed: it did not produce the run's ${produced}`,
          error: `did not produce the run's ${produced}`,
        });
      } else {
        const artefacts =
          produced === undefined || path === undefined ? [] : [{ name: produced, path, stepId: step.id }];
        this.transition(
          writes,
          run.id,
          { steps: [{ stepId: step.id, status: "succeeded", outcome: result.outcome }], artefacts },
          { actor, action: "step.succeeded", subject: step.id, detail: { ...result.outcome } },
        );
      }
      if (next === null) return;
      index = next;
      records = this.store.runSteps(run.id);
    }
    this.transition(
      writes,
      initial.id,
      { runStatus: "succeeded" },
      { actor, action: "run.succeeded", subject: runbook.id, detail: {} },
    );
  }

  /** Records a failed step and follows its onFailure; returns the index of the next step to run, or null when the run halts. */
  private failStep(
    writes: RunStore,
    runId: string,
    actor: string,
    runbook: Runbook,
    index: number,
    outcome: StepOutcomeRecord,
  ): number | null {
    const step = runbook.steps[index] as RunbookStep;
    const route = routeFailure(runbook, index, outcome);
    // When the run halts here, its failure is recorded in the same transaction as the step's.
    const runFailed =
      route.next === null
        ? [{ actor, action: "run.failed", runId, subject: runbook.id, detail: { stoppedAt: step.id } }]
        : [];
    this.transition(
      writes,
      runId,
      { runStatus: route.runStatus, steps: route.steps, audit: runFailed },
      { actor, action: "step.failed", subject: step.id, detail: { ...route.detail } },
    );
    return route.next;
  }

  private async executeStep(
    writes: RunStore,
    runbook: Runbook,
    index: number,
    run: RunRecord,
    actor: string,
    waits: { reported: boolean },
  ): Promise<StepResult> {
    const step = runbook.steps[index] as RunbookStep;
    const reportWait = (wait: StepWait) => {
      waits.reported = true;
      const nextAttemptAt = new Date(this.clock.now().getTime() + wait.intervalMilliseconds);
      this.tell({ event: "retry-wait", ...stepOf(run, step), ...wait, nextAttemptAt });
    };
    // An executor's own waits inside the step (an IdP's Retry-After) show as the step's progress too.
    const context = { ...this.contextFor(run, step.id), reportWait };
    try {
      const needed = artefactNeededBy(step);
      if (needed !== undefined && context.artefacts[needed] === undefined && !run.dryRun) {
        return failed(
          `needs the run's ${needed}, but no step of this run produced it (the step that produces it was skipped or failed)`,
        );
      }
      return await executeStepKind(step, run, this.stepContext(writes, run, runbook, index, actor, context));
    } catch (error) {
      return failed(describeError(error));
    }
  }

  /** What a step kind's handler may use: the lease and the step's store record stay the engine's, reached only through here. */
  private stepContext(
    writes: RunStore,
    run: RunRecord,
    runbook: Runbook,
    index: number,
    actor: string,
    runContext: RunContext & { readonly reportWait: (wait: StepWait) => void },
  ): StepContext {
    const step = runbook.steps[index] as RunbookStep;
    const lookup = lookupInRun(run, runContext.artefacts);
    return {
      actor,
      runContext,
      executors: this.executors,
      audit: this.executionAudit,
      clock: this.clock,
      lookup,
      confirmedFingerprint: () => {
        const records = this.store.runSteps(run.id);
        for (let before = index - 1; before >= 0; before--) {
          if (runbook.steps[before]?.kind === "approval")
            return records[before]?.outcome?.approval?.confirmedFingerprint;
        }
        return undefined;
      },
      planUnlockedActions: () =>
        planUnlockedActions({
          runbook,
          approvalIndex: index,
          run,
          records: this.store.runSteps(run.id),
          actions: this.executors.actions,
          contextFor: (stepId) => ({ ...runContext, stepId, idempotencyKey: `${run.id}:${stepId}` }),
          lookup,
        }),
      renewLease: () => writes.renewLease(run.id, this.holder, this.clock.now(), this.leaseMilliseconds),
      reportWait: runContext.reportWait,
      markApplying: (plan, applying) =>
        this.transition(
          writes,
          run.id,
          { steps: [{ stepId: step.id, status: "applying", outcome: { summary: `applying: ${plan.summary}`, plan } }] },
          { actor: applying.actor, action: applying.action, subject: applying.subject, detail: applying.detail },
        ),
    };
  }

  /** approve, reject and confirm: the waiting step must be of `kind`; the decision is audited, then recorded, under the lease. */
  private async decide(
    runId: string,
    actor: string,
    kind: "approval" | "manual",
    decision: (
      run: RunRecord,
      step: RunbookStep,
      record: RunStepRecord | undefined,
    ) => { action: string; status: "succeeded" | "skipped" | "failed"; outcome: StepOutcomeRecord },
  ): Promise<RunView> {
    const { runbook } = await this.load(runId);
    // Under the lease, so that two people answering at once cannot both decide the same step.
    this.takeLease(this.store, runId, actor);
    try {
      const run = this.requireRun(runId);
      const records = this.store.runSteps(runId);
      const index = records.findIndex((record) => record.status === "waiting");
      const step = runbook.steps[index];
      if (run.status !== "waiting" || step === undefined) {
        throw new BreakglassError(
          "RUN_STATE",
          `run ${runId}`,
          `is ${run.status}, not waiting for ${kind === "approval" ? "an approval" : "a manual step"}`,
        );
      }
      if (step.kind !== kind) {
        throw new BreakglassError(
          "RUN_STATE",
          `run ${runId}`,
          `waits at step "${step.id}", which is ${step.kind === "approval" ? "an approval: approve or reject it" : "a manual step: confirm it"}`,
        );
      }
      const decided = decision(run, step, records[index]);
      // What the approver was shown stays with the decision, in the step and in its audit record.
      const unlocks = records[index]?.outcome?.unlocks;
      const made = unlocks === undefined ? decided : { ...decided, outcome: { ...decided.outcome, unlocks } };
      if (made.status !== "failed") {
        this.transition(
          this.store,
          runId,
          { runStatus: "running", steps: [{ stepId: step.id, status: made.status, outcome: made.outcome }] },
          { actor, action: made.action, subject: step.id, detail: { ...made.outcome } },
        );
      } else {
        this.audit.record({ actor, action: made.action, runId, subject: step.id, detail: { ...made.outcome } });
        this.failStep(this.store, runId, actor, runbook, index, made.outcome);
      }
    } finally {
      this.store.releaseLease(runId, this.holder);
    }
    return this.view(this.requireRun(runId), runbook);
  }

  /**
   * Takes the run's lease for this engine. When another holder has it: a dead process of this host is taken over at
   * once; with `takeOver`, a holder that missed two heartbeats is too; otherwise RUN_BUSY says when a take-over is
   * allowed. A take-over is one conditional write on the holder and expiry as read, audited (run.lease-taken-over); if
   * its audit record cannot be written, the lease is given up again.
   */
  private takeLease(writes: RunStore, runId: string, actor: string, takeOver?: TakeOverRequest): void {
    const now = this.clock.now();
    try {
      writes.acquireLease(runId, this.holder, now, this.leaseMilliseconds);
      return;
    } catch (error) {
      if (!(error instanceof BreakglassError) || error.code !== "RUN_BUSY") throw error;
    }
    const run = this.requireRun(runId);
    if (run.leaseHolder === null || run.leaseExpiresAt === null) {
      // Released between the two reads: take it the ordinary way.
      writes.acquireLease(runId, this.holder, now, this.leaseMilliseconds);
      return;
    }
    const held = { holder: run.leaseHolder, expiresAt: run.leaseExpiresAt };
    const renewedAt = new Date(Date.parse(held.expiresAt) - this.leaseMilliseconds);
    const allowedFrom = takeOverAllowedFrom(renewedAt, this.leaseMilliseconds);
    let why: Record<string, unknown>;
    if (holderIsDeadHere(held.holder, this.host)) {
      why = { because: "its process is no longer running on this host" };
    } else if (takeOver !== undefined && now.getTime() >= allowedFrom.getTime()) {
      why = { because: "asked to take over", reason: takeOver.reason, renewedAt: renewedAt.toISOString() };
    } else {
      throw new BreakglassError("RUN_BUSY", `run ${runId}`, busyReason(held, renewedAt, allowedFrom, takeOver));
    }
    writes.takeOverLease(runId, held, this.holder, now, this.leaseMilliseconds);
    try {
      this.transition(
        writes,
        runId,
        {},
        {
          actor,
          action: "run.lease-taken-over",
          subject: run.runbookId,
          detail: { previousHolder: held.holder, previousExpiresAt: held.expiresAt, holder: this.holder, ...why },
        },
      );
    } catch (error) {
      this.store.releaseLease(runId, this.holder);
      throw error;
    }
  }

  /** Renews the lease every lease / 3 while a step runs; a renewal refused (the lease was taken over) stops it, and the step's next write is refused. */
  private startHeartbeat(writes: RunStore, runId: string): () => void {
    let stopped = false;
    const stop = this.heartbeat(this.leaseMilliseconds / HEARTBEATS_PER_LEASE, () => {
      if (stopped) return;
      try {
        writes.renewLease(runId, this.holder, this.clock.now(), this.leaseMilliseconds);
      } catch {
        // Lost: recordTransition refuses this engine's next write, which ends the step's work here.
        stopped = true;
        stop();
      }
    });
    return () => {
      stopped = true;
      stop();
    };
  }

  /** Tells the progress listener; a listener that throws is ignored, so that progress never fails a run. */
  private tell(event: RunProgressEvent): void {
    try {
      this.progress?.(event);
    } catch {
      // Showing progress is best effort; the run's own record is the store.
    }
  }

  private recordStep(
    writes: RunStore,
    runId: string,
    actor: string,
    change: StepChange,
    action: string,
    runStatus?: RunStatus,
  ): void {
    this.transition(
      writes,
      runId,
      { ...(runStatus === undefined ? {} : { runStatus }), steps: [change] },
      { actor, action, subject: change.stepId, detail: change.outcome === null ? {} : { ...change.outcome } },
    );
  }

  /** A transition and its audit records are written as one before the engine goes on; a transition nobody needs to read about passes null. */
  private transition(
    writes: RunStore,
    runId: string,
    transition: Parameters<RunStore["recordTransition"]>[2],
    audit: { actor: string; action: string; subject: string; detail: Record<string, unknown> } | null,
  ): void {
    const entries = [...(audit === null ? [] : [{ ...audit, runId }]), ...(transition.audit ?? [])];
    this.audit.recordWith(entries, () =>
      writes.recordTransition(runId, this.holder, { ...transition, audit: entries }, this.clock.now()),
    );
  }

  private conditionHolds(step: RunbookStep, run: RunRecord, records: readonly RunStepRecord[]): boolean {
    const when = step.when;
    if (when === undefined) return true;
    if ("input" in when) return run.inputs[when.input] === when.equals;
    return records.find((record) => record.stepId === when.step)?.status === when.outcome;
  }

  private contextFor(run: RunRecord, stepId: string): RunContext {
    return {
      runId: run.id,
      runbookId: run.runbookId,
      stepId,
      initiator: run.initiator,
      dryRun: run.dryRun,
      now: this.clock.now(),
      idempotencyKey: `${run.id}:${stepId}`,
      artefacts: this.store.runArtefacts(run.id),
    };
  }

  private async load(runId: string): Promise<Loaded> {
    const run = this.requireRun(runId);
    const source = await this.runbooks(run.runbookId);
    const digest = runbookDigest(source.text);
    if (digest !== run.runbookDigest) {
      throw new BreakglassError(
        "RUNBOOK_CHANGED",
        `run ${runId}`,
        `runbook ${run.runbookId} (${source.path}) changed since this run started ` +
          `(sha256 ${run.runbookDigest.slice(0, 12)}…, now ${digest.slice(0, 12)}…); put the runbook back as ` +
          `it was to go on, or abort this run and start a new one`,
      );
    }
    return { run, runbook: source.runbook };
  }

  private requireRun(runId: string): RunRecord {
    const run = this.store.findRun(runId);
    if (run === null) throw new BreakglassError("RUN_NOT_FOUND", `run ${runId}`, "no run has this id in the store");
    return run;
  }

  private view(run: RunRecord, runbook: Runbook): RunView {
    return viewRun(run, runbook, this.store.runSteps(run.id), this.store.runArtefacts(run.id));
  }
}

/** What every progress event says of the step it is about. */
function stepOf(run: RunRecord, step: RunbookStep) {
  return { runId: run.id, runbookId: run.runbookId, stepId: step.id, stepTitle: step.title };
}

/** RUN_BUSY's reason: who holds the run, until when, and when (and how) it may be taken over instead of waiting. */
function busyReason(
  held: { readonly holder: string; readonly expiresAt: string },
  renewedAt: Date,
  allowedFrom: Date,
  takeOver: TakeOverRequest | undefined,
): string {
  const holding = `it is being advanced by ${held.holder}, whose lease expires at ${held.expiresAt}`;
  if (takeOver !== undefined) {
    return (
      `${holding}; it renewed its lease at ${renewedAt.toISOString()}, so it may still be working: ` +
      `it can be taken over from ${allowedFrom.toISOString()}, once it has missed ${MISSED_HEARTBEATS_BEFORE_TAKE_OVER} heartbeats`
    );
  }
  return `${holding}; try again after that, or, if that process is gone, take the run over with --take-over --reason <why> from ${allowedFrom.toISOString()}`;
}

/**
 * A failed step with onFailure continue or goto was dealt with when it failed; one with stop is where the run halted,
 * and is run again. A step found running or applying was interrupted, and is run again too.
 */
function firstUnfinished(runbook: Runbook, records: readonly RunStepRecord[]): number {
  const index = runbook.steps.findIndex((step, position) => {
    const status = records[position]?.status ?? "pending";
    if (FINISHED.includes(status)) return false;
    return !(status === "failed" && step.onFailure !== "stop");
  });
  return index < 0 ? runbook.steps.length : index;
}
