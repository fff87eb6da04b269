// The runbook engine on the shipped runbooks: two-person approval, dry runs, branching, resuming after a failure or a crash, and the audit trail.
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuditLog, verifyAudit } from "../../../src/domain/audit/audit-log.js";
import type { AuditEntry, AuditRecord } from "../../../src/domain/audit/audit-chain.js";
import { createFinding, type Finding } from "../../../src/domain/checks/finding.js";
import { BreakglassError } from "../../../src/domain/errors.js";
import type {
  ActionExecutor,
  ActionParameters,
  StepExecutors,
  StepWait,
} from "../../../src/domain/runbooks/engine-ports.js";
import { readRunbookSource } from "../../../src/adapters/runbook-files/runbook-files.js";
import { RunEngine } from "../../../src/domain/runbooks/run-engine.js";
import type { ActionName } from "../../../src/domain/runbooks/runbook-schema.js";
import type {
  RetryWaitEvent,
  RunProgressEvent,
  RunProgressListener,
} from "../../../src/domain/runbooks/run-progress.js";
import { openStore } from "../../../src/adapters/store/open-store.js";
import type { Fence } from "../../../src/domain/ports/leadership-store.js";
import type { BreakglassStore } from "../../../src/domain/ports/store.js";
import type { KeyContinuity } from "../../../src/domain/saml/key-continuity.js";
import { SteppingClock } from "../../support/stepping-clock.js";
import { person } from "../../support/actors.js";

const RUNBOOKS = join(import.meta.dirname, "..", "..", "..", "runbooks");
const FM3 = join(RUNBOOKS, "fm3-direct-federation.yaml");
const FM2 = join(RUNBOOKS, "fm2-reimport-metadata.yaml");
const LEASE = 60_000;

const FM3_INPUTS = {
  incident: "INC-4711",
  responders: ["ana@example.com", "raj@example.com"],
  groups: ["aws-emergency-operators"],
  signInUrl: "https://idp.example.com/",
};
const FM2_INPUTS = {
  incident: "CHG-1203",
  workforceSignIn: "working",
  emergencyAccountId: "111111111111",
  identityCenterAccountId: "222222222222",
  identityCenterRegion: "eu-west-1",
};

/** The systems the runbooks change, in memory: what the executors read and write, so idempotency shows. */
class World {
  readonly groups = new Map<string, Set<string>>();
  readonly windows = new Map<string, "open" | "closed">();
  /** Every membership actually added, one entry per change: a second apply of the same step would show here. */
  readonly additions: string[] = [];
  readonly applies: string[] = [];
  readonly notifications: string[] = [];
  readonly sleeps: number[] = [];
  /** Called after each wait between a check's attempts: the world changing while the run waits. */
  afterSleep: () => void = () => undefined;
  identityCenterHealthy = false;
  idpCertificate = "cert-2026";
  providerCertificate = "cert-2026";
  metadataFindings: Finding[] = [];
  notifyFails = false;
  /** An action whose plan fails, as an IdP that does not answer. */
  failingPlan: ActionName | null = null;
  /** The key continuity the metadata import plans with: a full key change nobody signed asks the approver for a fingerprint. */
  keyContinuity: KeyContinuity | undefined = undefined;
  /** The IdP's waits add-group-members reports while it applies (an IdP answering 429 with Retry-After). */
  idpWaits: StepWait[] = [];
  /** When set, add-group-members applies its change and then never returns: the process dies mid-apply. */
  crashDuringAdd: (() => void) | null = null;

  constructor(readonly directory: string) {}

  members(group: string): Set<string> {
    let members = this.groups.get(group);
    if (members === undefined) this.groups.set(group, (members = new Set()));
    return members;
  }
}

function list(parameters: ActionParameters, name: string): readonly string[] {
  const value = parameters[name];
  return typeof value === "string" ? [value] : (value ?? []);
}

function text(parameters: ActionParameters, name: string): string {
  const value = parameters[name];
  if (typeof value !== "string") throw new Error(`${name} is not text`);
  return value;
}

