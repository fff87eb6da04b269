// The one schema of a runbook (runbooks/*.yaml): its inputs, its ordered steps of five closed kinds, and how steps may refer to each other.
import { DURATION_DESCRIPTION, parseDuration } from "../shared/duration.js";
import { z } from "zod";
import { FINDING_CODES, type FindingCode } from "../checks/finding-codes.js";
import { CHECK_NAMES } from "../checks/check-names.js";
import { closestName } from "../shared/closest-name.js";
import { parseReference, RUN_VARIABLES, scanTemplate, wholeReference } from "./runbook-template.js";

/*
 * How an engine runs a runbook — the contract this schema exists to make unambiguous:
 *
 * - Steps run one at a time, in file order. Each ends with one outcome: succeeded, failed or skipped.
 * - `when` is evaluated just before the step: false means the step is skipped and the run moves on.
 *   `{ input, equals }` is true when the input's value is exactly that text (an optional input without a value
 *   is never equal); `{ step, outcome }` tests a step that comes EARLIER in the file (enforced here).
 * - A step fails when: a check's expectation does not hold (after its retries) or the check cannot run; an action's
 *   plan, apply or read-back verification fails; an operator reports a manual step could not be done; an approval is
 *   rejected; a notification cannot be delivered.
 * - `onFailure`: `stop` (the default) halts the run at that step, resumable once the cause is fixed; `continue` records
 *   the failure and runs the next step; `{ goto: id }` jumps to a LATER step (enforced here, so a run always ends),
 *   and the steps jumped over are skipped.
 * - An action is planned (and the plan shown), applied, then read back to verify. Its `compensate` names the action
 *   that undoes it; an engine runs compensations only when an operator rolls a run back, newest first, with the
 *   step's own `with` and the state it recorded before applying — never on its own after a failure, because undoing
 *   emergency access in the middle of an emergency is worse than the failure.
 * - Artefacts are files a run keeps: a check step with `produces: metadata-file` keeps the exact metadata document it
 *   inspected, and from then on every check and `iam.update-saml-provider` in the run use that document, so what was
 *   inspected, approved, imported and verified is one document. `emergency.close-window` produces the
 *   `activity-summary` (what the emergency principals did during the window). A step needing an artefact comes after
 *   the step producing it (enforced here); if that step was skipped, the needing step fails rather than guess.
 * - Window actions are idempotent per incident: opening an open window or closing a closed one (or one never
 *   opened, as after a planned FM2) changes nothing, and closing still yields the incident's activity-summary.
 * - Templates: `${inputs.<name>}`, `${artefacts.<name>}` (the artefact's file path), `${run.id}`, `${run.initiator}`;
 *   `$${` writes a literal `${`. An action parameter that is exactly one `${inputs.<name>}` takes the input's value as
 *   it is, so a list input stays a list.
 */

export const FAILURE_MODES = ["FM1", "FM2", "FM3", "recovery"] as const;
export type FailureMode = (typeof FAILURE_MODES)[number];

export const INPUT_TYPES = ["string", "duration", "list", "account-id", "email"] as const;
export type InputType = (typeof INPUT_TYPES)[number];

export const STEP_KINDS = ["check", "action", "manual", "approval", "notify"] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** What the engine knows how to plan, apply and verify. A new action is code first, then an entry here. */
export const ACTION_NAMES = [
  "iam.update-saml-provider",
  "idp.add-group-members",
  "idp.remove-group-members",
  "emergency.open-window",
  "emergency.close-window",
] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

export const ARTEFACTS = ["metadata-file", "activity-summary"] as const;
export type Artefact = (typeof ARTEFACTS)[number];

export const CHANNELS = ["incident", "security", "alerts"] as const;
export type Channel = (typeof CHANNELS)[number];

export const STEP_OUTCOMES = ["succeeded", "failed", "skipped"] as const;
export type StepOutcome = (typeof STEP_OUTCOMES)[number];

