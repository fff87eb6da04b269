// A run's inputs as a responder gives them (from the CLI or Slack), read against the runbook: config defaults filled in,
// list inputs joined from commas and repeats, and every problem reported at once so a responder fixes them in one go.
import { closestName } from "../domain/shared/closest-name.js";
import { BreakglassError } from "../domain/errors.js";
import { checkInputValue, type Runbook } from "../domain/runbooks/runbook-schema.js";
import type { RunInputs } from "../domain/runbooks/run-store.js";

/** Every value given for each input, in the order typed: `--input a=1 --input a=2` and `a=1 a=2` both give ["1", "2"]. */
export type GivenInputs = Readonly<Record<string, readonly string[]>>;

export type InputResolution =
  { readonly ok: true; readonly value: RunInputs } | { readonly ok: false; readonly problems: readonly string[] };

/** A value quoted inside a problem: one line, and short. */
function show(value: string): string {
  const line = value.replace(/\s+/g, " ");
  return `"${line.length > 60 ? `${line.slice(0, 59)}…` : line}"`;
}

/**
 * Reads the given values against the runbook's declarations. A list input takes comma-separated values, a repeated name,
 * or both; any other input takes one value. `defaults` (what breakglass.yaml already answers, such as the emergency
 * account id) fill inputs the responder did not give; what the responder gives always wins. The engine checks the
 * result again when the run starts.
 */
export function resolveRunbookInputs(
  runbook: Pick<Runbook, "id" | "inputs">,
  given: GivenInputs,
  defaults: Readonly<Record<string, string>> = {},
): InputResolution {
  const problems: string[] = [];
  const declared = new Map(runbook.inputs.map((input) => [input.name, input]));
  for (const name of Object.keys(given)) {
    if (declared.has(name)) continue;
    const closest = closestName(name, declared.keys());
    const known =
      closest !== undefined
        ? `did you mean ${closest}?`
        : declared.size === 0
          ? "it takes none"
          : `its inputs: ${[...declared.keys()].join(", ")}`;
    problems.push(`runbook ${runbook.id} has no input ${show(name)} (${known})`);
  }
  const missing: Runbook["inputs"][number][] = [];
  const resolved = new Map<string, string | readonly string[]>();
  for (const input of runbook.inputs) {
    const typed = Object.hasOwn(given, input.name) ? given[input.name] : undefined;
    const fromConfig = Object.hasOwn(defaults, input.name) ? defaults[input.name] : undefined;
    const values =
      typed !== undefined && typed.length > 0 ? typed : fromConfig === undefined ? undefined : [fromConfig];
    if (values === undefined) {
      if (input.required && input.default === undefined) missing.push(input);
      continue;
    }
    let value: string | readonly string[];
    if (input.type === "list") {
      value = values
        .flatMap((text) => text.split(","))
        .map((item) => item.trim())
        .filter((item) => item !== "");
    } else {
      if (values.length > 1) {
        problems.push(`${input.name} is given ${values.length} times; it takes one value`);
        continue;
      }
      value = (values[0] as string).trim();
    }
    const wrong = checkInputValue(input, value);
    if (wrong !== undefined) problems.push(`${input.name}: ${wrong.replace(/\s+/g, " ")}`);
    else resolved.set(input.name, value);
  }
  // One missing input is named with what it is; several by name only, so that every one of them fits on the line.
  const [only] = missing;
  if (missing.length === 1 && only !== undefined)
    problems.push(`runbook ${runbook.id} needs ${only.name}=…: ${only.description.replace(/\s+/g, " ").trim()}`);
  else if (missing.length > 1)
    problems.push(`runbook ${runbook.id} needs ${missing.map((input) => `${input.name}=…`).join(", ")}`);
  return problems.length === 0 ? { ok: true, value: Object.fromEntries(resolved) } : { ok: false, problems };
}

/** The inputs, or USAGE naming every problem in one line. */
export function requireRunbookInputs(
  runbook: Pick<Runbook, "id" | "inputs">,
  given: GivenInputs,
  defaults: Readonly<Record<string, string>> = {},
): RunInputs {
  const resolution = resolveRunbookInputs(runbook, given, defaults);
  if (resolution.ok) return resolution.value;
  throw new BreakglassError("USAGE", `runbook ${runbook.id} inputs`, resolution.problems.join("; "), {
    hint: "give each input as name=value; a list input takes comma-separated values or the name repeated",
  });
}
