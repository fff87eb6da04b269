// `breakglass saml preflight` against the emergency provider and roles in the AWS emulator: what it accepts, STS takes.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateRoleCommand,
  CreateSAMLProviderCommand,
  IAMClient,
  UpdateSAMLProviderCommand,
} from "@aws-sdk/client-iam";
import { AssumeRoleWithSAMLCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { emergencyRoleTrust, REGION } from "../support/aws-organization.js";
import { freshKeyPair, makeCertificate } from "../support/certificates.js";
import { awsClientConfig, MOTO_DEFAULT_ACCOUNT_ID, startMoto, type MotoServer } from "../support/moto.js";
import { createSamlIdp, type ResponseSpec } from "../support/saml-idp.js";

const ISSUED = new Date("2026-11-24T12:00:00Z");
const JUDGED = new Date("2026-11-24T12:01:00Z");
const ACCOUNT = MOTO_DEFAULT_ACCOUNT_ID;
const PROVIDER = `arn:aws:iam::${ACCOUNT}:saml-provider/EmergencyIdP`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/EmergencyAdmin`;
const UNTRUSTING_ROLE = `arn:aws:iam::${ACCOUNT}:role/TrustsAnotherIdP`;
const WRONG_AUDIENCE_ROLE = `arn:aws:iam::${ACCOUNT}:role/OtherAudience`;
const idp = createSamlIdp();
const good: ResponseSpec = { issuedAt: ISSUED, roles: [`${ROLE},${PROVIDER}`], sessionDuration: "3600" };

let moto: MotoServer;
let iam: IAMClient;
let sts: STSClient;
let configPath: string;

interface Report {
  accepted: boolean;
  findings: { code: string; message: string; resource?: string }[];
  skipped: string[];
  facts: { provider: string; roles: { roleArn: string; accepted: boolean; findings: string[] }[] };
}

async function preflight(base64: string, ...extra: string[]): Promise<Report & { code: number }> {
  const path = join(mkdtempSync(join(tmpdir(), "breakglass-preflight-")), "response.b64");
  writeFileSync(path, base64);
  let stdout = "";
  let stderr = "";
  const code = await main(["saml", "preflight", path, "--config", configPath, "--json", ...extra], {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    stdoutIsTty: false,
    env: {},
    clock: fixedClock(JUDGED),
  });
  expect(stderr).toBe("");
  return { code, ...(JSON.parse(stdout) as Report) };
}

const codes = (report: Report) => report.findings.map((finding) => finding.code).sort();

beforeAll(async () => {
  moto = await startMoto();
  // The CLI finds the emulator the way users point it at a VPC endpoint: through the SDK's standard environment.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: REGION,
  });
  iam = new IAMClient(awsClientConfig(moto.endpoint, REGION));
  sts = new STSClient(awsClientConfig(moto.endpoint, REGION));
  await iam.send(new CreateSAMLProviderCommand({ Name: "EmergencyIdP", SAMLMetadataDocument: idp.metadata }));
  await iam.send(
    new CreateRoleCommand({
      RoleName: "EmergencyAdmin",
      AssumeRolePolicyDocument: emergencyRoleTrust(PROVIDER),
      MaxSessionDuration: 3600,
    }),
  );
  await iam.send(
    new CreateRoleCommand({
      RoleName: "TrustsAnotherIdP",
      AssumeRolePolicyDocument: emergencyRoleTrust(`arn:aws:iam::${ACCOUNT}:saml-provider/OtherIdP`),
    }),
  );
  const otherAudience = JSON.parse(emergencyRoleTrust(PROVIDER)) as {
    Statement: { Condition: { StringEquals: Record<string, string> } }[];
  };
  otherAudience.Statement[0]!.Condition.StringEquals["SAML:aud"] = "https://eu-west-1.signin.aws.amazon.com/saml";
  await iam.send(
    new CreateRoleCommand({ RoleName: "OtherAudience", AssumeRolePolicyDocument: JSON.stringify(otherAudience) }),
  );
  const directory = mkdtempSync(join(tmpdir(), "breakglass-preflight-config-"));
  configPath = join(directory, "breakglass.yaml");
  writeFileSync(
    configPath,
    [
      "idp:",
      "  name: Test IdP",
      `  metadata: ${join(directory, "unused-metadata.xml")}`,
      "aws:",
      `  region: ${REGION}`,
      "  emergencyAccount:",
      `    accountId: "${ACCOUNT}"`,
      "    samlProviders:",
      `      - ${PROVIDER}`,
      "",
    ].join("\n"),
  );
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

describe("against the emergency provider in AWS", () => {
  it("accepts a good response, and AssumeRoleWithSAML with it returns credentials", async () => {
    const { base64 } = await idp.respond(good);
    const report = await preflight(base64);
    expect(report.code).toBe(0);
    expect(report.accepted).toBe(true);
    expect(report.skipped).toEqual([]);
    expect(report.facts.provider).toBe(PROVIDER);
    // moto does not verify the signature (the preflight does); it issues credentials for the role the response names.
    const { Credentials } = await sts.send(
      new AssumeRoleWithSAMLCommand({ RoleArn: ROLE, PrincipalArn: PROVIDER, SAMLAssertion: base64 }),
    );
    expect(Credentials?.AccessKeyId).toMatch(/^ASIA/);
    expect(Credentials?.SessionToken).toBeTruthy();
  });

  it("refuses a role that does not exist", async () => {
    const missing = `arn:aws:iam::${ACCOUNT}:role/Gone`;
    const report = await preflight((await idp.respond({ ...good, roles: [`${missing},${PROVIDER}`] })).base64);
    expect(report.code).toBe(1);
    expect(codes(report)).toEqual(["SAML_RESPONSE_ROLE_NOT_FOUND"]);
    expect(report.findings[0]?.resource).toBe(missing);
  });

  it("refuses a role whose trust policy admits another provider, or another audience", async () => {
    const other = await preflight((await idp.respond({ ...good, roles: [`${UNTRUSTING_ROLE},${PROVIDER}`] })).base64);
    expect(codes(other)).toEqual(["SAML_RESPONSE_ROLE_UNTRUSTED"]);
    expect(other.findings[0]?.message).toContain(`does not allow sts:AssumeRoleWithSAML from ${PROVIDER}`);
    const audience = await preflight(
      (await idp.respond({ ...good, roles: [`${WRONG_AUDIENCE_ROLE},${PROVIDER}`] })).base64,
    );
    expect(codes(audience)).toEqual(["SAML_RESPONSE_ROLE_UNTRUSTED"]);
    expect(audience.findings[0]?.message).toContain("not this response's Recipient");
  });

  it("refuses a Role value naming another provider than the emergency one", async () => {
    const elsewhere = `arn:aws:iam::${ACCOUNT}:saml-provider/OtherIdP`;
    const report = await preflight((await idp.respond({ ...good, roles: [`${ROLE},${elsewhere}`] })).base64);
    expect(codes(report)).toContain("SAML_RESPONSE_ROLE_INVALID");
    expect(report.findings.find((f) => f.code === "SAML_RESPONSE_ROLE_INVALID")?.message).toContain(elsewhere);
  });

  it("refuses a SessionDuration over the role's MaxSessionDuration", async () => {
    const report = await preflight((await idp.respond({ ...good, sessionDuration: "7200" })).base64);
    expect(codes(report)).toEqual(["SAML_RESPONSE_DURATION_INVALID"]);
    expect(report.findings[0]?.message).toContain("over the MaxSessionDuration");
    expect(report.findings[0]?.message).toContain("(3600 s)");
  });

  it("refuses a response signed with a key the provider lost after a re-import, and accepts it again once re-imported", async () => {
    const rotated = createSamlIdp({
      entityId: idp.entityId,
      certificate: makeCertificate({ commonName: "rotated" }, freshKeyPair()),
    });
    const { base64 } = await rotated.respond(good);
    expect(codes(await preflight(base64))).toEqual(["SAML_RESPONSE_SIGNER_UNKNOWN"]);
    await iam.send(
      new UpdateSAMLProviderCommand({ SAMLProviderArn: PROVIDER, SAMLMetadataDocument: rotated.metadata }),
    );
    try {
      expect((await preflight(base64)).accepted).toBe(true);
    } finally {
      await iam.send(new UpdateSAMLProviderCommand({ SAMLProviderArn: PROVIDER, SAMLMetadataDocument: idp.metadata }));
    }
  });
});
