// The one table of checks: every config section, fact reader and judge elsewhere is derived from it (names: check-names.ts).
//
// To add a check:
//   1. Write its judge in a new module here (facts in, findings out; pure), with its finding codes in finding-codes.ts.
//   2. If it reads a fact no check reads yet, add the fact's kind to fact-kinds.ts and its shape to posture-facts.ts;
//      the compiler then asks for its reader in src/adapters/aws/gather-posture.ts (AWS_READERS or WORKLOAD_ACCOUNT_READERS).
//   3. If it needs a config section no check needs yet, add the section and its "not checked" reason to config-sections.ts;
//      the compiler then asks how to find it in src/config/disabled-checks.ts.
//   4. Add its name to check-names.ts and register it below, in the same place: that place is its place in reports, in
//      the config's `checks.enabled` default and in `--only`'s list (the compiler asks for the entry, a test for the order).
import type { CheckDefinition, JudgeInput } from "./check-definition.js";
import { CHECK_NAMES, type CheckName } from "./check-names.js";
import { checkCloudTrail } from "./cloudtrail-logging.js";
import { checkCrossAccountRoles } from "./cross-account-roles.js";
import { checkEmergencyRoles } from "./emergency-roles.js";
import { checkEmergencyUsers, checkRootMfa } from "./emergency-users.js";
import { checkEmergencyGroups } from "./emergency-groups.js";
import { checkEventBridgeRules } from "./eventbridge-rules.js";
import { isFactReadFrom, type FactKind, type FactSource } from "./fact-kinds.js";
import type { Finding } from "./finding.js";
import { checkIdentityCenter, checkIdentityCenterImport, checkIdpChangedSinceAttestation } from "./identity-center.js";
import { checkIdentityCenterRegions } from "./identity-center-regions.js";
import { checkMetadata } from "./metadata-checks.js";
import { checkSamlProviders } from "./saml-provider-drift.js";
import { checkScpProtection } from "./scp-protection.js";
import { checkWatchPlumbing } from "./watch-plumbing.js";

export { CHECK_NAMES, isCheckName, type CheckName } from "./check-names.js";

