// FM2 end to end from the CLI: the IdP rotated its certificate, the emergency IAM SAML provider (in the AWS emulator)
// is re-imported after a second person approves.
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateSAMLProviderCommand,
  GetSAMLProviderCommand,
  IAMClient,
  UpdateSAMLProviderCommand,
} from "@aws-sdk/client-iam";
import { ListInstancesCommand, SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { DAY, freshKeyPair, makeCertificate } from "../support/certificates.js";
import { entityXml } from "../support/metadata-builder.js";
import {
  asPrincipal,
  iamUserPrincipal,
  motoAwsYamlLines,
  peopleYamlLines,
  principalNamedIn,
  type TestPrincipal,
} from "../support/aws-principals.js";
import { awsClientConfig, MOTO_DEFAULT_ACCOUNT_ID, startMoto, type MotoServer } from "../support/moto.js";

const NOW = new Date();
const retired = makeCertificate({
  commonName: "idp retired",
  notBefore: new Date(NOW.getTime() - 700 * DAY),
  notAfter: new Date(NOW.getTime() + 400 * DAY),
});
const current = makeCertificate(
  {
    commonName: "idp current",
    notBefore: new Date(NOW.getTime() - DAY),
    notAfter: new Date(NOW.getTime() + 700 * DAY),
  },
  freshKeyPair(),
);
const metadata = (certificate: { base64: string }) =>
  entityXml({ keys: [{ base64: certificate.base64, use: "signing" }] });

let moto: MotoServer;
let directory: string;
let configPath: string;
let metadataPath: string;
let providerArn: string;

/** Alice and Bob, each with their own AWS credentials: the CLI knows who runs it from STS, not from --as. */
const people: Record<string, TestPrincipal> = {};

async function breakglass(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await asPrincipal(principalNamedIn(args, people), () =>
    main(args, {
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
      stdoutIsTty: false,
      env: { XDG_CACHE_HOME: join(directory, "cache") },
      clock: fixedClock(NOW),
    }),
  );
  return { code, stdout, stderr };
}

const fingerprint = (certificate: { der: Buffer }) => createHash("sha256").update(certificate.der).digest("hex");
/** The IdP rotated to a key the provider never held: the approver types the start of its SHA-256 (the re-import guard). */
const confirmNew = () => ["--confirm-fingerprint", fingerprint(current).slice(0, 8)];
const providerDocument = async () =>
  (
    await new IAMClient(awsClientConfig(moto.endpoint)).send(
      new GetSAMLProviderCommand({ SAMLProviderArn: providerArn }),
    )
  ).SAMLMetadataDocument;

/** Starts fm2 as alice and runs it to its approval; returns the run id and what `runbook run` printed. */
async function startFm2Printing(...extra: string[]): Promise<{ runId: string; stdout: string }> {
  const started = await breakglass(
    "runbook",
    "run",
    "fm2-reimport-metadata",
    "--as",
    "alice",
    "--config",
    configPath,
    "--input",
    "incident=CHG-1203",
    "--input",
    "workforceSignIn=working",
    "--input",
    `emergencyAccountId=${MOTO_DEFAULT_ACCOUNT_ID}`,
    "--input",
    `identityCenterAccountId=${MOTO_DEFAULT_ACCOUNT_ID}`,
    "--input",
    "identityCenterRegion=us-east-1",
    ...extra,
  );
  expect(started.stderr).toBe("");
  expect(started.code).toBe(0);
  expect(started.stdout).toContain("Waiting for a second person to approve");
  const runId = /Started run (\S+) of fm2-reimport-metadata/.exec(started.stdout)?.[1] as string;
  return { runId, stdout: started.stdout };
}

async function startFm2(...extra: string[]): Promise<string> {
  return (await startFm2Printing(...extra)).runId;
}

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: "us-east-1",
  });
  directory = mkdtempSync(join(tmpdir(), "breakglass-fm2-"));
  metadataPath = join(directory, "idp.xml");
  writeFileSync(metadataPath, metadata(current));
  providerArn = (
    await new IAMClient(awsClientConfig(moto.endpoint)).send(
      new CreateSAMLProviderCommand({ Name: "EmergencyIdP", SAMLMetadataDocument: metadata(retired) }),
    )
  ).SAMLProviderArn as string;
  const instanceArn = (await new SSOAdminClient(awsClientConfig(moto.endpoint)).send(new ListInstancesCommand({})))
    .Instances?.[0]?.InstanceArn as string;
  people["alice"] = await iamUserPrincipal(moto.endpoint, "alice");
  people["bob"] = await iamUserPrincipal(moto.endpoint, "bob");
  configPath = join(directory, "breakglass.yaml");
  writeFileSync(
    configPath,
    [
      "idp:",
      "  name: Test IdP",
      "  metadata: idp.xml",
      ...motoAwsYamlLines(providerArn, instanceArn),
      "store:",
      "  path: breakglass.db",
      "  auditMirror: audit.jsonl",
      ...peopleYamlLines(people),
      "",
    ].join("\n"),
  );
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

