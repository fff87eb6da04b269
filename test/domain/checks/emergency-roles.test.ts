// The emergency-role checks on trust policies written for each case, URL-encoded as IAM returns them: what an admin would be told.
import { describe, expect, it } from "vitest";
import { checkEmergencyRoles } from "../../../src/domain/checks/emergency-roles.js";
import type { RoleFacts } from "../../../src/domain/checks/posture-facts.js";

const provider = "arn:aws:iam::111111111111:saml-provider/EmergencyIdP";
const roleArn = "arn:aws:iam::111111111111:role/BreakGlass";
const signIn = "https://signin.aws.amazon.com/saml";

/** IAM's GetRole returns AssumeRolePolicyDocument URL-encoded. */
const asIamReturnsIt = (policy: unknown) => encodeURIComponent(JSON.stringify(policy));

/** The statement the IAM console writes for SAML 2.0 federation; `changes` replace its parts. */
const samlStatement = (changes: Record<string, unknown> = {}) => ({
  Effect: "Allow",
  Principal: { Federated: provider },
  Action: "sts:AssumeRoleWithSAML",
  Condition: { StringEquals: { "SAML:aud": signIn } },
  ...changes,
});
const trustPolicy = (...statements: unknown[]) => ({ Version: "2012-10-17", Statement: statements });
const foundRole = (policy: unknown): RoleFacts => ({
  arn: roleArn,
  status: "found",
  trustPolicyDocument: asIamReturnsIt(policy),
});

const findingsFor = (policy: unknown, providers: readonly string[] = [provider]) =>
  checkEmergencyRoles([foundRole(policy)], providers);
const messagesFor = (policy: unknown, providers: readonly string[] = [provider]) =>
  findingsFor(policy, providers).map((finding) => [finding.code, finding.message]);
const invalid = (problem: string) => [
  "EMERGENCY_ROLE_TRUST_INVALID",
  `The trust policy of the emergency role ${roleArn} ${problem}.`,
];

describe("an emergency role that federated responders can use", () => {
  it("passes the trust policy the IAM console writes for SAML 2.0 federation", () => {
    expect(findingsFor(trustPolicy(samlStatement()))).toEqual([]);
  });

  it("passes the newer console form with sts:TagSession and regional sign-in endpoints", () => {
    const regional = [
      "https://signin.aws.amazon.com/saml",
      "https://us-east-1.signin.aws.amazon.com/saml",
      "https://eu-central-1.signin.aws.amazon.com/saml",
    ];
    expect(
      findingsFor(
        trustPolicy(
          samlStatement({
            Action: ["sts:AssumeRoleWithSAML", "sts:TagSession"],
            Condition: { StringEquals: { "SAML:aud": regional } },
          }),
        ),
      ),
    ).toEqual([]);
  });

  it("passes a trust policy given as plain JSON, a single statement object, and a list of principals", () => {
    const policy = {
      Version: "2012-10-17",
      Statement: samlStatement({
        Principal: { Federated: ["arn:aws:iam::111111111111:saml-provider/Other", provider] },
      }),
    };
    expect(
      checkEmergencyRoles([{ arn: roleArn, status: "found", trustPolicyDocument: JSON.stringify(policy) }], [provider]),
    ).toEqual([]);
  });

  it("accepts wildcard actions, NotAction, StringLike and ForAnyValue operators and a lowercase condition key", () => {
    expect(findingsFor(trustPolicy(samlStatement({ Action: "sts:AssumeRoleWith*" })))).toEqual([]);
    expect(
      findingsFor(trustPolicy(samlStatement({ Action: undefined, NotAction: ["sts:AssumeRole", "iam:*"] }))),
    ).toEqual([]);
    expect(
      findingsFor(
        trustPolicy(
          samlStatement({ Condition: { StringLike: { "saml:aud": "https://*.signin.aws.amazon.com/saml" } } }),
        ),
      ),
    ).toEqual([]);
    expect(
      findingsFor(trustPolicy(samlStatement({ Condition: { "ForAnyValue:StringEquals": { "SAML:aud": [signIn] } } }))),
    ).toEqual([]);
  });

  it("accepts the GovCloud and China sign-in endpoints", () => {
    expect(
      findingsFor(
        trustPolicy(
          samlStatement({ Condition: { StringEquals: { "SAML:aud": "https://signin.amazonaws-us-gov.com/saml" } } }),
        ),
      ),
    ).toEqual([]);
    expect(
      findingsFor(
        trustPolicy(samlStatement({ Condition: { StringEquals: { "SAML:aud": "https://signin.amazonaws.cn/saml" } } })),
      ),
    ).toEqual([]);
  });

  it("passes when any one of several statements is right", () => {
    const other = samlStatement({
      Principal: { Federated: "arn:aws:iam::111111111111:saml-provider/Okta" },
      Condition: undefined,
    });
    expect(findingsFor(trustPolicy(other, samlStatement()))).toEqual([]);
  });

  it("does not object to a conditioned Deny, which only narrows who gets in", () => {
    const deny = {
      Effect: "Deny",
      Principal: { Federated: provider },
      Action: "sts:AssumeRoleWithSAML",
      Condition: { StringNotEquals: { "SAML:sub_type": "persistent" } },
    };
    expect(findingsFor(trustPolicy(samlStatement(), deny))).toEqual([]);
  });
});

