// Turns what the AWS SDK throws into the plain FactError the checks read: the error name and a one-line message.
import type { FactError } from "../../domain/checks/posture-facts.js";
import { oneLine } from "../../domain/errors.js";

export function toFactError(error: unknown): FactError {
  if (error && typeof error === "object") {
    const candidate = error as { name?: unknown; Code?: unknown; code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown } };
    const status = candidate.$metadata?.httpStatusCode;
    if (candidate.name === "SyntaxError" && typeof status === "number") {
      // An error body the SDK could not parse (a proxy's HTML page, say): the HTTP status is all we know.
      return { code: status === 403 ? "AccessDenied" : `HTTP${status}`, message: `HTTP ${status} with a response that is not an AWS error document` };
    }
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
