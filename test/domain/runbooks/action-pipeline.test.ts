// The one action pipeline: what is audited, in which order, and what never happens when the audit log cannot be written.
import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../../../src/domain/audit/audit-chain.js";
import { BreakglassError } from "../../../src/domain/errors.js";
import {
  runActionPipeline,
  type ActionPipelinePorts,
  type AuditRecorder,
} from "../../../src/domain/runbooks/action-pipeline.js";
import type { ActionExecutor, ActionParameters, RunContext } from "../../../src/domain/runbooks/engine-ports.js";
import { runContext } from "../../adapters/runbook-actions/run-context.js";
import { SteppingClock } from "../../support/stepping-clock.js";

const PARAMETERS: ActionParameters = { groups: ["aws-emergency-operators"], members: ["ana@example.com"], ttl: "4h" };
const AUDIT_AS = { actor: "slack:U0GRANTER2", runId: "INC-4711", subject: "grant ana@example.com" };

/** Everything that happened, in order, across the audit log, the store and the executor: the order is the contract. */
type Timeline = string[];

/** An audit log that keeps what it was given, and refuses the actions it is told to, as a full disk would. */
class RecordingAudit implements AuditRecorder {
  readonly entries: AuditEntry[] = [];
  readonly refusing = new Set<string>();

  constructor(private readonly timeline: Timeline) {}

  record(entry: AuditEntry): AuditEntry {
    if (this.refusing.has(entry.action))
      throw new BreakglassError(
        "AUDIT_FAILED",
        "audit log",
        `cannot record "${entry.action}" on ${entry.subject}, so it is not done: disk full`,
      );
    this.timeline.push(`audit ${entry.action}`);
    this.entries.push(entry);
    return entry;
  }

  actions(): string[] {
    return this.entries.map((entry) => entry.action);
  }
}

/** Group membership in memory, behind the executor port; each call is on the timeline. */
class MembershipWorld implements ActionExecutor {
  readonly members = new Set<string>();
  applyFails: Error | null = null;
  verifyFails: Error | null = null;
  /** The read-back sees a member go missing again after apply (someone removed them at once). */
  loseMembersAfterApply = false;
  planFails: Error | null = null;
  verifiedAt: Date | null = null;

  constructor(
    private readonly timeline: Timeline,
    private readonly clock: SteppingClock,
  ) {}

  plan(parameters: ActionParameters) {
    this.timeline.push("plan");
    if (this.planFails !== null) return Promise.reject(this.planFails);
    const missing = wanted(parameters).filter((member) => !this.members.has(member));
    return Promise.resolve({
      summary: `add ${missing.length} member(s)`,
      changes: missing.map((member) => ({ target: "group aws-emergency-operators", before: null, after: member })),
      alreadyDone: missing.length === 0,
    });
  }

  apply(_plan: unknown, parameters: ActionParameters) {
    this.timeline.push("apply");
    if (this.applyFails !== null) return Promise.reject(this.applyFails);
    for (const member of wanted(parameters)) this.members.add(member);
    if (this.loseMembersAfterApply) this.members.clear();
    // The IdP is slow: the read-back happens later than the request was made.
    this.clock.advance(5_000);
    return Promise.resolve({});
  }

  verify(parameters: ActionParameters, context: RunContext) {
    this.timeline.push("verify");
    this.verifiedAt = context.now;
    if (this.verifyFails !== null) return Promise.reject(this.verifyFails);
    const missing = wanted(parameters).filter((member) => !this.members.has(member));
    return Promise.resolve({
      ok: missing.length === 0,
      detail: missing.length === 0 ? "the group lists every member" : `the group does not list ${missing.join(", ")}`,
    });
  }
}

function wanted(parameters: ActionParameters): readonly string[] {
  const members = parameters.members;
  return typeof members === "string" ? [members] : (members ?? []);
}

function setUp(options: { dryRun?: boolean } = {}) {
  const timeline: Timeline = [];
  const clock = new SteppingClock(new Date("2026-11-25T03:42:17Z"));
  const audit = new RecordingAudit(timeline);
  const world = new MembershipWorld(timeline, clock);
  const context: RunContext = {
    ...runContext({ runId: "INC-4711", stepId: "slack-grant", now: clock.now() }),
    dryRun: options.dryRun ?? false,
  };
  const ports: ActionPipelinePorts = {
    audit,
    clock,
    markApplying: (plan) => timeline.push(`mark applying: ${plan.summary}`),
  };
  const run = () =>
    runActionPipeline(
      { action: "idp.add-group-members", executor: world, parameters: PARAMETERS, context, auditAs: AUDIT_AS },
      ports,
    );
  return { timeline, clock, audit, world, run };
}