function executorsFor(world: World, clock: SteppingClock): StepExecutors {
  const groupMembers = (parameters: ActionParameters) =>
    list(parameters, "groups").flatMap((group) => list(parameters, "members").map((member) => ({ group, member })));
  const actions: Record<ActionName, ActionExecutor> = {
    "idp.add-group-members": {
      plan: (parameters) => {
        const missing = groupMembers(parameters).filter(({ group, member }) => !world.members(group).has(member));
        return Promise.resolve({
          summary: `add ${missing.length} membership(s)`,
          changes: missing.map(({ group, member }) => ({ target: group, before: null, after: member })),
          alreadyDone: missing.length === 0,
        });
      },
      apply: async (_plan, parameters, context) => {
        world.applies.push("idp.add-group-members");
        for (const wait of world.idpWaits) context.reportWait?.(wait);
        // Idempotent: re-checks each membership instead of trusting the plan.
        for (const { group, member } of groupMembers(parameters)) {
          if (!world.members(group).has(member)) {
            world.members(group).add(member);
            world.additions.push(`${group}:${member}`);
          }
        }
        if (world.crashDuringAdd !== null) {
          world.crashDuringAdd();
          await new Promise<never>(() => undefined);
        }
        return {};
      },
      verify: (parameters) => {
        const missing = groupMembers(parameters).filter(({ group, member }) => !world.members(group).has(member));
        return Promise.resolve({
          ok: missing.length === 0,
          detail: missing.length === 0 ? "every member is in its group" : `missing ${missing.length}`,
        });
      },
    },
    "idp.remove-group-members": {
      plan: (parameters) => {
        const everyone = parameters.members === "everyone";
        const present = list(parameters, "groups").flatMap((group) =>
          [...world.members(group)]
            .filter((member) => everyone || list(parameters, "members").includes(member))
            .map((member) => ({ group, member })),
        );
        return Promise.resolve({
          summary: `remove ${present.length} membership(s)`,
          changes: present.map(({ group, member }) => ({ target: group, before: member, after: null })),
          alreadyDone: present.length === 0,
        });
      },
      apply: (plan) => {
        world.applies.push("idp.remove-group-members");
        for (const change of plan.changes)
          if (change.before !== null) world.members(change.target).delete(change.before);
        return Promise.resolve({});
      },
      verify: (parameters) => {
        const left = list(parameters, "groups").reduce((count, group) => count + world.members(group).size, 0);
        return Promise.resolve({
          ok: parameters.members !== "everyone" || left === 0,
          detail: `${left} member(s) left`,
        });
      },
    },
    "emergency.open-window": {
      plan: (parameters) =>
        Promise.resolve({
          summary: `open the window for ${text(parameters, "incident")}`,
          changes: [],
          alreadyDone: world.windows.get(text(parameters, "incident")) === "open",
        }),
      apply: (_plan, parameters) => {
        world.applies.push("emergency.open-window");
        world.windows.set(text(parameters, "incident"), "open");
        return Promise.resolve({});
      },
      verify: (parameters) =>
        Promise.resolve({ ok: world.windows.get(text(parameters, "incident")) === "open", detail: "window read back" }),
    },
    "emergency.close-window": {
      plan: (parameters) =>
        Promise.resolve({
          summary: `close the window for ${text(parameters, "incident")}`,
          changes: [],
          alreadyDone: world.windows.get(text(parameters, "incident")) !== "open",
        }),
      apply: (_plan, parameters) => {
        world.applies.push("emergency.close-window");
        world.windows.set(text(parameters, "incident"), "closed");
        return Promise.resolve({});
      },
      verify: (parameters) => {
        const summary = join(world.directory, `activity-${text(parameters, "incident")}.json`);
        writeFileSync(summary, "[]");
        return Promise.resolve({
          ok: world.windows.get(text(parameters, "incident")) === "closed",
          detail: "window read back",
          artefacts: { "activity-summary": summary },
        });
      },
    },
    "iam.update-saml-provider": {
      plan: (_parameters, context) => {
        const file = readFileSync(context.artefacts["metadata-file"] ?? "", "utf8");
        return Promise.resolve({
          summary: "re-import the metadata file",
          changes: [{ target: "emergency-idp", before: world.providerCertificate, after: file }],
          alreadyDone: file === world.providerCertificate,
          ...(world.keyContinuity === undefined ? {} : { keyContinuity: world.keyContinuity }),
        });
      },
      apply: (_plan, _parameters, context) => {
        world.applies.push("iam.update-saml-provider");
        world.providerCertificate = readFileSync(context.artefacts["metadata-file"] ?? "", "utf8");
        return Promise.resolve({});
      },
      verify: () =>
        Promise.resolve({
          ok: world.providerCertificate === world.idpCertificate,
          detail: `provider holds ${world.providerCertificate}`,
        }),
    },
  };
  for (const [name, executor] of Object.entries(actions) as [ActionName, ActionExecutor][]) {
    const plan = executor.plan.bind(executor);
    executor.plan = (parameters, context) =>
      world.failingPlan === name
        ? Promise.reject(new BreakglassError("IDP_UNAVAILABLE", "https://idp.example.com/scim/v2", "did not answer"))
        : plan(parameters, context);
  }
  return {
    check: (checks) => {
      const findings: Finding[] = [];
      let artefacts = {};
      for (const check of checks) {
        if (check === "identity-center" && !world.identityCenterHealthy)
          findings.push(createFinding("IDENTITY_CENTER_UNREACHABLE", "Identity Center does not answer."));
        if (check === "saml-providers" && world.providerCertificate !== world.idpCertificate)
          findings.push(createFinding("SAML_PROVIDER_DRIFT", "The provider lacks the IdP's certificate."));
        if (check === "metadata") {
          findings.push(...world.metadataFindings);
          const file = join(world.directory, "metadata.xml");
          writeFileSync(file, world.idpCertificate);
          artefacts = { "metadata-file": file };
        }
      }
      return Promise.resolve({ findings, artefacts });
    },
    actions,
    notify: (channel, message) => {
      if (world.notifyFails) return Promise.reject(new Error("Slack is down"));
      world.notifications.push(`${channel}: ${message}`);
      return Promise.resolve();
    },
    sleep: (milliseconds) => {
      world.sleeps.push(milliseconds);
      clock.advance(milliseconds);
      world.afterSleep();
      return Promise.resolve();
    },
  };
}

/** Fails to write one chosen action, as a full disk or a broken mirror would. */
class FlakyAuditLog extends AuditLog {
  failing: string | null = null;
  override record(entry: AuditEntry): AuditRecord {
    if (entry.action === this.failing) throw this.diskFull(entry);
    return super.record(entry);
  }
  /** A run's transition writes its audit records with it: the failure comes before anything is written. */
  override recordWith(entries: readonly AuditEntry[], change: () => readonly AuditRecord[]): readonly AuditRecord[] {
    const failing = entries.find((entry) => entry.action === this.failing);
    if (failing !== undefined) throw this.diskFull(failing);
    return super.recordWith(entries, change);
  }
  private diskFull(entry: AuditEntry): BreakglassError {
    return new BreakglassError(
      "AUDIT_FAILED",
      "audit log",
      `cannot record "${entry.action}" on ${entry.subject}, so it is not done: disk full`,
    );
  }
}

function setUp(runbookPaths: Record<string, string> = {}) {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-engine-"));
  const store = openStore({ path: join(directory, "breakglass.db") });
  const clock = new SteppingClock(new Date("2026-11-25T03:00:00Z"));
  const audit = new FlakyAuditLog(store.audit, clock);
  const world = new World(directory);
  const paths: Record<string, string> = { "fm3-direct-federation": FM3, "fm2-reimport-metadata": FM2, ...runbookPaths };
  const engine = (holder: string, progress?: RunProgressListener) =>
    new RunEngine({
      ...(progress === undefined ? {} : { progress }),
      store: store.runs,
      audit,
      clock,
      executors: executorsFor(world, clock),
      runbooks: (id) => readRunbookSource(paths[id] ?? `${id}.yaml`),
      leaseMilliseconds: LEASE,
      holder,
      newRunId: () => `run-${holder}`,
    });
  return { directory, store, clock, audit, world, engine };
}

