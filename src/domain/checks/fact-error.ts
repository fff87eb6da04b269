// How a fact that could not be read is named in a finding: "AccessDenied: not authorized to perform …".
import type { FactError } from "./posture-facts.js";

export function describeFactError(error: FactError | undefined): string {
  return error ? `${error.code}: ${error.message.replace(/\.$/, "")}` : "unknown error";
}
