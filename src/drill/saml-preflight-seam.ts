// The drill's seam for "would AWS accept this SAML response": the preflight use case plugs in here (issue 14, part A).

export interface PreflightVerdict {
  /** True only when the preflight ran and found nothing that would make AWS refuse the response. */
  readonly accepted: boolean;
  /** One line for the drill's output: what was checked, or why it was not. */
  readonly summary: string;
  /** False when no preflight ran at all: the drill then reports the step as not checked, never as passed. */
  readonly available?: boolean;
}

/**
 * Judges one SAML Response (its XML, decoded) as AWS would for direct federation into the emergency account, against
 * the emergency provider of the configuration at `configPath` (the drill's own world), or of the one the command names.
 */
export type PreflightSamlResponse = (responseXml: string, configPath?: string) => Promise<PreflightVerdict>;

/** Until `breakglass saml preflight` is wired in: says so, and does not count as passing. */
export const preflightNotAvailable: PreflightSamlResponse = () =>
  Promise.resolve({ accepted: false, available: false, summary: "preflight not available" });
