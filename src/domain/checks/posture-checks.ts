// Runs every posture check on the gathered facts: the one place that knows which check reads which facts.
import type { MetadataInspection } from "../saml/metadata-model.js";
import { checkCloudTrail } from "./cloudtrail-logging.js";
import { checkCrossAccountRoles } from "./cross-account-roles.js";
import { checkEmergencyRoles } from "./emergency-roles.js";
import { checkEventBridgeRules } from "./eventbridge-rules.js";
import { compareFindings, type Finding } from "./finding.js";
import { checkIdentityCenter, checkIdentityCenterImport } from "./identity-center.js";
import type { PostureFacts } from "./posture-facts.js";
import { checkSamlProviders } from "./saml-provider-drift.js";
import { checkScpProtection } from "./scp-protection.js";

export interface PostureCheckInput {
  readonly facts: PostureFacts;
  /** The checks the config enables; facts of the others are not judged even when present. */
  readonly enabled: ReadonlySet<string>;
  /** The IdP's current metadata; undefined when it could not be fetched (a finding says so elsewhere). */
  readonly idp: MetadataInspection | undefined;
  readonly samlProviderArns: readonly string[];
  readonly emergencyRoleArns: readonly string[];
  readonly now: Date;
  readonly warnDays: number;
}

export function checkPosture({ facts, enabled, idp, samlProviderArns, emergencyRoleArns, now, warnDays }: PostureCheckInput): Finding[] {
  const findings: Finding[] = [];
  if (facts.samlProviders) findings.push(...checkSamlProviders(facts.samlProviders, idp, { now, warnDays }));
  if (facts.emergencyRoles) findings.push(...checkEmergencyRoles(facts.emergencyRoles, samlProviderArns));
  if (facts.identityCenter) {
    findings.push(...checkIdentityCenter(facts.identityCenter));
    if (facts.identityCenter.status === "found") {
      findings.push(...checkIdentityCenterImport(facts.identityCenter.instanceArn, idp, facts.attestation ?? null, { now, warnDays }));
    }
  }
  if (facts.workloadAccounts && facts.crossAccountRoleName) {
    if (enabled.has("cross-account-roles")) findings.push(...checkCrossAccountRoles(facts.workloadAccounts, facts.crossAccountRoleName, emergencyRoleArns));
    if (enabled.has("scp-protection")) findings.push(...checkScpProtection(facts.workloadAccounts, facts.crossAccountRoleName));
  }
  if (facts.cloudTrail) findings.push(...checkCloudTrail(facts.cloudTrail, facts.emergencyAccountId));
  if (facts.eventBridge) findings.push(...checkEventBridgeRules(facts.eventBridge, emergencyRoleArns, facts.emergencyAccountId));
  return findings.sort(compareFindings);
}