function statuses(view: { steps: readonly { id: string; status: string }[] }): Record<string, string> {
  return Object.fromEntries(view.steps.map((step) => [step.id, step.status]));
}

function actionsOf(store: BreakglassStore, subject: string): string[] {
  return store.audit
    .auditRecords()
    .filter((record) => record.subject === subject)
    .map((record) => record.action);
}

describe("a run of fm3-direct-federation", () => {
  it("runs to success, refusing an approval by the person who started it and accepting a second person's", async () => {
    const { store, world, engine } = setUp();
    const runner = engine("a");
    const run = runner.start(await readRunbookSource(FM3), FM3_INPUTS, person("alice"), { dryRun: false });
    expect(run.inputs.ttl).toBe("4h");

    let view = await runner.advance(run.id, "alice");
    expect(view).toMatchObject({
      status: "waiting",
      waitingFor: { stepId: "approve-direct-federation", kind: "approval" },
    });
    expect(world.windows.get("INC-4711")).toBe("open");
    expect(world.additions).toEqual([]);

    await expect(runner.approve(run.id, person("alice"))).rejects.toThrow(
      'run run-a: step "approve-direct-federation" needs a second person: alice started this run, so alice cannot approve it; ask someone other than alice',
    );
    view = await runner.approve(run.id, person("bob"));
    expect(view.steps.find((step) => step.id === "approve-direct-federation")?.outcome?.approval).toEqual({
      decision: "granted",
      approver: "bob",
      initiator: "alice",
      approverPerson: "person:bob",
      initiatorPerson: "person:alice",
      verification: "verified in a test",
    });

    view = await runner.advance(run.id, "alice");
    expect(view.waitingFor).toEqual({ stepId: "confirm-sign-in", kind: "manual" });
    expect(statuses(view)).toMatchObject({
      "verify-emergency-provider": "succeeded",
      "repair-emergency-provider": "skipped",
      "recheck-emergency-provider": "skipped",
      "add-responders": "succeeded",
    });
    expect([...world.members("aws-emergency-operators")]).toEqual(["ana@example.com", "raj@example.com"]);

    await runner.confirm(run.id, "carol");
    view = await runner.advance(run.id, "alice");
    expect(view.waitingFor?.stepId).toBe("work-the-incident");
    await expect(runner.confirm(run.id, "carol")).rejects.toThrow(
      'step "work-the-incident" needs a written answer to confirm it: What was done in AWS through direct federation, in which accounts?',
    );
    await runner.confirm(run.id, "carol", "restarted the payments service in 333333333333");

    view = await runner.advance(run.id, "alice");
    expect(view.waitingFor?.stepId).toBe("review-activity");
    expect(view.artefacts["activity-summary"]).toMatch(/activity-INC-4711\.json$/);
    await runner.confirm(run.id, "carol", "none");
    view = await runner.advance(run.id, "alice");

    expect(view.status).toBe("succeeded");
    expect(view.steps.every((step) => step.status === "succeeded" || step.status === "skipped")).toBe(true);
    expect(world.members("aws-emergency-operators").size).toBe(0);
    expect(world.windows.get("INC-4711")).toBe("closed");
    expect(world.additions).toEqual([
      "aws-emergency-operators:ana@example.com",
      "aws-emergency-operators:raj@example.com",
    ]);
    expect(world.notifications[0]).toBe(
      "security: Emergency access declared for INC-4711 by alice (FM3, Identity Center disrupted): " +
        "ana@example.com, raj@example.com will be added to aws-emergency-operators for 4h and federate " +
        "directly to the emergency account.",
    );

    const verification = verifyAudit(store.audit);
    expect(verification.problems).toEqual([]);
    expect(actionsOf(store, "approve-direct-federation")).toEqual([
      "step.started",
      "step.waiting",
      "approval.refused",
      "approval.granted",
    ]);
    expect(actionsOf(store, "add-responders")).toEqual([
      "step.started",
      "action.planned",
      "action.applying",
      "action.applied",
      "action.verified",
      "step.succeeded",
    ]);
    const approval = store.audit.auditRecords().find((record) => record.action === "approval.granted");
    expect(approval).toMatchObject({
      actor: "person:bob",
      runId: "run-a",
      detail: { approval: { approver: "bob", initiator: "alice" } },
    });
    const runLevel = store.audit
      .auditRecords()
      .filter((record) => record.subject === "fm3-direct-federation")
      .map((record) => record.action);
    expect(runLevel).toEqual(["run.started", "run.succeeded"]);
  });

  it("skips a waiting manual step on request, audited, but never an approval", async () => {
    const { store, engine } = setUp();
    const runner = engine("a");
    const run = runner.start(await readRunbookSource(FM3), FM3_INPUTS, person("alice"), { dryRun: false });
    await runner.advance(run.id, "alice");
    await expect(runner.skip(run.id, "carol", "not needed")).rejects.toThrow(
      'run run-a: waits at step "approve-direct-federation", which is an approval: approve or reject it',
    );
    await runner.approve(run.id, person("bob"));
    let view = await runner.advance(run.id, "alice");
    expect(view.waitingFor).toEqual({ stepId: "confirm-sign-in", kind: "manual" });

    view = await runner.skip(run.id, "carol", "the responders signed in through the IdP dashboard");
    expect(view.status).toBe("running");
    expect(view.steps.find((step) => step.id === "confirm-sign-in")).toMatchObject({
      status: "skipped",
      outcome: { summary: "skipped by carol: the responders signed in through the IdP dashboard" },
    });
    view = await runner.advance(run.id, "alice");
    expect(view.waitingFor?.stepId).toBe("work-the-incident");
    expect(actionsOf(store, "confirm-sign-in")).toEqual(["step.started", "step.waiting", "manual.skipped"]);
    expect(store.audit.auditRecords().find((record) => record.action === "manual.skipped")).toMatchObject({
      actor: "carol",
      runId: "run-a",
    });
  });

  it("applies nothing on a dry run, and says so on every action", async () => {
    const { store, world, engine } = setUp();
    const runner = engine("a");
    const run = runner.start(await readRunbookSource(FM3), FM3_INPUTS, person("alice"), { dryRun: true });
    await runner.advance(run.id, "alice");
    await runner.approve(run.id, person("bob"));
    for (const answer of [undefined, "nothing, it was a rehearsal", "none"]) {
      await runner.advance(run.id, "alice");
      await runner.confirm(run.id, "carol", answer);
    }
    const view = await runner.advance(run.id, "alice");

    expect(view.status).toBe("succeeded");
    expect(world.applies).toEqual([]);
    expect(world.windows.size).toBe(0);
    expect(world.members("aws-emergency-operators").size).toBe(0);
    const actions = view.steps.filter((step) => step.kind === "action");
    expect(actions.map((step) => step.id)).toEqual([
      "declare-emergency",
      "add-responders",
      "remove-responders",
      "verify-groups-empty",
      "close-window",
    ]);
    for (const step of actions) {
      expect(step.status).toBe("succeeded");
      expect(step.outcome).toMatchObject({ applied: false, summary: expect.stringMatching(/^dry run: not applied/) });
      expect(actionsOf(store, step.id)).toEqual([
        "step.started",
        "action.planned",
        "action.not-applied",
        "step.succeeded",
      ]);
    }
    expect(world.notifications.every((message) => message.includes("[dry run]"))).toBe(true);
    expect(verifyAudit(store.audit).problems).toEqual([]);
  });

  it("goes to the repair step when the emergency provider is wrong, and goes on past a notification that cannot be sent", async () => {
    const { world, engine } = setUp();
    const runner = engine("a");
    world.notifyFails = true;
    world.providerCertificate = "cert-2025";
    const run = runner.start(await readRunbookSource(FM3), FM3_INPUTS, person("alice"), { dryRun: false });
    await runner.advance(run.id, "alice");
    world.notifyFails = false;
    await runner.approve(run.id, person("bob"));
    let view = await runner.advance(run.id, "alice");

    expect(statuses(view)).toMatchObject({
      "tell-security": "failed",
      "verify-emergency-provider": "failed",
      "repair-emergency-provider": "waiting",
    });
    expect(view.steps.find((step) => step.id === "tell-security")?.outcome?.error).toBe("Slack is down");
    expect(view.steps.find((step) => step.id === "verify-emergency-provider")?.outcome?.summary).toBe(
      "failed: not clean: SAML_PROVIDER_DRIFT",
    );

    world.providerCertificate = world.idpCertificate;
    await runner.confirm(run.id, "carol");
    view = await runner.advance(run.id, "alice");
    expect(statuses(view)).toMatchObject({
      "recheck-emergency-provider": "succeeded",
      "add-responders": "succeeded",
      "confirm-sign-in": "waiting",
    });
  });
});

