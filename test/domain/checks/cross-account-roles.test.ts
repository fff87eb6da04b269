// The cross-account role checks on workload accounts built for each case: who the role trusts, and what the admin is told.
import { describe, expect, it } from "vitest";
import { checkCrossAccountRoles } from "../../../src/domain/checks/cross-account-roles.js";
import type { WorkloadAccountFacts } from "../../../src/domain/checks/posture-facts.js";

const emergencyRole = "arn:aws:iam::111111111111:role/BreakGlass";
const secondEmergencyRole = "arn:aws:iam::111111111111:role/emergency/BreakGlassReadOnly";
const roleName = "BreakGlassCrossAccount";
const crossAccountRole = `arn:aws:iam::222222222222:role/${roleName}`;

/** IAM's GetRole returns AssumeRolePolicyDocument URL-encoded. */
const asIamReturnsIt = (policy: unknown) => encodeURIComponent(JSON.stringify(policy));
const trustPolicy = (...statements: unknown[]) => ({ Version: "2012-10-17", Statement: statements });
const allowAssumeRole = (principal: unknown, changes: Record<string, unknown> = {}) => ({
  Effect: "Allow",
  Principal: principal,
  Action: "sts:AssumeRole",
  ...changes,
});

function account(policy: unknown, changes: Partial<WorkloadAccountFacts> = {}): WorkloadAccountFacts {
  return {
    accountId: "222222222222",
    name: "workload-prod",
    crossAccountRole: { arn: crossAccountRole, status: "found", trustPolicyDocument: asIamReturnsIt(policy) },
    serviceControlPolicies: [],
    ...changes,
  };
}

const findingsFor = (policy: unknown, emergencyRoles: readonly string[] = [emergencyRole]) =>
  checkCrossAccountRoles([account(policy)], roleName, emergencyRoles);
const messagesFor = (policy: unknown, emergencyRoles: readonly string[] = [emergencyRole]) =>
  findingsFor(policy, emergencyRoles).map((finding) => [finding.code, finding.message]);
const invalid = (problem: string) => [
  "CROSS_ACCOUNT_ROLE_TRUST_INVALID",
  `The cross-account emergency role ${crossAccountRole} in account 222222222222 (workload-prod) ${problem}.`,
];

