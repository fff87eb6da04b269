// The SCP protection check on the policies above a workload account: whether the cross-account emergency role is safe from change, and what is left open.
import { describe, expect, it } from "vitest";
import { checkScpProtection } from "../../../src/domain/checks/scp-protection.js";
import type { ServiceControlPolicyFacts, WorkloadAccountFacts } from "../../../src/domain/checks/posture-facts.js";

const roleName = "BreakGlassCrossAccount";
const roleArn = `arn:aws:iam::222222222222:role/${roleName}`;

const allRoleChanges = [
  "iam:DeleteRole",
  "iam:UpdateAssumeRolePolicy",
  "iam:AttachRolePolicy",
  "iam:DetachRolePolicy",
  "iam:PutRolePolicy",
  "iam:DeleteRolePolicy",
  "iam:UpdateRole",
];

/** The AWS-managed policy every account carries: it allows, so it never protects. */
const fullAwsAccess = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

/** The usual protection: deny role changes to everyone but the StackSet execution role that deploys the emergency role. */
const protectRole = (changes: Record<string, unknown> = {}) => ({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "ProtectEmergencyRole",
      Effect: "Deny",
      Action: allRoleChanges,
      Resource: `arn:aws:iam::*:role/${roleName}`,
      Condition: { ArnNotLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/stacksets-exec-*" } },
      ...changes,
    },
  ],
});

let nextPolicy = 0;
/** Organizations returns SCP content as plain JSON. */
function scp(policy: unknown, targetId = "r-a1b2"): ServiceControlPolicyFacts {
  nextPolicy++;
  return {
    id: `p-${String(nextPolicy).padStart(8, "0")}`,
    name: `policy-${nextPolicy}`,
    targetId,
    document: JSON.stringify(policy),
  };
}

function account(
  policies: readonly ServiceControlPolicyFacts[] | null,
  changes: Partial<WorkloadAccountFacts> = {},
): WorkloadAccountFacts {
  return {
    accountId: "222222222222",
    name: "workload-prod",
    crossAccountRole: { arn: roleArn, status: "found", trustPolicyDocument: null },
    serviceControlPolicies: policies,
    ...changes,
  };
}

const messagesFor = (...policies: unknown[]) =>
  checkScpProtection([account([scp(fullAwsAccess), ...policies.map((policy) => scp(policy))])], roleName).map(
    (finding) => [finding.code, finding.message],
  );
const noProtection = [
  "SCP_PROTECTION_MISSING",
  `No SCP on the path to account 222222222222 (workload-prod) denies changing or deleting the cross-account emergency role ${roleArn}.`,
];
const partial = (denied: string, open: string) => [
  "SCP_PROTECTION_MISSING",
  `The SCPs on the path to account 222222222222 (workload-prod) deny only ${denied} on the ` +
    `cross-account emergency role ${roleArn}, leaving ${open} unprotected.`,
];

describe("an account whose SCPs protect the emergency role", () => {
  it("passes the usual deny with an exemption for the StackSet role", () => {
    expect(messagesFor(protectRole())).toEqual([]);
  });

  it("passes wildcards in the actions: iam:*, iam:*Role*, and iam:Delete* with iam:Update*", () => {
    expect(messagesFor(protectRole({ Action: "iam:*" }))).toEqual([]);
    expect(messagesFor(protectRole({ Action: "iam:*Role*" }))).toEqual([]);
    expect(messagesFor(protectRole({ Action: ["iam:Delete*", "iam:Update*"] }))).toEqual([]);
  });

  it("passes wildcards in the resource: the role in this account, any role path, or everything", () => {
    expect(messagesFor(protectRole({ Resource: roleArn }))).toEqual([]);
    expect(messagesFor(protectRole({ Resource: "arn:aws:iam::222222222222:role/*" }))).toEqual([]);
    expect(messagesFor(protectRole({ Resource: "*" }))).toEqual([]);
  });

  it("passes a NotAction deny that leaves out only other services", () => {
    expect(messagesFor(protectRole({ Action: undefined, NotAction: ["s3:*", "ec2:*"] }))).toEqual([]);
  });

  it("passes a NotResource deny that leaves out only other roles", () => {
    expect(messagesFor(protectRole({ Resource: undefined, NotResource: "arn:aws:iam::*:role/Sandbox*" }))).toEqual([]);
  });

  it("passes protection split across the root's SCP and the OU's", () => {
    const rootPolicy = protectRole({ Action: "iam:DeleteRole" });
    const ouPolicy = protectRole({ Action: ["iam:UpdateAssumeRolePolicy", "iam:*RolePolicy", "iam:UpdateRole"] });
    expect(
      checkScpProtection([account([scp(rootPolicy, "r-a1b2"), scp(ouPolicy, "ou-a1b2-c3d4e5f6")])], roleName),
    ).toEqual([]);
  });

  it("counts DeleteRole and UpdateAssumeRolePolicy as the minimum", () => {
    expect(messagesFor(protectRole({ Action: ["iam:DeleteRole", "iam:UpdateAssumeRolePolicy"] }))).toEqual([]);
  });
});

