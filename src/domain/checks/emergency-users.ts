// Judges FM1's way in: each emergency IAM user exists, can sign in to the console with MFA, holds no access keys and can
// assume an emergency role with MFA required; and the emergency account's root user has MFA.
import { accountOfArn } from "../shared/arn.js";
import { describeFactError } from "./fact-error.js";
import { createFinding, type Finding } from "./finding.js";
import {
  conditionsOnKey,
  parsePolicyDocument,
  statementCoversAction,
  type PolicyStatement,
} from "./iam-policy-document.js";
import type { EmergencyUserFacts, RoleFacts, RootMfaFacts } from "./posture-facts.js";

const ASSUME_ROLE = "sts:AssumeRole";

/** How a user can reach a role: with MFA required, without it, or not at all. */
export type RoleReach = "with-mfa" | "without-mfa" | "none";

export function checkEmergencyUsers(
  users: readonly EmergencyUserFacts[],
  roles: readonly RoleFacts[],
  emergencyAccountId: string,
): Finding[] {
  return users.flatMap((user) => judgeUser(user, roles, emergencyAccountId));
}

export function checkRootMfa(rootMfa: RootMfaFacts, emergencyAccountId: string): Finding[] {
  const subject = { accountId: emergencyAccountId };
  if (rootMfa.status === "error") {
    return [
      createFinding(
        "AWS_READ_FAILED",
        `Could not read the account summary of the emergency account ${emergencyAccountId}: ${describeFactError(rootMfa.error)}.`,
        subject,
      ),
    ];
  }
  if (rootMfa.mfaEnabled) return [];
  return [
    createFinding(
      "ROOT_MFA_DISABLED",
      `The root user of the emergency account ${emergencyAccountId} has no MFA device (iam:GetAccountSummary AccountMFAEnabled is 0).`,
      subject,
    ),
  ];
}

function judgeUser(user: EmergencyUserFacts, roles: readonly RoleFacts[], emergencyAccountId: string): Finding[] {
  const subject = { resource: user.arn, accountId: emergencyAccountId };
  const named = `The emergency IAM user ${user.userName}`;
  if (user.status === "missing")
    return [
      createFinding(
        "EMERGENCY_USER_MISSING",
        `${named} does not exist in the emergency account ${emergencyAccountId}.`,
        subject,
      ),
    ];
  if (user.status === "error")
    return [
      createFinding(
        "AWS_READ_FAILED",
        `Could not read the emergency IAM user ${user.userName}: ${describeFactError(user.error)}.`,
        subject,
      ),
    ];
  const findings: Finding[] = [];
  if (user.mfaDeviceCount === 0)
    findings.push(
      createFinding(
        "EMERGENCY_USER_NO_MFA",
        `${named} has no MFA device, so it cannot sign in with MFA nor assume a role that requires it.`,
        subject,
      ),
    );
  if (!user.hasConsolePassword)
    findings.push(
      createFinding(
        "EMERGENCY_USER_NO_PASSWORD",
        `${named} has no console password (login profile), so it cannot sign in to the console.`,
        subject,
      ),
    );
  if (user.activeAccessKeyIds.length > 0)
    findings.push(
      createFinding(
        "EMERGENCY_USER_ACCESS_KEY",
        `${named} has ${user.activeAccessKeyIds.length === 1 ? "an active access key" : "active access keys"} ` +
          `(${user.activeAccessKeyIds.join(", ")}), which whoever holds can use without MFA.`,
        subject,
      ),
    );
  findings.push(...judgeReach(user, roles, subject));
  return findings;
}

