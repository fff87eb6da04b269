// `breakglass check` against a realistic organization in the AWS emulator: healthy yields nothing, and each breakage exactly its finding.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CloudTrailClient, StartLoggingCommand, StopLoggingCommand } from "@aws-sdk/client-cloudtrail";
import { DisableRuleCommand, EnableRuleCommand, EventBridgeClient } from "@aws-sdk/client-eventbridge";
import {
  CreateRoleCommand,
  CreateSAMLProviderCommand,
  DeleteRoleCommand,
  DeleteSAMLProviderCommand,
  IAMClient,
  UpdateAssumeRolePolicyCommand,
  UpdateSAMLProviderCommand,
} from "@aws-sdk/client-iam";
import { AttachPolicyCommand, DetachPolicyCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import {
  buildOrganization,
  CROSS_ACCOUNT_ROLE,
  crossAccountTrust,
  EMERGENCY_ROLE,
  emergencyRoleTrust,
  READ_ROLE,
  REGION,
  SAML_PROVIDER,
  type TestOrganization,
} from "../support/aws-organization.js";
import { DAY, freshKeyPair, makeCertificate } from "../support/certificates.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { entityXml } from "../support/metadata-builder.js";
import { awsClientConfig, startMoto, type MotoServer } from "../support/moto.js";
import { startSsoAdminRegionsFront } from "../support/runbook-sso-admin.js";

const run = promisify(execFile);
const NOW = new Date();
const signing = makeCertificate({
  commonName: "idp signing",
  notBefore: new Date(NOW.getTime() - 100 * DAY),
  notAfter: new Date(NOW.getTime() + 300 * DAY),
});
const rollover = makeCertificate(
  { commonName: "idp next", notBefore: new Date(NOW.getTime() - DAY), notAfter: new Date(NOW.getTime() + 700 * DAY) },
  freshKeyPair(),
);
const idpMetadata = (...certificates: { base64: string }[]) =>
  entityXml({ keys: certificates.map(({ base64 }) => ({ base64, use: "signing" as const })) });

let moto: MotoServer;
let proxy: FaultProxy;
let ssoAdminFront: Awaited<ReturnType<typeof startSsoAdminRegionsFront>>;
let organization: TestOrganization;
let directory: string;
let configPath: string;
let metadataPath: string;

interface Report {
  ok: boolean;
  findings: {
    code: string;
    severity: string;
    message: string;
    accountId?: string;
    resource?: string;
    missingOnProvider?: string[];
    unknownToIdp?: string[];
  }[];
  facts: Record<string, unknown>;
  notChecked: { check: string; reason: string }[];
}

async function breakglass(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    stdoutIsTty: false,
    env: { XDG_CACHE_HOME: join(directory, "cache") },
    clock: fixedClock(NOW),
  });
  return { code, stdout, stderr };
}

async function check(...extra: string[]): Promise<Report & { code: number }> {
  const { code, stdout, stderr } = await breakglass("check", "--config", configPath, "--json", ...extra);
  expect(stderr).toBe("");
  return { code, ...(JSON.parse(stdout) as Report) };
}

const codes = (report: Report) => report.findings.map((finding) => finding.code).sort();

function writeConfig(path: string, withOrganization = true): void {
  writeFileSync(
    path,
    [
      "idp:",
      "  name: Test IdP",
      `  metadata: ${metadataPath}`,
      "aws:",
      `  region: ${REGION}`,
      "  emergencyAccount:",
      `    accountId: "${organization.emergencyAccountId}"`,
      `    roleArn: arn:aws:iam::${organization.emergencyAccountId}:role/OrganizationAccountAccessRole`,
      "    samlProviders:",
      `      - ${organization.samlProviderArn}`,
      "    emergencyRoles:",
      `      - ${organization.emergencyRoleArn}`,
      "  identityCenter:",
      `    instanceArn: ${organization.instanceArn}`,
      `    region: ${REGION}`,
      ...(withOrganization
        ? [
            "  organization:",
            `    crossAccountRoleName: ${CROSS_ACCOUNT_ROLE}`,
            `    readRoleName: ${READ_ROLE}`,
            "    accounts: all",
          ]
        : []),
      "store:",
      `  path: ${join(directory, "breakglass.db")}`,
      "",
    ].join("\n"),
  );
}

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint, { seed: 7, throttleRate: 0, serverErrorRate: 0 });
  // Identity Center with an ACTIVE replica Region: moto lacks ListRegions, so a loopback front answers it.
  ssoAdminFront = await startSsoAdminRegionsFront(proxy.endpoint, [
    { RegionName: REGION, Status: "ACTIVE", AddedDate: 1.7e9, IsPrimaryRegion: true },
    { RegionName: "eu-central-1", Status: "ACTIVE", AddedDate: 1.75e9, IsPrimaryRegion: false },
  ]);
  // The CLI finds the emulator the way users point it at a VPC endpoint: through the SDK's standard environment.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ENDPOINT_URL_SSO_ADMIN: ssoAdminFront.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: REGION,
  });
  directory = mkdtempSync(join(tmpdir(), "breakglass-check-"));
  metadataPath = join(directory, "idp-metadata.xml");
  writeFileSync(metadataPath, idpMetadata(signing));
  organization = await buildOrganization(moto.endpoint, { workloadAccounts: 3, idpMetadata: idpMetadata(signing) });
  configPath = join(directory, "breakglass.yaml");
  writeConfig(configPath);
}, 120_000);

