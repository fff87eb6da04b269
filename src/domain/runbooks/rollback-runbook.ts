// Derives the runbook that rolls a finished run back: the compensation of each action it applied, newest first, each after a second person's approval.
import { stringify } from "yaml";
import { BreakglassError } from "../errors.js";
import { formatDuration } from "../shared/duration.js";
import type { ArtefactPaths, PlannedChange } from "./engine-ports.js";
import {
  ACTION_DESCRIPTIONS,
  COMPENSATIONS,
  type ActionName,
  type ActionStep,
  type Runbook,
} from "./runbook-schema.js";
import { resolveParameter, type TemplateValue } from "./runbook-template.js";
import { lookupInRun } from "./run-lookup.js";
import type { RunRecord, RunStepRecord, StepOutcomeRecord, StepStatus } from "./run-store.js";

/*
 * A rollback is itself a run, of a runbook derived here as text from the stored original run: so it has every guarantee
 * a run has (persisted after every step, leases, resume, audit, the two-person approval), and the SHA-256 of the text
 * pins the rollback run to exactly what was derived. The same stored run always yields the same text.
 *
 * What is undone: every action step that succeeded and changed something (applied, or its plan lists changes); dry
 * runs and steps that found the world already as asked changed nothing. What cannot be undone automatically (a state
 * breakglass did not keep, a membership without a lease) becomes a manual step saying what to do by hand: never skipped.
 */

export const ROLLBACK_RUNBOOK_PREFIX = "rollback-";
const MAX_ID_LENGTH = 64;

/** What the derivation reads of the original run: the run, the runbook it ran (as pinned by its digest), its steps and artefacts. */
export interface RunToRollBack {
  readonly run: RunRecord;
  readonly runbook: Runbook;
  readonly steps: readonly RunStepRecord[];
  readonly artefacts: ArtefactPaths;
}

/** The id of the runbook that rolls the run back: also the id of its first rollback run. */
export function rollbackRunbookId(runId: string): string {
  return `${ROLLBACK_RUNBOOK_PREFIX}${runId}`;
}

/** The run a rollback runbook id rolls back, or undefined when the id is not one. */
export function runIdOfRollback(runbookId: string): string | undefined {
  return runbookId.startsWith(ROLLBACK_RUNBOOK_PREFIX) && runbookId.length > ROLLBACK_RUNBOOK_PREFIX.length
    ? runbookId.slice(ROLLBACK_RUNBOOK_PREFIX.length)
    : undefined;
}

/** An action step of the original run that changed something, with its parameters as the run resolved them. */
interface AppliedAction {
  readonly step: ActionStep;
  readonly record: RunStepRecord;
  readonly parameters: Readonly<Record<string, TemplateValue>>;
  readonly changes: readonly PlannedChange[];
}

type DerivedStep = Record<string, unknown>;

/**
 * The rollback runbook's YAML text. Throws RUN_STATE when the run is still running or waiting (abort it first), or
 * when it applied nothing there is to undo.
 */
export function deriveRollbackRunbook(original: RunToRollBack): string {
  const { run, runbook } = original;
  if (run.status === "running" || run.status === "waiting") {
    throw new BreakglassError(
      "RUN_STATE",
      `run ${run.id}`,
      `is still ${run.status}: abort it first (breakglass runbook abort ${run.id}), then roll it back`,
    );
  }
  const id = rollbackRunbookId(run.id);
  if (id.length > MAX_ID_LENGTH || !/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(id)) {
    throw new BreakglassError(
      "USAGE",
      `run ${run.id}`,
      "its id cannot name a rollback runbook (expected lowercase letters, digits and single hyphens, at most 55 characters)",
    );
  }
  const applied = appliedActions(original);
  if (applied.length === 0) {
    const why = run.dryRun
      ? "it was a dry run"
      : "none of its actions changed anything (each was skipped, failed, or found already done)";
    throw new BreakglassError("RUN_STATE", `run ${run.id}`, `has nothing to roll back: ${why}`);
  }
  const steps = applied.reverse().flatMap((action) => undoSteps(action, run.id));
  const document = {
    id,
    title: `Roll back run ${run.id} of ${runbook.id}`,
    failureMode: "recovery",
    summary: literal(
      `Undoes what run ${run.id} of ${runbook.id} ("${runbook.title}", started by ${run.initiator}, ${run.status}) changed: ` +
        `the compensation of each of its ${applied.length} applied action${applied.length === 1 ? "" : "s"}, newest first. ` +
        "A second person approves each one before it is applied and read back; what breakglass cannot undo by itself is a step done by hand.",
    ),
    inputs: [],
    steps,
  };
  const header = `# Derived by breakglass from run ${run.id} of ${runbook.id}: the compensations of its applied actions, newest first.\n`;
  return header + stringify(document, { lineWidth: 0 });
}

