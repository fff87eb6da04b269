// Which checks a configuration cannot run, and why: switched off, or a config section the check registry says it needs is absent.
import { CHECK_NAMES, checkDefinition, type CheckName } from "../domain/checks/check-registry.js";
import { CONFIG_SECTIONS, type ConfigSection } from "../domain/checks/config-sections.js";
import type { BreakglassConfig } from "./config-schema.js";

export interface DisabledCheck {
  readonly check: CheckName;
  readonly reason: string;
}

/** How to tell each section the registry names is present: a new section does not compile until it is here. */
const SECTION_PRESENT: { readonly [Section in ConfigSection]: (config: BreakglassConfig) => boolean } = {
  aws: (config) => config.aws !== undefined,
  "aws.emergencyAccount.samlProviders": (config) => config.aws?.emergencyAccount.samlProviders !== undefined,
  "aws.emergencyAccount.emergencyRoles": (config) => config.aws?.emergencyAccount.emergencyRoles !== undefined,
  "aws.emergencyAccount.emergencyUsers": (config) => config.aws?.emergencyAccount.emergencyUsers !== undefined,
  "aws.identityCenter": (config) => config.aws?.identityCenter !== undefined,
  "aws.organization": (config) => config.aws?.organization !== undefined,
  "idp.directory.emergencyGroups": (config) => config.idp.directory?.emergencyGroups !== undefined,
  "watch.queueUrl": (config) => config.watch?.queueUrl !== undefined,
};

/** Which checks cannot run with this configuration, and why: switched off, or the section they read is missing. */
export function describeDisabledChecks(config: BreakglassConfig): DisabledCheck[] {
  const enabled = new Set<CheckName>(config.checks.enabled);
  return CHECK_NAMES.flatMap((check) => {
    const reason = enabled.has(check) ? missingSection(check, config) : "not in checks.enabled";
    return reason === undefined ? [] : [{ check, reason }];
  });
}

/** The reason for the first section the check needs that the config lacks; undefined when it has them all. */
function missingSection(check: CheckName, config: BreakglassConfig): string | undefined {
  const absent = checkDefinition(check).needs.find((section) => !SECTION_PRESENT[section](config));
  return absent === undefined ? undefined : CONFIG_SECTIONS[absent];
}
