// Reading IAM policy documents in the forms AWS hands them out, and matching actions and ARNs as IAM does.
import { describe, expect, it } from "vitest";
import {
  actionMatches,
  conditionsOnKey,
  parsePolicyDocument,
  resourceMatches,
  statementAllowsAction,
  statementCoversAction,
  statementCoversResource,
  type PolicyStatement,
} from "../../../src/domain/checks/iam-policy-document.js";

const provider = "arn:aws:iam::111111111111:saml-provider/EmergencyIdP";

/** The trust policy the IAM console writes for a SAML 2.0 federated role. */
const samlTrustPolicy = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { Federated: provider },
      Action: ["sts:AssumeRoleWithSAML", "sts:TagSession"],
      Condition: { StringEquals: { "SAML:aud": "https://signin.aws.amazon.com/saml" } },
    },
  ],
};

/** IAM's GetRole returns AssumeRolePolicyDocument URL-encoded (RFC 3986). */
const asIamReturnsIt = (policy: unknown) => encodeURIComponent(JSON.stringify(policy));

function statementsOf(text: string): readonly PolicyStatement[] {
  const parsed = parsePolicyDocument(text);
  if (!parsed.ok) throw new Error(`expected a policy, got: ${parsed.reason}`);
  return parsed.statements;
}

function onlyStatement(policy: unknown): PolicyStatement {
  const [statement] = statementsOf(JSON.stringify(policy));
  if (!statement) throw new Error("expected one statement");
  return statement;
}