/**
 * Whether an action step changed something a rollback would undo: it succeeded, and applied its plan, or its plan lists
 * changes (an apply interrupted by a crash and found done on resume reports applied: false, yet changed what it lists).
 */
export function actionChangedSomething(status: StepStatus, outcome: StepOutcomeRecord | null): boolean {
  return status === "succeeded" && (outcome?.applied === true || (outcome?.plan?.changes.length ?? 0) > 0);
}

function appliedActions(original: RunToRollBack): AppliedAction[] {
  const { run, runbook, steps, artefacts } = original;
  if (run.dryRun) return [];
  const lookup = lookupInRun(run, artefacts);
  const applied: AppliedAction[] = [];
  runbook.steps.forEach((step, index) => {
    const record = steps[index];
    if (step.kind !== "action" || record === undefined || !actionChangedSomething(record.status, record.outcome))
      return;
    const changes = record.outcome?.plan?.changes ?? [];
    const parameters: Record<string, TemplateValue> = {};
    for (const [name, value] of Object.entries(step.with) as [string, string | readonly string[] | undefined][]) {
      if (value !== undefined) parameters[name] = resolveParameter(value, lookup);
    }
    applied.push({ step, record, parameters, changes });
  });
  return applied;
}

/** An approval saying exactly what will be undone, then the compensation's steps. */
function undoSteps(action: AppliedAction, runId: string): DerivedStep[] {
  const { step } = action;
  const undoes = undoActions(action, runId);
  const changes = action.changes.map(
    (change) =>
      `- ${change.target}: ${change.before ?? "nothing"} → ${change.after ?? "nothing"}; back to ${change.before ?? "nothing"}`,
  );
  const reason = [
    `Undo step ${step.id} ("${step.title}") of run ${runId}, ` +
      `which ${ACTION_DESCRIPTIONS[step.action].does}. Its compensation ${ACTION_DESCRIPTIONS[step.action].undoes}.`,
    ...(changes.length === 0 ? [] : ["What it changed, and what will be put back:", ...changes]),
  ].join("\n");
  const approval = {
    id: stepId("approve-undo", step.id, action.record.position),
    title: `A second person approves undoing step ${step.id}`,
    kind: "approval",
    reason: literal(reason),
  };
  return [
    approval,
    ...undoes.map((undo, index) => ({
      id: stepId("undo", step.id, action.record.position, undoes.length === 1 ? undefined : index + 1),
      ...undo,
    })),
  ];
}

/** The compensation of one applied action: action steps where it can be automatic, manual steps where it cannot. */
function undoActions(action: AppliedAction, runId: string): DerivedStep[] {
  const { step, parameters } = action;
  const title = `Undo step ${step.id}`;
  switch (step.action) {
    case "emergency.open-window":
      return [compensation(step, title, { incident: parameters["incident"] })];
    case "emergency.close-window":
      return [
        compensation(step, title, {
          incident: parameters["incident"],
          reason: `rollback of run ${runId}: reopens the window step ${step.id} closed`,
        }),
      ];
    case "idp.add-group-members":
      return undoAddedMembers(action, title);
    case "idp.remove-group-members":
      return undoRemovedMembers(action, title);
    case "iam.update-saml-provider":
      return undoProviderUpdates(action, title);
  }
}

/** A group as a step title names it: "aws-emergency-operators (g1)" when the change kept its display name, else its id. */
function groupLabel(changes: readonly PlannedChange[], group: string): string {
  const name = changes.find((change) => change.membership?.group === group)?.membership?.groupName;
  return name === undefined || name === group ? group : `${name} (${group})`;
}

function undoAddedMembers(action: AppliedAction, title: string): DerivedStep[] {
  const added = action.changes.filter((change) => change.membership !== undefined);
  const steps = byGroup(added).map(([group, members]) =>
    compensation(action.step, `${title}: remove from ${groupLabel(added, group)} whom it added`, {
      groups: [group],
      members,
    }),
  );
  const unknown = action.changes.filter(
    (change) => change.membership === undefined && change.before === "not a member",
  );
  if (unknown.length > 0)
    steps.push(
      byHand(
        `${title} by hand`,
        "Remove these members, whom the step added, from the groups in the IdP's admin console:",
        unknown,
        "The members listed are no longer in those groups.",
      ),
    );
  return steps;
}

