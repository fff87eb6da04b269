// Judges the emergency roles in the emergency account: each must exist and trust only SAML sign-in from the emergency
// IdP, addressed to the AWS sign-in endpoint.
import { createFinding, type Finding } from "./finding.js";
import {
  conditionsOnKey,
  listPrincipals,
  parsePolicyDocument,
  statementAllowsAction,
  statementCoversAction,
  type PolicyStatement,
} from "./iam-policy-document.js";
import type { RoleFacts } from "./posture-facts.js";
import { accountOfArn } from "../shared/arn.js";
import { describeFactError } from "./fact-error.js";

const ASSUME_ROLE_WITH_SAML = "sts:AssumeRoleWithSAML";

/** The ways into a role: whoever a trust policy lets call one of these holds the role. */
const ASSUME_ACTIONS = ["sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity"] as const;

/** The operators that pin SAML:aud to listed values; IfExists and negated forms do not. */
const AUDIENCE_OPERATORS = new Set([
  "stringequals",
  "stringlike",
  "foranyvalue:stringequals",
  "foranyvalue:stringlike",
]);

/**
 * The AWS sign-in endpoints a SAML assertion for the console is addressed to: global, regional
 * (https://us-east-1.signin.aws.amazon.com/saml), GovCloud and China. Under StringLike a `*` in place of the
 * Region is safe too: every host it can match belongs to AWS.
 */
const SIGN_IN_ENDPOINT =
  /^https:\/\/(?:[a-z]{2}(?:-[a-z]+)+-\d+\.)?signin\.(?:aws\.amazon\.com|amazonaws-us-gov\.com|amazonaws\.cn)\/saml$/;
const SIGN_IN_ENDPOINT_ANY_REGION =
  /^https:\/\/\*\.signin\.(?:aws\.amazon\.com|amazonaws-us-gov\.com|amazonaws\.cn)\/saml$/;

export function checkEmergencyRoles(roles: readonly RoleFacts[], samlProviderArns: readonly string[]): Finding[] {
  const findings: Finding[] = [];
  for (const role of roles) {
    const subject = { resource: role.arn, ...accountOf(role.arn) };
    if (role.status === "missing") {
      findings.push(createFinding("EMERGENCY_ROLE_MISSING", `The emergency role ${role.arn} does not exist.`, subject));
    } else if (role.status === "error") {
      findings.push(
        createFinding(
          "AWS_READ_FAILED",
          `Could not read the emergency role ${role.arn}: ${describeFactError(role.error)}.`,
          subject,
        ),
      );
    } else {
      for (const problem of judgeTrustPolicy(role.trustPolicyDocument, samlProviderArns)) {
        findings.push(
          createFinding(
            "EMERGENCY_ROLE_TRUST_INVALID",
            `The trust policy of the emergency role ${role.arn} ${problem}.`,
            subject,
          ),
        );
      }
    }
  }
  return findings;
}

/** What is wrong with an emergency role's trust policy, each as the predicate of a sentence about it; empty when it is right. */
function judgeTrustPolicy(document: string | null, samlProviderArns: readonly string[]): string[] {
  if (document === null) return ["was not returned by IAM"];
  const parsed = parsePolicyDocument(document);
  if (!parsed.ok) return [`cannot be read: ${parsed.reason}`];
  const problems: string[] = [];
  const samlProblem = judgeSamlTrust(parsed.statements, samlProviderArns);
  if (samlProblem) problems.push(samlProblem);
  const open = parsed.statements.find(letsAnyoneAssume);
  if (open)
    problems.push(
      `also lets anyone (${open.notPrincipals ? "NotPrincipal" : '"*"'}) assume the role with no condition${open.sid ? ` in statement "${open.sid}"` : ""}`,
    );
  return problems;
}