/**
 * clean: no finding is high or critical, other than the codes in `tolerate`.
 * findings: at least one finding has a code in `codes` (without `codes`: at least one high or critical finding).
 * any: the findings are shown and never fail the step.
 */
export const EXPECTATIONS = ["clean", "findings", "any"] as const;
export type Expectation = (typeof EXPECTATIONS)[number];

/** `members: everyone` in idp.remove-group-members: empty the groups, and verify they are empty. */
export const EVERYONE = "everyone";

/** The action that undoes each action; only emergency.close-window may leave it out. */
export const COMPENSATIONS = {
  "iam.update-saml-provider": "iam.update-saml-provider",
  "idp.add-group-members": "idp.remove-group-members",
  "idp.remove-group-members": "idp.add-group-members",
  "emergency.open-window": "emergency.close-window",
  "emergency.close-window": "emergency.open-window",
} as const satisfies Record<ActionName, ActionName>;

export interface ActionDescription {
  readonly does: string;
  readonly verifies: string;
  readonly undoes: string;
}

/** What each action does, how its result is read back, and what its compensation restores: for `runbook show` and the engine's plans. */
export const ACTION_DESCRIPTIONS: Readonly<Record<ActionName, ActionDescription>> = {
  "iam.update-saml-provider": {
    does: "re-imports the run's metadata-file into each emergency IAM SAML provider (iam:UpdateSAMLProvider)",
    verifies: "reads each provider back (iam:GetSAMLProvider) and compares its signing certificates with the file's",
    undoes: "puts back the metadata document each provider held before this step",
  },
  "idp.add-group-members": {
    does: "adds the members to the emergency IdP groups, each membership on a lease that ends after `ttl` (breakglass removes them itself when it ends)",
    verifies: "reads each group's members back from the IdP",
    undoes: "removes the members this step added",
  },
  "idp.remove-group-members": {
    does: "removes the members from the emergency IdP groups (with `members: everyone`, every member) and ends their leases",
    verifies: "reads each group back from the IdP: the members are gone (with `members: everyone`, the group is empty)",
    undoes: "adds back the members this step removed, with the leases they had",
  },
  "emergency.open-window": {
    does: "declares the emergency: activity by the emergency principals goes to the incident's timeline instead of alerting security as misuse",
    verifies: "reads the open window back from the store",
    undoes: "closes the window",
  },
  "emergency.close-window": {
    does:
      "ends the emergency window (from now on any activity by the emergency principals alerts security) " +
      "and summarises their activity during it as the activity-summary",
    verifies: "reads the closed window back from the store",
    undoes: "reopens the window",
  },
};

export const ARTEFACT_DESCRIPTIONS: Readonly<Record<Artefact, string>> = {
  "metadata-file": "the exact IdP metadata document this run inspected, byte for byte",
  "activity-summary": "what the emergency principals did in the emergency account during the window, from CloudTrail",
};

const FINDING_CODE_NAMES = Object.keys(FINDING_CODES) as [FindingCode, ...FindingCode[]];

/*
 * Every message says only what was expected: the loader, which knows the YAML, adds what the file holds ("got …")
 * and the line. Messages of the cross-reference rules below are whole sentences, since they are about two places.
 */
function expected(description: string): { error: string } {
  return { error: `expected ${description}` };
}

function nonEmptyString(description: string) {
  return z.string(expected(description)).min(1, expected(description));
}

const KEBAB_CASE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const INPUT_NAME = /^[a-z][a-zA-Z0-9]*$/;
const ACCOUNT_ID = /^\d{12}$/;
// Deliberately loose: the IdP is the judge of an address; this catches a name typed where an address belongs.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const WHOLE_INPUT_REFERENCE = /^\$\{\s*inputs\.[A-Za-z0-9]+\s*\}$/;

const RUNBOOK_ID_DESCRIPTION =
  "a runbook id in kebab-case (lowercase letters, digits and single hyphens), at most 64 characters";
const STEP_ID_DESCRIPTION =
  "a step id in kebab-case (lowercase letters, digits and single hyphens), at most 64 characters";
