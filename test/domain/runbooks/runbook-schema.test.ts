// Runbooks as data: every shipped runbook lints clean, and each kind of mistake is reported with its file, line, step and field.
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FINDING_CODES } from "../../../src/domain/checks/finding-codes.js";
import { DEFAULT_RUNBOOK_DIRECTORY } from "../../../src/cli/runbook-command.js";
import { lintRunbooks, loadRunbooks } from "../../../src/adapters/runbook-files/runbook-files.js";
import { describeRunbookProblem, parseRunbook } from "../../../src/domain/runbooks/parse-runbook.js";
import { parseDuration, type Runbook } from "../../../src/domain/runbooks/runbook-schema.js";
import { fillTemplate, resolveParameter } from "../../../src/domain/runbooks/runbook-template.js";
import { isBreakglassError } from "../../../src/domain/errors.js";

// A small valid runbook; each test changes one thing. The comments are the line numbers the messages refer to.
const VALID = [
  "id: demo", // 1
  "title: Demo runbook", // 2
  "failureMode: FM2", // 3
  "summary: A runbook for tests.", // 4
  "inputs:", // 5
  "  - name: incident", // 6
  "    description: The incident.", // 7
  "    type: string", // 8
  "    required: true", // 9
  "steps:", // 10
  "  - id: fetch", // 11
  "    title: Fetch the metadata", // 12
  "    kind: check", // 13
  "    checks: [metadata]", // 14
  "    expect: clean", // 15
  "    produces: metadata-file", // 16
  "  - id: approve", // 17
  "    title: Approve", // 18
  "    kind: approval", // 19
  "    reason: Re-import for ${inputs.incident}", // 20
  "  - id: update", // 21
  "    title: Update the providers", // 22
  "    kind: action", // 23
  "    action: iam.update-saml-provider", // 24
  "    compensate: iam.update-saml-provider", // 25
  "  - id: tell", // 26
  "    title: Tell", // 27
  "    kind: notify", // 28
  "    channel: incident", // 29
  "    message: Done for ${inputs.incident}", // 30
  "",
].join("\n");

