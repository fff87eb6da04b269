// Identity Center is read as the principal its config names: with credentials of another account (the emergency
// account's, at 3 a.m.), `check` never reports a false IDENTITY_CENTER_NOT_ACTIVE, and says which key to set.
// moto gives every account an instance of its own, so sso-admin asked from the emergency account lists one that is
// not the management account's: exactly the answer that used to become "does not exist in its Region".
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListInstancesCommand, SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { asPrincipal, roleSessionPrincipal, type TestPrincipal } from "../support/aws-principals.js";
import { makeCertificate } from "../support/certificates.js";
import { entityXml } from "../support/metadata-builder.js";
import { awsClientConfig, MOTO_DEFAULT_ACCOUNT_ID, startMoto, type MotoServer } from "../support/moto.js";

const MANAGEMENT = MOTO_DEFAULT_ACCOUNT_ID;
const EMERGENCY = "210987654321";
const READ_ROLE = `arn:aws:iam::${MANAGEMENT}:role/breakglass-identity-center-reader`;
const signing = makeCertificate({ commonName: "idp signing" });

let moto: MotoServer;
let directory: string;
let instanceArn: string;
let emergencyCredentials: TestPrincipal;

beforeAll(async () => {
  moto = await startMoto();
  directory = mkdtempSync(join(tmpdir(), "breakglass-identity-center-account-"));
  writeFileSync(join(directory, "idp.xml"), entityXml({ keys: [{ base64: signing.base64, use: "signing" }] }));
  const listed = await new SSOAdminClient(awsClientConfig(moto.endpoint)).send(new ListInstancesCommand({}));
  instanceArn = listed.Instances?.[0]?.InstanceArn as string;
  emergencyCredentials = await roleSessionPrincipal(
    moto.endpoint,
    `arn:aws:iam::${EMERGENCY}:role/EmergencyAdmin`,
    "responder",
  );
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

/** `check --only identity-center --json` with this aws.identityCenter section, as `principal`. */
async function checkIdentityCenter(
  principal: TestPrincipal | undefined,
  identityCenter: { instanceArn?: string; accountId?: string; roleArn?: string },
): Promise<[string, string][]> {
  const configPath = join(directory, "breakglass.yaml");
  writeFileSync(
    configPath,
    [
      "idp:",
      "  name: Test IdP",
      "  metadata: idp.xml",
      "aws:",
      "  region: us-east-1",
      "  emergencyAccount:",
      `    accountId: "${EMERGENCY}"`,
      "  identityCenter:",
      `    instanceArn: ${identityCenter.instanceArn ?? instanceArn}`,
      "    region: us-east-1",
      ...(identityCenter.accountId ? [`    accountId: "${identityCenter.accountId}"`] : []),
      ...(identityCenter.roleArn ? [`    roleArn: ${identityCenter.roleArn}`] : []),
      "store:",
      `  path: ${join(directory, "breakglass.db")}`,
      "",
    ].join("\n"),
  );
  let stdout = "";
  let stderr = "";
  await asPrincipal(
    principal,
    () =>
      main(["check", "--config", configPath, "--only", "identity-center", "--json"], {
        stdout: (text) => void (stdout += text),
        stderr: (text) => void (stderr += text),
        stdoutIsTty: false,
        env: { XDG_CACHE_HOME: join(directory, "cache") },
        clock: fixedClock(new Date()),
      }),
    { AWS_ENDPOINT_URL: moto.endpoint },
  );
  expect(stderr).toBe("");
  const report = JSON.parse(stdout) as { findings: { code: string; message: string }[] };
  return report.findings.map((finding) => [finding.code, finding.message]);
}

describe("Identity Center read with credentials of another account", () => {
  it("is read through aws.identityCenter.roleArn, and found active", async () => {
    const findings = await checkIdentityCenter(emergencyCredentials, { accountId: MANAGEMENT, roleArn: READ_ROLE });
    // Only the attestation is missing: the instance was found, active, through the read role.
    expect(findings.map(([code]) => code)).toEqual(["IDENTITY_CENTER_IMPORT_UNATTESTED"]);
  });

  it("without a role, names the account read and the key to set instead of reporting Identity Center not active", async () => {
    expect(await checkIdentityCenter(emergencyCredentials, { accountId: MANAGEMENT })).toEqual([
      [
        "AWS_READ_FAILED",
        `IAM Identity Center ${instanceArn} was looked for with the credentials of account ${EMERGENCY}, not of ` +
          `${MANAGEMENT}, which administers it (aws.identityCenter.accountId): set aws.identityCenter.roleArn ` +
          `to a read role in ${MANAGEMENT}, or run with credentials there.`,
      ],
    ]);
  });

  it("without the administering account configured, cannot call the instance gone and says which keys to set", async () => {
    expect(await checkIdentityCenter(emergencyCredentials, {})).toEqual([
      [
        "AWS_READ_FAILED",
        `IAM Identity Center ${instanceArn} is not listed by sso-admin in account ${EMERGENCY}, whose credentials ` +
          "were used, and breakglass cannot tell whether that account administers it: set " +
          "aws.identityCenter.accountId to the management or delegated-administrator account, and " +
          "aws.identityCenter.roleArn to a read role there.",
      ],
    ]);
  });

  it("still reports an instance the administering account does not list as not active", async () => {
    const gone = "arn:aws:sso:::instance/ssoins-0000000000000000";
    const managementCredentials: TestPrincipal = {
      arn: `arn:aws:iam::${MANAGEMENT}:user/moto`,
      credentials: { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" },
    };
    expect(await checkIdentityCenter(managementCredentials, { instanceArn: gone, accountId: MANAGEMENT })).toEqual([
      [
        "IDENTITY_CENTER_NOT_ACTIVE",
        `IAM Identity Center ${gone} does not exist in its Region (sso-admin in account ${MANAGEMENT}, ` +
          "which administers it, lists no such instance).",
      ],
    ]);
  });
});