const INPUT_NAME_DESCRIPTION =
  "an input name in camelCase (a lowercase letter, then letters and digits), at most 64 characters";

const runbookIdSchema = z
  .string(expected(RUNBOOK_ID_DESCRIPTION))
  .regex(KEBAB_CASE, expected(RUNBOOK_ID_DESCRIPTION))
  .max(64, expected(RUNBOOK_ID_DESCRIPTION));
const stepIdSchema = z
  .string(expected(STEP_ID_DESCRIPTION))
  .regex(KEBAB_CASE, expected(STEP_ID_DESCRIPTION))
  .max(64, expected(STEP_ID_DESCRIPTION));
const inputNameSchema = z
  .string(expected(INPUT_NAME_DESCRIPTION))
  .regex(INPUT_NAME, expected(INPUT_NAME_DESCRIPTION))
  .max(64, expected(INPUT_NAME_DESCRIPTION));
const durationSchema = z
  .string(expected(DURATION_DESCRIPTION))
  .refine((value) => parseDuration(value) !== undefined, expected(DURATION_DESCRIPTION));

export { parseDuration };

const inputSchema = z.strictObject(
  {
    name: inputNameSchema,
    description: nonEmptyString("a description of the input"),
    type: z.enum(INPUT_TYPES, expected(`an input type (${INPUT_TYPES.join(", ")})`)),
    required: z.boolean(expected("true or false")),
    // Checked against the type below, where the type is known.
    default: z
      .union([z.string(), z.array(z.string())], expected("a text value, or a list of them for a list input"))
      .optional(),
    choices: z
      .array(nonEmptyString("a non-empty string"), expected("a list of the values allowed"))
      .min(2, expected("at least two values"))
      .optional(),
  },
  expected("an input: a mapping with name, description, type and required"),
);
export type RunbookInput = z.output<typeof inputSchema>;

/** Why a value does not fit the input (`expected …, got …`), or undefined when it fits: for defaults here and operators' values in a run. */
export function checkInputValue(input: Pick<RunbookInput, "type" | "choices">, value: unknown): string | undefined {
  const got = `got ${JSON.stringify(value) ?? String(value)}`;
  if (input.type === "list") {
    return Array.isArray(value) &&
      value.length > 0 &&
      value.every((item) => typeof item === "string" && item.trim() !== "")
      ? undefined
      : `expected a list of one or more non-empty strings, ${got}`;
  }
  if (typeof value !== "string" || value.trim() === "") return `expected a non-empty string, ${got}`;
  switch (input.type) {
    case "string":
      return input.choices === undefined || input.choices.includes(value)
        ? undefined
        : `expected one of ${input.choices.join(", ")}, ${got}`;
    case "duration":
      return parseDuration(value) === undefined ? `expected ${DURATION_DESCRIPTION}, ${got}` : undefined;
    case "account-id":
      return ACCOUNT_ID.test(value) ? undefined : `expected a 12-digit AWS account ID in quotes, ${got}`;
    case "email":
      return EMAIL.test(value) ? undefined : `expected an email address, ${got}`;
  }
}

const conditionSchema = z.union(
  [
    z.strictObject({ input: inputNameSchema, equals: z.string(expected("the text to compare the input with")) }),
    z.strictObject({
      step: stepIdSchema,
      outcome: z.enum(STEP_OUTCOMES, expected(`an outcome (${STEP_OUTCOMES.join(", ")})`)),
    }),
  ],
  expected("a condition: { input: <name>, equals: <text> } or { step: <id>, outcome: succeeded | failed | skipped }"),
);
export type StepCondition = z.output<typeof conditionSchema>;

const onFailureSchema = z.union(
  [z.enum(["stop", "continue"]), z.strictObject({ goto: stepIdSchema })],
  expected("stop, continue or { goto: <id of a later step> }"),
);
export type OnFailure = z.output<typeof onFailureSchema>;

