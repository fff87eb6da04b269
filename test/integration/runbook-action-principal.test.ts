// Runbook actions apply as the principal the config names: fm2 started with management-account credentials applies
// through the emergency account's action role on the first try, and a run that could not apply is refused when it
// starts, before anyone approves and before any emergency is declared (issue 10).
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateRoleCommand,
  GetSAMLProviderCommand,
  IAMClient,
  PutRolePolicyCommand,
  UpdateSAMLProviderCommand,
} from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { DEFAULT_RUNBOOK_DIRECTORY } from "../../src/cli/runbook-command.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { buildOrganization, REGION, shippedPolicy, type TestOrganization } from "../support/aws-organization.js";
import {
  asPrincipal,
  iamUserPrincipal,
  peopleYamlLines,
  principalNamedIn,
  type TestPrincipal,
} from "../support/aws-principals.js";
import { freshKeyPair, makeCertificate } from "../support/certificates.js";
import { startIamSimulatorProxy, type IamSimulatorProxy } from "../support/iam-simulator-proxy.js";
import { entityXml } from "../support/metadata-builder.js";
import { eventually } from "../support/eventually.js";
import { ALICE, BOB, CHANNELS, configText, startHarness } from "../support/serve-harness.js";
import { MOTO_DEFAULT_ACCOUNT_ID, startMoto, type MotoServer } from "../support/moto.js";

const NOW = new Date();
const retired = makeCertificate({ commonName: "idp retired" });
const current = makeCertificate({ commonName: "idp current" }, freshKeyPair());
/** A full key change: the approver types the start of the new certificate's SHA-256 (the re-import guard). */
const currentPrefix = createHash("sha256").update(current.der).digest("hex").slice(0, 8);
const metadata = (certificate: { base64: string }) =>
  entityXml({ keys: [{ base64: certificate.base64, use: "signing" }] });

let moto: MotoServer;
let simulator: IamSimulatorProxy;
let organization: TestOrganization;
let directory: string;
let emergencyIam: IAMClient;
let actionRoleArn: string;
let narrowRoleArn: string;
/** Alice and Bob sign in to the management account, as README's first draft led the admin to. */
const people: Record<string, TestPrincipal> = {};

/** The shipped action-role policy for this organization's provider and the named role. */
function actionRolePolicy(roleName: string, without: string[] = []): string {
  const policy = JSON.parse(
    shippedPolicy("action-role-policy.json")
      .replaceAll("EMERGENCY_ACCOUNT_ID", organization.emergencyAccountId)
      .replace(`saml-provider/EmergencyIdP`, `saml-provider/${organization.samlProviderArn.split("/").pop() ?? ""}`)
      .replace("role/breakglass-action", `role/${roleName}`),
  ) as { Statement: { Action: string | string[] }[] };
  for (const statement of policy.Statement)
    if (Array.isArray(statement.Action))
      statement.Action = statement.Action.filter((action) => !without.includes(action));
  return JSON.stringify(policy);
}

async function createActionRole(name: string, policy: string): Promise<string> {
  const trust = JSON.stringify({
    Version: "2012-10-17",
    Statement: Object.values(people).map((person) => ({
      Effect: "Allow",
      Principal: { AWS: person.arn },
      Action: "sts:AssumeRole",
    })),
  });
  const role = await emergencyIam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust }));
  await emergencyIam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: "action", PolicyDocument: policy }));
  return role.Role?.Arn as string;
}

function writeConfig(name: string, actionRole: string | undefined): string {
  const path = join(directory, `${name}.yaml`);
  writeFileSync(
    path,
    [
      "idp:",
      "  name: Test IdP",
      "  metadata: idp.xml",
      "aws:",
      `  region: ${REGION}`,
      "  emergencyAccount:",
      `    accountId: "${organization.emergencyAccountId}"`,
      `    roleArn: arn:aws:iam::${organization.emergencyAccountId}:role/breakglass-reader`,
      ...(actionRole === undefined ? [] : [`    actionRoleArn: ${actionRole}`]),
      `    samlProviders: [${organization.samlProviderArn}]`,
      "  identityCenter:",
      `    instanceArn: ${organization.instanceArn}`,
      `    region: ${REGION}`,
      "store:",
      `  path: ${name}.db`,
      ...peopleYamlLines(people),
      "",
    ].join("\n"),
  );
  return path;
}

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