function change(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`the test runbook has no ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

function writeRunbooks(files: Record<string, string>): string {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-runbooks-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(directory, name), text);
  return directory;
}

/** Lints one file named demo.yaml (or `name`) and returns its problems as the CLI prints them. */
async function lint(text: string, name = "demo.yaml"): Promise<{ path: string; lines: string[] }> {
  const directory = writeRunbooks({ [name]: text });
  return { path: join(directory, name), lines: (await lintRunbooks(directory)).map(describeRunbookProblem) };
}

describe("the shipped runbooks", () => {
  it("lint clean: runbook lint is part of the test suite", async () => {
    expect((await lintRunbooks(DEFAULT_RUNBOOK_DIRECTORY)).map(describeRunbookProblem)).toEqual([]);
  });

  it("are the four failure-mode runbooks, one file each", async () => {
    const loaded = await loadRunbooks(DEFAULT_RUNBOOK_DIRECTORY);
    expect(loaded.map(({ runbook }) => [runbook.id, runbook.failureMode])).toEqual([
      ["fm1-idp-unavailable", "FM1"],
      ["fm2-reimport-metadata", "FM2"],
      ["fm3-direct-federation", "FM3"],
      ["post-incident-recovery", "recovery"],
    ]);
    expect(readdirSync(DEFAULT_RUNBOOK_DIRECTORY).filter((name) => !name.endsWith(".yaml"))).toEqual(["README.md"]);
  });

  it("include every runbook the finding registry sends people to", async () => {
    const ids = new Set((await loadRunbooks(DEFAULT_RUNBOOK_DIRECTORY)).map(({ runbook }) => runbook.id));
    const named = new Set(
      Object.values(FINDING_CODES).flatMap((entry) => (entry.runbook === null ? [] : [entry.runbook])),
    );
    expect([...named].filter((id) => !ids.has(id))).toEqual([]);
  });

  it("give every action but closing a window its compensation, and ask a second person before changing AWS or the IdP", async () => {
    for (const { runbook } of await loadRunbooks(DEFAULT_RUNBOOK_DIRECTORY)) {
      const steps = runbook.steps;
      for (const step of steps) {
        if (step.kind === "action" && step.action !== "emergency.close-window")
          expect(step.compensate, `${runbook.id} ${step.id}`).toBeDefined();
      }
      const grantOrImport = steps.findIndex(
        (step) =>
          step.kind === "action" &&
          (step.action === "iam.update-saml-provider" || step.action === "idp.add-group-members"),
      );
      if (grantOrImport >= 0)
        expect(
          steps.slice(0, grantOrImport).some((step) => step.kind === "approval"),
          runbook.id,
        ).toBe(true);
    }
  });
});

describe("a bad runbook file", () => {
  it("is valid as written, so each test below shows exactly one mistake", async () => {
    expect((await lint(VALID)).lines).toEqual([]);
  });

  it("names an unknown step kind, with what it probably meant", async () => {
    const { path, lines } = await lint(change(VALID, "kind: approval", "kind: aproval"));
    expect(lines).toEqual([
      `${path}: line 19: step "approve": field "kind": expected a step kind (check, action, manual, approval, notify), got aproval (did you mean "approval"?)`,
    ]);
  });

  it("names a missing field at the step's line", async () => {
    const { path, lines } = await lint(change(VALID, "    reason: Re-import for ${inputs.incident}\n", ""));
    expect(lines).toEqual([
      `${path}: line 17: step "approve": field "reason": expected a non-empty string, but the field is missing`,
    ]);
  });

  it("names an empty field at its own line", async () => {
    const { path, lines } = await lint(change(VALID, "reason: Re-import for ${inputs.incident}", 'reason: ""'));
    expect(lines).toEqual([
      `${path}: line 20: step "approve": field "reason": expected a non-empty string, got an empty string`,
    ]);
  });

  it("names a duplicate step id, by position since the id no longer names one step", async () => {
    const { path, lines } = await lint(change(VALID, "  - id: tell", "  - id: approve"));
    expect(lines).toEqual([`${path}: line 26: step 4: field "id": duplicate step id "approve": step 2 already has it`]);
  });

  it("names a goto to a step that does not exist", async () => {
    const { path, lines } = await lint(
      change(
        VALID,
        "    produces: metadata-file\n",
        "    produces: metadata-file\n    onFailure: { goto: fix-provider }\n",
      ),
    );
    expect(lines).toEqual([
      `${path}: line 17: step "fetch": field "onFailure.goto": no step has the id "fix-provider"`,
    ]);
  });

  it("refuses a goto backwards, so that a run cannot loop", async () => {
    const { path, lines } = await lint(
      change(VALID, "    channel: incident\n", "    channel: incident\n    onFailure: { goto: approve }\n"),
    );
    expect(lines).toEqual([
      `${path}: line 30: step "tell": field "onFailure.goto": goto only jumps forward, so that a run always ends, but "approve" is step 2, before it`,
    ]);
  });

  it("refuses a condition on a step that has not run yet", async () => {
    const { path, lines } = await lint(
      change(VALID, "    kind: approval\n", "    kind: approval\n    when: { step: tell, outcome: failed }\n"),
    );
    expect(lines).toEqual([
      `${path}: line 20: step "approve": field "when.step": when can only test a step that comes before it, but "tell" is step 4, after it`,
    ]);
  });

  it("names a reference to an undeclared input, with the declared one it resembles", async () => {
    const { path, lines } = await lint(
      change(VALID, "message: Done for ${inputs.incident}", "message: Done for ${inputs.incidnet}"),
    );
    expect(lines).toEqual([
      `${path}: line 30: step "tell": field "message": \${inputs.incidnet} names no declared input (did you mean \${inputs.incident}?)`,
    ]);
  });

  it("refuses an override by an input that is required, since a reason must be written for the run", async () => {
    const { path, lines } = await lint(
      change(VALID, "    produces: metadata-file\n", "    produces: metadata-file\n    overriddenBy: incident\n"),
    );
    expect(lines).toEqual([
      `${path}: line 17: step "fetch": field "overriddenBy": "incident" must be an optional string input without a ` +
        "default or choices: an override needs a reason someone wrote for this run",
    ]);
  });

  it("names an action without its compensation", async () => {
    const { path, lines } = await lint(change(VALID, "    compensate: iam.update-saml-provider\n", ""));
    expect(lines).toEqual([
      `${path}: line 21: step "update": field "compensate": expected iam.update-saml-provider (the action ` +
        `that undoes iam.update-saml-provider), but the field is missing`,
    ]);
  });

  it("names a compensation that does not undo the action", async () => {
    const text = change(
      VALID,
      "    action: iam.update-saml-provider\n    compensate: iam.update-saml-provider",
      "    action: emergency.open-window\n    with: { incident: x }\n    compensate: emergency.open-window",
    );
    const { path, lines } = await lint(text);
    expect(lines).toEqual([
      `${path}: line 26: step "update": field "compensate": expected emergency.close-window (the action ` +
        `that undoes emergency.open-window), got emergency.open-window`,
    ]);
  });

  it("accepts closing a window without a compensation", async () => {
    const text = change(
      VALID,
      "    action: iam.update-saml-provider\n    compensate: iam.update-saml-provider",
      "    action: emergency.close-window\n    with: { incident: x }",
    );
    expect((await lint(text)).lines).toEqual([]);
  });

  it("names a check that does not exist, with the one it resembles", async () => {
    const { path, lines } = await lint(change(VALID, "checks: [metadata]", "checks: [metdata]"));
    expect(lines).toEqual([
      `${path}: line 14: step "fetch": field "checks[0]": expected a check name (metadata, ` +
        `saml-providers, emergency-roles, emergency-users, identity-center, identity-center-regions, cross-account-roles, ` +
        `scp-protection, cloudtrail, eventbridge, emergency-groups, watch), got metdata (did you mean "metadata"?)`,
    ]);
  });

  it("names an id that differs from the file name", async () => {
    const { path, lines } = await lint(VALID, "fm2-other.yaml");
    expect(lines).toEqual([
      `${path}: line 1: field "id": expected "fm2-other" (the file name without .yaml), got demo`,
    ]);
  });

  it("names an unknown field once, as the field it was probably meant to be", async () => {
    const { path, lines } = await lint(change(VALID, "    reason: Re-import", "    reson: Re-import"));
    expect(lines).toEqual([`${path}: line 20: step "approve": field "reson": unknown field (did you mean "reason"?)`]);
  });

  it("names an action's parameter by its path inside the step", async () => {
    const text = change(
      VALID,
      "    compensate: iam.update-saml-provider",
      '    compensate: iam.update-saml-provider\n    with:\n      providers: [""]',
    );
    const { path, lines } = await lint(text);
    expect(lines).toEqual([
      `${path}: line 27: step "update": field "with.providers[0]": expected a non-empty string, got an empty string`,
    ]);
  });

  it("refuses an action that needs an artefact no earlier step produces", async () => {
    const { path, lines } = await lint(change(VALID, "    produces: metadata-file\n", ""));
    expect(lines).toEqual([
      `${path}: line 23: step "update": field "action": iam.update-saml-provider uses the run's ` +
        `metadata-file, but no earlier step produces it (a check step running metadata with produces: metadata-file)`,
    ]);
  });

  it("checks a list parameter's input is a list", async () => {
    const text = change(
      VALID,
      "    action: iam.update-saml-provider\n    compensate: iam.update-saml-provider",
      "    action: idp.add-group-members\n    with: { groups: [emergency-operators], members: " +
        '"${inputs.incident}", ttl: 4h }\n    compensate: idp.remove-group-members',
    );
    const { path, lines } = await lint(text);
    expect(lines).toEqual([
      `${path}: line 25: step "update": field "with.members": \${inputs.incident} is a string input, but ` +
        `members takes a list: declare incident with type: list`,
    ]);
  });

  it("names a step without an id by its position", async () => {
    const { path, lines } = await lint(change(VALID, "  - id: tell\n    title: Tell", "  - title: Tell"));
    expect(lines).toEqual([
      `${path}: line 26: step 4: field "id": expected a step id in kebab-case (lowercase letters, digits ` +
        `and single hyphens), at most 64 characters, but the field is missing`,
    ]);
  });

  it("names an input's bad default by the input's name", async () => {
    const text = change(
      VALID,
      "    required: true\n",
      "    required: false\n  - name: ttl\n    description: Lease.\n    type: duration\n    required: false\n    default: 4 hours\n",
    );
    const { path, lines } = await lint(text);
    expect(lines).toEqual([
      `${path}: line 14: input "ttl": field "default": expected a duration such as 30m, 4h or 1h30m, got "4 hours"`,
    ]);
  });

  it("lists every problem of a file in line order", async () => {
    const text = change(change(VALID, "failureMode: FM2", "failureMode: FM4"), "channel: incident", "channel: pager");
    const { path, lines } = await lint(text);
    expect(lines).toEqual([
      `${path}: line 3: field "failureMode": expected a failure mode (FM1, FM2, FM3, recovery), got FM4 (did you mean "FM1"?)`,
      `${path}: line 29: step "tell": field "channel": expected a channel (incident, security, alerts), got pager`,
    ]);
  });

  it("reports invalid YAML with its line", async () => {
    const { path, lines } = await lint(change(VALID, "title: Demo runbook", "title: [Demo runbook"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: line \\d+: invalid YAML: `));
  });

  it("refuses YAML aliases that expand exponentially, before they expand", async () => {
    const bomb = [
      'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]',
      ...["b", "c", "d", "e", "f", "g"].map(
        (name, index) => `${name}: &${name} [${Array(9).fill(`*${"abcdef"[index]}`).join(", ")}]`,
      ),
      "",
    ].join("\n");
    const { path, lines } = await lint(bomb);
    expect(lines).toEqual([
      `${path}: line 2: refused: YAML aliases (*a) expand to too much data; a runbook needs few or none`,
    ]);
  });

  it("refuses a file over 1 MB without parsing it", async () => {
    const { path, lines } = await lint(`# ${"x".repeat(1024 * 1024)}\n`);
    expect(lines).toEqual([`${path}: refused: the file is 1 MB, over the 1 MB limit for a runbook`]);
  });

  it("says an empty file is empty", async () => {
    const { path, lines } = await lint("# nothing yet\n");
    expect(lines).toEqual([
      `${path}: the file is empty (only blank lines or comments); expected a runbook with id, title, failureMode, summary, inputs and steps`,
    ]);
  });

  it("flags a .yml file that would silently never be offered", async () => {
    const directory = writeRunbooks({ "demo.yaml": VALID, "fm9.yml": VALID });
    expect((await lintRunbooks(directory)).map(describeRunbookProblem)).toEqual([
      `${join(directory, "fm9.yml")}: not loaded: runbook files must end in .yaml`,
    ]);
  });

  it("stops loadRunbooks at the first bad file with RUNBOOK_INVALID, its first problem and how many more", async () => {
    const directory = writeRunbooks({
      "demo.yaml": change(change(VALID, "failureMode: FM2", "failureMode: FM4"), "channel: incident", "channel: pager"),
    });
    const error: unknown = await loadRunbooks(directory).catch((reason: unknown) => reason);
    expect(isBreakglassError(error) && { code: error.code, message: error.message, hint: error.hint }).toEqual({
      code: "RUNBOOK_INVALID",
      message: `${join(directory, "demo.yaml")}: line 3: field "failureMode": expected a failure mode (FM1, FM2, FM3, recovery), got FM4 (did you mean "FM1"?)`,
      hint: "and 1 more problem; run `breakglass runbook lint` to list them",
    });
  });
});