const stepFields = {
  id: stepIdSchema,
  title: nonEmptyString("a short title"),
  /** Why the step is there, for the responder (Markdown). */
  description: nonEmptyString("a description (Markdown)").optional(),
  when: conditionSchema.optional(),
  onFailure: onFailureSchema.default("stop"),
};

function findingCodes(description: string) {
  return z
    .array(
      z.enum(FINDING_CODE_NAMES, expected("a finding code from src/domain/checks/finding-codes.ts")),
      expected(`a list of finding codes ${description}`),
    )
    .min(1, expected(`at least one finding code ${description}`));
}

function stepOf<Shape extends z.ZodRawShape>(kind: string, shape: Shape) {
  return z.strictObject(
    { ...stepFields, ...shape },
    expected(`a ${kind} step: a mapping with id, title, kind and its fields`),
  );
}

const checkStepSchema = stepOf("check", {
  kind: z.literal("check"),
  checks: z
    .array(z.enum(CHECK_NAMES, expected(`a check name (${CHECK_NAMES.join(", ")})`)), expected("a list of check names"))
    .min(1, expected("at least one check name")),
  expect: z.enum(EXPECTATIONS, expected(`what the checks should find (${EXPECTATIONS.join(", ")})`)),
  codes: findingCodes("the step expects (at least one of them must be found)").optional(),
  tolerate: findingCodes("that do not count against clean").optional(),
  produces: z.literal("metadata-file", expected("metadata-file (the only artefact a check produces)")).optional(),
  /**
   * An optional string input: when the run was given it and the checks' verdict fails, the step succeeds anyway as
   * overridden, with that input as the reason, recorded and shown to whoever approves next (fm3 when Identity Center
   * answers as healthy while its portal fails for people).
   */
  overriddenBy: nonEmptyString("the name of an optional string input that holds the reason for an override").optional(),
  retry: z
    .strictObject(
      {
        attempts: z
          .number(expected("a whole number from 2 to 60"))
          .int(expected("a whole number from 2 to 60"))
          .min(2, expected("a whole number from 2 to 60"))
          .max(60, expected("a whole number from 2 to 60")),
        interval: durationSchema,
      },
      expected("a mapping with attempts and interval"),
    )
    .optional(),
});

// `${inputs.x}` where a list belongs: the loader's cross-reference rules check that x is a list input.
const LIST_DESCRIPTION = "a list of non-empty strings, or exactly one ${inputs.<list input>}";
const listValueSchema = z.union(
  [
    z.array(nonEmptyString("a non-empty string")).min(1, expected("at least one item")),
    z.string().regex(WHOLE_INPUT_REFERENCE),
  ],
  expected(LIST_DESCRIPTION),
);
const DURATION_VALUE_DESCRIPTION = `${DURATION_DESCRIPTION}, or exactly one \${inputs.<duration input>}`;
const durationValueSchema = z
  .string(expected(DURATION_VALUE_DESCRIPTION))
  .refine(
    (value) => parseDuration(value) !== undefined || WHOLE_INPUT_REFERENCE.test(value),
    expected(DURATION_VALUE_DESCRIPTION),
  );
const textValueSchema = nonEmptyString("a non-empty string");

/** zod types a discriminated union's issues as a missing discriminator, but a value that is no mapping at all arrives here too. */
function notAMapping(issue: { readonly code: string }): boolean {
  return issue.code === "invalid_type";
}

function compensation<Name extends ActionName>(action: Name) {
  const undo: (typeof COMPENSATIONS)[Name] = COMPENSATIONS[action];
  return z.literal(undo, expected(`${undo} (the action that undoes ${action})`));
}

function parameters<Shape extends z.ZodRawShape>(shape: Shape) {
  const keys = Object.keys(shape);
  return z.strictObject(shape, expected(keys.length === 0 ? "an empty mapping" : `a mapping with ${keys.join(", ")}`));
}

function actionOf<Name extends ActionName, Shape extends z.ZodRawShape>(action: Name, shape: Shape) {
  return stepOf("action", { kind: z.literal("action"), action: z.literal(action), ...shape });
}

