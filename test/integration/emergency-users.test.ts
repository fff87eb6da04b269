// `check --only emergency-users` in the AWS emulator: FM1's emergency IAM user as an admin sets it up is healthy, and
// each thing that would stop it at 3 a.m. (its trust on the emergency role removed, MFA off, no password, a key) is
// exactly its finding. moto reports AccountMFAEnabled 0 for every account and cannot enable it (no root user to act
// as), so ROOT_MFA_DISABLED is in every answer here; the pure check's own test covers root MFA enabled.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateRoleCommand,
  CreateSAMLProviderCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  DeactivateMFADeviceCommand,
  DeleteLoginProfileCommand,
  EnableMFADeviceCommand,
  IAMClient,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { asPrincipal } from "../support/aws-principals.js";
import { makeCertificate } from "../support/certificates.js";
import { entityXml } from "../support/metadata-builder.js";
import { awsClientConfig, MOTO_DEFAULT_ACCOUNT_ID, startMoto, type MotoServer } from "../support/moto.js";

const ACCOUNT = MOTO_DEFAULT_ACCOUNT_ID;
const USER = "breakglass-1";
const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/${USER}`;
const ROOT_MFA: [string, string] = [
  "ROOT_MFA_DISABLED",
  `The root user of the emergency account ${ACCOUNT} has no MFA device (iam:GetAccountSummary AccountMFAEnabled is 0).`,
];
const signing = makeCertificate({ commonName: "idp signing" });

let moto: MotoServer;
let iam: IAMClient;
let directory: string;
let providerArn: string;
let roleArn: string;
let mfaSerial: string;
let lastReport: { findings: { code: string; message: string }[]; facts: Record<string, unknown> };

/** The emergency role's trust as FM1 and FM3 need it: SAML sign-in, and the emergency user with MFA (unless left out). */
function roleTrust(user: "with-mfa" | "without-mfa" | "absent"): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: providerArn },
        Action: "sts:AssumeRoleWithSAML",
        Condition: { StringEquals: { "SAML:aud": "https://signin.aws.amazon.com/saml" } },
      },
      ...(user === "absent"
        ? []
        : [
            {
              Sid: "EmergencyUserWithMfa",
              Effect: "Allow",
              Principal: { AWS: USER_ARN },
              Action: "sts:AssumeRole",
              ...(user === "with-mfa" ? { Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } } } : {}),
            },
          ]),
    ],
  });
}

beforeAll(async () => {
  moto = await startMoto();
  iam = new IAMClient(awsClientConfig(moto.endpoint));
  directory = mkdtempSync(join(tmpdir(), "breakglass-emergency-users-"));
  const metadata = entityXml({ keys: [{ base64: signing.base64, use: "signing" }] });
  writeFileSync(join(directory, "idp.xml"), metadata);
  providerArn = (
    await iam.send(new CreateSAMLProviderCommand({ Name: "EmergencyIdP", SAMLMetadataDocument: metadata }))
  ).SAMLProviderArn as string;
  roleArn = (
    await iam.send(
      new CreateRoleCommand({ RoleName: "EmergencyAdmin", AssumeRolePolicyDocument: roleTrust("with-mfa") }),
    )
  ).Role?.Arn as string;
  // The emergency user as README tells an admin to make it: a console password and an MFA device, no access key.
  await iam.send(new CreateUserCommand({ UserName: USER }));
  await iam.send(new CreateLoginProfileCommand({ UserName: USER, Password: "correct-horse-battery-staple-42!" }));
  mfaSerial = (await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: USER }))).VirtualMFADevice
    ?.SerialNumber as string;
  await iam.send(
    new EnableMFADeviceCommand({
      UserName: USER,
      SerialNumber: mfaSerial,
      AuthenticationCode1: "123456",
      AuthenticationCode2: "654321",
    }),
  );
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

async function check(users: readonly string[] = [USER]): Promise<[string, string][]> {
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
      `    accountId: "${ACCOUNT}"`,
      `    emergencyRoles: [${roleArn}]`,
      `    emergencyUsers: [${users.join(", ")}]`,
      "store:",
      `  path: ${join(directory, "breakglass.db")}`,
      "",
    ].join("\n"),
  );
  let stdout = "";
  let stderr = "";
  await asPrincipal(
    { arn: `arn:aws:iam::${ACCOUNT}:user/moto`, credentials: { AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "b" } },
    () =>
      main(["check", "--config", configPath, "--only", "emergency-users", "--json"], {
        stdout: (text) => void (stdout += text),
        stderr: (text) => void (stderr += text),
        stdoutIsTty: false,
        env: { XDG_CACHE_HOME: join(directory, "cache") },
        clock: fixedClock(new Date()),
      }),
    { AWS_ENDPOINT_URL: moto.endpoint },
  );
  expect(stderr).toBe("");
  lastReport = JSON.parse(stdout) as typeof lastReport;
  return lastReport.findings.map((finding) => [finding.code, finding.message]);
}

async function setTrust(user: "with-mfa" | "without-mfa" | "absent"): Promise<void> {
  await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: "EmergencyAdmin", PolicyDocument: roleTrust(user) }));
}

describe("FM1 readiness in check", () => {
  it("finds nothing wrong with an emergency user set up as README says, and reports the facts it read", async () => {
    expect(await check()).toEqual([ROOT_MFA]);
    expect(lastReport.facts["emergencyUsers"]).toEqual([
      {
        userName: USER,
        arn: USER_ARN,
        status: "found",
        mfaDeviceCount: 1,
        hasConsolePassword: true,
        activeAccessKeyIds: [],
      },
    ]);
    expect(lastReport.facts["rootMfa"]).toEqual({ status: "found", mfaEnabled: false });
  });

  it("notices the user's trust removed from the emergency role, and its return", async () => {
    await setTrust("absent");
    try {
      expect(await check()).toEqual([
        [
          "EMERGENCY_USER_ROLE_UNREACHABLE",
          `No emergency role (${roleArn}) trusts the emergency IAM user ${USER} or its account for sts:AssumeRole, ` +
            "so FM1 sign-in reaches no role.",
        ],
        ROOT_MFA,
      ]);
    } finally {
      await setTrust("with-mfa");
    }
    expect(await check()).toEqual([ROOT_MFA]);
  });

  it("reports a trust that no longer requires MFA", async () => {
    await setTrust("without-mfa");
    try {
      expect((await check()).map(([code]) => code)).toEqual(["EMERGENCY_USER_TRUST_WITHOUT_MFA", "ROOT_MFA_DISABLED"]);
    } finally {
      await setTrust("with-mfa");
    }
  });

  it("reports the MFA device taken off the user", async () => {
    await iam.send(new DeactivateMFADeviceCommand({ UserName: USER, SerialNumber: mfaSerial }));
    try {
      expect((await check()).map(([code]) => code)).toEqual(["EMERGENCY_USER_NO_MFA", "ROOT_MFA_DISABLED"]);
    } finally {
      await iam.send(
        new EnableMFADeviceCommand({
          UserName: USER,
          SerialNumber: mfaSerial,
          AuthenticationCode1: "123456",
          AuthenticationCode2: "654321",
        }),
      );
    }
  });

  it("reports an access key while it is active, and not once it is deactivated", async () => {
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: USER }))).AccessKey?.AccessKeyId as string;
    expect(await check()).toEqual([
      [
        "EMERGENCY_USER_ACCESS_KEY",
        `The emergency IAM user ${USER} has an active access key (${key}), which whoever holds can use without MFA.`,
      ],
      ROOT_MFA,
    ]);
    await iam.send(new UpdateAccessKeyCommand({ UserName: USER, AccessKeyId: key, Status: "Inactive" }));
    expect(await check()).toEqual([ROOT_MFA]);
  });

  it("reports a user without a console password, and one that does not exist", async () => {
    await iam.send(new DeleteLoginProfileCommand({ UserName: USER }));
    try {
      // Findings come most severe first, then by code.
      expect(await check([USER, "breakglass-2"])).toEqual([
        [
          "EMERGENCY_USER_MISSING",
          `The emergency IAM user breakglass-2 does not exist in the emergency account ${ACCOUNT}.`,
        ],
        [
          "EMERGENCY_USER_NO_PASSWORD",
          `The emergency IAM user ${USER} has no console password (login profile), so it cannot sign in to the console.`,
        ],
        ROOT_MFA,
      ]);
    } finally {
      await iam.send(new CreateLoginProfileCommand({ UserName: USER, Password: "correct-horse-battery-staple-42!" }));
    }
  });
});
