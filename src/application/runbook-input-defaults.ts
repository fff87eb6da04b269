// Runbook inputs that breakglass.yaml already answers, so a responder at 3 a.m. does not have to look them up.
import type { BreakglassConfig } from "../config/config-schema.js";
import type { Runbook } from "../domain/runbooks/runbook-schema.js";

/** Values from the config for inputs the runbook declares by these names; what the operator gives always wins. */
export function configInputDefaults(config: BreakglassConfig, runbook: Pick<Runbook, "inputs">): Record<string, string> {
  const known: Record<string, string | undefined> = {
    emergencyAccountId: config.aws?.emergencyAccount.accountId,
    identityCenterRegion: config.aws?.identityCenter?.region,
  };
  const defaults: Record<string, string> = {};
  for (const input of runbook.inputs) {
    const value = known[input.name];
    if (value !== undefined) defaults[input.name] = value;
  }
  return defaults;
}
