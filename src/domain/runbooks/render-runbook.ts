// A runbook as Markdown for the responder who reads it at 3 a.m.: what each step does, when it runs, what happens when it fails.
import {
  ACTION_DESCRIPTIONS,
  ARTEFACT_DESCRIPTIONS,
  type ActionDescription,
  artefactProducedBy,
  EVERYONE,
  type ActionStep,
  type Artefact,
  type CheckStep,
  type FailureMode,
  type Runbook,
  type RunbookInput,
  type RunbookStep,
  type StepCondition,
} from "./runbook-schema.js";
import { scanTemplate } from "./runbook-template.js";

const FAILURE_MODE_NAMES: Readonly<Record<FailureMode, string>> = {
  FM1: "FM1 — the identity provider is unavailable",
  FM2: "FM2 — the IdP configuration on AWS was modified or has expired",
  FM3: "FM3 — IAM Identity Center or its Region is disrupted",
  recovery: "post-incident recovery",
};

const KIND_LABELS: Readonly<Record<RunbookStep["kind"], string>> = {
  check: "check",
  action: "action",
  manual: "by hand",
  approval: "approval",
  notify: "notification",
};

export function renderRunbook(runbook: Runbook): string {
  const numbers = new Map(runbook.steps.map((step, index) => [step.id, index + 1]));
  const producers = new Map<Artefact, number>();
  runbook.steps.forEach((step, index) => {
    const artefact = artefactProducedBy(step);
    if (artefact !== undefined && !producers.has(artefact)) producers.set(artefact, index + 1);
  });
  const context: RenderContext = { numbers, producers, steps: runbook.steps };

  const blocks: string[] = [
    `# ${display(runbook.title)}`,
    `\`${runbook.id}\` · ${FAILURE_MODE_NAMES[runbook.failureMode]}`,
    display(runbook.summary).trim(),
    [
      "Steps run in order. An action shows its plan before it changes anything, then reads the result back to verify it.",
      "An approval needs a second authorised person, never the one who started the run. `${inputs.…}` is filled in from the run's inputs.",
    ].join("\n"),
    "## Inputs",
    renderInputs(runbook.inputs),
    "## Steps at a glance",
    runbook.steps
      .map(
        (step, index) =>
          `${index + 1}. ${display(step.title)} (${KIND_LABELS[step.kind]}${step.when === undefined ? "" : ", conditional"})`,
      )
      .join("\n"),
    "## Steps",
    ...runbook.steps.map((step, index) => renderStep(step, index + 1, context)),
  ];
  return `${blocks.join("\n\n")}\n`;
}

interface RenderContext {
  readonly numbers: ReadonlyMap<string, number>;
  readonly producers: ReadonlyMap<Artefact, number>;
  readonly steps: readonly RunbookStep[];
}

function renderInputs(inputs: readonly RunbookInput[]): string {
  if (inputs.length === 0) return "None.";
  const rows = inputs.map((input) => {
    const type = input.choices === undefined ? input.type : `${input.type}: ${input.choices.map(code).join(" or ")}`;
    const fallback =
      input.default === undefined
        ? ""
        : code(typeof input.default === "string" ? input.default : input.default.join(", "));
    return `| ${code(input.name)} | ${cell(type)} | ${input.required ? "yes" : "no"} | ${cell(fallback)} | ${cell(input.description)} |`;
  });
  return ["| input | type | required | default | description |", "|---|---|---|---|---|", ...rows].join("\n");
}

function renderStep(step: RunbookStep, number: number, context: RenderContext): string {
  const heading = `### ${number}. ${display(step.title)}`;
  const kind = step.kind === "action" ? `**action** ${code(step.action)}` : `**${KIND_LABELS[step.kind]}**`;
  const blocks = [heading, `${kind} · step id ${code(step.id)}`];
  if (step.description !== undefined) blocks.push(display(step.description).trim());
  if (step.kind === "manual") blocks.push(display(step.instructions).trim());
  if (step.kind === "notify")
    blocks.push(`Posts to the **${step.channel}** channel:\n\n${quote(display(step.message))}`);

  const facts: string[] = [];
  if (step.when !== undefined)
    facts.push(`**Only when:** ${describeCondition(step.when, context)}; otherwise it is skipped.`);
  facts.push(...factsOf(step, context));
  facts.push(`**If it fails:** ${describeFailure(step, number, context)}`);
  blocks.push(facts.map((fact) => `- ${fact}`).join("\n"));
  return blocks.join("\n\n");
}

function factsOf(step: RunbookStep, context: RenderContext): string[] {
  switch (step.kind) {
    case "check":
      return checkFacts(step);
    case "action":
      return actionFacts(step);
    case "manual": {
      const facts: string[] = [];
      if (step.artefact !== undefined) {
        const from = context.producers.get(step.artefact);
        facts.push(
          `**Artefact:** ${code(step.artefact)}, ${ARTEFACT_DESCRIPTIONS[step.artefact]}${from === undefined ? "" : ` (from step ${from})`}. ` +
            `Use exactly this file.`,
        );
      }
      if (step.record !== undefined) facts.push(`**You write down:** ${display(step.record)}`);
      if (step.confirm !== undefined) facts.push(`**You confirm:** “${display(step.confirm)}”`);
      if (step.record === undefined && step.confirm === undefined) facts.push("**Done when:** you mark the step done.");
      return facts;
    }
    case "approval":
      return [
        "**Needs a second person:** an authorised approver other than the one who started this run approves or rejects it; a rejection fails the step.",
        `**What they approve:** ${display(step.reason)}`,
      ];
    case "notify":
      return [];
  }
}

