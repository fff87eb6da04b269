// post-incident-recovery end to end from the CLI against a whole organization in the AWS emulator and a SCIM 2.0 IdP on loopback:
// the emergency path is returned to rest, and a responder left in the emergency group is named and removed.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summaryPath } from "../../src/adapters/runbook-actions/emergency-window.js";
import {
  buildOrganization,
  CROSS_ACCOUNT_ROLE,
  READ_ROLE,
  REGION,
  type TestOrganization,
} from "../support/aws-organization.js";
import { DAY, makeCertificate } from "../support/certificates.js";
import { startScimServer, type ScimTestServer } from "../support/idp-scim-server.js";
import { entityXml } from "../support/metadata-builder.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { breakglassCli, startedRunId, stepLine } from "../support/runbook-cli.js";

const NOW = new Date();
const TOKEN = "scim-recovery-token-81d4f0";
/** The emergency groups as people name them (their display names), and the SCIM ids the API knows them by. */
const OPERATORS = "aws-emergency-operators";
const READONLY = "aws-emergency-readonly";
const OPERATORS_ID = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b01";
const READONLY_ID = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b02";
const BOTH = `${OPERATORS} (${OPERATORS_ID}), ${READONLY} (${READONLY_ID})`;
const DANA = "2f0c6a1e-7d3b-4c59-9e81-5a4b3c2d1e01";
const signing = makeCertificate({
  commonName: "idp signing",
  notBefore: new Date(NOW.getTime() - DAY),
  notAfter: new Date(NOW.getTime() + 700 * DAY),
});
const metadata = entityXml({ keys: [{ base64: signing.base64, use: "signing" }] });

let moto: MotoServer;
let scim: ScimTestServer;
let organization: TestOrganization;
let directory: string;
let configPath: string;
const breakglass = breakglassCli(
  () => ({ XDG_CACHE_HOME: join(directory, "cache"), BREAKGLASS_IDP_TOKEN: TOKEN }),
  NOW,
);

beforeAll(async () => {
  [moto, scim] = await Promise.all([startMoto(), startScimServer(TOKEN)]);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: REGION,
  });
  scim.store.addUser({ id: DANA, userName: "dana@example.com", displayName: "Dana Responder" });
  scim.store.addGroup(OPERATORS_ID, OPERATORS);
  scim.store.addGroup(READONLY_ID, READONLY);
  organization = await buildOrganization(moto.endpoint, { workloadAccounts: 1, idpMetadata: metadata });
  directory = mkdtempSync(join(tmpdir(), "breakglass-recovery-"));
  writeFileSync(join(directory, "idp.xml"), metadata);
  // The SCIM server's certificate is made for the test: breakglass trusts it through idp.directory.ca.
  writeFileSync(join(directory, "scim-ca.pem"), scim.ca);
  configPath = join(directory, "breakglass.yaml");
  writeFileSync(
    configPath,
    [
      "idp:",
      "  name: Test IdP",
      "  metadata: idp.xml",
      "  directory:",
      "    kind: scim",
      `    baseUrl: ${scim.baseUrl}`,
      "    tokenVariable: BREAKGLASS_IDP_TOKEN",
      `    ca: ${join(directory, "scim-ca.pem")}`,
      "aws:",
      `  region: ${REGION}`,
      "  emergencyAccount:",
      `    accountId: "${organization.emergencyAccountId}"`,
      `    roleArn: arn:aws:iam::${organization.emergencyAccountId}:role/OrganizationAccountAccessRole`,
      `    samlProviders: [${organization.samlProviderArn}]`,
      `    emergencyRoles: [${organization.emergencyRoleArn}]`,
      "  identityCenter:",
      `    instanceArn: ${organization.instanceArn}`,
      `    region: ${REGION}`,
      "  organization:",
      `    crossAccountRoleName: ${CROSS_ACCOUNT_ROLE}`,
      `    readRoleName: ${READ_ROLE}`,
      "    accounts: all",
      "store:",
      `  path: ${join(directory, "breakglass.db")}`,
      `  auditMirror: ${join(directory, "audit.jsonl")}`,
      "",
    ].join("\n"),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all([moto?.stop(), scim?.close()]);
});