afterAll(async () => {
  await ssoAdminFront?.close();
  await proxy?.stop();
  await moto?.stop();
});

const emergencyIam = async () => new IAMClient(await organization.configFor(organization.emergencyAccountId));
const workloadIam = async (index: number) =>
  new IAMClient(await organization.configFor(organization.workloadAccountIds[index]!));

describe("a healthy organization", () => {
  it("asks for an Identity Center attestation until an admin records one", async () => {
    const report = await check();
    expect(codes(report)).toEqual(["IDENTITY_CENTER_IMPORT_UNATTESTED"]);
    expect(report.code).toBe(0); // medium: worth doing, not a failure
  });

  it("records the attestation of the Identity Center import", async () => {
    const { code, stdout } = await breakglass(
      "identity-center",
      "attest",
      "--metadata",
      metadataPath,
      "--by",
      "alice",
      "--config",
      configPath,
    );
    expect(code).toBe(0);
    expect(stdout).toContain(`Recorded: alice imported into IAM Identity Center ${organization.instanceArn}`);
  });

  it("yields no finding at all, and reports the facts it read", async () => {
    const report = await check();
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.code).toBe(0);
    // FM1's emergency users have their own test (emergency-users.test.ts): moto cannot give root an MFA device.
    // The watch queue too (watch-plumbing.test.ts).
    expect(report.notChecked).toEqual([
      { check: "emergency-users", reason: "no aws.emergencyAccount.emergencyUsers" },
      { check: "emergency-groups", reason: "no idp.directory.emergencyGroups" },
      { check: "watch", reason: "no watch.queueUrl" },
    ]);
    expect((report.facts["workloadAccounts"] as unknown[]).length).toBe(3);
    expect(report.facts["samlProviders"]).toEqual([
      {
        arn: organization.samlProviderArn,
        status: "found",
        validUntil: expect.any(String),
        signingCertificates: [expect.stringMatching(/^[0-9a-f]{64}$/)],
      },
    ]);
  });

  it("prints a readable report that says the path is ready", async () => {
    const { code, stdout } = await breakglass("check", "--config", configPath);
    expect(code).toBe(0);
    expect(stdout).toContain("No findings: the emergency access path is ready as far as breakglass checked it.");
    expect(stdout).toContain("(3 workload accounts)");
  });

  it("runs as the installed command with nothing on stderr: no warning from the AWS SDK about the Node.js version", async () => {
    const bin = new URL("../../bin/breakglass.js", import.meta.url).pathname;
    const env = {
      PATH: process.env["PATH"],
      HOME: directory,
      XDG_CACHE_HOME: join(directory, "cache"),
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_ENDPOINT_URL_SSO_ADMIN: ssoAdminFront.endpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: REGION,
    };
    const { stdout, stderr } = await run(process.execPath, [bin, "check", "--config", configPath], { env });
    expect(stderr).toBe("");
    expect(stdout).toContain("No findings: the emergency access path is ready as far as breakglass checked it.");
  });
});

