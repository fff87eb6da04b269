// Which checks a configuration cannot run, and why: switched off, or the section they read is absent.
import { CHECK_NAMES, type BreakglassConfig, type CheckName } from "./config-schema.js";

export interface DisabledCheck {
  readonly check: CheckName;
  readonly reason: string;
}

/** Which checks cannot run with this configuration, and why: switched off, or the section they read is missing. */
export function describeDisabledChecks(config: BreakglassConfig): DisabledCheck[] {
  const enabled = new Set<CheckName>(config.checks.enabled);
  return CHECK_NAMES.flatMap((check) => {
    const reason = enabled.has(check) ? missingSection(check, config) : "not in checks.enabled";
    return reason === undefined ? [] : [{ check, reason }];
  });
}

function missingSection(check: CheckName, config: BreakglassConfig): string | undefined {
  const aws = config.aws;
  switch (check) {
    case "metadata":
      return undefined;
    case "saml-providers":
      if (aws === undefined) return "no aws section";
      return aws.emergencyAccount.samlProviders === undefined ? "no aws.emergencyAccount.samlProviders" : undefined;
    case "emergency-roles":
      if (aws === undefined) return "no aws section";
      return aws.emergencyAccount.emergencyRoles === undefined ? "no aws.emergencyAccount.emergencyRoles" : undefined;
    case "identity-center":
      return aws?.identityCenter === undefined ? "no aws.identityCenter section" : undefined;
    case "cross-account-roles":
    case "scp-protection":
      return aws?.organization === undefined ? "no aws.organization section" : undefined;
    case "cloudtrail":
    case "eventbridge":
      return aws === undefined ? "no aws section" : undefined;
  }
}