const actionStepSchema = z.discriminatedUnion(
  "action",
  [
    actionOf("iam.update-saml-provider", {
      // Absent: every provider in aws.emergencyAccount.samlProviders. `document`: a metadata file to import instead of the
      // run's metadata-file, as a rollback puts back the document a provider held before (only files breakglass saved).
      with: parameters({ providers: listValueSchema.optional(), document: textValueSchema.optional() }).prefault({}),
      compensate: compensation("iam.update-saml-provider"),
    }),
    actionOf("idp.add-group-members", {
      with: parameters({ groups: listValueSchema, members: listValueSchema, ttl: durationValueSchema }),
      compensate: compensation("idp.add-group-members"),
    }),
    actionOf("idp.remove-group-members", {
      with: parameters({
        groups: listValueSchema,
        members: z.union([z.literal(EVERYONE), listValueSchema], expected(`${LIST_DESCRIPTION}, or ${EVERYONE}`)),
      }),
      compensate: compensation("idp.remove-group-members"),
    }),
    actionOf("emergency.open-window", {
      with: parameters({ incident: textValueSchema, reason: textValueSchema.optional() }),
      compensate: compensation("emergency.open-window"),
    }),
    actionOf("emergency.close-window", {
      with: parameters({ incident: textValueSchema }),
      // Optional: closing is itself the end of the emergency.
      compensate: compensation("emergency.close-window").optional(),
    }),
  ],
  {
    error: (issue) =>
      notAMapping(issue)
        ? "expected an action step"
        : `expected an action breakglass knows (${ACTION_NAMES.join(", ")})`,
  },
);

const manualStepSchema = stepOf("manual", {
  kind: z.literal("manual"),
  instructions: nonEmptyString("instructions for the operator (Markdown)"),
  artefact: z.enum(ARTEFACTS, expected(`an artefact (${ARTEFACTS.join(", ")})`)).optional(),
  confirm: nonEmptyString("the statement the operator must acknowledge").optional(),
  /** A question the operator answers in free text, kept in the run and the audit log (who checked out which credential). */
  record: nonEmptyString("the question the operator answers in writing").optional(),
  /**
   * "saml-response": an answer that is a SAML response (pasted XML or base64) is preflighted as AWS would judge it; the
   * verdict is recorded instead of the response (a bearer credential), and a response AWS would refuse does not confirm.
   */
  preflight: z.literal("saml-response", expected('"saml-response"')).optional(),
});

const approvalStepSchema = stepOf("approval", {
  kind: z.literal("approval"),
  reason: nonEmptyString("a non-empty string"),
});

const notifyStepSchema = stepOf("notify", {
  kind: z.literal("notify"),
  channel: z.enum(CHANNELS, expected(`a channel (${CHANNELS.join(", ")})`)),
  message: nonEmptyString("a message"),
});

const stepSchema = z.discriminatedUnion(
  "kind",
  [checkStepSchema, actionStepSchema, manualStepSchema, approvalStepSchema, notifyStepSchema],
  {
    error: (issue) =>
      notAMapping(issue)
        ? "expected a step: a mapping with id, title and kind"
        : `expected a step kind (${STEP_KINDS.join(", ")})`,
  },
);

const runbookShape = z.strictObject(
  {
    id: runbookIdSchema,
    title: nonEmptyString("a title"),
    failureMode: z.enum(FAILURE_MODES, expected(`a failure mode (${FAILURE_MODES.join(", ")})`)),
    summary: nonEmptyString("a summary (Markdown)"),
    inputs: z.array(inputSchema, expected("a list of inputs")).default([]),
    steps: z.array(stepSchema, expected("a list of steps")).min(1, expected("at least one step")),
  },
  expected("a runbook: a mapping with id, title, failureMode, summary, inputs and steps"),
);

export const runbookSchema = runbookShape.superRefine((runbook, context) => {
  for (const problem of referenceProblems(runbook))
    context.addIssue({ code: "custom", path: [...problem.path], message: problem.message });
});

