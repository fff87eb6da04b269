// Deriving a rollback runbook from a stored run: what was applied is undone newest first, each after an approval; what
// cannot be undone automatically is a step by hand.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_RUNBOOK_DIRECTORY } from "../../../src/cli/runbook-command.js";
import { loadRunbook } from "../../../src/adapters/runbook-files/runbook-files.js";
import type { PlannedChange } from "../../../src/domain/runbooks/engine-ports.js";
import { parseRunbook } from "../../../src/domain/runbooks/parse-runbook.js";
import { deriveRollbackRunbook, runIdOfRollback } from "../../../src/domain/runbooks/rollback-runbook.js";
import type { Runbook, RunbookStep } from "../../../src/domain/runbooks/runbook-schema.js";
import type { RunRecord, RunStatus, RunStepRecord, StepOutcomeRecord } from "../../../src/domain/runbooks/run-store.js";

const RUN_ID = "3f2a9c1e-0b7d-4e55-9a31-6c8e2f1d7b40";
const OPERATORS = "aws-emergency-operators";
const READONLY = "aws-emergency-readonly";
const PROVIDER = "arn:aws:iam::111122223333:saml-provider/EmergencyIdP";
const SECONDARY = "arn:aws:iam::111122223333:saml-provider/EmergencyIdPSecondary";

async function shipped(id: string): Promise<Runbook> {
  return (await loadRunbook(join(DEFAULT_RUNBOOK_DIRECTORY, `${id}.yaml`))).runbook;
}

function runRecord(runbook: Runbook, status: RunStatus, inputs: RunRecord["inputs"], dryRun = false): RunRecord {
  return {
    id: RUN_ID,
    runbookId: runbook.id,
    runbookDigest: "0".repeat(64),
    inputs,
    initiator: "alice",
    initiatorPerson: "person:alice",
    preflight: [],
    dryRun,
    status,
    createdAt: "2026-05-01T12:00:00.000Z",
    updatedAt: "2026-05-01T12:30:00.000Z",
    leaseHolder: null,
    leaseExpiresAt: null,
  };
}

/** The steps' records: those named get their outcome (succeeded), the others are pending. */
function stepRecords(runbook: Runbook, outcomes: Readonly<Record<string, StepOutcomeRecord>>): RunStepRecord[] {
  return runbook.steps.map((step: RunbookStep, position) => {
    const outcome = outcomes[step.id];
    return {
      stepId: step.id,
      position,
      status: outcome === undefined ? "pending" : "succeeded",
      outcome: outcome ?? null,
      attempts: outcome === undefined ? 0 : 1,
      updatedAt: "2026-05-01T12:30:00.000Z",
    };
  });
}

function applied(summary: string, changes: readonly PlannedChange[]): StepOutcomeRecord {
  return {
    summary: `applied and verified: ${summary}`,
    plan: { summary, changes, alreadyDone: false },
    applied: true,
    verification: { ok: true, detail: "read back" },
  };
}

const FM3_INPUTS = {
  incident: "INC-4711",
  responders: ["ana@example.com", "bo@example.com"],
  groups: [OPERATORS, READONLY],
  ttl: "4h",
  signInUrl: "https://idp.example.com",
};

function addedResponders(): StepOutcomeRecord {
  const until = "member on a lease until 2026-05-01T16:10:00.000Z";
  return applied(`add ana@example.com, bo@example.com to ${OPERATORS}, ${READONLY}`, [
    {
      target: `group ${OPERATORS}: ana@example.com`,
      before: "not a member",
      after: until,
      membership: { group: OPERATORS, member: "ana@example.com" },
    },
    {
      target: `group ${OPERATORS}: bo@example.com`,
      before: "not a member",
      after: until,
      membership: { group: OPERATORS, member: "bo@example.com" },
    },
    // bo was already in the read-only group: the step only leased him there, so a rollback must leave him in it.
    { target: `group ${READONLY}: bo@example.com`, before: "member without a lease", after: until },
    {
      target: `group ${READONLY}: ana@example.com`,
      before: "not a member",
      after: until,
      membership: { group: READONLY, member: "ana@example.com" },
    },
  ]);
}

const OPENED = applied("open the emergency window of incident INC-4711", [
  { target: "emergency window of incident INC-4711", before: null, after: "open" },
]);