describe("one breakage at a time", () => {
  it("finds the emergency SAML provider deleted", async () => {
    const iam = await emergencyIam();
    await iam.send(new DeleteSAMLProviderCommand({ SAMLProviderArn: organization.samlProviderArn }));
    try {
      const report = await check();
      expect(codes(report)).toEqual(["SAML_PROVIDER_MISSING"]);
      expect(report.code).toBe(1);
    } finally {
      await iam.send(
        new CreateSAMLProviderCommand({ Name: SAML_PROVIDER, SAMLMetadataDocument: idpMetadata(signing) }),
      );
    }
  });

  it("finds the provider holding another certificate, with the fingerprints on each side", async () => {
    const iam = await emergencyIam();
    await iam.send(
      new UpdateSAMLProviderCommand({
        SAMLProviderArn: organization.samlProviderArn,
        SAMLMetadataDocument: idpMetadata(rollover),
      }),
    );
    try {
      const [finding, ...rest] = (await check()).findings;
      expect(rest).toEqual([]);
      // It lacks the certificate the IdP signs with now: FM3 sign-ins fail, so the drift is critical.
      expect(finding).toMatchObject({
        code: "SAML_PROVIDER_LACKS_CURRENT_CERT",
        severity: "critical",
        resource: organization.samlProviderArn,
        missingOnProvider: [expect.any(String)],
        unknownToIdp: [expect.any(String)],
      });
      expect(finding?.message).toContain("direct federation through this provider fails now");
    } finally {
      await iam.send(
        new UpdateSAMLProviderCommand({
          SAMLProviderArn: organization.samlProviderArn,
          SAMLMetadataDocument: idpMetadata(signing),
        }),
      );
    }
  });

  it("gives the early warning when the IdP publishes a rollover certificate the provider lacks", async () => {
    writeFileSync(metadataPath, idpMetadata(signing, rollover));
    try {
      const report = await check();
      expect(codes(report)).toEqual(["ROLLOVER_IN_PROGRESS", "SAML_PROVIDER_DRIFT"]);
      expect(report.findings.find((finding) => finding.code === "SAML_PROVIDER_DRIFT")?.message).toContain(
        "the IdP's new rollover certificate",
      );
    } finally {
      writeFileSync(metadataPath, idpMetadata(signing));
    }
  });

  it("finds the emergency role's trust policy without the SAML:aud condition", async () => {
    const iam = await emergencyIam();
    const loose = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { Federated: organization.samlProviderArn }, Action: "sts:AssumeRoleWithSAML" },
      ],
    });
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: EMERGENCY_ROLE, PolicyDocument: loose }));
    try {
      expect(codes(await check())).toEqual(["EMERGENCY_ROLE_TRUST_INVALID"]);
    } finally {
      await iam.send(
        new UpdateAssumeRolePolicyCommand({
          RoleName: EMERGENCY_ROLE,
          PolicyDocument: emergencyRoleTrust(organization.samlProviderArn),
        }),
      );
    }
  });

  it("finds the emergency role deleted", async () => {
    const iam = await emergencyIam();
    await iam.send(new DeleteRoleCommand({ RoleName: EMERGENCY_ROLE }));
    try {
      expect(codes(await check())).toEqual(["EMERGENCY_ROLE_MISSING"]);
    } finally {
      await iam.send(
        new CreateRoleCommand({
          RoleName: EMERGENCY_ROLE,
          AssumeRolePolicyDocument: emergencyRoleTrust(organization.samlProviderArn),
        }),
      );
    }
  });

  it("finds the cross-account role missing in exactly the account where it was deleted", async () => {
    const iam = await workloadIam(1);
    await iam.send(new DeleteRoleCommand({ RoleName: CROSS_ACCOUNT_ROLE }));
    try {
      const report = await check();
      expect(report.findings.map((finding) => [finding.code, finding.accountId])).toEqual([
        ["CROSS_ACCOUNT_ROLE_MISSING", organization.workloadAccountIds[1]],
      ]);
    } finally {
      await iam.send(
        new CreateRoleCommand({
          RoleName: CROSS_ACCOUNT_ROLE,
          AssumeRolePolicyDocument: crossAccountTrust(organization.emergencyRoleArn),
        }),
      );
    }
  });

  it("finds a cross-account role that trusts the whole emergency account instead of its emergency role", async () => {
    const iam = await workloadIam(2);
    const broad = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${organization.emergencyAccountId}:root` },
          Action: "sts:AssumeRole",
        },
      ],
    });
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: CROSS_ACCOUNT_ROLE, PolicyDocument: broad }));
    try {
      const report = await check();
      expect(report.findings.map((finding) => [finding.code, finding.accountId])).toEqual([
        ["CROSS_ACCOUNT_ROLE_TRUST_INVALID", organization.workloadAccountIds[2]],
      ]);
    } finally {
      await iam.send(
        new UpdateAssumeRolePolicyCommand({
          RoleName: CROSS_ACCOUNT_ROLE,
          PolicyDocument: crossAccountTrust(organization.emergencyRoleArn),
        }),
      );
    }
  });

  it("finds every workload account unprotected once the SCP is detached from their OU", async () => {
    const organizations = new OrganizationsClient(awsClientConfig(moto.endpoint, REGION));
    await organizations.send(
      new DetachPolicyCommand({ PolicyId: organization.protectionPolicyId, TargetId: organization.workloadOuId }),
    );
    try {
      const report = await check();
      expect(report.findings.map((finding) => [finding.code, finding.accountId]).sort()).toEqual(
        organization.workloadAccountIds.map((accountId) => ["SCP_PROTECTION_MISSING", accountId]).sort(),
      );
    } finally {
      await organizations.send(
        new AttachPolicyCommand({ PolicyId: organization.protectionPolicyId, TargetId: organization.workloadOuId }),
      );
    }
  });

  it("finds the emergency account's trail not logging", async () => {
    const cloudTrail = new CloudTrailClient(await organization.configFor(organization.emergencyAccountId));
    await cloudTrail.send(new StopLoggingCommand({ Name: organization.trailName }));
    try {
      expect(codes(await check())).toEqual(["CLOUDTRAIL_NOT_LOGGING"]);
    } finally {
      await cloudTrail.send(new StartLoggingCommand({ Name: organization.trailName }));
    }
  });

  it("finds the console sign-in alert disabled", async () => {
    const eventBridge = new EventBridgeClient(await organization.configFor(organization.emergencyAccountId));
    await eventBridge.send(new DisableRuleCommand({ Name: organization.signInRuleName }));
    try {
      const report = await check();
      expect(codes(report)).toEqual(["EVENTBRIDGE_RULE_MISSING"]);
      expect(report.findings[0]?.message).toContain(organization.signInRuleName);
    } finally {
      await eventBridge.send(new EnableRuleCommand({ Name: organization.signInRuleName }));
    }
  });

  it("reports an account it may not enter as a finding about that account, and still sweeps the others", async () => {
    proxy.denyAssumeRoleInto([organization.workloadAccountIds[0]!]);
    try {
      const report = await check();
      expect(report.findings.map((finding) => [finding.code, finding.accountId])).toEqual([
        ["AWS_READ_FAILED", organization.workloadAccountIds[0]],
      ]);
      expect(report.findings[0]?.message).toContain("AccessDenied");
      const accounts = report.facts["workloadAccounts"] as {
        accountId: string;
        crossAccountRole: { status: string } | null;
      }[];
      expect(accounts.filter((account) => account.crossAccountRole?.status === "found")).toHaveLength(2);
    } finally {
      proxy.denyAssumeRoleInto([]);
    }
  });
});

describe("what is not checked", () => {
  it("says which checks a config without an organization section leaves out, and --only narrows the run", async () => {
    const path = join(directory, "no-organization.yaml");
    writeConfig(path, false);
    const { stdout } = await breakglass("check", "--config", path, "--json", "--only", "metadata,saml-providers");
    const report = JSON.parse(stdout) as Report;
    expect(report.findings).toEqual([]);
    expect(report.notChecked).toEqual([
      { check: "emergency-roles", reason: "not in --only" },
      { check: "emergency-users", reason: "not in --only" },
      { check: "identity-center", reason: "not in --only" },
      { check: "identity-center-regions", reason: "not in --only" },
      { check: "cross-account-roles", reason: "not in --only" },
      { check: "scp-protection", reason: "not in --only" },
      { check: "cloudtrail", reason: "not in --only" },
      { check: "eventbridge", reason: "not in --only" },
      { check: "emergency-groups", reason: "not in --only" },
      { check: "watch", reason: "not in --only" },
    ]);
    const full = JSON.parse((await breakglass("check", "--config", path, "--json")).stdout) as Report;
    expect(full.notChecked).toEqual([
      { check: "emergency-users", reason: "no aws.emergencyAccount.emergencyUsers" },
      { check: "cross-account-roles", reason: "no aws.organization section" },
      { check: "scp-protection", reason: "no aws.organization section" },
      { check: "emergency-groups", reason: "no idp.directory.emergencyGroups" },
      { check: "watch", reason: "no watch.queueUrl" },
    ]);
  });

  it("refuses an unknown check name in --only", async () => {
    const { code, stderr } = await breakglass("check", "--config", configPath, "--only", "metadata,scps");
    expect(code).toBe(2);
    expect(stderr).toBe(
      'breakglass: --only: unknown check "scps" (checks: metadata, saml-providers, emergency-roles, ' +
        "emergency-users, identity-center, identity-center-regions, cross-account-roles, scp-protection, cloudtrail, " +
        "eventbridge, emergency-groups, watch)\n",
    );
  });
});