function checkFacts(step: CheckStep): string[] {
  const facts = [
    `**What happens:** breakglass runs the ${step.checks.length === 1 ? "check" : "checks"} ${list(step.checks.map(code))} and shows the findings.`,
  ];
  switch (step.expect) {
    case "clean":
      facts.push(
        `**Succeeds when:** no finding is high or critical${step.tolerate === undefined ? "" : `, apart from ${list(step.tolerate.map(code), "and")}`}.`,
      );
      break;
    case "findings":
      facts.push(
        `**Succeeds when:** ` +
          `${step.codes === undefined ? "at least one finding is high or critical" : `at least one finding is ${list(step.codes.map(code), "or")}`}.`,
      );
      break;
    case "any":
      facts.push(
        "**Succeeds when:** the checks ran; the findings are for you to read, and none of them fails the step.",
      );
      break;
  }
  if (step.produces !== undefined) {
    facts.push(
      `**Keeps:** the metadata document it inspected as the run's ${code(step.produces)}; every later check and import in this run uses exactly that document.`,
    );
  }
  if (step.retry !== undefined)
    facts.push(
      `**Retries:** runs the checks up to ${step.retry.attempts} times, ${step.retry.interval} apart, until it succeeds.`,
    );
  return facts;
}

function actionFacts(step: ActionStep): string[] {
  const description =
    step.action === "idp.remove-group-members" && step.with.members === EVERYONE
      ? EMPTY_GROUPS
      : ACTION_DESCRIPTIONS[step.action];
  const facts = [
    `**What happens:** breakglass shows the plan, then ${description.does}.`,
    `**Verified by:** breakglass ${description.verifies}.`,
  ];
  const parameters = Object.entries(
    step.with as Readonly<Record<string, string | readonly string[] | undefined>>,
  ).flatMap(([name, value]) => (value === undefined ? [] : [`${code(name)}: ${describeValue(value)}`]));
  if (parameters.length > 0) facts.push(`**With:** ${parameters.join("; ")}`);
  else if (step.action === "iam.update-saml-provider")
    facts.push("**With:** every provider in `aws.emergencyAccount.samlProviders`.");
  if (step.compensate !== undefined) {
    facts.push(
      `**Undo (compensation):** ${code(step.compensate)} ${description.undoes}; it runs only if an operator rolls the run back.`,
    );
  }
  return facts;
}

// `members: everyone` turns a removal into making sure the groups are empty, which is what the reader must see.
const EMPTY_GROUPS: ActionDescription = {
  does: "removes every member from the emergency IdP groups and ends their leases",
  verifies: "reads each group back from the IdP: it must be empty",
  undoes: ACTION_DESCRIPTIONS["idp.remove-group-members"].undoes,
};

function describeValue(value: string | readonly string[]): string {
  if (typeof value !== "string") return value.map((item) => code(display(item))).join(", ");
  return value === EVERYONE ? "**everyone** (the groups must end up empty)" : code(display(value));
}

function describeCondition(condition: StepCondition, context: RenderContext): string {
  if ("input" in condition) return `input ${code(condition.input)} is ${code(condition.equals)}`;
  return `${stepReference(condition.step, context)} ${condition.outcome}`;
}

function describeFailure(step: RunbookStep, number: number, context: RenderContext): string {
  if (step.onFailure === "stop") return "the run stops here; fix the cause, then resume it from this step.";
  if (step.onFailure === "continue") {
    const next = context.steps[number];
    return next === undefined
      ? "the failure is recorded and the run ends."
      : `the failure is recorded and the run continues with step ${number + 1}.`;
  }
  const target = context.numbers.get(step.onFailure.goto);
  const skipped = target === undefined ? 0 : target - number - 1;
  return `the run goes to ${stepReference(step.onFailure.goto, context)}${skipped > 0 ? `, skipping the ${plural(skipped, "step")} between` : ""}.`;
}

function stepReference(id: string, context: RenderContext): string {
  const number = context.numbers.get(id);
  return number === undefined ? `step ${code(id)}` : `step ${number} (${code(id)})`;
}

/** Template text as a reader sees it: references as written, `$${` as the literal `${` it stands for. */
function display(text: string): string {
  const scan = scanTemplate(text);
  if (scan.error !== undefined) return text;
  return scan.parts.map((part) => (part.kind === "text" ? part.text : `\${${part.reference}}`)).join("");
}

function quote(text: string): string {
  return text
    .trim()
    .split("\n")
    .map((line) => (line === "" ? ">" : `> ${line}`))
    .join("\n");
}

function code(text: string): string {
  // A backtick inside would end the span early; a longer fence keeps it whole.
  return text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
}

function plural(count: number, noun: string): string {
  return count === 1 ? noun : `${count} ${noun}s`;
}

function list(items: readonly string[], conjunction = "and"): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} ${conjunction} ${items[items.length - 1] ?? ""}`;
}