export type Runbook = z.output<typeof runbookSchema>;
export type RunbookStep = Runbook["steps"][number];
export type CheckStep = Extract<RunbookStep, { kind: "check" }>;
export type ActionStep = Extract<RunbookStep, { kind: "action" }>;
export type ManualStep = Extract<RunbookStep, { kind: "manual" }>;
export type ApprovalStep = Extract<RunbookStep, { kind: "approval" }>;
export type NotifyStep = Extract<RunbookStep, { kind: "notify" }>;

type ParameterType = "text" | "list" | "duration" | "members";
type ParametersOf<Name extends ActionName> = Extract<ActionStep, { action: Name }>["with"];

/** The shape of each action parameter, typed against the schema so that both stay in step. */
export const ACTION_PARAMETERS: {
  readonly [Name in ActionName]: { readonly [Key in keyof ParametersOf<Name>]-?: ParameterType };
} = {
  "iam.update-saml-provider": { providers: "list", document: "text" },
  "idp.add-group-members": { groups: "list", members: "list", ttl: "duration" },
  "idp.remove-group-members": { groups: "list", members: "members" },
  "emergency.open-window": { incident: "text", reason: "text" },
  "emergency.close-window": { incident: "text" },
};

/** The artefact a step leaves in the run, if any. */
export function artefactProducedBy(step: RunbookStep): Artefact | undefined {
  if (step.kind === "check") return step.produces;
  if (step.kind === "action" && step.action === "emergency.close-window") return "activity-summary";
  return undefined;
}

/** The artefact a step cannot run without, if any. */
export function artefactNeededBy(step: RunbookStep): Artefact | undefined {
  if (step.kind === "manual") return step.artefact;
  if (step.kind === "action" && step.action === "iam.update-saml-provider" && step.with.document === undefined)
    return "metadata-file";
  return undefined;
}

const ARTEFACT_PRODUCERS: Readonly<Record<Artefact, string>> = {
  "metadata-file": "a check step running metadata with produces: metadata-file",
  "activity-summary": "an emergency.close-window action",
};

type Path = readonly (string | number)[];

interface ReferenceProblem {
  readonly path: Path;
  readonly message: string;
}

type RunbookShape = z.output<typeof runbookShape>;
type StepShape = RunbookShape["steps"][number];