describe("reading a policy document", () => {
  it("reads a trust policy URL-encoded as IAM returns it into the normalised model", () => {
    const parsed = parsePolicyDocument(asIamReturnsIt(samlTrustPolicy));
    expect(parsed).toEqual({
      ok: true,
      version: "2012-10-17",
      statements: [
        {
          effect: "Allow",
          principals: { any: false, aws: [], federated: [provider], service: [], canonicalUser: [] },
          notPrincipals: null,
          actions: ["sts:AssumeRoleWithSAML", "sts:TagSession"],
          notActions: null,
          resources: null,
          notResources: null,
          conditions: [{ operator: "StringEquals", key: "SAML:aud", values: ["https://signin.aws.amazon.com/saml"] }],
        },
      ],
    });
  });

  it("reads the same policy as plain JSON, the way Organizations returns SCP content", () => {
    expect(parsePolicyDocument(JSON.stringify(samlTrustPolicy, null, 2))).toEqual(
      parsePolicyDocument(asIamReturnsIt(samlTrustPolicy)),
    );
  });

  it("keeps a literal + and a literal %41 in values intact", () => {
    const policy = {
      Statement: { Sid: "Plus", Effect: "Deny", Action: "s3:GetObject", Resource: "arn:aws:s3:::logs/a+b%41" },
    };
    expect(statementsOf(asIamReturnsIt(policy))[0]?.resources).toEqual(["arn:aws:s3:::logs/a+b%41"]);
    expect(statementsOf(JSON.stringify(policy))[0]?.resources).toEqual(["arn:aws:s3:::logs/a+b%41"]);
  });

  it("reads a form-encoded copy where spaces became +", () => {
    const formEncoded = encodeURIComponent(JSON.stringify(samlTrustPolicy, null, 1)).replace(/%20/g, "+");
    expect(statementsOf(formEncoded)[0]?.actions).toEqual(["sts:AssumeRoleWithSAML", "sts:TagSession"]);
  });

  it("accepts one statement as an object and every list as a single string", () => {
    const statement = onlyStatement({
      Statement: { Sid: "One", Effect: "Deny", NotAction: "iam:Get*", NotResource: "arn:aws:iam::*:role/Keep" },
    });
    expect(statement).toMatchObject({
      sid: "One",
      effect: "Deny",
      actions: null,
      notActions: ["iam:Get*"],
      resources: null,
      notResources: ["arn:aws:iam::*:role/Keep"],
    });
  });

  it('reads Principal "*" and {"AWS": "*"} as everyone', () => {
    expect(
      onlyStatement({ Statement: { Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" } }).principals,
    ).toEqual({ any: true, aws: ["*"], federated: [], service: [], canonicalUser: [] });
    expect(
      onlyStatement({ Statement: { Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" } }).principals
        ?.any,
    ).toBe(true);
  });

  it("reads every principal type as a string or a list, and an account ID written as a number", () => {
    const statement = onlyStatement({
      Statement: {
        Effect: "Allow",
        Principal: {
          AWS: ["arn:aws:iam::111111111111:role/BreakGlass", 111111111111],
          Service: "ec2.amazonaws.com",
          Federated: [provider],
        },
        Action: "sts:AssumeRole",
      },
    });
    expect(statement.principals).toEqual({
      any: false,
      aws: ["arn:aws:iam::111111111111:role/BreakGlass", "111111111111"],
      federated: [provider],
      service: ["ec2.amazonaws.com"],
      canonicalUser: [],
    });
  });

  it("reads conditions as operator, key and string values, whatever JSON type the values had", () => {
    const statement = onlyStatement({
      Statement: {
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::111111111111:root" },
        Action: "sts:AssumeRole",
        Condition: {
          Bool: { "aws:MultiFactorAuthPresent": true },
          NumericLessThan: { "aws:MultiFactorAuthAge": 3600 },
          "ForAnyValue:StringLike": { "SAML:aud": ["a", "b"] },
        },
      },
    });
    expect(statement.conditions).toEqual([
      { operator: "Bool", key: "aws:MultiFactorAuthPresent", values: ["true"] },
      { operator: "NumericLessThan", key: "aws:MultiFactorAuthAge", values: ["3600"] },
      { operator: "ForAnyValue:StringLike", key: "SAML:aud", values: ["a", "b"] },
    ]);
  });

  it("finds a condition key whatever its case, as IAM does", () => {
    const statement = onlyStatement({
      Statement: {
        Effect: "Allow",
        Action: "sts:AssumeRoleWithSAML",
        Condition: { StringEquals: { "saml:AUD": "x" } },
      },
    });
    expect(conditionsOnKey(statement, "SAML:aud").map((condition) => condition.values)).toEqual([["x"]]);
    expect(conditionsOnKey(statement, "SAML:sub")).toEqual([]);
  });
});

describe("refusing what is not a policy, with the reason", () => {
  const reasonFor = (text: string) => {
    const parsed = parsePolicyDocument(text);
    return parsed.ok ? "parsed" : parsed.reason;
  };

  it.each([
    ["text that is not JSON", "not json at all", "it is neither JSON nor URL-encoded JSON"],
    ["a truncated document", '{"Version":"2012-10-17","Statement":[', "it is neither JSON nor URL-encoded JSON"],
    ["a broken percent escape", "%7B%22Statement%22%3A%E0%A4%A", "it is neither JSON nor URL-encoded JSON"],
    ["an empty string", "", "it is neither JSON nor URL-encoded JSON"],
    ["a JSON array", "[]", "it is not a JSON object"],
    ["a document without Statement", '{"Version":"2012-10-17"}', "it has no Statement"],
    [
      "a lowercase Effect",
      '{"Statement":{"Effect":"allow","Action":"*"}}',
      'statement 1 has Effect "allow", not "Allow" or "Deny"',
    ],
    ["a missing Effect", '{"Statement":[{"Action":"*"}]}', 'statement 1 has Effect missing, not "Allow" or "Deny"'],
    [
      "both Action and NotAction",
      '{"Statement":{"Sid":"Both","Effect":"Deny","Action":"*","NotAction":"s3:*"}}',
      'statement "Both" has both Action and NotAction',
    ],
    [
      "neither Action nor NotAction",
      '{"Statement":[{"Effect":"Deny","Resource":"*"}]}',
      "statement 1 has neither Action nor NotAction",
    ],
    [
      "an Action that is a number",
      '{"Statement":[{"Effect":"Deny","Action":[1]}]}',
      "statement 1 Action holds a number, not a string",
    ],
    [
      "an unknown principal type",
      '{"Statement":[{"Effect":"Allow","Principal":{"Aws":"*"},"Action":"*"}]}',
      'statement 1 Principal has an unknown principal type "Aws"',
    ],
    [
      "a Principal that is a plain ARN",
      '{"Statement":[{"Effect":"Allow","Principal":"arn:aws:iam::111111111111:root","Action":"*"}]}',
      'statement 1 Principal is neither "*" nor an object',
    ],
    [
      "a Condition holding an object",
      '{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"k":{"v":1}}}}]}',
      "statement 1 has a StringEquals k value that is an object",
    ],
  ])("refuses %s", (_label, text, reason) => {
    expect(reasonFor(text)).toBe(reason);
  });
});

describe("matching actions", () => {
  it("matches exact names regardless of case, in the service prefix and the action name", () => {
    expect(actionMatches("sts:AssumeRoleWithSAML", "sts:AssumeRoleWithSAML")).toBe(true);
    expect(actionMatches("STS:assumerolewithsaml", "sts:AssumeRoleWithSAML")).toBe(true);
    expect(actionMatches("sts:AssumeRole", "sts:AssumeRoleWithSAML")).toBe(false);
    expect(actionMatches("iam:DeleteRole", "iam:DeleteRolePolicy")).toBe(false);
  });

  it("expands * and ? wildcards", () => {
    expect(actionMatches("*", "iam:DeleteRole")).toBe(true);
    expect(actionMatches("sts:AssumeRoleWith*", "sts:AssumeRoleWithSAML")).toBe(true);
    expect(actionMatches("iam:*Role*", "iam:UpdateAssumeRolePolicy")).toBe(true);
    expect(actionMatches("iam:Delete*", "iam:UpdateRole")).toBe(false);
    expect(actionMatches("iam:?eleteRole", "iam:DeleteRole")).toBe(true);
    expect(actionMatches("iam:?DeleteRole", "iam:DeleteRole")).toBe(false);
  });

  it("treats regular-expression characters in a pattern literally", () => {
    expect(actionMatches("iam:Delete.ole", "iam:DeleteRole")).toBe(false);
  });

  it("honours NotAction: it covers every action it does not name", () => {
    const statement = onlyStatement({
      Statement: { Effect: "Allow", Principal: { Federated: provider }, NotAction: ["sts:AssumeRole", "iam:*"] },
    });
    expect(statementAllowsAction(statement, "sts:AssumeRoleWithSAML")).toBe(true);
    expect(statementAllowsAction(statement, "sts:AssumeRole")).toBe(false);
    expect(statementAllowsAction(statement, "iam:DeleteRole")).toBe(false);
  });

  it("does not count a Deny as allowing, though it covers the action", () => {
    const statement = onlyStatement({ Statement: { Effect: "Deny", Principal: "*", Action: "sts:*" } });
    expect(statementAllowsAction(statement, "sts:AssumeRole")).toBe(false);
    expect(statementCoversAction(statement, "sts:AssumeRole")).toBe(true);
  });
});

describe("matching resources", () => {
  const role = "arn:aws:iam::222222222222:role/BreakGlass";

  it("matches * and exact ARNs, case-sensitively", () => {
    expect(resourceMatches("*", role)).toBe(true);
    expect(resourceMatches(role, role)).toBe(true);
    expect(resourceMatches("arn:aws:iam::222222222222:role/breakglass", role)).toBe(false);
  });

  it("expands wildcards within an ARN segment", () => {
    expect(resourceMatches("arn:aws:iam::*:role/BreakGlass", role)).toBe(true);
    expect(resourceMatches("arn:aws:iam::222222222222:role/*", role)).toBe(true);
    expect(resourceMatches("arn:aws:iam::222222222222:role/Break*", role)).toBe(true);
    expect(resourceMatches("arn:aws:iam::22222222222?:role/BreakGlass", role)).toBe(true);
    expect(resourceMatches("arn:aws:iam::*:role/Other", role)).toBe(false);
    expect(resourceMatches("arn:aws:iam::333333333333:role/*", role)).toBe(false);
  });

  it("lets a * that ends a segment run past colons, but not one inside a segment", () => {
    expect(resourceMatches("arn:aws:iam::*", role)).toBe(true);
    expect(resourceMatches("arn:aws:iam::2*2:role/BreakGlass", role)).toBe(true);
    expect(resourceMatches("arn:aws:iam:*2:role/BreakGlass", role)).toBe(false);
  });

  it("reads ${*} as a literal asterisk and leaves other policy variables unmatched", () => {
    expect(resourceMatches("arn:aws:s3:::bucket/${*}", "arn:aws:s3:::bucket/*")).toBe(true);
    expect(resourceMatches("arn:aws:s3:::bucket/${*}", "arn:aws:s3:::bucket/key")).toBe(false);
    expect(resourceMatches("arn:aws:iam::${aws:PrincipalAccount}:role/BreakGlass", role)).toBe(false);
  });

  it("honours NotResource, and treats a statement without Resource (a trust policy) as covering its role", () => {
    const notResource = onlyStatement({
      Statement: { Effect: "Deny", Action: "iam:*", NotResource: "arn:aws:iam::*:role/BreakGlass" },
    });
    expect(statementCoversResource(notResource, role)).toBe(false);
    expect(statementCoversResource(notResource, "arn:aws:iam::222222222222:role/Other")).toBe(true);
    expect(statementCoversResource(onlyStatement(samlTrustPolicy), role)).toBe(true);
  });
});
