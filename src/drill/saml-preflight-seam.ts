// The drill's seam for "would AWS accept this SAML response": the preflight use case plugs in here (issue 14, part A).
import type { PreflightSamlResponse } from "../application/live-drill.js";

export type { PreflightSamlResponse, PreflightVerdict } from "../application/live-drill.js";

/** Until `breakglass saml preflight` is wired in: says so, and does not count as passing. */
export const preflightNotAvailable: PreflightSamlResponse = () =>
  Promise.resolve({ accepted: false, available: false, summary: "preflight not available" });