/** The rules that span more than one field: unique names, earlier/later steps, declared inputs, available artefacts. */
function referenceProblems(runbook: RunbookShape): ReferenceProblem[] {
  const problems: ReferenceProblem[] = [];
  const report = (path: Path, message: string) => problems.push({ path, message });

  const inputs = new Map<string, RunbookInput>();
  runbook.inputs.forEach((input, index) => {
    const at = (field: string): Path => ["inputs", index, field];
    if (inputs.has(input.name)) report(at("name"), `duplicate input name "${input.name}"`);
    else inputs.set(input.name, input);
    if (input.choices !== undefined && input.type !== "string")
      report(at("choices"), `choices apply only to string inputs, and this one is a ${input.type}`);
    if (input.default === undefined) return;
    if (input.required)
      report(at("default"), "a required input takes no default: set required: false, or remove the default");
    else {
      const wrong = checkInputValue(input, input.default);
      if (wrong !== undefined) report(at("default"), wrong);
    }
  });

  const positions = new Map<string, number>();
  runbook.steps.forEach((step, index) => {
    const first = positions.get(step.id);
    if (first === undefined) positions.set(step.id, index);
    else report(["steps", index, "id"], `duplicate step id "${step.id}": step ${first + 1} already has it`);
  });
  const stepIds = [...positions.keys()];

  const produced = new Map<Artefact, string>();
  runbook.steps.forEach((step, index) => {
    const at = (...rest: (string | number)[]): Path => ["steps", index, ...rest];

    if (step.when !== undefined && "step" in step.when) {
      const target = positions.get(step.when.step);
      if (target === undefined) report(at("when", "step"), unknownStep(step.when.step, stepIds));
      else if (target >= index) {
        report(
          at("when", "step"),
          `when can only test a step that comes before it, but "${step.when.step}" is ${target === index ? "this step" : `step ${target + 1}, after it`}`,
        );
      }
    }
    if (step.when !== undefined && "input" in step.when) {
      const input = inputs.get(step.when.input);
      if (input === undefined)
        report(
          at("when", "input"),
          `no input is named "${step.when.input}" ${undeclaredInput(step.when.input, inputs, (name) => `"${name}"`)}`,
        );
      else if (input.type === "list")
        report(at("when", "input"), `"${input.name}" is a list input; when compares a single value`);
      else if (input.choices !== undefined && !input.choices.includes(step.when.equals)) {
        report(
          at("when", "equals"),
          `"${step.when.equals}" is not one of the choices of input "${input.name}" (${input.choices.join(", ")}), so this condition could never hold`,
        );
      }
    }

    if (typeof step.onFailure === "object") {
      const target = positions.get(step.onFailure.goto);
      if (target === undefined) report(at("onFailure", "goto"), unknownStep(step.onFailure.goto, stepIds));
      else if (target <= index) {
        report(
          at("onFailure", "goto"),
          `goto only jumps forward, so that a run always ends, but "${step.onFailure.goto}" ` +
            `is ${target === index ? "this step" : `step ${target + 1}, before it`}`,
        );
      }
    }

    for (const [field, text] of textFields(step)) {
      const problem = templateProblem(text, inputs, produced);
      if (problem !== undefined) report(at(...field), problem);
    }

    if (step.kind === "check") {
      if (step.codes !== undefined && step.expect !== "findings")
        report(at("codes"), `codes apply only to expect: findings, and this step expects ${step.expect}`);
      if (step.tolerate !== undefined && step.expect !== "clean")
        report(at("tolerate"), `tolerate applies only to expect: clean, and this step expects ${step.expect}`);
      if (step.produces !== undefined && !step.checks.includes("metadata"))
        report(at("produces"), "only a step that runs the metadata check can produce metadata-file");
      if (step.overriddenBy !== undefined) {
        const input = inputs.get(step.overriddenBy);
        if (input === undefined)
          report(
            at("overriddenBy"),
            `no input is named "${step.overriddenBy}" ${undeclaredInput(step.overriddenBy, inputs, (name) => `"${name}"`)}`,
          );
        else if (
          input.type !== "string" ||
          input.required ||
          input.default !== undefined ||
          input.choices !== undefined
        )
          report(
            at("overriddenBy"),
            `"${input.name}" must be an optional string input without a default or choices: an override needs a reason someone wrote for this run`,
          );
        if (step.expect === "any")
          report(at("overriddenBy"), "a step that expects any never fails, so it has nothing to override");
      }
    }
    if (step.kind === "action") {
      for (const [name, value] of Object.entries(step.with) as [string, unknown][]) {
        const problem = parameterProblem(step.action, name, value, inputs);
        if (problem !== undefined) report(at("with", name), problem);
      }
    }

    const needed = artefactNeededBy(step);
    if (needed !== undefined && !produced.has(needed)) {
      const field = step.kind === "manual" ? "artefact" : "action";
      const user =
        step.kind === "manual" ? "this step attaches" : `${step.kind === "action" ? step.action : step.kind} uses`;
      report(at(field), `${user} the run's ${needed}, but no earlier step produces it (${ARTEFACT_PRODUCERS[needed]})`);
    }
    const made = artefactProducedBy(step);
    if (made !== undefined) {
      const earlier = produced.get(made);
      if (earlier === undefined) produced.set(made, step.id);
      else
        report(
          at(step.kind === "check" ? "produces" : "action"),
          `step "${earlier}" already produces ${made}; a run keeps one`,
        );
    }
  });
  return problems;
}

