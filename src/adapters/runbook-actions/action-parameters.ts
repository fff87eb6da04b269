// Reads an action's filled-in `with` values with the shape each action expects, naming the parameter when one is wrong.
import { BreakglassError } from "../../domain/errors.js";
import type { ActionParameters } from "../../domain/runbooks/engine-ports.js";
import type { ActionName } from "../../domain/runbooks/runbook-schema.js";

function wrongParameter(action: ActionName, name: string, reason: string): BreakglassError {
  return new BreakglassError("USAGE", `${action} parameter "${name}"`, reason);
}

/** A list parameter; one text counts as a list of one. Undefined when absent and not required. */
export function optionalList(action: ActionName, parameters: ActionParameters, name: string): string[] | undefined {
  const value = parameters[name];
  if (value === undefined) return undefined;
  const items = (typeof value === "string" ? [value] : [...value]).map((item) => item.trim());
  if (items.length === 0 || items.some((item) => item === ""))
    throw wrongParameter(action, name, `expected a list of non-empty strings, got ${JSON.stringify(value)}`);
  return [...new Set(items)];
}

export function requiredList(action: ActionName, parameters: ActionParameters, name: string): string[] {
  const items = optionalList(action, parameters, name);
  if (items === undefined) throw wrongParameter(action, name, "is required and has no value");
  return items;
}

export function requiredText(action: ActionName, parameters: ActionParameters, name: string): string {
  const value = optionalText(action, parameters, name);
  if (value === undefined) throw wrongParameter(action, name, "is required and has no value");
  return value;
}

export function optionalText(action: ActionName, parameters: ActionParameters, name: string): string | undefined {
  const value = parameters[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.trim() === "")
    throw wrongParameter(action, name, `expected a non-empty text, got ${JSON.stringify(value)}`);
  return value.trim();
}