describe("an emergency role that cannot be read or does not exist", () => {
  it("reports a missing role as critical, naming it", () => {
    const findings = checkEmergencyRoles([{ arn: roleArn, status: "missing", trustPolicyDocument: null }], [provider]);
    expect(findings).toEqual([
      expect.objectContaining({
        code: "EMERGENCY_ROLE_MISSING",
        severity: "critical",
        message: `The emergency role ${roleArn} does not exist.`,
        resource: roleArn,
        accountId: "111111111111",
      }),
    ]);
  });

  it("reports a role that could not be read with the AWS error", () => {
    const error = {
      code: "AccessDenied",
      message:
        "User: arn:aws:sts::111111111111:assumed-role/breakglass-reader/checker is not authorized to perform: iam:GetRole.",
    };
    const findings = checkEmergencyRoles(
      [{ arn: roleArn, status: "error", error, trustPolicyDocument: null }],
      [provider],
    );
    expect(findings.map((finding) => [finding.code, finding.message])).toEqual([
      [
        "AWS_READ_FAILED",
        `Could not read the emergency role ${roleArn}: AccessDenied: User: ` +
          `arn:aws:sts::111111111111:assumed-role/breakglass-reader/checker is not authorized to perform: iam:GetRole.`,
      ],
    ]);
  });

  it("judges every role it is given, one finding each", () => {
    const second = "arn:aws:iam::111111111111:role/BreakGlassReadOnly";
    const findings = checkEmergencyRoles(
      [foundRole(trustPolicy(samlStatement())), { arn: second, status: "missing", trustPolicyDocument: null }],
      [provider],
    );
    expect(findings.map((finding) => [finding.code, finding.resource])).toEqual([["EMERGENCY_ROLE_MISSING", second]]);
  });
});

