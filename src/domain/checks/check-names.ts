// The names of the checks breakglass can run: config, runbooks and reports all speak of checks by these names.

/** Every check breakglass can run, in the order reports list them. */
export const CHECK_NAMES = [
  "metadata",
  "saml-providers",
  "emergency-roles",
  "identity-center",
  "cross-account-roles",
  "scp-protection",
  "cloudtrail",
  "eventbridge",
] as const;

export type CheckName = (typeof CHECK_NAMES)[number];