describe("a change that is due", () => {
  it("is planned, audited, marked applying, audited again, applied, audited, read back and audited, in that order", async () => {
    const { timeline, world, run } = setUp();
    const result = await run();

    expect(timeline).toEqual([
      "plan",
      "audit action.planned",
      "mark applying: add 1 member(s)",
      "audit action.applying",
      "apply",
      "audit action.applied",
      "verify",
      "audit action.verified",
    ]);
    expect([...world.members]).toEqual(["ana@example.com"]);
    expect(result).toMatchObject({
      status: "verified",
      applied: true,
      verification: { ok: true, detail: "the group lists every member" },
    });
  });

  it("names the actor, run and subject on every record, and the action and request in every detail", async () => {
    const { audit, run } = setUp();
    await run();

    expect(
      audit.entries.every(
        (entry) =>
          entry.actor === AUDIT_AS.actor && entry.runId === AUDIT_AS.runId && entry.subject === AUDIT_AS.subject,
      ),
    ).toBe(true);
    expect(
      audit.entries.every(
        (entry) => entry.detail.action === "idp.add-group-members" && entry.detail.request === "INC-4711:slack-grant",
      ),
    ).toBe(true);
    const plan = {
      summary: "add 1 member(s)",
      changes: [{ target: "group aws-emergency-operators", before: null, after: "ana@example.com" }],
      alreadyDone: false,
    };
    expect(audit.entries[0]?.detail).toEqual({
      action: "idp.add-group-members",
      request: "INC-4711:slack-grant",
      parameters: PARAMETERS,
      plan,
    });
    expect(audit.entries[1]?.detail).toEqual({
      action: "idp.add-group-members",
      request: "INC-4711:slack-grant",
      plan,
    });
    expect(audit.entries[3]?.detail).toEqual({
      action: "idp.add-group-members",
      request: "INC-4711:slack-grant",
      verification: { ok: true, detail: "the group lists every member" },
    });
  });

  it("reads back at the time of the read-back, not of the request", async () => {
    const { clock, world, run } = setUp();
    const requested = clock.now();
    await run();
    expect(world.verifiedAt?.toISOString()).toBe(new Date(requested.getTime() + 5_000).toISOString());
  });
});

describe("fail closed", () => {
  it("never applies a change whose action.applying record cannot be written, nor reads back", async () => {
    const { timeline, audit, world, run } = setUp();
    audit.refusing.add("action.applying");
    const result = await run();

    expect(timeline).toEqual(["plan", "audit action.planned", "mark applying: add 1 member(s)"]);
    expect(world.members.size).toBe(0);
    expect(audit.actions()).toEqual(["action.planned"]);
    expect(result).toMatchObject({
      status: "failed",
      stage: "audit",
      applied: false,
      error: 'audit log: cannot record "action.applying" on grant ana@example.com, so it is not done: disk full',
      cause: { code: "AUDIT_FAILED" },
    });
  });

  it("neither marks nor applies anything when action.planned cannot be written: the audit log's error is thrown", async () => {
    const { timeline, audit, world, run } = setUp();
    audit.refusing.add("action.planned");
    await expect(run()).rejects.toThrow(
      'audit log: cannot record "action.planned" on grant ana@example.com, so it is not done: disk full',
    );
    expect(timeline).toEqual(["plan"]);
    expect(world.members.size).toBe(0);
  });
});

describe("a change already made", () => {
  it("skips apply and the applying records, but still reads back", async () => {
    const { timeline, audit, world, run } = setUp();
    world.members.add("ana@example.com");
    const result = await run();

    expect(timeline).toEqual(["plan", "audit action.planned", "verify", "audit action.verified"]);
    expect(audit.actions()).toEqual(["action.planned", "action.verified"]);
    expect(result).toMatchObject({ status: "verified", applied: false, plan: { alreadyDone: true } });
  });

  it("still fails when the read-back shows it is not made after all", async () => {
    const { audit, world, run } = setUp();
    world.members.add("ana@example.com");
    world.verifyFails = new Error("HTTP 503 from the IdP");
    const result = await run();
    expect(audit.actions()).toEqual(["action.planned", "action.verification-failed"]);
    expect(result).toMatchObject({
      status: "failed",
      stage: "read-back",
      applied: false,
      error: "HTTP 503 from the IdP",
    });
  });
});