/** Null when some statement lets the configured provider's users in through the sign-in endpoint; otherwise the first thing in the way. */
function judgeSamlTrust(statements: readonly PolicyStatement[], samlProviderArns: readonly string[]): string | null {
  const samlAllows = statements.filter(
    (statement) => statement.principals !== null && statementAllowsAction(statement, ASSUME_ROLE_WITH_SAML),
  );
  if (samlAllows.length === 0) return `has no statement that allows ${ASSUME_ROLE_WITH_SAML}`;

  const fromProvider = samlAllows.filter((statement) =>
    statement.principals?.federated.some((arn) => samlProviderArns.includes(arn)),
  );
  if (fromProvider.length === 0) {
    const trusted = [
      ...new Set(samlAllows.flatMap((statement) => (statement.principals ? listPrincipals(statement.principals) : []))),
    ];
    if (samlProviderArns.length === 0)
      return `trusts ${trusted.join(", ")} for ${ASSUME_ROLE_WITH_SAML}, but no emergency SAML provider is configured`;
    return (
      `trusts ${trusted.join(", ")} for ${ASSUME_ROLE_WITH_SAML} instead of the configured ` +
      `SAML ${plural(samlProviderArns.length, "provider")} ${samlProviderArns.join(", ")}`
    );
  }

  let firstProblem: string | null = null;
  for (const statement of fromProvider) {
    const provider = statement.principals?.federated.find((arn) => samlProviderArns.includes(arn)) ?? "";
    const problem = judgeAudience(statement, provider) ?? judgeOverridingDeny(statements, provider);
    if (problem === null) return null;
    firstProblem ??= problem;
  }
  return firstProblem;
}

/** SAML:aud is the assertion's Recipient: pinned to the AWS sign-in endpoint, an assertion minted for another service provider cannot be replayed here. */
function judgeAudience(statement: PolicyStatement, provider: string): string | null {
  const audiences = conditionsOnKey(statement, "SAML:aud");
  if (audiences.length === 0)
    return (
      `allows ${ASSUME_ROLE_WITH_SAML} from ${provider} with no SAML:aud condition, so it does not ` +
      `require assertions addressed to the AWS sign-in endpoint`
    );
  let firstProblem: string | null = null;
  // Conditions in one statement must all hold, so one that pins the audience is enough.
  for (const condition of audiences) {
    const operator = condition.operator.toLowerCase();
    if (!AUDIENCE_OPERATORS.has(operator)) {
      firstProblem ??= `tests SAML:aud with ${condition.operator} instead of StringEquals or StringLike`;
      continue;
    }
    const allowsWildcard = operator.endsWith("stringlike");
    const stray = condition.values.filter(
      (value) => !SIGN_IN_ENDPOINT.test(value) && !(allowsWildcard && SIGN_IN_ENDPOINT_ANY_REGION.test(value)),
    );
    if (stray.length === 0 && condition.values.length > 0) return null;
    firstProblem ??=
      `restricts SAML:aud to ${stray.map((value) => JSON.stringify(value)).join(", ") || "no value"} ` +
      `instead of the AWS sign-in endpoint https://signin.aws.amazon.com/saml`;
  }
  return firstProblem;
}

/** An explicit Deny beats any Allow; one with conditions only narrows who gets in, so it is not judged here. */
function judgeOverridingDeny(statements: readonly PolicyStatement[], provider: string): string | null {
  const deny = statements.find(
    (statement) =>
      statement.effect === "Deny" &&
      statement.conditions.length === 0 &&
      statementCoversAction(statement, ASSUME_ROLE_WITH_SAML) &&
      ((statement.principals !== null &&
        (statement.principals.any || statement.principals.federated.includes(provider))) ||
        (statement.notPrincipals !== null && !statement.notPrincipals.federated.includes(provider))),
  );
  if (!deny) return null;
  return `has a Deny statement${deny.sid ? ` "${deny.sid}"` : ""} that overrides the Allow of ${ASSUME_ROLE_WITH_SAML} from ${provider}`;
}

function letsAnyoneAssume(statement: PolicyStatement): boolean {
  const everyone = (statement.principals?.any ?? false) || statement.notPrincipals !== null;
  return (
    everyone &&
    statement.conditions.length === 0 &&
    ASSUME_ACTIONS.some((action) => statementAllowsAction(statement, action))
  );
}

function accountOf(arn: string): { accountId?: string } {
  const accountId = accountOfArn(arn);
  return accountId ? { accountId } : {};
}

function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`;
}