async function abortedFm3(): Promise<{ runbook: Runbook; run: RunRecord; steps: RunStepRecord[] }> {
  const runbook = await shipped("fm3-direct-federation");
  const steps = stepRecords(runbook, {
    "confirm-identity-center-disrupted": { summary: "findings as expected" },
    "declare-emergency": OPENED,
    "tell-security": { summary: "sent" },
    "approve-direct-federation": { summary: "approved by bob" },
    "verify-emergency-provider": { summary: "clean" },
    "add-responders": addedResponders(),
  });
  return { runbook, run: runRecord(runbook, "aborted", FM3_INPUTS), steps };
}

function derive(original: { runbook: Runbook; run: RunRecord; steps: RunStepRecord[] }): {
  text: string;
  runbook: Runbook;
} {
  const text = deriveRollbackRunbook({ ...original, artefacts: {} });
  return { text, runbook: parseRunbook(text, "derived").runbook };
}

function actionWith(runbook: Runbook, id: string): { action: string; with: unknown } {
  const step = runbook.steps.find((candidate) => candidate.id === id);
  if (step?.kind !== "action") throw new Error(`no action step ${id}`);
  return { action: step.action, with: step.with };
}

describe("deriving the rollback of an fm3 run aborted after adding the responders", () => {
  it("undoes the newest action first, each behind a second person's approval", async () => {
    const { runbook } = derive(await abortedFm3());
    expect(runbook.id).toBe(`rollback-${RUN_ID}`);
    expect(runIdOfRollback(runbook.id)).toBe(RUN_ID);
    expect(runbook.steps.map((step) => `${step.kind} ${step.id}`)).toEqual([
      "approval approve-undo-add-responders",
      "action undo-add-responders-1",
      "action undo-add-responders-2",
      "approval approve-undo-declare-emergency",
      "action undo-declare-emergency",
    ]);
  });

  it("removes exactly the members the step added, and leaves one it only leased", async () => {
    const { runbook } = derive(await abortedFm3());
    expect(actionWith(runbook, "undo-add-responders-1")).toEqual({
      action: "idp.remove-group-members",
      with: { groups: [OPERATORS], members: ["ana@example.com", "bo@example.com"] },
    });
    expect(actionWith(runbook, "undo-add-responders-2")).toEqual({
      action: "idp.remove-group-members",
      with: { groups: [READONLY], members: ["ana@example.com"] },
    });
    expect(actionWith(runbook, "undo-declare-emergency")).toEqual({
      action: "emergency.close-window",
      with: { incident: "INC-4711" },
    });
  });

  it("says in the approval what will be undone: each target, what it was and what it became", async () => {
    const { runbook } = derive(await abortedFm3());
    const approval = runbook.steps[0];
    expect(approval?.kind === "approval" ? approval.reason : "").toContain(
      `- group ${OPERATORS}: ana@example.com: not a member → member on a lease until 2026-05-01T16:10:00.000Z; back to not a member`,
    );
    expect(approval?.kind === "approval" ? approval.reason : "").toContain(
      'Undo step add-responders ("Add the responders to the emergency IdP groups, on a lease")',
    );
  });

  it("derives the same text every time from the same stored run, so its digest pins the rollback run", async () => {
    const original = await abortedFm3();
    expect(derive(original).text).toBe(derive(original).text);
  });
});

describe("refusing a rollback", () => {
  it("refuses a run that is still waiting: abort it first", async () => {
    const original = await abortedFm3();
    expect(() => derive({ ...original, run: { ...original.run, status: "waiting" } })).toThrow(
      `run ${RUN_ID}: is still waiting: abort it first (breakglass runbook abort ${RUN_ID}), then roll it back`,
    );
  });

  it("refuses a run that applied nothing, and says why", async () => {
    const runbook = await shipped("fm3-direct-federation");
    const alreadyOpen = {
      summary: "already done",
      plan: { summary: "already open", changes: [], alreadyDone: true },
      applied: false,
    };
    const nothing = {
      runbook,
      run: runRecord(runbook, "failed", FM3_INPUTS),
      steps: stepRecords(runbook, { "declare-emergency": alreadyOpen }),
    };
    expect(() => derive(nothing)).toThrow(
      `run ${RUN_ID}: has nothing to roll back: none of its actions changed anything (each was skipped, failed, or found already done)`,
    );
    const dryRun = { ...(await abortedFm3()), run: runRecord(runbook, "succeeded", FM3_INPUTS, true) };
    expect(() => derive(dryRun)).toThrow(`run ${RUN_ID}: has nothing to roll back: it was a dry run`);
  });
});