describe("a cross-account role that trusts exactly the emergency roles", () => {
  it("passes a role trusting the emergency role by its ARN", () => {
    expect(findingsFor(trustPolicy(allowAssumeRole({ AWS: emergencyRole })))).toEqual([]);
  });

  it("passes a list of emergency roles, with a path, and sts:TagSession beside sts:AssumeRole", () => {
    const policy = trustPolicy(
      allowAssumeRole(
        { AWS: [emergencyRole, secondEmergencyRole] },
        { Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"] },
      ),
    );
    expect(findingsFor(policy, [emergencyRole, secondEmergencyRole])).toEqual([]);
  });

  it("passes a role that trusts only one of several emergency roles", () => {
    expect(
      findingsFor(trustPolicy(allowAssumeRole({ AWS: emergencyRole })), [emergencyRole, secondEmergencyRole]),
    ).toEqual([]);
  });

  it('passes "*" pinned down to the emergency role by a Deny with NotPrincipal', () => {
    const policy = trustPolicy(allowAssumeRole("*"), {
      Effect: "Deny",
      NotPrincipal: { AWS: emergencyRole },
      Action: "sts:AssumeRole",
    });
    expect(findingsFor(policy)).toEqual([]);
  });

  it("passes a plain-JSON trust policy with a single statement object", () => {
    const facts = {
      ...account(null),
      crossAccountRole: {
        arn: crossAccountRole,
        status: "found" as const,
        trustPolicyDocument: JSON.stringify({ Statement: allowAssumeRole({ AWS: emergencyRole }) }),
      },
    };
    expect(checkCrossAccountRoles([facts], roleName, [emergencyRole])).toEqual([]);
  });
});

describe("an account whose role cannot be read or does not exist", () => {
  it("reports an account that could not be read, with the AWS error", () => {
    const facts = account(null, {
      crossAccountRole: null,
      error: {
        code: "AccessDenied",
        message:
          "User is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/breakglass-reader",
      },
    });
    const findings = checkCrossAccountRoles([facts], roleName, [emergencyRole]);
    expect(findings).toEqual([
      expect.objectContaining({
        code: "AWS_READ_FAILED",
        accountId: "222222222222",
        message:
          "Could not read account 222222222222 (workload-prod): AccessDenied: User is not authorized to " +
          "perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/breakglass-reader.",
      }),
    ]);
  });

  it("reports a missing cross-account role, naming the account", () => {
    const facts = account(null, {
      name: null,
      crossAccountRole: { arn: crossAccountRole, status: "missing", trustPolicyDocument: null },
    });
    expect(checkCrossAccountRoles([facts], roleName, [emergencyRole])).toEqual([
      expect.objectContaining({
        code: "CROSS_ACCOUNT_ROLE_MISSING",
        severity: "high",
        message: `The cross-account emergency role ${roleName} does not exist in account 222222222222.`,
        accountId: "222222222222",
        resource: crossAccountRole,
      }),
    ]);
  });

  it("reports a role that could not be read", () => {
    const facts = account(null, {
      crossAccountRole: {
        arn: crossAccountRole,
        status: "error",
        error: { code: "Throttling", message: "Rate exceeded" },
        trustPolicyDocument: null,
      },
    });
    expect(
      checkCrossAccountRoles([facts], roleName, [emergencyRole]).map((finding) => [finding.code, finding.message]),
    ).toEqual([
      [
        "AWS_READ_FAILED",
        `Could not read the cross-account emergency role ${crossAccountRole} in account 222222222222 (workload-prod): Throttling: Rate exceeded.`,
      ],
    ]);
  });

  it("judges each account on its own", () => {
    const healthy = account(trustPolicy(allowAssumeRole({ AWS: emergencyRole })));
    const missing = {
      ...account(null),
      accountId: "333333333333",
      name: "workload-dev",
      crossAccountRole: {
        arn: "arn:aws:iam::333333333333:role/BreakGlassCrossAccount",
        status: "missing" as const,
        trustPolicyDocument: null,
      },
    };
    expect(
      checkCrossAccountRoles([healthy, missing], roleName, [emergencyRole]).map((finding) => [
        finding.code,
        finding.accountId,
      ]),
    ).toEqual([["CROSS_ACCOUNT_ROLE_MISSING", "333333333333"]]);
  });
});

describe("a trust policy broader than the emergency roles", () => {
  it("reports trusting the emergency account's root, which lets every principal there in", () => {
    expect(messagesFor(trustPolicy(allowAssumeRole({ AWS: "arn:aws:iam::111111111111:root" })))).toEqual([
      invalid("trusts the whole account 111111111111 (arn:aws:iam::111111111111:root), not only the emergency roles"),
    ]);
  });

  it("reports a bare account ID the same way", () => {
    expect(messagesFor(trustPolicy(allowAssumeRole({ AWS: "111111111111" })))).toEqual([
      invalid("trusts the whole account 111111111111, not only the emergency roles"),
    ]);
  });

  it('reports "*", even beside the emergency role and under a condition', () => {
    const policy = trustPolicy(
      allowAssumeRole({ AWS: emergencyRole }),
      allowAssumeRole("*", { Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } } }),
    );
    expect(messagesFor(policy)).toEqual([invalid('trusts anyone ("*"), not only the emergency roles')]);
  });

  it("reports another account's role beside the emergency role", () => {
    const policy = trustPolicy(allowAssumeRole({ AWS: [emergencyRole, "arn:aws:iam::333333333333:role/Deployer"] }));
    expect(messagesFor(policy)).toEqual([
      invalid("trusts arn:aws:iam::333333333333:role/Deployer, not only the emergency roles"),
    ]);
  });

  it("reports a service and a federated principal", () => {
    const policy = trustPolicy(
      allowAssumeRole({ AWS: emergencyRole }),
      allowAssumeRole({ Service: "ec2.amazonaws.com" }),
      {
        Effect: "Allow",
        Principal: { Federated: "arn:aws:iam::222222222222:saml-provider/Okta" },
        Action: "sts:AssumeRoleWithSAML",
      },
    );
    expect(messagesFor(policy)).toEqual([
      invalid(
        "trusts the service ec2.amazonaws.com and the federated principal arn:aws:iam::222222222222:saml-provider/Okta, not only the emergency roles",
      ),
    ]);
  });

  it("reports a statement that allows every action to another principal, sts:AssumeRole included", () => {
    const policy = trustPolicy(allowAssumeRole({ AWS: emergencyRole }), {
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::333333333333:user/ops" },
      Action: "sts:*",
    });
    expect(messagesFor(policy)).toEqual([
      invalid("trusts arn:aws:iam::333333333333:user/ops, not only the emergency roles"),
    ]);
  });

  it("reports a principal let in through NotAction", () => {
    const policy = trustPolicy(allowAssumeRole({ AWS: emergencyRole }), {
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::333333333333:root" },
      NotAction: "iam:*",
    });
    expect(messagesFor(policy)).toEqual([
      invalid("trusts the whole account 333333333333 (arn:aws:iam::333333333333:root), not only the emergency roles"),
    ]);
  });

  it("reports a deleted role that IAM shows by its unique ID", () => {
    expect(messagesFor(trustPolicy(allowAssumeRole({ AWS: "AROAXQ3EXAMPLEROLEID7" })))).toEqual([
      invalid("trusts a deleted role (AROAXQ3EXAMPLEROLEID7) and none of the emergency roles"),
    ]);
  });

  it("does not count a principal that a Deny without conditions takes back", () => {
    const policy = trustPolicy(allowAssumeRole({ AWS: [emergencyRole, "arn:aws:iam::333333333333:role/Deployer"] }), {
      Effect: "Deny",
      Principal: { AWS: "arn:aws:iam::333333333333:role/Deployer" },
      Action: "sts:AssumeRole",
    });
    expect(findingsFor(policy)).toEqual([]);
  });
});