describe("a serve leader's runs: steps through the fenced execution store, decisions through the store", () => {
  it("records a person's decision on any replica, but writes no step, applies nothing, once another replica leads", async () => {
    const { store, clock, world } = setUp();
    const lease = store.leadership.acquireOrRenew("serve", "replica-a", clock.now(), 30_000);
    let term: Fence | undefined = { name: "serve", holder: "replica-a", token: lease?.token ?? 0 };
    // serve's leader view: the fence is the elector's term, read at each write.
    const leaderView = store.fenced(() => term);
    const runner = new RunEngine({
      store: store.runs,
      executionStore: leaderView.runs,
      audit: new AuditLog(store.audit, clock),
      executionAudit: new AuditLog(leaderView.audit, clock),
      clock,
      executors: executorsFor(world, clock),
      runbooks: (id) => readRunbookSource(id === "fm3-direct-federation" ? FM3 : `${id}.yaml`),
      leaseMilliseconds: LEASE,
      holder: "engine-a",
      newRunId: () => "run-a",
    });
    const run = runner.start(await readRunbookSource(FM3), FM3_INPUTS, person("alice"), { dryRun: false });
    expect((await runner.advance(run.id, "alice")).waitingFor?.kind).toBe("approval");

    // Replaced while paused: its approval is still recorded for bob, but the steps after it are not its to write.
    clock.advance(60_000);
    expect(store.leadership.acquireOrRenew("serve", "replica-b", clock.now(), 30_000)).toMatchObject({ token: 2 });
    expect((await runner.approve(run.id, person("bob"))).status).toBe("running");
    const before = { steps: store.runs.runSteps(run.id), head: store.audit.auditHead() };
    await expect(runner.advance(run.id, "alice")).rejects.toMatchObject({
      code: "LEADERSHIP_LOST",
      message: expect.stringContaining("wrote with token 1 of leader lease serve, but replica-b holds it with token 2"),
    });
    term = undefined;
    await expect(runner.advance(run.id, "alice")).rejects.toMatchObject({
      code: "LEADERSHIP_LOST",
      message: expect.stringContaining("this replica does not lead"),
    });
    expect(store.runs.runSteps(run.id)).toEqual(before.steps);
    expect(store.audit.auditHead()).toBe(before.head);
    expect(world.additions).toEqual([]);
    // The run lease it took was given up, so the new leader goes on at once.
    expect(store.runs.findRun(run.id)?.leaseHolder).toBeNull();
  });
});

