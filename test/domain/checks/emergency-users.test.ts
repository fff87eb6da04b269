// FM1's emergency IAM users and the root user's MFA: each broken precondition is exactly its finding, and the trust
// policies admins actually write are read the way IAM evaluates them.
import { describe, expect, it } from "vitest";
import { checkEmergencyUsers, checkRootMfa, reachOf } from "../../../src/domain/checks/emergency-users.js";
import type { EmergencyUserFacts, RoleFacts } from "../../../src/domain/checks/posture-facts.js";

const ACCOUNT = "111111111111";
const USER = `arn:aws:iam::${ACCOUNT}:user/breakglass-1`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/EmergencyAdmin`;
const MFA = { Bool: { "aws:MultiFactorAuthPresent": "true" } };

const healthy: EmergencyUserFacts = {
  userName: "breakglass-1",
  arn: USER,
  status: "found",
  mfaDeviceCount: 1,
  hasConsolePassword: true,
  activeAccessKeyIds: [],
};

function trust(...statements: object[]): string {
  return encodeURIComponent(JSON.stringify({ Version: "2012-10-17", Statement: statements }));
}

const allow = (principal: object, condition?: object) => ({
  Effect: "Allow",
  Principal: principal,
  Action: "sts:AssumeRole",
  ...(condition ? { Condition: condition } : {}),
});

const role = (document: string | null, status: RoleFacts["status"] = "found"): RoleFacts => ({
  arn: ROLE,
  status,
  trustPolicyDocument: document,
});

const codes = (user: EmergencyUserFacts, roles: RoleFacts[]) =>
  checkEmergencyUsers([user], roles, ACCOUNT).map((finding) => finding.code);

describe("an emergency IAM user", () => {
  it("with MFA, a password, no keys and a role that trusts it with MFA has no finding", () => {
    expect(checkEmergencyUsers([healthy], [role(trust(allow({ AWS: USER }, MFA)))], ACCOUNT)).toEqual([]);
  });

  it("that does not exist is critical and named", () => {
    const [finding] = checkEmergencyUsers([{ ...healthy, status: "missing", mfaDeviceCount: 0 }], [], ACCOUNT);
    expect(finding).toMatchObject({
      code: "EMERGENCY_USER_MISSING",
      severity: "critical",
      resource: USER,
      message: `The emergency IAM user breakglass-1 does not exist in the emergency account ${ACCOUNT}.`,
    });
  });

  it("reports each broken precondition as exactly its finding", () => {
    const trusted = [role(trust(allow({ AWS: USER }, MFA)))];
    expect(codes({ ...healthy, mfaDeviceCount: 0 }, trusted)).toEqual(["EMERGENCY_USER_NO_MFA"]);
    expect(codes({ ...healthy, hasConsolePassword: false }, trusted)).toEqual(["EMERGENCY_USER_NO_PASSWORD"]);
    const [keys] = checkEmergencyUsers([{ ...healthy, activeAccessKeyIds: ["AKIAEXAMPLE1"] }], trusted, ACCOUNT);
    expect(keys).toMatchObject({
      code: "EMERGENCY_USER_ACCESS_KEY",
      severity: "high",
      message:
        "The emergency IAM user breakglass-1 has an active access key (AKIAEXAMPLE1), which whoever holds can use without MFA.",
    });
  });

  it("that no emergency role trusts cannot reach one, and the roles are named", () => {
    const samlOnly = trust({
      Effect: "Allow",
      Principal: { Federated: `arn:aws:iam::${ACCOUNT}:saml-provider/EmergencyIdP` },
      Action: "sts:AssumeRoleWithSAML",
    });
    const [finding] = checkEmergencyUsers([healthy], [role(samlOnly)], ACCOUNT);
    expect(finding).toMatchObject({
      code: "EMERGENCY_USER_ROLE_UNREACHABLE",
      severity: "critical",
      message: `No emergency role (${ROLE}) trusts the emergency IAM user breakglass-1 or its account for sts:AssumeRole, so FM1 sign-in reaches no role.`,
    });
  });

  it("trusted without MFA can reach the role, and the missing condition is the finding", () => {
    const [finding] = checkEmergencyUsers([healthy], [role(trust(allow({ AWS: USER })))], ACCOUNT);
    expect(finding).toMatchObject({
      code: "EMERGENCY_USER_TRUST_WITHOUT_MFA",
      message: `The emergency role ${ROLE} trusts the emergency IAM user breakglass-1 by name without requiring MFA (aws:MultiFactorAuthPresent).`,
    });
  });

  it("is not called unreachable when an emergency role could not be read", () => {
    expect(codes(healthy, [role(null, "error")])).toEqual([]);
  });
});

describe("reading an emergency role's trust for an IAM user", () => {
  it("accepts the user by name, or its account by ID or root ARN, with Bool aws:MultiFactorAuthPresent true", () => {
    for (const principal of [
      { AWS: USER },
      { AWS: ACCOUNT },
      { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      { AWS: [ROLE, USER] },
    ])
      expect(reachOf(trust(allow(principal, MFA)), USER).reach).toBe("with-mfa");
    expect(reachOf(trust(allow({ AWS: ACCOUNT }, MFA)), USER).via).toBe(`through its account ${ACCOUNT}`);
  });

  it("counts a maximum MFA age, and a Deny of requests without MFA, as requiring MFA", () => {
    expect(
      reachOf(trust(allow({ AWS: USER }, { NumericLessThan: { "aws:MultiFactorAuthAge": "3600" } })), USER).reach,
    ).toBe("with-mfa");
    const denyWithoutMfa = {
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "sts:AssumeRole",
      Condition: { BoolIfExists: { "aws:MultiFactorAuthPresent": "false" } },
    };
    expect(reachOf(trust(allow({ AWS: USER }), denyWithoutMfa), USER).reach).toBe("with-mfa");
  });

  it("does not count BoolIfExists true as requiring MFA: long-term credentials carry no such key and get in", () => {
    expect(
      reachOf(trust(allow({ AWS: USER }, { BoolIfExists: { "aws:MultiFactorAuthPresent": "true" } })), USER).reach,
    ).toBe("without-mfa");
  });

  it("finds no way in for another user, another account, or behind an unconditional Deny", () => {
    expect(reachOf(trust(allow({ AWS: `arn:aws:iam::${ACCOUNT}:user/someone-else` }, MFA)), USER).reach).toBe("none");
    expect(reachOf(trust(allow({ AWS: "222222222222" }, MFA)), USER).reach).toBe("none");
    const deny = { Effect: "Deny", Principal: { AWS: USER }, Action: "sts:*" };
    expect(reachOf(trust(allow({ AWS: USER }, MFA), deny), USER).reach).toBe("none");
    expect(reachOf("not json", USER).reach).toBe("none");
  });
});

describe("the emergency account's root user", () => {
  it("without MFA is a finding about the account", () => {
    expect(checkRootMfa({ status: "found", mfaEnabled: false }, ACCOUNT)).toEqual([
      expect.objectContaining({
        code: "ROOT_MFA_DISABLED",
        severity: "high",
        accountId: ACCOUNT,
        message: `The root user of the emergency account ${ACCOUNT} has no MFA device (iam:GetAccountSummary AccountMFAEnabled is 0).`,
      }),
    ]);
    expect(checkRootMfa({ status: "found", mfaEnabled: true }, ACCOUNT)).toEqual([]);
  });

  it("that could not be read is a read failure, not a verdict", () => {
    const [finding] = checkRootMfa(
      { status: "error", error: { code: "AccessDenied", message: "not authorized" }, mfaEnabled: false },
      ACCOUNT,
    );
    expect(finding).toMatchObject({
      code: "AWS_READ_FAILED",
      message: expect.stringMatching(/AccessDenied: not authorized/),
    });
  });
});