const startFm2 = (configPath: string, workforceSignIn: "working" | "broken") =>
  breakglass(
    "runbook",
    "run",
    "fm2-reimport-metadata",
    "--as",
    "alice",
    "--config",
    configPath,
    "--input",
    "incident=CHG-2207",
    "--input",
    `workforceSignIn=${workforceSignIn}`,
    "--input",
    `identityCenterAccountId=${MOTO_DEFAULT_ACCOUNT_ID}`,
  );

const providerDocument = async () =>
  (await emergencyIam.send(new GetSAMLProviderCommand({ SAMLProviderArn: organization.samlProviderArn })))
    .SAMLMetadataDocument;

beforeAll(async () => {
  moto = await startMoto();
  simulator = await startIamSimulatorProxy(moto.endpoint);
  directory = mkdtempSync(join(tmpdir(), "breakglass-action-principal-"));
  writeFileSync(join(directory, "idp.xml"), metadata(current));
  organization = await buildOrganization(moto.endpoint, { workloadAccounts: 1, idpMetadata: metadata(retired) });
  emergencyIam = new IAMClient(await organization.configFor(organization.emergencyAccountId));
  people["alice"] = await iamUserPrincipal(moto.endpoint, "alice");
  people["bob"] = await iamUserPrincipal(moto.endpoint, "bob");
  actionRoleArn = await createActionRole("breakglass-action", actionRolePolicy("breakglass-action"));
  narrowRoleArn = await createActionRole(
    "breakglass-action-narrow",
    actionRolePolicy("breakglass-action-narrow", ["iam:UpdateSAMLProvider"]),
  );
  // Every AWS call of the CLI goes through the simulator, which passes all but SimulatePrincipalPolicy on to moto.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: simulator.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: REGION,
  });
}, 120_000);

afterAll(async () => {
  await simulator?.stop();
  await moto?.stop();
});

describe("fm2 with the action role configured", () => {
  it("started with management-account credentials, shows who applies it before approval and applies on the first try", async () => {
    expect(people["alice"]?.arn).toContain(`::${MOTO_DEFAULT_ACCOUNT_ID}:user/alice`);
    const configPath = writeConfig("with-role", actionRoleArn);
    const started = await startFm2(configPath, "working");
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    expect(started.stdout).toContain(
      `update-emergency-providers: applied as ${actionRoleArn} in account ${organization.emergencyAccountId}`,
    );
    expect(started.stdout).toContain(
      `update-emergency-providers: can update ${organization.samlProviderArn} (simulated)`,
    );
    expect(simulator.simulations()).toContainEqual({
      policySourceArn: actionRoleArn,
      actionNames: ["iam:UpdateSAMLProvider"],
      resourceArns: [organization.samlProviderArn],
    });
    const runId = /Started run (\S+) of fm2-reimport-metadata/.exec(started.stdout)?.[1] as string;

    const approved = await breakglass(
      "runbook",
      "approve",
      runId,
      "--as",
      "bob",
      "--config",
      configPath,
      "--confirm-fingerprint",
      currentPrefix,
    );
    expect(approved.stderr).toBe("");
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(
      new RegExp(
        `applied and verified: import .* applied as ${actionRoleArn} in account ${organization.emergencyAccountId}`,
      ),
    );
    // Read back in the emergency account: the management account holds no such provider.
    expect(await providerDocument()).toBe(metadata(current));
  });
});

