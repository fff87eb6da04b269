// Judges the cross-account emergency role in each workload account: it must exist and trust the emergency roles, and nobody else.
import { createFinding, type Finding } from "./finding.js";
import {
  listPrincipals,
  parsePolicyDocument,
  statementAllowsAction,
  statementCoversAction,
  type PolicyPrincipals,
  type PolicyStatement,
} from "./iam-policy-document.js";
import type { WorkloadAccountFacts } from "./posture-facts.js";
import { accountOfArn } from "../shared/arn.js";
import { describeFactError } from "./fact-error.js";

/** Whoever a trust policy lets call one of these can hold the role, so every one of them is judged. */
const ASSUME_ACTIONS = ["sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity"] as const;

type PrincipalKind = Exclude<keyof PolicyPrincipals, "any">;
const PRINCIPAL_KINDS: readonly PrincipalKind[] = ["aws", "federated", "service", "canonicalUser"];

/** One principal that the trust policy, Deny statements included, lets call one assume action. */
interface Grant {
  readonly kind: PrincipalKind | "everyoneExcept";
  readonly principal: string;
  readonly action: string;
}

export function checkCrossAccountRoles(
  accounts: readonly WorkloadAccountFacts[],
  roleName: string,
  emergencyRoleArns: readonly string[],
): Finding[] {
  const findings: Finding[] = [];
  for (const account of accounts) {
    const label = describeAccount(account);
    const subject = { accountId: account.accountId };
    const role = account.crossAccountRole;
    if (account.error) {
      findings.push(
        createFinding("AWS_READ_FAILED", `Could not read ${label}: ${describeFactError(account.error)}.`, subject),
      );
    } else if (role === null) {
      findings.push(
        createFinding(
          "AWS_READ_FAILED",
          `Could not read the cross-account emergency role ${roleName} in ${label}: nothing was gathered about it.`,
          subject,
        ),
      );
    } else if (role.status === "missing") {
      findings.push(
        createFinding(
          "CROSS_ACCOUNT_ROLE_MISSING",
          `The cross-account emergency role ${roleName} does not exist in ${label}.`,
          { ...subject, resource: role.arn },
        ),
      );
    } else if (role.status === "error") {
      findings.push(
        createFinding(
          "AWS_READ_FAILED",
          `Could not read the cross-account emergency role ${role.arn} in ${label}: ${describeFactError(role.error)}.`,
          { ...subject, resource: role.arn },
        ),
      );
    } else {
      const problem = judgeTrustPolicy(role.trustPolicyDocument, emergencyRoleArns);
      if (problem) {
        findings.push(
          createFinding(
            "CROSS_ACCOUNT_ROLE_TRUST_INVALID",
            `The cross-account emergency role ${role.arn} in ${label} ${problem}.`,
            { ...subject, resource: role.arn },
          ),
        );
      }
    }
  }
  return findings;
}

/** What is wrong with the trust policy, as the predicate of a sentence about the role; null when it trusts exactly the emergency roles. */
function judgeTrustPolicy(document: string | null, emergencyRoleArns: readonly string[]): string | null {
  if (document === null) return "has no trust policy that IAM returned";
  const parsed = parsePolicyDocument(document);
  if (!parsed.ok) return `has a trust policy that cannot be read: ${parsed.reason}`;

  const grants = collectGrants(parsed.statements);
  const trusted = emergencyRoleArns.filter((roleArn) =>
    grants.some((grant) => grant.action === "sts:AssumeRole" && grantCovers(grant, roleArn)),
  );
  const offenders = [
    ...new Set(grants.filter((grant) => !isEmergencyGrant(grant, emergencyRoleArns)).map(describeGrant)),
  ];

  if (offenders.length > 0)
    return `trusts ${joinWords(offenders)}${trusted.length > 0 ? ", not only the emergency roles" : " and none of the emergency roles"}`;
  if (trusted.length > 0) return null;
  const overridden = emergencyRoleArns.filter((roleArn) =>
    parsed.statements.some(
      (statement) => statement.principals?.aws.includes(roleArn) && statementAllowsAction(statement, "sts:AssumeRole"),
    ),
  );
  if (overridden.length > 0)
    return `lets no emergency role assume it: a Deny statement overrides the Allow for ${overridden.join(", ")}`;
  return `does not trust any of the emergency roles (${emergencyRoleArns.join(", ") || "none is configured"})`;
}

/**
 * Every (principal, assume action) the Allow statements grant and no Deny takes back. Only a Deny without
 * conditions is certain to take a grant back; one with conditions narrows it in ways that depend on the request.
 */