async function recover(incident: string): Promise<{ runId: string; started: string; done: string }> {
  const started = await breakglass(
    "runbook",
    "run",
    "post-incident-recovery",
    "--as",
    "alice",
    "--config",
    configPath,
    "--input",
    `incident=${incident}`,
    "--input",
    `groups=${OPERATORS},${READONLY}`,
  );
  expect(started.stderr).toBe("");
  expect(started.code).toBe(0);
  const runId = startedRunId(started.stdout, "post-incident-recovery");
  // No window was opened for this incident: closing changes nothing and still writes the activity summary.
  expect(stepLine(started.stdout, "Make sure the emergency window is closed")).toMatch(
    /✓ .*already done, verified: no emergency window was opened for incident/,
  );
  expect(existsSync(summaryPath(join(directory, "artefacts"), incident))).toBe(true);
  expect(stepLine(started.stdout, "Verify no lease is still open")).toMatch(/^ {2}\? /);
  expect(scim.store.membersOf(OPERATORS_ID)).toEqual([]);
  expect(scim.store.membersOf(READONLY_ID)).toEqual([]);

  const leases = await breakglass("leases", "list", "--config", configPath);
  expect(leases.code).toBe(0);
  expect(leases.stdout).not.toContain("dana@example.com");
  expect((await breakglass("runbook", "confirm", runId, "--as", "alice", "--config", configPath)).code).toBe(0);
  const unanswered = await breakglass("runbook", "confirm", runId, "--as", "alice", "--config", configPath);
  expect(unanswered.code).toBe(2);
  expect(unanswered.stderr).toContain('"rotate-credentials" needs a written answer');
  expect(
    (
      await breakglass(
        "runbook",
        "confirm",
        runId,
        "--as",
        "alice",
        "--config",
        configPath,
        "--record",
        "em-alice: new password in the vault, MFA token back in the safe",
      )
    ).code,
  ).toBe(0);
  const done = await breakglass(
    "runbook",
    "confirm",
    runId,
    "--as",
    "alice",
    "--config",
    configPath,
    "--record",
    "none",
  );
  expect(done.stderr).toBe("");
  expect(done.code).toBe(0);
  return { runId, started: started.stdout, done: done.stdout };
}

async function expectSucceededAndAudited(runId: string, done: string, incident: string): Promise<void> {
  // Every check breakglass has ran against the organization, and none found anything high or critical.
  expect(stepLine(done, "Check that the whole emergency path is ready again")).toMatch(/✓ .*\(check\) {2}clean$/);
  expect(done).toContain(`[notify #security] Post-incident recovery for ${incident} is done`);
  expect(done).toContain(`Run ${runId}  post-incident-recovery  succeeded`);
  const status = await breakglass("runbook", "status", runId, "--config", configPath);
  expect(status.stdout).toContain(`Run ${runId}  post-incident-recovery  succeeded`);
  const audit = await breakglass("audit", "verify", "--config", configPath);
  expect(audit.code).toBe(0);
  expect(audit.stdout).toMatch(/audit records, chain intact .*mirror identical/);
}

describe("post-incident-recovery from the CLI", () => {
  it("finds the emergency groups empty and the posture clean, and returns the path to rest", async () => {
    const { runId, started, done } = await recover("INC-4713");
    expect(stepLine(started, "Verify the emergency IdP groups are empty")).toContain(
      `already done, verified: ${BOTH} already empty`,
    );
    expect(scim.received.filter((request) => request.method === "PATCH")).toEqual([]);
    await expectSucceededAndAudited(runId, done, "INC-4713");
  });

  it("removes a responder still left in an emergency group, and the plan it records names them", async () => {
    scim.store.addGroup(OPERATORS_ID, OPERATORS, { members: [DANA] });
    const { runId, started, done } = await recover("INC-4714");
    // The step applies (it is not "already empty") and reads the groups back empty.
    expect(stepLine(started, "Verify the emergency IdP groups are empty")).toContain(
      `applied and verified: remove everyone from ${BOTH}`,
    );
    // The responder sees who was still there, under the step.
    expect(started).toContain(`group ${OPERATORS} (${OPERATORS_ID}): dana@example.com: member → not a member`);
    expect(scim.store.membersOf(OPERATORS_ID)).toEqual([]);
    expect(
      scim.received.filter((request) => request.method === "PATCH").map((request) => request.url.pathname),
    ).toEqual([`/scim/v2/Groups/${OPERATORS_ID}`]);
    // The plan names who was still there; it is kept in the audit log (and its JSONL mirror).
    const planned = readFileSync(join(directory, "audit.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map(
        (line) =>
          JSON.parse(line) as {
            action: string;
            runId: string | null;
            subject: string;
            detail: { plan?: { changes: { target: string; before: string; after: string }[] } };
          },
      )
      .find(
        (record) =>
          record.action === "action.planned" && record.runId === runId && record.subject === "verify-groups-empty",
      );
    expect(planned?.detail.plan?.changes).toEqual([
      {
        target: `group ${OPERATORS} (${OPERATORS_ID}): dana@example.com`,
        before: "member",
        after: "not a member",
        membership: { group: OPERATORS_ID, groupName: OPERATORS, member: "dana@example.com" },
      },
    ]);
    await expectSucceededAndAudited(runId, done, "INC-4714");
  });
});