describe("a run that could not apply is refused when it starts", () => {
  it("without the action role, with another account's credentials: exit 2, both accounts and the config key named, nothing recorded or declared", async () => {
    const configPath = writeConfig("without-role", undefined);
    const refused = await startFm2(configPath, "broken");
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe("");
    expect(refused.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(refused.stderr).toMatch(/^breakglass: runbook fm2-reimport-metadata: not started/);
    expect(refused.stderr).toContain(
      `the default AWS credentials: are ${people["alice"]?.arn} in account ${MOTO_DEFAULT_ACCOUNT_ID}, ` +
        `not in the emergency account ${organization.emergencyAccountId} (aws.emergencyAccount.accountId); ` +
        "set aws.emergencyAccount.actionRoleArn to a role there for breakglass to assume, or use that account's credentials",
    );

    const runs = await breakglass("runbook", "status", "--json", "--config", configPath);
    expect(JSON.parse(runs.stdout)).toEqual({ runs: [] });
    const audit = await breakglass("audit", "verify", "--config", configPath);
    // No emergency was declared: nothing at all reached the audit log.
    expect(audit.stdout).toContain("0 audit records, chain intact");
  });

  it("with an action role that may not update the provider: refused, the simulation's implicitDeny named", async () => {
    const configPath = writeConfig("narrow-role", narrowRoleArn);
    const refused = await startFm2(configPath, "working");
    expect(refused.code).toBe(2);
    expect(refused.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(refused.stderr).toContain(
      `step "update-emergency-providers": ${narrowRoleArn} in account ${organization.emergencyAccountId} ` +
        `may not iam:UpdateSAMLProvider on ${organization.samlProviderArn} (simulated: implicitDeny)`,
    );
    expect(JSON.parse((await breakglass("runbook", "status", "--json", "--config", configPath)).stdout)).toEqual({
      runs: [],
    });
    expect(await providerDocument()).toBe(metadata(current)); // unchanged since the run above
  });
});

describe("fm2 from Slack with the action role configured", () => {
  it("serve, with management-account credentials, shows who applies it in the run message and applies on the first try", async () => {
    await emergencyIam.send(
      new UpdateSAMLProviderCommand({
        SAMLProviderArn: organization.samlProviderArn,
        SAMLMetadataDocument: metadata(retired),
      }),
    );
    const aws = [
      "aws:",
      `  region: ${REGION}`,
      "  emergencyAccount:",
      `    accountId: "${organization.emergencyAccountId}"`,
      `    roleArn: arn:aws:iam::${organization.emergencyAccountId}:role/breakglass-reader`,
      `    actionRoleArn: ${actionRoleArn}`,
      `    samlProviders: [${organization.samlProviderArn}]`,
      "checks:",
      "  enabled: [metadata, saml-providers]",
      "",
    ].join("\n");
    // serve's own credentials are moto's default key: the management account.
    const harness = await startHarness({
      configYaml: configText("{dir}", aws),
      runbookDirectory: DEFAULT_RUNBOOK_DIRECTORY,
    });
    try {
      writeFileSync(join(harness.directory, "idp-metadata.xml"), metadata(current));
      await harness.command(
        `runbook start fm2-reimport-metadata incident=CHG-2208 workforceSignIn=working ` +
          `identityCenterAccountId=${MOTO_DEFAULT_ACCOUNT_ID} identityCenterRegion=${REGION}`,
        ALICE,
        CHANNELS.incidents,
      );
      const started = await eventually(
        () => harness.service.services.store.audit.auditRecords().find((record) => record.action === "run.started"),
        (record) => record !== undefined,
      );
      const runId = String(started?.runId);
      const waiting = await eventually(
        () => harness.service.services.engine.status(runId),
        (view) => view.waitingFor?.kind === "approval",
      );
      expect(waiting.preflight.flatMap((step) => step.facts)).toEqual([
        `applied as ${actionRoleArn} in account ${organization.emergencyAccountId}`,
        `can update ${organization.samlProviderArn} (simulated)`,
      ]);
      const message = await eventually(
        () => harness.service.services.store.serveState.message(`run:${runId}`),
        (found) => found !== null,
      );
      const shown = await eventually(
        () =>
          [...harness.stub.callsTo("chat.postMessage"), ...harness.stub.callsTo("chat.update")]
            .filter((call) => call.args["channel"] === CHANNELS.incidents)
            .map((call) => JSON.stringify(call.args))
            .join("\n"),
        (text) => text.includes(`applied as ${actionRoleArn}`),
      );
      expect(shown).toContain(`in account ${organization.emergencyAccountId}`);

      await harness.press("run.approve", runId, BOB, { channel: CHANNELS.incidents, ts: message?.ts ?? "" });
      // The full key change asks for the new certificate's fingerprint in a modal before anything is approved.
      await eventually(
        () => harness.stub.callsTo("views.open"),
        (calls) => calls.length > 0,
      );
      await harness.submit("run.approve.fingerprint", runId, BOB, { fingerprint: { fingerprint: currentPrefix } });
      const atUpload = await eventually(
        () => harness.service.services.engine.status(runId),
        (view) => view.waitingFor?.stepId === "upload-to-identity-center",
      );
      expect(atUpload.steps.find((step) => step.id === "update-emergency-providers")).toMatchObject({
        status: "succeeded",
        outcome: { applied: true, verification: { ok: true } },
      });
      expect(await providerDocument()).toBe(metadata(current));
    } finally {
      await harness.stop();
    }
  }, 90_000);
});