function undoRemovedMembers(action: AppliedAction, title: string): DerivedStep[] {
  const removed = action.changes.filter((change) => change.membership !== undefined);
  const leased = removed.filter((change) => change.membership?.leaseMilliseconds !== undefined);
  // Grouped by group and lease length: each add-back step takes one ttl.
  const batches = new Map<string, { group: string; ttl: string; members: string[] }>();
  for (const change of leased) {
    const membership = change.membership as NonNullable<PlannedChange["membership"]>;
    const ttl = formatDuration(membership.leaseMilliseconds as number);
    const key = JSON.stringify([membership.group, ttl]);
    const batch = batches.get(key) ?? { group: membership.group, ttl, members: [] };
    batch.members.push(membership.member);
    batches.set(key, batch);
  }
  const steps = [...batches.values()].map((batch) =>
    compensation(
      action.step,
      `${title}: add back to ${groupLabel(leased, batch.group)} whom it removed, for ${batch.ttl}`,
      {
        groups: [batch.group],
        members: batch.members,
        ttl: batch.ttl,
      },
    ),
  );
  // breakglass adds members only on a lease, so a member who had none is put back by hand, as they were.
  const unleased = action.changes.filter(
    (change) =>
      (change.membership !== undefined && change.membership.leaseMilliseconds === undefined) ||
      (change.membership === undefined && change.before === "member"),
  );
  if (unleased.length > 0) {
    steps.push(
      byHand(
        `${title} by hand`,
        "Add these members back to the groups in the IdP's admin console; they were members without a breakglass lease, which breakglass cannot recreate:",
        unleased,
        "The members listed are back in those groups.",
      ),
    );
  }
  return steps;
}

function undoProviderUpdates(action: AppliedAction, title: string): DerivedStep[] {
  const steps: DerivedStep[] = [];
  const unsaved: PlannedChange[] = [];
  for (const change of action.changes) {
    if (change.savedBefore === undefined) unsaved.push(change);
    else
      steps.push(
        compensation(action.step, `${title}: put back the document ${change.target} held`, {
          providers: [change.target],
          document: change.savedBefore,
        }),
      );
  }
  if (unsaved.length > 0) {
    steps.push(
      byHand(
        `${title} by hand`,
        "breakglass did not keep the metadata document these emergency IAM SAML providers held before the " +
          "step. Import the document each held (from the IdP's previous metadata, or your backup) with `aws " +
          "iam update-saml-provider --saml-provider-arn <ARN> --saml-metadata-document file://<file>`:",
        unsaved,
        "Each provider listed holds its earlier document again.",
      ),
    );
  }
  return steps;
}

function compensation(
  step: ActionStep,
  title: string,
  parameters: Readonly<Record<string, TemplateValue | undefined>>,
): DerivedStep {
  const action: ActionName = COMPENSATIONS[step.action];
  const values: Record<string, TemplateValue> = {};
  for (const [name, value] of Object.entries(parameters))
    if (value !== undefined) values[name] = typeof value === "string" ? literal(value) : value.map(literal);
  return { title: literal(title), kind: "action", action, with: values, compensate: COMPENSATIONS[action] };
}

function byHand(title: string, instructions: string, changes: readonly PlannedChange[], confirm: string): DerivedStep {
  const list = changes.map(
    (change) => `- ${change.target}: now ${change.after ?? "nothing"}, before ${change.before ?? "nothing"}`,
  );
  return {
    title: literal(title),
    kind: "manual",
    instructions: literal([instructions, "", ...list].join("\n")),
    confirm: literal(confirm),
  };
}

function byGroup(changes: readonly PlannedChange[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const change of changes) {
    const membership = change.membership as NonNullable<PlannedChange["membership"]>;
    groups.set(membership.group, [...(groups.get(membership.group) ?? []), membership.member]);
  }
  return [...groups.entries()];
}

/** `undo-<step>` (with `-<n>` when a step takes several), or by position when the original id would make it too long. */
function stepId(prefix: string, original: string, position: number, part?: number): string {
  const suffix = part === undefined ? "" : `-${part}`;
  const id = `${prefix}-${original}${suffix}`;
  return id.length <= MAX_ID_LENGTH ? id : `${prefix}-step-${position + 1}${suffix}`;
}

/** Text from the run goes into the runbook as it is: `${` would otherwise be read as a template reference. */
function literal(text: string): string {
  // A function, since `$$` in a replacement string means one `$`.
  return text.replaceAll("${", () => "$${");
}