describe("branching", () => {
  it("skips the steps a goto jumps over", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "breakglass-runbook-")), "branching.yaml");
    writeFileSync(
      path,
      [
        "id: branching",
        "title: Branching",
        "failureMode: FM3",
        "summary: Jumps over a step.",
        "inputs:",
        "  - { name: incident, description: The incident., type: string, required: true }",
        "steps:",
        "  - { id: probe, title: Probe, kind: check, checks: [identity-center], expect: clean, onFailure: { goto: recover } }",
        "  - { id: jumped-over, title: Jumped over, kind: notify, channel: incident, message: never sent }",
        "  - { id: recover, title: Recover, kind: notify, channel: incident, message: 'recovering ${inputs.incident} in run ${run.id}' }",
        "",
      ].join("\n"),
    );
    const { world, engine } = setUp({ branching: path });
    const runner = engine("a");
    const run = runner.start(await readRunbookSource(path), { incident: "INC-1" }, person("alice"), { dryRun: false });
    const view = await runner.advance(run.id, "alice");
    expect(statuses(view)).toEqual({ probe: "failed", "jumped-over": "skipped", recover: "succeeded" });
    expect(view.status).toBe("succeeded");
    expect(world.notifications).toEqual(["incident: recovering INC-1 in run run-a"]);
    expect(view.steps[1]?.outcome?.summary).toBe('skipped: step "probe" failed and the run jumped to "recover"');
  });

  it("skips the steps whose when does not hold (fm2 with workforce sign-in working)", async () => {
    const { world, engine } = setUp();
    const runner = engine("a");
    const run = runner.start(await readRunbookSource(FM2), FM2_INPUTS, person("alice"), { dryRun: false });
    const view = await runner.advance(run.id, "alice");
    expect(statuses(view)).toMatchObject({
      "declare-emergency": "skipped",
      "tell-security": "skipped",
      "fetch-metadata": "succeeded",
      "show-drift": "succeeded",
      "approve-reimport": "waiting",
    });
    expect(world.windows.size).toBe(0);
  });
});

describe("a full key change nobody signed", () => {
  const NEW_KEY = "3f9c01ab".padEnd(64, "e");
  const fullChange = (sha256: string): KeyContinuity => ({
    verdict: "full-change-unsigned",
    providersWithoutSharedKey: ["emergency-idp"],
    certificates: [{ sha256, subject: "CN=idp 2027", notAfter: "2028-01-01T00:00:00.000Z", isNew: true }],
    note: "FULL KEY CHANGE",
  });

  it("is approved only with the new certificate's fingerprint; a wrong one is audited and approves nothing", async () => {
    const { store, world, engine } = setUp();
    const runner = engine("a");
    world.idpCertificate = "cert-2027";
    world.keyContinuity = fullChange(NEW_KEY);
    const run = runner.start(await readRunbookSource(FM2), FM2_INPUTS, person("alice"), { dryRun: false });
    await runner.advance(run.id, "alice");
    await expect(runner.approve(run.id, person("bob"))).rejects.toThrow(
      'step "approve-reimport" unlocks a full key change not signed by the pinned metadata signer: approving it ' +
        "needs the first 8 hex characters of the SHA-256 of the new signing certificate CN=idp 2027, expires 2028-01-01",
    );
    await expect(runner.approve(run.id, person("bob"), { fingerprint: "3f9c01ac" })).rejects.toMatchObject({
      code: "APPROVAL_REFUSED",
    });
    expect((await runner.status(run.id)).waitingFor?.stepId).toBe("approve-reimport");
    expect(actionsOf(store, "approve-reimport")).toContain("approval.fingerprint-refused");

    const view = await runner.approve(run.id, person("bob"), { fingerprint: "3F:9C:01:AB" });
    expect(view.steps.find((step) => step.id === "approve-reimport")?.outcome?.approval).toMatchObject({
      approverPerson: "person:bob",
      confirmedFingerprint: { sha256: NEW_KEY, subject: "CN=idp 2027", typed: "3f9c01ab" },
    });
    await runner.advance(run.id, "alice");
    expect(world.providerCertificate).toBe("cert-2027");
  });

  it("is not applied when the plan at apply time is a full key change its approval confirmed no certificate of", async () => {
    const { world, engine } = setUp();
    const runner = engine("a");
    world.idpCertificate = "cert-2027";
    // When the run reached the approval the import kept a trusted key; by the time it applies, it no longer does.
    const run = runner.start(await readRunbookSource(FM2), FM2_INPUTS, person("alice"), { dryRun: false });
    await runner.advance(run.id, "alice");
    await runner.approve(run.id, person("bob"));
    world.keyContinuity = fullChange(NEW_KEY);
    const view = await runner.advance(run.id, "alice");
    const step = view.steps.find((candidate) => candidate.id === "update-emergency-providers");
    expect(step?.status).toBe("failed");
    expect(step?.outcome?.error).toContain(
      "its approval confirmed no fingerprint of the new signing certificate CN=idp 2027",
    );
    expect(world.applies).not.toContain("iam.update-saml-provider");
    expect(world.providerCertificate).toBe("cert-2026");
  });
});