describe("a trust policy that would keep responders out or let others in", () => {
  it("reports a trust policy that is not JSON", () => {
    const findings = checkEmergencyRoles(
      [{ arn: roleArn, status: "found", trustPolicyDocument: "%7B%22Version%22%3A" }],
      [provider],
    );
    expect(findings.map((finding) => [finding.code, finding.message])).toEqual([
      invalid("cannot be read: it is neither JSON nor URL-encoded JSON"),
    ]);
  });

  it("reports a role that only IAM principals can assume", () => {
    const policy = trustPolicy({
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::111111111111:root" },
      Action: "sts:AssumeRole",
    });
    expect(messagesFor(policy)).toEqual([invalid("has no statement that allows sts:AssumeRoleWithSAML")]);
  });

  it("reports a NotAction that leaves sts:AssumeRoleWithSAML out", () => {
    expect(messagesFor(trustPolicy(samlStatement({ Action: undefined, NotAction: "sts:AssumeRoleWith*" })))).toEqual([
      invalid("has no statement that allows sts:AssumeRoleWithSAML"),
    ]);
  });

  it("names the provider it trusts instead of the configured one", () => {
    const policy = trustPolicy(
      samlStatement({ Principal: { Federated: "arn:aws:iam::111111111111:saml-provider/OldIdP" } }),
    );
    expect(messagesFor(policy)).toEqual([
      invalid(
        `trusts arn:aws:iam::111111111111:saml-provider/OldIdP for sts:AssumeRoleWithSAML instead of the configured SAML provider ${provider}`,
      ),
    ]);
  });

  it("reports a missing SAML:aud condition", () => {
    expect(messagesFor(trustPolicy(samlStatement({ Condition: undefined })))).toEqual([
      invalid(
        `allows sts:AssumeRoleWithSAML from ${provider} with no SAML:aud condition, so it does not require assertions addressed to the AWS sign-in endpoint`,
      ),
    ]);
  });

  it("quotes a SAML:aud that is not the AWS sign-in endpoint", () => {
    expect(
      messagesFor(
        trustPolicy(samlStatement({ Condition: { StringEquals: { "SAML:aud": "https://idp.example.com/saml" } } })),
      ),
    ).toEqual([
      invalid(
        'restricts SAML:aud to "https://idp.example.com/saml" instead of the AWS sign-in endpoint https://signin.aws.amazon.com/saml',
      ),
    ]);
  });

  it("reports a SAML:aud list that lets a second audience in beside the sign-in endpoint", () => {
    expect(
      messagesFor(trustPolicy(samlStatement({ Condition: { StringLike: { "SAML:aud": [signIn, "https://*"] } } }))),
    ).toEqual([
      invalid(
        'restricts SAML:aud to "https://*" instead of the AWS sign-in endpoint https://signin.aws.amazon.com/saml',
      ),
    ]);
  });

  it("does not take a wildcard under StringEquals, where * is a literal character", () => {
    expect(
      messagesFor(
        trustPolicy(
          samlStatement({ Condition: { StringEquals: { "SAML:aud": "https://*.signin.aws.amazon.com/saml" } } }),
        ),
      ),
    ).toEqual([
      invalid(
        'restricts SAML:aud to "https://*.signin.aws.amazon.com/saml" instead of the AWS sign-in endpoint https://signin.aws.amazon.com/saml',
      ),
    ]);
  });

  it("reports an operator that does not pin SAML:aud", () => {
    expect(
      messagesFor(
        trustPolicy(samlStatement({ Condition: { StringNotEquals: { "SAML:aud": "https://idp.example.com/saml" } } })),
      ),
    ).toEqual([invalid("tests SAML:aud with StringNotEquals instead of StringEquals or StringLike")]);
  });

  it("reports a Deny without conditions that overrides the Allow", () => {
    const deny = { Sid: "FreezeRole", Effect: "Deny", Principal: "*", Action: "sts:*" };
    expect(messagesFor(trustPolicy(samlStatement(), deny))).toEqual([
      invalid(`has a Deny statement "FreezeRole" that overrides the Allow of sts:AssumeRoleWithSAML from ${provider}`),
    ]);
  });

  it("says when no emergency SAML provider is configured", () => {
    expect(messagesFor(trustPolicy(samlStatement()), [])).toEqual([
      invalid(`trusts ${provider} for sts:AssumeRoleWithSAML, but no emergency SAML provider is configured`),
    ]);
  });

  it("reports a trust policy that also lets anyone assume the role with no condition", () => {
    const open = { Sid: "Anyone", Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" };
    expect(messagesFor(trustPolicy(samlStatement(), open))).toEqual([
      invalid('also lets anyone ("*") assume the role with no condition in statement "Anyone"'),
    ]);
    expect(
      messagesFor(trustPolicy(samlStatement(), { Effect: "Allow", Principal: "*", Action: "sts:AssumeRoleWithSAML" })),
    ).toEqual([invalid('also lets anyone ("*") assume the role with no condition')]);
  });

  it('does not flag "*" narrowed by a condition', () => {
    const orgOnly = {
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } },
    };
    expect(findingsFor(trustPolicy(samlStatement(), orgOnly))).toEqual([]);
  });

  it("reports both problems when the SAML trust is wrong and anyone may assume the role", () => {
    const open = { Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" };
    expect(
      findingsFor(trustPolicy(samlStatement({ Condition: undefined }), open)).map((finding) => finding.code),
    ).toEqual(["EMERGENCY_ROLE_TRUST_INVALID", "EMERGENCY_ROLE_TRUST_INVALID"]);
  });
});
