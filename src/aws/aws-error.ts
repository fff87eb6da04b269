// Turns what the AWS SDK throws into the plain FactError the checks read: the error name and a one-line message.
import type { FactError } from "../checks/posture-facts.js";
import { oneLine } from "../errors.js";

export function toFactError(error: unknown): FactError {
  if (error && typeof error === "object") {
    const candidate = error as { name?: unknown; Code?: unknown; code?: unknown; message?: unknown };
    const code = [candidate.name, candidate.Code, candidate.code].find((value): value is string => typeof value === "string" && value !== "" && value !== "Error") ?? "Error";
    const message = typeof candidate.message === "string" && candidate.message !== "" ? candidate.message : code;
    return { code, message: oneLine(message, 240) };
  }
  return { code: "Error", message: oneLine(String(error), 240) };
}

export function hasErrorName(error: unknown, ...names: string[]): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === "string" && names.includes(name);
}