describe("a trust policy that keeps the emergency roles out", () => {
  it("reports a role that trusts none of the emergency roles", () => {
    const policy = trustPolicy({ Effect: "Allow", Principal: { AWS: emergencyRole }, Action: "sts:TagSession" });
    expect(messagesFor(policy, [emergencyRole, secondEmergencyRole])).toEqual([
      invalid(`does not trust any of the emergency roles (${emergencyRole}, ${secondEmergencyRole})`),
    ]);
  });

  it("reports a role that trusts another role of the emergency account instead", () => {
    expect(messagesFor(trustPolicy(allowAssumeRole({ AWS: "arn:aws:iam::111111111111:role/Admin" })))).toEqual([
      invalid("trusts arn:aws:iam::111111111111:role/Admin and none of the emergency roles"),
    ]);
  });

  it("reports a Deny without conditions that overrides the emergency role's Allow", () => {
    const policy = trustPolicy(allowAssumeRole({ AWS: emergencyRole }), {
      Effect: "Deny",
      Principal: "*",
      Action: "sts:AssumeRole",
    });
    expect(messagesFor(policy)).toEqual([
      invalid(`lets no emergency role assume it: a Deny statement overrides the Allow for ${emergencyRole}`),
    ]);
  });

  it("does not let a conditioned Deny override the Allow", () => {
    const policy = trustPolicy(allowAssumeRole({ AWS: emergencyRole }), {
      Effect: "Deny",
      Principal: "*",
      Action: "sts:AssumeRole",
      Condition: { Bool: { "aws:MultiFactorAuthPresent": "false" } },
    });
    expect(findingsFor(policy)).toEqual([]);
  });

  it("reports a trust policy that cannot be read", () => {
    const facts = account(null, {
      crossAccountRole: {
        arn: crossAccountRole,
        status: "found",
        trustPolicyDocument: asIamReturnsIt({ Statement: [{ Effect: "Allow", Principal: { AWS: emergencyRole } }] }),
      },
    });
    expect(
      checkCrossAccountRoles([facts], roleName, [emergencyRole]).map((finding) => [finding.code, finding.message]),
    ).toEqual([invalid("has a trust policy that cannot be read: statement 1 has neither Action nor NotAction")]);
  });
});