export const CHECK_REGISTRY = {
  metadata: {
    needs: [],
    reads: ["idp-metadata"],
    judge: ({ idp, now, warnDays }) => (idp ? checkMetadata(idp, { now, warnDays }) : []),
  },
  "saml-providers": {
    needs: ["aws", "aws.emergencyAccount.samlProviders"],
    reads: ["idp-metadata", "saml-providers"],
    judge: ({ facts, idp, now, warnDays }) =>
      facts?.samlProviders ? checkSamlProviders(facts.samlProviders, idp, { now, warnDays }) : [],
  },
  "emergency-roles": {
    needs: ["aws", "aws.emergencyAccount.emergencyRoles"],
    reads: ["emergency-roles"],
    judge: ({ facts, samlProviderArns }) =>
      facts?.emergencyRoles ? checkEmergencyRoles(facts.emergencyRoles, samlProviderArns) : [],
  },
  // FM1: the emergency IAM users, the emergency roles they assume, and the root user's MFA.
  "emergency-users": {
    needs: ["aws", "aws.emergencyAccount.emergencyUsers"],
    reads: ["emergency-users", "emergency-roles"],
    judge: ({ facts }) => [
      ...(facts?.emergencyUsers
        ? checkEmergencyUsers(facts.emergencyUsers, facts.emergencyRoles ?? [], facts.emergencyAccountId)
        : []),
      ...(facts?.rootMfa ? checkRootMfa(facts.rootMfa, facts.emergencyAccountId) : []),
    ],
  },
  "identity-center": {
    needs: ["aws.identityCenter"],
    reads: ["idp-metadata", "identity-center"],
    judge: judgeIdentityCenter,
  },
  // Multi-Region Identity Center: which Regions keep portal sign-in going when the primary is disrupted.
  "identity-center-regions": {
    needs: ["aws.identityCenter"],
    reads: ["identity-center-regions"],
    judge: ({ facts }) => (facts?.identityCenterRegions ? checkIdentityCenterRegions(facts.identityCenterRegions) : []),
  },
  "cross-account-roles": {
    needs: ["aws.organization"],
    reads: ["cross-account-role"],
    judge: ({ facts, emergencyRoleArns }) =>
      facts?.workloadAccounts && facts.crossAccountRoleName
        ? checkCrossAccountRoles(facts.workloadAccounts, facts.crossAccountRoleName, emergencyRoleArns)
        : [],
  },
  "scp-protection": {
    needs: ["aws.organization"],
    reads: ["service-control-policies"],
    judge: ({ facts }) =>
      facts?.workloadAccounts && facts.crossAccountRoleName
        ? checkScpProtection(facts.workloadAccounts, facts.crossAccountRoleName)
        : [],
  },
  cloudtrail: {
    needs: ["aws"],
    reads: ["cloudtrail"],
    judge: ({ facts }) => (facts?.cloudTrail ? checkCloudTrail(facts.cloudTrail, facts.emergencyAccountId) : []),
  },
  eventbridge: {
    needs: ["aws"],
    reads: ["eventbridge"],
    judge: ({ facts, emergencyRoleArns }) =>
      facts?.eventBridge ? checkEventBridgeRules(facts.eventBridge, emergencyRoleArns, facts.emergencyAccountId) : [],
  },
  // FM3's emergency groups at rest: empty, and changeable through the API when an incident needs them.
  "emergency-groups": {
    needs: ["idp.directory.emergencyGroups"],
    reads: ["emergency-groups"],
    judge: ({ emergencyGroups }) => (emergencyGroups ? checkEmergencyGroups(emergencyGroups) : []),
  },
  // The plumbing of `breakglass watch`: the queue, its dead-letter queue, and rules that deliver what it must see.
  watch: {
    needs: ["aws", "watch.queueUrl"],
    reads: ["watch-queue"],
    judge: ({ facts, samlProviderArns, emergencyRoleArns, identityCenterInstanceArn }) =>
      facts?.watchQueue
        ? checkWatchPlumbing(facts.watchQueue, {
            emergencyAccountId: facts.emergencyAccountId,
            samlProviderArns,
            emergencyRoleArns,
            watchesIdentityCenter: identityCenterInstanceArn !== undefined,
          })
        : [],
  },
} as const satisfies Record<CheckName, CheckDefinition>;

/** The registered definition, seen through the common shape (the table's literal types are for deriving names). */
export function checkDefinition(check: CheckName): CheckDefinition {
  return CHECK_REGISTRY[check];
}

export function checkReads(check: CheckName, kind: FactKind): boolean {
  return checkDefinition(check).reads.includes(kind);
}

/** Whether the check reads any fact from this source: "aws" and "each-workload-account" both mean the AWS gatherer runs for it. */
export function checkReadsFrom(check: CheckName, ...sources: readonly FactSource[]): boolean {
  return checkDefinition(check).reads.some((kind) => sources.some((source) => isFactReadFrom(kind, source)));
}

/** Whether the check reads anything the AWS gatherer reads. */
export function checkReadsAws(check: CheckName): boolean {
  return checkReadsFrom(check, "aws", "each-workload-account");
}

/** The fact kinds these checks read, each once, in the order the table names them. */
export function factKindsReadBy(checks: Iterable<CheckName>): Set<FactKind> {
  const wanted = new Set(checks);
  return new Set(CHECK_NAMES.filter((check) => wanted.has(check)).flatMap((check) => checkDefinition(check).reads));
}

/** Identity Center's own state, then — once sso-admin answered — whether what was imported still matches the IdP. */
function judgeIdentityCenter({ facts, idp, now, warnDays }: JudgeInput): Finding[] {
  if (!facts?.identityCenter) return [];
  const findings = checkIdentityCenter(facts.identityCenter);
  if (facts.identityCenter.status === "found") {
    findings.push(
      ...checkIdentityCenterImport(facts.identityCenter.instanceArn, idp, facts.attestation ?? null, { now, warnDays }),
    );
  } else {
    // A change of the IdP configuration is known from CloudTrail, not from sso-admin: it is reported even when sso-admin
    // could not be read.
    findings.push(...checkIdpChangedSinceAttestation(facts.identityCenter.instanceArn, facts.attestation ?? null));
  }
  return findings;
}