describe("compensations that need the state from before", () => {
  it("puts back each provider's saved metadata document, and makes a step by hand of a provider whose document was not kept", async () => {
    const runbook = await shipped("fm2-reimport-metadata");
    const saved = "/var/lib/breakglass/artefacts/run/update-emergency-providers-previous-EmergencyIdP-1a2b3c4d.xml";
    const steps = stepRecords(runbook, {
      "update-emergency-providers": applied(`import the file into ${PROVIDER}, ${SECONDARY}`, [
        {
          target: PROVIDER,
          before: "signing certificates sha256 aa",
          after: "signing certificates sha256 bb",
          savedBefore: saved,
        },
        { target: SECONDARY, before: "signing certificates sha256 cc", after: "signing certificates sha256 bb" },
      ]),
    });
    const derived = derive({
      runbook,
      run: runRecord(runbook, "failed", { incident: "INC-9", workforceSignIn: "working" }),
      steps,
    }).runbook;
    expect(derived.steps.map((step) => `${step.kind} ${step.id}`)).toEqual([
      "approval approve-undo-update-emergency-providers",
      "action undo-update-emergency-providers-1",
      "manual undo-update-emergency-providers-2",
    ]);
    expect(actionWith(derived, "undo-update-emergency-providers-1")).toEqual({
      action: "iam.update-saml-provider",
      with: { providers: [PROVIDER], document: saved },
    });
    const byHand = derived.steps[2];
    expect(byHand?.kind === "manual" ? byHand.instructions : "").toContain(
      `- ${SECONDARY}: now signing certificates sha256 bb, before signing certificates sha256 cc`,
    );
  });

  it("adds back removed members for as long as their lease was, and makes a step by hand of a member who had no lease", async () => {
    const runbook = await shipped("post-incident-recovery");
    const steps = stepRecords(runbook, {
      "verify-groups-empty": applied(`remove everyone from ${OPERATORS}`, [
        {
          target: `group ${OPERATORS}: dana@example.com`,
          before: "member",
          after: "not a member",
          membership: {
            group: "g1",
            groupName: OPERATORS,
            member: "dana@example.com",
            leaseMilliseconds: 4 * 3_600_000,
          },
        },
        {
          target: `group ${OPERATORS}: eve@example.com`,
          before: "member",
          after: "not a member",
          membership: { group: OPERATORS, member: "eve@example.com" },
        },
      ]),
    });
    const derived = derive({
      runbook,
      run: runRecord(runbook, "failed", { incident: "INC-9", groups: [OPERATORS] }),
      steps,
    }).runbook;
    // The group by its id (right even if renamed meanwhile); its display name in the title, for the approver.
    expect(actionWith(derived, "undo-verify-groups-empty-1")).toEqual({
      action: "idp.add-group-members",
      with: { groups: ["g1"], members: ["dana@example.com"], ttl: "4h" },
    });
    expect(derived.steps.find((step) => step.id === "undo-verify-groups-empty-1")?.title).toContain(
      `add back to ${OPERATORS} (g1) whom it removed, for 4h`,
    );
    const byHand = derived.steps[2];
    expect(byHand?.kind === "manual" ? byHand.instructions : "").toContain(
      `- group ${OPERATORS}: eve@example.com: now not a member, before member`,
    );
  });

  it("keeps text from the run literal: an incident written like a template is not filled in", async () => {
    const original = await abortedFm3();
    const run = { ...original.run, inputs: { ...FM3_INPUTS, incident: "INC-${inputs.groups}" } };
    const { runbook } = derive({ ...original, run });
    const close = runbook.steps.find((step) => step.id === "undo-declare-emergency");
    expect(close?.kind === "action" ? close.with : undefined).toEqual({ incident: "INC-$${inputs.groups}" });
  });
});