describe("a read-back that fails", () => {
  it("is audited as verification-failed with the read-back's words when it does not match", async () => {
    const { audit, world, run } = setUp();
    world.loseMembersAfterApply = true;
    const result = await run();

    expect(audit.actions()).toEqual([
      "action.planned",
      "action.applying",
      "action.applied",
      "action.verification-failed",
    ]);
    expect(audit.entries[3]?.detail.verification).toEqual({
      ok: false,
      detail: "the group does not list ana@example.com",
    });
    expect(result).toMatchObject({
      status: "failed",
      stage: "mismatch",
      applied: true,
      error: "the group does not list ana@example.com",
      verification: { ok: false },
    });
  });

  it("is audited as verification-failed, saying the read-back failed, when the read-back throws", async () => {
    const { audit, world, run } = setUp();
    world.verifyFails = new Error("HTTP 503 from the IdP");
    const result = await run();

    expect(audit.actions()).toEqual([
      "action.planned",
      "action.applying",
      "action.applied",
      "action.verification-failed",
    ]);
    expect(audit.entries[3]?.detail.verification).toEqual({
      ok: false,
      detail: "the read-back failed: HTTP 503 from the IdP",
    });
    expect(result).toMatchObject({
      status: "failed",
      stage: "read-back",
      applied: true,
      error: "HTTP 503 from the IdP",
    });
  });

  it("is still reported when its own audit record cannot be written", async () => {
    const { audit, world, run } = setUp();
    world.loseMembersAfterApply = true;
    audit.refusing.add("action.verification-failed");
    const result = await run();
    expect(result).toMatchObject({
      status: "failed",
      stage: "mismatch",
      error: "the group does not list ana@example.com",
    });
  });
});

describe("an apply that fails", () => {
  it("is audited as action.failed with the error, and not read back", async () => {
    const { timeline, audit, world, run } = setUp();
    world.applyFails = new Error("HTTP 503 from the IdP");
    const result = await run();

    expect(timeline.slice(-2)).toEqual(["apply", "audit action.failed"]);
    expect(audit.actions()).toEqual(["action.planned", "action.applying", "action.failed"]);
    expect(audit.entries[2]?.detail).toEqual({
      action: "idp.add-group-members",
      request: "INC-4711:slack-grant",
      error: "HTTP 503 from the IdP",
    });
    expect(result).toMatchObject({
      status: "failed",
      stage: "apply",
      error: "HTTP 503 from the IdP",
      cause: world.applyFails,
    });
  });

  it("is still reported when action.failed cannot be written", async () => {
    const { audit, world, run } = setUp();
    world.applyFails = new Error("HTTP 503 from the IdP");
    audit.refusing.add("action.failed");
    const result = await run();
    expect(result).toMatchObject({ status: "failed", stage: "apply", error: "HTTP 503 from the IdP" });
  });
});

describe("a plan that fails", () => {
  it("audits nothing and changes nothing, and keeps the error for the caller", async () => {
    const { timeline, audit, world, run } = setUp();
    world.planFails = new BreakglassError("IDP_UNAUTHORIZED", "scim", "HTTP 401: the token was refused");
    const result = await run();

    expect(timeline).toEqual(["plan"]);
    expect(audit.entries).toEqual([]);
    expect(result).toMatchObject({
      status: "failed",
      stage: "plan",
      applied: false,
      error: "scim: HTTP 401: the token was refused",
      cause: { code: "IDP_UNAUTHORIZED" },
    });
    expect(result).not.toHaveProperty("plan");
  });
});

describe("a dry run", () => {
  it("plans and says it did not apply, and neither marks, applies nor reads back", async () => {
    const { timeline, audit, world, run } = setUp({ dryRun: true });
    const result = await run();

    expect(timeline).toEqual(["plan", "audit action.planned", "audit action.not-applied"]);
    expect(audit.entries[1]?.detail).toEqual({
      action: "idp.add-group-members",
      request: "INC-4711:slack-grant",
      reason: "dry run",
    });
    expect(world.members.size).toBe(0);
    expect(result).toMatchObject({ status: "dry-run", plan: { summary: "add 1 member(s)" } });
  });
});