function judgeReach(
  user: EmergencyUserFacts,
  roles: readonly RoleFacts[],
  subject: { resource: string; accountId: string },
): Finding[] {
  const found = roles.filter((role) => role.status === "found");
  const reaches = found.map((role) => ({ role, ...reachOf(role.trustPolicyDocument, user.arn) }));
  const findings = reaches
    .filter((entry) => entry.reach === "without-mfa")
    .map((entry) =>
      createFinding(
        "EMERGENCY_USER_TRUST_WITHOUT_MFA",
        `The emergency role ${entry.role.arn} trusts the emergency IAM user ${user.userName} ${entry.via} ` +
          "without requiring MFA (aws:MultiFactorAuthPresent).",
        subject,
      ),
    );
  if (reaches.some((entry) => entry.reach !== "none")) return findings;
  // A role that could not be read may be the one that trusts the user: only a full reading can say none does.
  if (roles.some((role) => role.status === "error")) return findings;
  const configured = roles.map((role) => role.arn);
  findings.push(
    createFinding(
      "EMERGENCY_USER_ROLE_UNREACHABLE",
      configured.length === 0
        ? `The emergency IAM user ${user.userName} has no emergency role to assume: aws.emergencyAccount.emergencyRoles is not set.`
        : `No emergency role (${configured.join(", ")}) trusts the emergency IAM user ${user.userName} or its account ` +
            "for sts:AssumeRole, so FM1 sign-in reaches no role.",
      subject,
    ),
  );
  return findings;
}

/**
 * Whether a role's trust policy lets `userArn` call sts:AssumeRole, and whether only with MFA. The user is trusted by
 * its ARN, by its account (the account ID or its root ARN, which delegates to the account's own IAM policies), or by
 * "*". MFA is required when the Allow tests `Bool` aws:MultiFactorAuthPresent "true" or a `NumericLessThan[Equals]`
 * aws:MultiFactorAuthAge, or when a Deny refuses requests without MFA (`BoolIfExists` … "false", or `Null` … "true").
 * `BoolIfExists` "true" in an Allow does not count: long-term credentials carry no such key, and IfExists lets them in.
 * An unconditional Deny that covers the user takes the Allow back.
 */
export function reachOf(document: string | null, userArn: string): { reach: RoleReach; via: string } {
  const none = { reach: "none" as const, via: "" };
  if (document === null) return none;
  const parsed = parsePolicyDocument(document);
  if (!parsed.ok) return none;
  const covering = parsed.statements.filter(
    (statement) => statementCoversAction(statement, ASSUME_ROLE) && principalCovers(statement, userArn),
  );
  const allows = covering.filter((statement) => statement.effect === "Allow");
  const denies = covering.filter((statement) => statement.effect === "Deny");
  if (allows.length === 0 || denies.some((statement) => statement.conditions.length === 0)) return none;
  const via = describeVia(allows, userArn);
  if (allows.some(requiresMfa) || denies.some(refusesWithoutMfa)) return { reach: "with-mfa", via };
  return { reach: "without-mfa", via };
}

function principalCovers(statement: PolicyStatement, userArn: string): boolean {
  if (statement.notPrincipals) return !namesUser(statement.notPrincipals.aws, userArn);
  if (!statement.principals) return false;
  return statement.principals.any || namesUser(statement.principals.aws, userArn);
}

function namesUser(principals: readonly string[], userArn: string): boolean {
  const account = accountOfArn(userArn);
  const partition = /^arn:([^:]+):/.exec(userArn)?.[1] ?? "aws";
  return principals.some(
    (principal) =>
      principal === "*" ||
      principal === userArn ||
      (account !== undefined && (principal === account || principal === `arn:${partition}:iam::${account}:root`)),
  );
}

function describeVia(allows: readonly PolicyStatement[], userArn: string): string {
  if (allows.some((statement) => statement.principals?.aws.includes(userArn))) return "by name";
  return `through its account ${accountOfArn(userArn) ?? ""}`;
}

function requiresMfa(statement: PolicyStatement): boolean {
  const present = conditionsOnKey(statement, "aws:MultiFactorAuthPresent").some(
    (condition) => condition.operator.toLowerCase() === "bool" && allValues(condition.values, "true"),
  );
  const age = conditionsOnKey(statement, "aws:MultiFactorAuthAge").some((condition) =>
    ["numericlessthan", "numericlessthanequals"].includes(condition.operator.toLowerCase()),
  );
  return present || age;
}

function refusesWithoutMfa(statement: PolicyStatement): boolean {
  return (
    statement.conditions.length === 1 &&
    conditionsOnKey(statement, "aws:MultiFactorAuthPresent").some(
      (condition) =>
        (condition.operator.toLowerCase() === "boolifexists" && allValues(condition.values, "false")) ||
        (condition.operator.toLowerCase() === "null" && allValues(condition.values, "true")),
    )
  );
}

function allValues(values: readonly string[], wanted: string): boolean {
  return values.length > 0 && values.every((value) => value.toLowerCase() === wanted);
}