describe("an account whose SCPs leave the emergency role open", () => {
  it("reports an account with only FullAWSAccess", () => {
    const findings = checkScpProtection([account([scp(fullAwsAccess)])], roleName);
    expect(findings).toEqual([
      expect.objectContaining({
        code: "SCP_PROTECTION_MISSING",
        severity: "medium",
        accountId: "222222222222",
        resource: roleArn,
        message: noProtection[1],
      }),
    ]);
  });

  it("reports a deny on another role", () => {
    expect(messagesFor(protectRole({ Resource: "arn:aws:iam::*:role/OrganizationAccountAccessRole" }))).toEqual([
      noProtection,
    ]);
  });

  it("reports a deny whose resource differs only in case, because IAM compares ARNs case-sensitively", () => {
    expect(messagesFor(protectRole({ Resource: `arn:aws:iam::*:role/${roleName.toLowerCase()}` }))).toEqual([
      noProtection,
    ]);
  });

  it("reports a NotResource deny that exempts the emergency role itself", () => {
    expect(messagesFor(protectRole({ Resource: undefined, NotResource: `arn:aws:iam::*:role/${roleName}` }))).toEqual([
      noProtection,
    ]);
  });

  it("reports an Allow that names the role, since only a Deny protects", () => {
    expect(messagesFor(protectRole({ Effect: "Allow" }))).toEqual([noProtection]);
  });

  it("names the actions a partial deny leaves unprotected", () => {
    expect(messagesFor(protectRole({ Action: "iam:DeleteRole" }))).toEqual([
      partial(
        "iam:DeleteRole",
        "iam:UpdateAssumeRolePolicy, iam:AttachRolePolicy, iam:DetachRolePolicy, iam:PutRolePolicy, iam:DeleteRolePolicy, iam:UpdateRole",
      ),
    ]);
  });

  it("reports a NotAction deny that leaves out DeleteRole", () => {
    expect(messagesFor(protectRole({ Action: undefined, NotAction: "iam:DeleteRole" }))).toEqual([
      partial(
        "iam:UpdateAssumeRolePolicy, iam:AttachRolePolicy, iam:DetachRolePolicy, iam:PutRolePolicy, iam:DeleteRolePolicy, iam:UpdateRole",
        "iam:DeleteRole",
      ),
    ]);
  });

  it("ignores an SCP that cannot be parsed", () => {
    const broken: ServiceControlPolicyFacts = {
      id: "p-broken",
      name: "broken",
      targetId: "r-a1b2",
      document: '{"Statement": [',
    };
    expect(checkScpProtection([account([broken])], roleName).map((finding) => finding.code)).toEqual([
      "SCP_PROTECTION_MISSING",
    ]);
  });

  it("judges the protection at the role's expected ARN even when the role is missing", () => {
    const facts = account([scp(protectRole({ Resource: roleArn }))], {
      crossAccountRole: { arn: roleArn, status: "missing", trustPolicyDocument: null },
    });
    expect(checkScpProtection([facts], roleName)).toEqual([]);
  });
});

describe("an account whose SCPs cannot be read", () => {
  it("reports the Organizations error instead of guessing", () => {
    const facts = account(null, {
      scpError: {
        code: "AWSOrganizationsNotInUseException",
        message: "Your account is not a member of an organization.",
      },
    });
    expect(
      checkScpProtection([facts], roleName).map((finding) => [finding.code, finding.message, finding.accountId]),
    ).toEqual([
      [
        "AWS_READ_FAILED",
        "Could not read the SCPs that apply to account 222222222222 (workload-prod): " +
          "AWSOrganizationsNotInUseException: Your account is not a member of an organization.",
        "222222222222",
      ],
    ]);
  });
});