describe("what the engine gets", () => {
  const runbook: Runbook = parseRunbook(VALID, "demo.yaml").runbook;

  it("has defaults filled in: no inputs means an empty list, no onFailure means stop, no with means every provider", () => {
    expect(runbook.steps.map((step) => step.onFailure)).toEqual(["stop", "stop", "stop", "stop"]);
    const update = runbook.steps[2];
    expect(update?.kind === "action" && update.with).toEqual({});
    expect(
      parseRunbook(
        change(
          VALID,
          "inputs:\n  - name: incident\n    description: The incident.\n    type: string\n    required: true\n",
          "",
        ).replace(/ for \$\{inputs\.incident\}/g, ""),
        "demo.yaml",
      ).runbook.inputs,
    ).toEqual([]);
  });

  it("reads durations as milliseconds and refuses zero or nonsense", () => {
    expect([parseDuration("4h"), parseDuration("1h30m"), parseDuration("2d"), parseDuration("90s")]).toEqual([
      14_400_000, 5_400_000, 172_800_000, 90_000,
    ]);
    expect([parseDuration(""), parseDuration("0h"), parseDuration("4 hours"), parseDuration("h")]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("fills templates, keeps a whole list reference a list, and writes $${ as a literal", () => {
    const values: Record<string, string | string[]> = {
      "inputs.responders": ["alice@example.com", "bob@example.com"],
      "run.id": "run-7",
    };
    const lookup = (reference: { scope: string; name: string }) => values[`${reference.scope}.${reference.name}`];
    expect(resolveParameter("${inputs.responders}", lookup)).toEqual(["alice@example.com", "bob@example.com"]);
    expect(fillTemplate("add ${inputs.responders} ($${HOME}, ${run.id})", lookup)).toBe(
      "add alice@example.com, bob@example.com (${HOME}, run-7)",
    );
    const error: unknown = (() => {
      try {
        return fillTemplate("for ${inputs.incident}", lookup);
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(isBreakglassError(error) && error.message).toBe("${inputs.incident}: has no value in this run");
  });
});