describe("fm2-reimport-metadata from the CLI", () => {
  it("changes nothing in a dry run, and says so", async () => {
    const runId = await startFm2("--dry-run");
    const approved = await breakglass(
      "runbook",
      "approve",
      runId,
      "--as",
      "bob",
      "--config",
      configPath,
      ...confirmNew(),
    );
    expect(approved.stdout).toContain("dry run: not applied");
    expect(await providerDocument()).toBe(metadata(retired));
    expect(
      (await breakglass("runbook", "abort", runId, "--as", "alice", "--reason", "dry run done", "--config", configPath))
        .stdout,
    ).toContain("aborted");
  });

  it("shows the approver each provider's signing-certificate fingerprints, now and after, before anyone approves", async () => {
    const { runId, stdout } = await startFm2Printing();
    const shown = [
      `            ${providerArn}`,
      `              now:   signing certificates sha256 ${fingerprint(retired)}`,
      `              after: signing certificates sha256 ${fingerprint(current)}`,
    ].join("\n");
    expect(stdout).toContain("Approving unlocks these changes");
    expect(stdout).toMatch(
      / {8} 6\. Import the file into every emergency IAM SAML provider \(iam\.update-saml-provider\)\n/,
    );
    expect(stdout).toContain(shown);
    // The approval's own text points at that list, and nothing has been applied.
    expect(stdout).toContain("that this approval lists for each emergency IAM SAML provider");
    expect(await providerDocument()).toBe(metadata(retired));

    // The approver, in another terminal, reads the same before deciding.
    const status = await breakglass("runbook", "status", runId, "--config", configPath);
    expect(status.stdout).toContain(shown);
    const json = await breakglass("runbook", "status", runId, "--config", configPath, "--json");
    const approval = (JSON.parse(json.stdout) as { steps: { id: string; unlocks: unknown[] }[] }).steps.find(
      (step) => step.id === "approve-reimport",
    );
    expect(approval?.unlocks).toEqual([
      expect.objectContaining({
        stepId: "update-emergency-providers",
        alreadyDone: false,
        changes: [
          {
            target: providerArn,
            before: `signing certificates sha256 ${fingerprint(retired)}`,
            after: `signing certificates sha256 ${fingerprint(current)}`,
          },
        ],
        notPlanned: null,
      }),
    ]);
    expect(await providerDocument()).toBe(metadata(retired));
    const aborted = await breakglass(
      "runbook",
      "abort",
      runId,
      "--as",
      "alice",
      "--reason",
      "seen",
      "--config",
      configPath,
    );
    expect(aborted.stdout).toContain("aborted");
  });

  it("re-imports the IdP's current metadata after a second person approves, and ends with the posture clean", async () => {
    const runId = await startFm2();

    const self = await breakglass("runbook", "approve", runId, "--as", "alice", "--config", configPath);
    expect(self.code).toBe(5);
    expect(self.stderr).toMatch(/^breakglass: .*alice.*/);
    expect(await providerDocument()).toBe(metadata(retired));

    const approved = await breakglass(
      "runbook",
      "approve",
      runId,
      "--as",
      "bob",
      "--config",
      configPath,
      ...confirmNew(),
    );
    expect(approved.code).toBe(0);
    expect(await providerDocument()).toBe(metadata(current)); // applied and read back
    expect(approved.stdout).toContain("Waiting for the step to be done by hand");

    // Identity Center has no API: the admin uploads by hand, confirms, then records the import.
    expect((await breakglass("runbook", "confirm", runId, "--as", "alice", "--config", configPath)).code).toBe(0);
    expect(
      (
        await breakglass(
          "identity-center",
          "attest",
          "--metadata",
          metadataPath,
          "--by",
          "alice",
          "--config",
          configPath,
        )
      ).code,
    ).toBe(0);
    const verified = await breakglass("runbook", "confirm", runId, "--as", "alice", "--config", configPath);
    expect(verified.stdout).toMatch(/✓ +\d+\. .*\(check\)/);
    const done = await breakglass("runbook", "confirm", runId, "--as", "alice", "--config", configPath);
    expect(done.stdout).toContain(`Run ${runId}  fm2-reimport-metadata  succeeded`);
    expect(done.stdout).toContain("[notify #");

    const status = await breakglass("runbook", "status", runId, "--config", configPath);
    expect(status.stdout).toContain("succeeded");
    const audit = await breakglass("audit", "verify", "--config", configPath);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/audit records, chain intact .*mirror identical/);
  });
});