describe("stopping and resuming", () => {
  it("halts at a failing check after its retries, and resumes from that step once the cause is fixed", async () => {
    const { store, world, engine } = setUp();
    const runner = engine("a");
    world.metadataFindings = [createFinding("CERT_EXPIRED", "The signing certificate expired.")];
    const run = runner.start(await readRunbookSource(FM2), FM2_INPUTS, person("alice"), { dryRun: false });
    let view = await runner.advance(run.id, "alice");
    expect(view.status).toBe("failed");
    expect(view.steps.find((step) => step.id === "fetch-metadata")).toMatchObject({
      status: "failed",
      outcome: { summary: "failed: not clean: CERT_EXPIRED (after 3 attempts)", checkAttempts: 3 },
    });
    expect(world.sleeps).toEqual([30_000, 30_000]);
    expect(statuses(view)["show-drift"]).toBe("pending");

    world.metadataFindings = [];
    world.idpCertificate = "cert-2027";
    view = await runner.advance(run.id, "alice");
    expect(view.steps.find((step) => step.id === "fetch-metadata")).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(view.waitingFor?.stepId).toBe("approve-reimport");
    expect(view.artefacts["metadata-file"]).toMatch(/metadata\.xml$/);

    await runner.approve(run.id, person("bob"));
    view = await runner.advance(run.id, "alice");
    expect(world.providerCertificate).toBe("cert-2027");
    expect(view.waitingFor?.stepId).toBe("upload-to-identity-center");
    expect(view.steps.find((step) => step.id === "upload-to-identity-center")?.outcome?.text).toContain(
      `(\`${view.artefacts["metadata-file"]}\`)`,
    );
    const runLevel = store.audit
      .auditRecords()
      .filter((record) => record.subject === "fm2-reimport-metadata")
      .map((record) => record.action);
    expect(runLevel).toEqual(["run.started", "run.failed", "run.resumed"]);
  });

  it("after a crash in the middle of apply, a second engine waits for the lease, re-plans, and applies nothing twice", async () => {
    const { store, clock, world, engine } = setUp();
    const first = engine("engine-1");
    const run = first.start(await readRunbookSource(FM3), FM3_INPUTS, person("alice"), { dryRun: false });
    await first.advance(run.id, "alice");
    await first.approve(run.id, person("bob"));

    const crashed = new Promise<void>((resolve) => (world.crashDuringAdd = resolve));
    // The first engine's process dies inside apply: its advance never returns and its lease is never released.
    void first.advance(run.id, "alice");
    await crashed;
    world.crashDuringAdd = null;
    expect(store.runs.runSteps(run.id).find((step) => step.stepId === "add-responders")?.status).toBe("applying");

    const second = engine("engine-2");
    const busy = second.advance(run.id, "dave");
    await expect(busy).rejects.toThrow(
      new RegExp(
        "^run run-engine-1: it is being advanced by engine-1, whose lease expires at 2026-11-25T03:01:00\\.000Z; " +
          "try again after that, or, if that process is gone, take the run over with --take-over --reason <why> " +
          "from 2026-11-25T03:00:40\\.000Z$",
      ),
    );
    await expect(busy).rejects.toMatchObject({ code: "RUN_BUSY" });

    clock.advance(LEASE);
    const view = await second.advance(run.id, "dave");
    const added = view.steps.find((step) => step.id === "add-responders");
    expect(added).toMatchObject({
      status: "succeeded",
      attempts: 2,
      outcome: { applied: false, summary: "already done, verified: add 0 membership(s)" },
    });
    expect(world.applies.filter((action) => action === "idp.add-group-members")).toHaveLength(1);
    expect(world.additions).toEqual([
      "aws-emergency-operators:ana@example.com",
      "aws-emergency-operators:raj@example.com",
    ]);
    expect(view.waitingFor?.stepId).toBe("confirm-sign-in");
    expect(actionsOf(store, "add-responders")).toEqual([
      "step.started",
      "action.planned",
      "action.applying",
      "step.resumed",
      "step.started",
      "action.planned",
      "action.verified",
      "step.succeeded",
    ]);
    expect(verifyAudit(store.audit).problems).toEqual([]);
  });

  it("does not apply a change whose audit record cannot be written", async () => {
    const { audit, world, engine } = setUp();
    const runner = engine("a");
    const run = runner.start(await readRunbookSource(FM3), FM3_INPUTS, person("alice"), { dryRun: false });
    audit.failing = "action.applying";
    const view = await runner.advance(run.id, "alice");
    expect(view.status).toBe("failed");
    expect(world.applies).toEqual([]);
    expect(view.steps.find((step) => step.id === "declare-emergency")?.outcome?.summary).toBe(
      'failed: not applied, because it could not be audited: audit log: cannot record "action.applying" on declare-emergency, so it is not done: disk full',
    );
  });

  it("refuses to go on with a runbook that changed since the run started", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "breakglass-runbook-")), "fm3-direct-federation.yaml");
    copyFileSync(FM3, path);
    const { engine } = setUp({ "fm3-direct-federation": path });
    const runner = engine("a");
    const run = runner.start(await readRunbookSource(path), FM3_INPUTS, person("alice"), { dryRun: false });
    appendFileSync(path, "# edited during the incident\n");
    await expect(runner.advance(run.id, "alice")).rejects.toThrow(
      new RegExp(
        `^run run-a: runbook fm3-direct-federation \\(${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\\) ` +
          `changed since this run started \\(sha256 [0-9a-f]{12}…, now [0-9a-f]{12}…\\); put the runbook back ` +
          `as it was to go on, or abort this run and start a new one$`,
      ),
    );
  });
});

