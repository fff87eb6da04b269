// Judges whether the SCPs above each workload account deny changing or deleting its cross-account emergency role.
import { createFinding, type Finding } from "./finding.js";
import { parsePolicyDocument, statementCoversAction, statementCoversResource } from "./iam-policy-document.js";
import type { WorkloadAccountFacts } from "./posture-facts.js";
import { describeFactError } from "./fact-error.js";

/** The IAM actions that could delete the role, change who may assume it, or change what it may do. */
export const ROLE_CHANGING_ACTIONS = [
  "iam:DeleteRole",
  "iam:UpdateAssumeRolePolicy",
  "iam:AttachRolePolicy",
  "iam:DetachRolePolicy",
  "iam:PutRolePolicy",
  "iam:DeleteRolePolicy",
  "iam:UpdateRole",
] as const;

/** Without these two denied the role can be removed or locked, so a deny that misses either is no protection. */
const ESSENTIAL_ACTIONS: readonly string[] = ["iam:DeleteRole", "iam:UpdateAssumeRolePolicy"];

export function checkScpProtection(accounts: readonly WorkloadAccountFacts[], roleName: string): Finding[] {
  const findings: Finding[] = [];
  for (const account of accounts) {
    const label = account.name ? `account ${account.accountId} (${account.name})` : `account ${account.accountId}`;
    const roleArn =
      account.crossAccountRole?.status === "found"
        ? account.crossAccountRole.arn
        : `arn:aws:iam::${account.accountId}:role/${roleName}`;
    const subject = { accountId: account.accountId, resource: roleArn };
    if (account.serviceControlPolicies === null) {
      findings.push(
        createFinding(
          "AWS_READ_FAILED",
          `Could not read the SCPs that apply to ${label}: ${describeFactError(account.scpError)}.`,
          subject,
        ),
      );
      continue;
    }
    const denied = deniedRoleActions(
      account.serviceControlPolicies.map((policy) => policy.document),
      roleArn,
    );
    if (ESSENTIAL_ACTIONS.every((action) => denied.has(action))) continue;
    const unprotected = ROLE_CHANGING_ACTIONS.filter((action) => !denied.has(action));
    const message =
      denied.size === 0
        ? `No SCP on the path to ${label} denies changing or deleting the cross-account emergency role ${roleArn}.`
        : `The SCPs on the path to ${label} deny only ${[...denied].join(", ")} on the cross-account ` +
          `emergency role ${roleArn}, leaving ${unprotected.join(", ")} unprotected.`;
    findings.push(createFinding("SCP_PROTECTION_MISSING", message, subject));
  }
  return findings;
}

/**
 * The role-changing actions some Deny statement covers for `roleArn`, across every SCP on the path (a Deny in
 * any of them applies). A Deny with a Condition still counts: exempting the admin or StackSet role that
 * deploys the emergency role (ArnNotLike aws:PrincipalArn) is how this protection is normally written.
 */
function deniedRoleActions(documents: readonly string[], roleArn: string): Set<string> {
  const denied = new Set<string>();
  for (const document of documents) {
    // Organizations validates SCPs on write, so one that does not parse is not ours to judge: it protects nothing we can see.
    const parsed = parsePolicyDocument(document);
    if (!parsed.ok) continue;
    for (const statement of parsed.statements) {
      if (statement.effect !== "Deny" || !statementCoversResource(statement, roleArn)) continue;
      for (const action of ROLE_CHANGING_ACTIONS) {
        if (statementCoversAction(statement, action)) denied.add(action);
      }
    }
  }
  // Keep the registry's order, whatever order the statements named them in.
  return new Set(ROLE_CHANGING_ACTIONS.filter((action) => denied.has(action)));
}