/** Every text of a step that may hold template references, with its path inside the step. */
function textFields(step: StepShape): [(string | number)[], string][] {
  const fields: [(string | number)[], string][] = [[["title"], step.title]];
  if (step.description !== undefined) fields.push([["description"], step.description]);
  switch (step.kind) {
    case "manual":
      fields.push([["instructions"], step.instructions]);
      if (step.confirm !== undefined) fields.push([["confirm"], step.confirm]);
      if (step.record !== undefined) fields.push([["record"], step.record]);
      break;
    case "approval":
      fields.push([["reason"], step.reason]);
      break;
    case "notify":
      fields.push([["message"], step.message]);
      break;
    case "action":
      for (const [name, value] of Object.entries(step.with) as [string, unknown][]) {
        if (typeof value === "string") fields.push([["with", name], value]);
        else if (Array.isArray(value))
          value.forEach((item, index) => typeof item === "string" && fields.push([["with", name, index], item]));
      }
      break;
    case "check":
      break;
  }
  return fields;
}

function templateProblem(
  text: string,
  inputs: ReadonlyMap<string, RunbookInput>,
  produced: ReadonlyMap<Artefact, string>,
): string | undefined {
  const scan = scanTemplate(text);
  if (scan.error !== undefined) return scan.error;
  for (const part of scan.parts) {
    if (part.kind !== "reference") continue;
    const written = `\${${part.reference}}`;
    const reference = parseReference(part.reference);
    if (reference === undefined) {
      return (
        `${written} is not a reference breakglass knows: use \${inputs.<name>}, \${artefacts.<name>}, ` +
        `\${run.id} or \${run.initiator} (write $\${ for a literal \${)`
      );
    }
    if (reference.scope === "inputs" && !inputs.has(reference.name))
      return `${written} names no declared input ${undeclaredInput(reference.name, inputs, (name) => `\${inputs.${name}}`)}`;
    if (reference.scope === "run" && !(RUN_VARIABLES as readonly string[]).includes(reference.name)) {
      return `${written} is not a run variable (${RUN_VARIABLES.map((name) => `\${run.${name}}`).join(", ")})`;
    }
    if (reference.scope === "artefacts") {
      const artefact = ARTEFACTS.find((name) => name === reference.name);
      if (artefact === undefined) return `${written} names no artefact (${ARTEFACTS.join(", ")})`;
      if (!produced.has(artefact))
        return `${written} is not available here: no earlier step produces it (${ARTEFACT_PRODUCERS[artefact]})`;
    }
  }
  return undefined;
}

/** A parameter that is one whole `${inputs.x}` takes x's value as it is, so x must have the parameter's shape. */
function parameterProblem(
  action: ActionName,
  name: string,
  value: unknown,
  inputs: ReadonlyMap<string, RunbookInput>,
): string | undefined {
  const parameterTypes: Readonly<Record<string, ParameterType>> = ACTION_PARAMETERS[action];
  const type = parameterTypes[name];
  if (type === undefined || type === "text" || typeof value !== "string") return undefined;
  const reference = wholeReference(value);
  if (reference === undefined || reference.scope !== "inputs") return undefined;
  const input = inputs.get(reference.name);
  // An undeclared input is reported by the template rule.
  if (input === undefined) return undefined;
  const wanted = type === "duration" ? "duration" : "list";
  return input.type === wanted
    ? undefined
    : `\${inputs.${input.name}} is a ${input.type} input, but ${name} takes a ${wanted}: declare ${input.name} with type: ${wanted}`;
}

function unknownStep(id: string, stepIds: readonly string[]): string {
  const suggestion = closestName(id, stepIds);
  return `no step has the id "${id}"${suggestion === undefined ? "" : ` (did you mean "${suggestion}"?)`}`;
}

function undeclaredInput(
  name: string,
  inputs: ReadonlyMap<string, RunbookInput>,
  quote: (name: string) => string,
): string {
  const suggestion = closestName(name, inputs.keys());
  if (suggestion !== undefined) return `(did you mean ${quote(suggestion)}?)`;
  return inputs.size === 0 ? "(this runbook declares none)" : `(declared: ${[...inputs.keys()].join(", ")})`;
}
