// The operator's values for a new run, checked against the runbook's declared inputs, with defaults filled in.
import { BreakglassError } from "../errors.js";
import { checkInputValue, type Runbook } from "./runbook-schema.js";
import type { RunInputs } from "./run-store.js";

/** Checks the operator's values against the runbook's inputs and fills defaults; USAGE naming the input when one is wrong. */
export function checkInputs(runbook: Runbook, given: Readonly<Record<string, unknown>>): RunInputs {
  const declared = new Set(runbook.inputs.map((input) => input.name));
  for (const name of Object.keys(given)) {
    if (!declared.has(name)) {
      throw new BreakglassError(
        "USAGE",
        `input "${name}"`,
        `runbook ${runbook.id} has no such input (declared: ${[...declared].join(", ") || "none"})`,
      );
    }
  }
  const values: Record<string, string | readonly string[]> = {};
  for (const input of runbook.inputs) {
    const value = given[input.name] ?? input.default;
    if (value === undefined) {
      if (input.required)
        throw new BreakglassError(
          "USAGE",
          `input "${input.name}"`,
          `runbook ${runbook.id} requires it: ${input.description}`,
        );
      continue;
    }
    const wrong = checkInputValue(input, value);
    if (wrong !== undefined) throw new BreakglassError("USAGE", `input "${input.name}"`, wrong);
    values[input.name] = value as string | readonly string[];
  }
  return values;
}