describe("progress while a check retries", () => {
  it("tells the listener before each wait which attempt failed, why, and when the next starts, then that the step ended", async () => {
    const { clock, world, engine } = setUp();
    const told: (RunProgressEvent & { sleptBefore: number })[] = [];
    const runner = engine("a", (event) => told.push({ ...event, sleptBefore: world.sleeps.length }));
    world.metadataFindings = [createFinding("CERT_EXPIRED", "The signing certificate expired.")];
    const run = runner.start(await readRunbookSource(FM2), FM2_INPUTS, person("alice"), { dryRun: false });
    const started = clock.now().getTime();
    // The IdP publishes good metadata during the second wait.
    world.afterSleep = () => {
      if (world.sleeps.length === 2) world.metadataFindings = [];
    };
    const view = await runner.advance(run.id, "alice");

    expect(view.steps.find((step) => step.id === "fetch-metadata")).toMatchObject({
      status: "succeeded",
      outcome: { checkAttempts: 3 },
    });
    const step = { runId: run.id, runbookId: "fm2-reimport-metadata", stepId: "fetch-metadata" };
    const stepTitle = "Fetch and inspect the IdP's current metadata";
    const waitingFor = { summary: "failed: not clean: CERT_EXPIRED", codes: ["CERT_EXPIRED"] };
    expect(told).toEqual([
      {
        event: "retry-wait",
        ...step,
        stepTitle,
        attempt: 1,
        attempts: 3,
        intervalMilliseconds: 30_000,
        nextAttemptAt: new Date(started + 30_000),
        waitingFor,
        sleptBefore: 0,
      },
      {
        event: "retry-wait",
        ...step,
        stepTitle,
        attempt: 2,
        attempts: 3,
        intervalMilliseconds: 30_000,
        nextAttemptAt: new Date(started + 60_000),
        waitingFor,
        sleptBefore: 1,
      },
      { event: "waits-ended", ...step, stepTitle, status: "succeeded", sleptBefore: 2 },
    ]);
  });

  it("says the step failed once its last attempt failed, and tells nothing for steps that never waited", async () => {
    const { world, engine } = setUp();
    const told: RunProgressEvent[] = [];
    const runner = engine("a", (event) => told.push(event));
    world.metadataFindings = [createFinding("CERT_EXPIRED", "The signing certificate expired.")];
    const run = runner.start(await readRunbookSource(FM2), FM2_INPUTS, person("alice"), { dryRun: false });
    await runner.advance(run.id, "alice");
    expect(told.map((event) => (event.event === "retry-wait" ? `wait ${event.attempt}` : event.status))).toEqual([
      "wait 1",
      "wait 2",
      "failed",
    ]);

    told.length = 0;
    world.metadataFindings = [];
    const view = await runner.advance(run.id, "alice");
    expect(view.waitingFor?.stepId).toBe("approve-reimport");
    expect(told).toEqual([]);
  });

  it("shows the waits an action makes inside its step (an IdP's Retry-After) as the step's progress", async () => {
    const { clock, world, engine } = setUp();
    const told: RunProgressEvent[] = [];
    const runner = engine("a", (event) => told.push(event));
    const waitingFor = { summary: "Graph answered HTTP 429 Too Many Requests (adding user a1 to group g1)", codes: [] };
    world.idpWaits = [{ attempt: 1, attempts: 6, intervalMilliseconds: 41_000, waitingFor }];
    const run = runner.start(await readRunbookSource(FM3), FM3_INPUTS, person("alice"), { dryRun: false });
    await runner.advance(run.id, "alice");
    await runner.approve(run.id, person("bob"));
    const approvedAt = clock.now().getTime();
    await runner.advance(run.id, "alice");
    const step = { runId: run.id, runbookId: "fm3-direct-federation", stepId: "add-responders" };
    expect(told).toEqual([
      expect.objectContaining({ event: "retry-wait", ...step, attempt: 1, attempts: 6, waitingFor }),
      expect.objectContaining({ event: "waits-ended", ...step, status: "succeeded" }),
    ]);
    const wait = told[0] as RetryWaitEvent;
    expect(wait.nextAttemptAt.getTime() - approvedAt).toBeGreaterThanOrEqual(41_000);
  });

  it("goes on with the run when the listener throws: showing progress never fails a run", async () => {
    const { world, engine } = setUp();
    const runner = engine("a", () => {
      throw new Error("the terminal went away");
    });
    world.metadataFindings = [createFinding("CERT_EXPIRED", "The signing certificate expired.")];
    const run = runner.start(await readRunbookSource(FM2), FM2_INPUTS, person("alice"), { dryRun: false });
    const view = await runner.advance(run.id, "alice");
    expect(view.steps.find((step) => step.id === "fetch-metadata")).toMatchObject({
      outcome: { summary: "failed: not clean: CERT_EXPIRED (after 3 attempts)" },
    });
    expect(world.sleeps).toEqual([30_000, 30_000]);
  });
});

describe("rejecting and aborting", () => {
  it("stops the run when the approver rejects, and an aborted run cannot be aborted again", async () => {
    const { store, world, engine } = setUp();
    const runner = engine("a");
    const run = runner.start(await readRunbookSource(FM3), FM3_INPUTS, person("alice"), { dryRun: false });
    await runner.advance(run.id, "alice");
    await expect(runner.confirm(run.id, "bob")).rejects.toThrow(
      'run run-a: waits at step "approve-direct-federation", which is an approval: approve or reject it',
    );
    let view = await runner.reject(run.id, person("bob"), "Identity Center is back");
    expect(view.status).toBe("failed");
    expect(view.steps.find((step) => step.id === "approve-direct-federation")).toMatchObject({
      status: "failed",
      outcome: {
        approval: { decision: "rejected", approver: "bob", initiator: "alice", reason: "Identity Center is back" },
      },
    });
    view = await runner.abort(run.id, "alice", "not needed");
    expect(view.status).toBe("aborted");
    await expect(runner.abort(run.id, "alice", "again")).rejects.toThrow(
      "run run-a: has already been aborted, so there is nothing to abort",
    );
    expect(world.additions).toEqual([]);
    expect(
      store.audit
        .auditRecords()
        .slice(-3)
        .map((record) => record.action),
    ).toEqual(["step.failed", "run.failed", "run.aborted"]);
  });
});

describe("starting a run", () => {
  it("names the input that is missing or wrong", async () => {
    const { engine } = setUp();
    const source = await readRunbookSource(FM3);
    const { signInUrl: _dropped, ...missing } = FM3_INPUTS;
    expect(() => engine("a").start(source, missing, person("alice"), { dryRun: false })).toThrow(
      /^input "signInUrl": runbook fm3-direct-federation requires it: /,
    );
    expect(() => engine("a").start(source, { ...FM3_INPUTS, ttl: "soon" }, person("alice"), { dryRun: false })).toThrow(
      'input "ttl": expected a duration such as 30m, 4h or 1h30m, got "soon"',
    );
  });
});