describe("rolling back an fm2 run from the CLI", () => {
  it("puts the metadata document the provider held before back, after a second person approves, and reads it back", async () => {
    // The provider holds the retired certificate again, as before the run above.
    await new IAMClient(awsClientConfig(moto.endpoint)).send(
      new UpdateSAMLProviderCommand({ SAMLProviderArn: providerArn, SAMLMetadataDocument: metadata(retired) }),
    );
    const runId = await startFm2();
    expect(
      (await breakglass("runbook", "approve", runId, "--as", "bob", "--config", configPath, ...confirmNew())).code,
    ).toBe(0);
    expect(await providerDocument()).toBe(metadata(current));
    expect(
      (
        await breakglass(
          "runbook",
          "abort",
          runId,
          "--as",
          "alice",
          "--reason",
          "the IdP rolled its certificate back",
          "--config",
          configPath,
        )
      ).stdout,
    ).toContain("aborted");

    const started = await breakglass("runbook", "rollback", runId, "--as", "alice", "--config", configPath);
    expect(started.stderr).toBe("");
    const rollbackId = /Started run (\S+) \(rollback-/.exec(started.stdout)?.[1] as string;
    expect(started.stdout).toContain(
      `${providerArn}: signing certificates sha256 ${fingerprint(retired)} → signing certificates sha256 ${fingerprint(current)}; back to`,
    );
    expect(started.stdout).toContain("Waiting for a second person to approve");
    expect(await providerDocument()).toBe(metadata(current));

    const undone = await breakglass("runbook", "approve", rollbackId, "--as", "bob", "--config", configPath);
    expect(undone.stderr).toBe("");
    expect(undone.stdout).toMatch(
      /✓ .*applied and verified: import .*update-emergency-providers-previous-EmergencyIdP-[0-9a-f]{8}\.xml into /,
    );
    expect(undone.stdout).toContain(`Run ${rollbackId}  rollback-${runId}  succeeded`);
    // Read back from IAM, byte for byte the document it held before the run.
    expect(await providerDocument()).toBe(metadata(retired));
    expect((await breakglass("audit", "verify", "--config", configPath)).code).toBe(0);
  });
});