function collectGrants(statements: readonly PolicyStatement[]): Grant[] {
  const denies = statements.filter((statement) => statement.effect === "Deny" && statement.conditions.length === 0);
  const grants: Grant[] = [];
  for (const statement of statements) {
    for (const action of ASSUME_ACTIONS) {
      if (!statementAllowsAction(statement, action)) continue;
      if (statement.notPrincipals) {
        grants.push({ kind: "everyoneExcept", principal: listPrincipals(statement.notPrincipals).join(", "), action });
        continue;
      }
      if (!statement.principals) continue;
      for (const kind of PRINCIPAL_KINDS) {
        for (const principal of statement.principals[kind]) {
          if (kind === "aws" && principal === "*") grants.push(...narrowEveryone(denies, action));
          else if (!isDenied(denies, kind, principal, action)) grants.push({ kind, principal, action });
        }
      }
    }
  }
  return grants;
}

/** An Allow to "*" minus the Denies: nobody after a Deny to "*", only the listed principals after a Deny with NotPrincipal (a common way to pin "*" down). */
function narrowEveryone(denies: readonly PolicyStatement[], action: string): Grant[] {
  const applicable = denies.filter((statement) => statementCoversAction(statement, action));
  if (applicable.some((statement) => statement.principals?.any)) return [];
  const exceptions = applicable.flatMap((statement) => (statement.notPrincipals ? [statement.notPrincipals] : []));
  if (exceptions.length === 0) return [{ kind: "aws", principal: "*", action }];
  const [first, ...rest] = exceptions;
  const survivors: Grant[] = [];
  for (const kind of PRINCIPAL_KINDS) {
    for (const principal of first?.[kind] ?? []) {
      if (rest.every((other) => other[kind].includes(principal))) survivors.push({ kind, principal, action });
    }
  }
  return survivors;
}

function isDenied(denies: readonly PolicyStatement[], kind: PrincipalKind, principal: string, action: string): boolean {
  return denies.some(
    (statement) =>
      statementCoversAction(statement, action) &&
      ((statement.principals !== null &&
        (statement.principals.any || statement.principals[kind].includes(principal))) ||
        (statement.notPrincipals !== null && !statement.notPrincipals[kind].includes(principal))),
  );
}

/** Whether a grant lets `roleArn` in: by name, or through "*", its account's root, or its bare account ID. */
function grantCovers(grant: Grant, roleArn: string): boolean {
  if (grant.kind !== "aws") return false;
  if (grant.principal === "*" || grant.principal === roleArn) return true;
  const account = accountOfArn(roleArn);
  return (
    account !== undefined &&
    (grant.principal === account || grant.principal === `${partitionOfArn(roleArn)}:iam::${account}:root`)
  );
}

/** Only sts:AssumeRole by an emergency role, named by its exact ARN, is wanted. */
function isEmergencyGrant(grant: Grant, emergencyRoleArns: readonly string[]): boolean {
  return grant.kind === "aws" && grant.action === "sts:AssumeRole" && emergencyRoleArns.includes(grant.principal);
}

function describeGrant(grant: Grant): string {
  const { kind, principal } = grant;
  if (kind === "everyoneExcept") return `everyone but ${principal} (NotPrincipal)`;
  if (kind === "federated") return `the federated principal ${principal}`;
  if (kind === "service") return `the service ${principal}`;
  if (kind === "canonicalUser") return `the canonical user ${principal}`;
  if (principal === "*") return 'anyone ("*")';
  if (/^\d{12}$/.test(principal)) return `the whole account ${principal}`;
  const root = /^arn:[^:]+:iam::(\d{12}):root$/.exec(principal);
  if (root) return `the whole account ${root[1] ?? ""} (${principal})`;
  // IAM shows a deleted principal by its unique ID; a role recreated under the same name gets a new one and is not trusted.
  if (/^AROA[A-Z0-9]+$/.test(principal)) return `a deleted role (${principal})`;
  if (/^AIDA[A-Z0-9]+$/.test(principal)) return `a deleted user (${principal})`;
  return principal;
}

function partitionOfArn(arn: string): string {
  return /^(arn:[^:]+)/.exec(arn)?.[1] ?? "arn:aws";
}

function describeAccount(account: WorkloadAccountFacts): string {
  return account.name ? `account ${account.accountId} (${account.name})` : `account ${account.accountId}`;
}

function joinWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1] ?? ""}`;
}