const PREVIEW_RUNBOOK = `id: approval-preview
title: An approval before actions that can and cannot be planned yet
failureMode: FM3
summary: |
  What an approver sees of the actions an approval unlocks.
inputs:
  - name: incident
    description: The incident reference.
    type: string
    required: true
steps:
  - id: approve
    title: A second person approves
    kind: approval
    reason: Approve the changes listed below.
  - id: open-window
    title: Open the window
    kind: action
    action: emergency.open-window
    with:
      incident: \${inputs.incident}
    compensate: emergency.close-window
  - id: fetch
    title: Fetch the metadata
    kind: check
    checks: [metadata]
    expect: any
    produces: metadata-file
  - id: import
    title: Import it
    kind: action
    action: iam.update-saml-provider
    compensate: iam.update-saml-provider
  - id: add
    title: Add the responder
    when: { step: fetch, outcome: succeeded }
    kind: action
    action: idp.add-group-members
    with:
      groups: [ops]
      members: [ana@example.com]
      ttl: 1h
    compensate: idp.remove-group-members
  - id: approve-again
    title: A second approval
    kind: approval
    reason: Approve closing the window.
  - id: close-window
    title: Close the window
    kind: action
    action: emergency.close-window
    with:
      incident: \${inputs.incident}
`;

describe("an approval shows what it unlocks before anyone approves", () => {
  it("plans the fm2 import at the approval, changing nothing, and keeps the plan with the decision and in the audit", async () => {
    const { store, world, engine } = setUp();
    world.providerCertificate = "cert-2025";
    const runner = engine("a");
    const run = runner.start(await readRunbookSource(FM2), FM2_INPUTS, person("alice"), { dryRun: false });

    const view = await runner.advance(run.id, "alice");
    expect(view.waitingFor).toEqual({ stepId: "approve-reimport", kind: "approval" });
    const waiting = view.steps.find((step) => step.id === "approve-reimport");
    // workforceSignIn is working: no window was declared, so closing one (when declare-emergency succeeded) is left out.
    expect(waiting?.outcome?.unlocks).toEqual([
      {
        stepId: "update-emergency-providers",
        action: "iam.update-saml-provider",
        plan: {
          summary: "re-import the metadata file",
          changes: [{ target: "emergency-idp", before: "cert-2025", after: "cert-2026" }],
          alreadyDone: false,
        },
      },
    ]);
    expect(world.applies).toEqual([]);
    expect(world.providerCertificate).toBe("cert-2025");
    expect(actionsOf(store, "update-emergency-providers")).toEqual([]);
    const waitingRecord = store.audit.auditRecords().find((record) => record.action === "step.waiting");
    expect(waitingRecord?.detail).toMatchObject({ unlocks: waiting?.outcome?.unlocks });

    const approved = await runner.approve(run.id, person("bob"));
    const decided = approved.steps.find((step) => step.id === "approve-reimport");
    expect(decided?.outcome).toMatchObject({ approval: { decision: "granted" }, unlocks: waiting?.outcome?.unlocks });
    expect(store.audit.auditRecords().find((record) => record.action === "approval.granted")?.detail).toMatchObject({
      unlocks: waiting?.outcome?.unlocks,
    });
    await runner.advance(run.id, "alice");
    expect(world.providerCertificate).toBe("cert-2026");
  });

  it("includes a step whose when holds, judged from the steps before the approval", async () => {
    const { world, engine } = setUp();
    world.providerCertificate = "cert-2025";
    const runner = engine("a");
    const inputs = { ...FM2_INPUTS, workforceSignIn: "broken" };
    const run = runner.start(await readRunbookSource(FM2), inputs, person("alice"), { dryRun: false });
    const view = await runner.advance(run.id, "alice");
    const unlocks = view.steps.find((step) => step.id === "approve-reimport")?.outcome?.unlocks ?? [];
    expect(unlocks.map((unlocked) => [unlocked.stepId, unlocked.plan?.summary, unlocked.condition])).toEqual([
      ["update-emergency-providers", "re-import the metadata file", undefined],
      ["close-window", "close the window for CHG-1203", undefined],
    ]);
    // Planned while the window is open (declared before the approval), and still open: planning closed nothing.
    expect(world.windows.get("CHG-1203")).toBe("open");
  });

  it("says why a step cannot be planned yet, names the condition it waits on, and stops at the next approval", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "breakglass-preview-")), "approval-preview.yaml");
    writeFileSync(path, PREVIEW_RUNBOOK);
    const { world, engine } = setUp({ "approval-preview": path });
    world.failingPlan = "idp.add-group-members";
    const runner = engine("a");
    const run = runner.start(await readRunbookSource(path), { incident: "INC-9" }, person("alice"), { dryRun: false });

    const view = await runner.advance(run.id, "alice");
    expect(view.waitingFor).toEqual({ stepId: "approve", kind: "approval" });
    expect(view.steps[0]?.outcome?.unlocks).toEqual([
      {
        stepId: "open-window",
        action: "emergency.open-window",
        plan: { summary: "open the window for INC-9", changes: [], alreadyDone: false },
      },
      {
        stepId: "import",
        action: "iam.update-saml-provider",
        notPlanned:
          "cannot be planned yet: it needs the run's metadata-file, which step fetch produces after the approval",
      },
      {
        stepId: "add",
        action: "idp.add-group-members",
        condition: "only if step fetch succeeds",
        notPlanned: "the plan failed: https://idp.example.com/scim/v2: did not answer",
      },
    ]);
    expect(world.windows.size).toBe(0);
    expect(world.applies).toEqual([]);

    // Past the first approval, the second one shows only what comes after it.
    world.failingPlan = null;
    await runner.approve(run.id, person("bob"));
    const second = await runner.advance(run.id, "alice");
    expect(second.waitingFor).toEqual({ stepId: "approve-again", kind: "approval" });
    expect(second.steps.find((step) => step.id === "approve-again")?.outcome?.unlocks).toEqual([
      {
        stepId: "close-window",
        action: "emergency.close-window",
        plan: { summary: "close the window for INC-9", changes: [], alreadyDone: false },
      },
    ]);
  });
});
