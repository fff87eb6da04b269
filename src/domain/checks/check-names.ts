// The names of the checks breakglass can run: config, runbooks and reports all speak of checks by these names.
// The check registry (check-registry.ts) defines exactly these, in this order (the compiler and its test hold that); the
// names live apart from the checks' code so that reading a runbook or a config loads no SAML or X.509 library.

const NAMES = [
  "metadata",
  "saml-providers",
  "emergency-roles",
  "emergency-users",
  "identity-center",
  "identity-center-regions",
  "cross-account-roles",
  "scp-protection",
  "cloudtrail",
  "eventbridge",
  "emergency-groups",
  "watch",
] as const;

export type CheckName = (typeof NAMES)[number];

/** Every check breakglass can run, in the order reports list them. */
export const CHECK_NAMES: [CheckName, ...CheckName[]] = [...NAMES];

export function isCheckName(name: string): name is CheckName {
  return (NAMES as readonly string[]).includes(name);
}
