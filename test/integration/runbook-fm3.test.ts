// FM3 end to end from the CLI: Identity Center is being deleted (a loopback sso-admin says so), so after a second person approves,
// named responders are added to the emergency group of a SCIM 2.0 IdP (scimmy on loopback), then removed and the group verified empty.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateRoleCommand, CreateSAMLProviderCommand, IAMClient } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summaryPath } from "../../src/adapters/runbook-actions/emergency-window.js";
import { openStore } from "../../src/adapters/store/open-store.js";
import { emergencyRoleTrust } from "../support/aws-organization.js";
import { DAY, makeCertificate } from "../support/certificates.js";
import { eventually } from "../support/eventually.js";
import { startScimServer, type ScimTestServer } from "../support/idp-scim-server.js";
import { ALICE, CHANNELS, startHarness } from "../support/serve-harness.js";
import { entityXml } from "../support/metadata-builder.js";
import { awsClientConfig, MOTO_DEFAULT_ACCOUNT_ID, startMoto, type MotoServer } from "../support/moto.js";
import { breakglassCli, startedRunId, stepLine } from "../support/runbook-cli.js";
import { startSsoAdmin, type SsoAdminServer } from "../support/runbook-sso-admin.js";
import { createSamlIdp } from "../support/saml-idp.js";
import {
  asPrincipal,
  iamUserPrincipal,
  peopleYamlLines,
  principalNamedIn,
  type TestPrincipal,
} from "../support/aws-principals.js";

const NOW = new Date();
const TOKEN = "scim-fm3-token-5b2c8e";
const INSTANCE = "arn:aws:sso:::instance/ssoins-7223a2f5d3b4c6e8";
/** The emergency group as people name it (its display name in the IdP), and the SCIM id the API knows it by. */
const OPERATORS = "aws-emergency-operators";
const OPERATORS_ID = "7c1d3e5f-2a4b-4c6d-8e0f-1a2b3c4d5e6f";
const GROUP = `${OPERATORS} (${OPERATORS_ID})`;
const DANA = "2f0c6a1e-7d3b-4c59-9e81-5a4b3c2d1e01";
const ERIN = "9b7e4d2c-1a6f-4e38-8d05-6c3b2a1f0e02";
const signing = makeCertificate({
  commonName: "idp signing",
  notBefore: new Date(NOW.getTime() - DAY),
  notAfter: new Date(NOW.getTime() + 700 * DAY),
});
const metadata = entityXml({ keys: [{ base64: signing.base64, use: "signing" }] });

let moto: MotoServer;
let ssoAdmin: SsoAdminServer;
let scim: ScimTestServer;
let directory: string;
let configPath: string;
const cli = breakglassCli(() => ({ XDG_CACHE_HOME: join(directory, "cache"), BREAKGLASS_IDP_TOKEN: TOKEN }), NOW);
/** Alice and Bob, each with their own AWS credentials: the CLI knows who runs it from STS, not from --as. */
const people: Record<string, TestPrincipal> = {};
const breakglass = (...args: string[]) => asPrincipal(principalNamedIn(args, people), () => cli(...args));

beforeAll(async () => {
  [moto, scim, ssoAdmin] = await Promise.all([
    startMoto(),
    startScimServer(TOKEN),
    startSsoAdmin(INSTANCE, "DELETE_IN_PROGRESS"),
  ]);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ENDPOINT_URL_SSO_ADMIN: ssoAdmin.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: "us-east-1",
  });
  scim.store.addUser({ id: DANA, userName: "dana@example.com", displayName: "Dana Responder" });
  scim.store.addUser({ id: ERIN, userName: "erin@example.com", displayName: "Erin Responder" });
  scim.store.addGroup(OPERATORS_ID, OPERATORS);
  const iam = new IAMClient(awsClientConfig(moto.endpoint));
  const providerArn = (
    await iam.send(new CreateSAMLProviderCommand({ Name: "EmergencyIdP", SAMLMetadataDocument: metadata }))
  ).SAMLProviderArn as string;
  const roleArn = (
    await iam.send(
      new CreateRoleCommand({ RoleName: "EmergencyAdmin", AssumeRolePolicyDocument: emergencyRoleTrust(providerArn) }),
    )
  ).Role?.Arn as string;
  people["alice"] = await iamUserPrincipal(moto.endpoint, "alice");
  people["bob"] = await iamUserPrincipal(moto.endpoint, "bob");
  people["carol"] = await iamUserPrincipal(moto.endpoint, "carol");
  directory = mkdtempSync(join(tmpdir(), "breakglass-fm3-"));
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
      "  region: us-east-1",
      "  emergencyAccount:",
      `    accountId: "${MOTO_DEFAULT_ACCOUNT_ID}"`,
      `    samlProviders: [${providerArn}]`,
      `    emergencyRoles: [${roleArn}]`,
      "  identityCenter:",
      `    instanceArn: ${INSTANCE}`,
      "    region: us-east-1",
      "store:",
      `  path: ${join(directory, "breakglass.db")}`,
      `  auditMirror: ${join(directory, "audit.jsonl")}`,
      ...peopleYamlLines(people),
      "",
    ].join("\n"),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all([moto?.stop(), scim?.close(), ssoAdmin?.close()]);
});

const RESPONDERS = "dana@example.com,erin@example.com";

/** Starts fm3 as alice and runs it to its approval; returns the run id and what `runbook run` printed. */
async function startFm3Printing(incident: string, ...extra: string[]): Promise<{ runId: string; stdout: string }> {
  const started = await breakglass(...fm3Args(incident, RESPONDERS, OPERATORS), ...extra);
  expect(started.stderr).toBe("");
  expect(started.code).toBe(0);
  // Identity Center answers DELETE_IN_PROGRESS: the first check finds the disruption it needs, and the run waits for approval.
  expect(stepLine(started.stdout, "Confirm that Identity Center is disrupted")).toMatch(
    /✓ .*found as expected: IDENTITY_CENTER_NOT_ACTIVE/,
  );
  expect(started.stdout).toContain("Waiting for a second person to approve");
  expect(scim.store.membersOf(OPERATORS_ID)).toEqual([]);
  return { runId: startedRunId(started.stdout, "fm3-direct-federation"), stdout: started.stdout };
}

async function startFm3(incident: string, ...extra: string[]): Promise<string> {
  return (await startFm3Printing(incident, ...extra)).runId;
}

function activeLeases() {
  const store = openStore({ path: join(directory, "breakglass.db") });
  try {
    return store.leases.activeLeases().map((lease) => [lease.groupId, lease.login, lease.expiresAt]);
  } finally {
    store.close();
  }
}

/** What the store holds: runs, emergency windows and audit records, read from the file itself. */
function storeContents() {
  const store = openStore({ path: join(directory, "breakglass.db") });
  try {
    return {
      runs: store.runs.recentRuns(100).map((run) => run.id),
      windows: store.windows.openWindows().map((window) => window.incident),
      audit: store.audit.auditRecords().length,
    };
  } finally {
    store.close();
  }
}

function fm3Args(incident: string, responders: string, groups: string): string[] {
  return [
    "runbook",
    "run",
    "fm3-direct-federation",
    "--as",
    "alice",
    "--config",
    configPath,
    "--input",
    `incident=${incident}`,
    "--input",
    `responders=${responders}`,
    "--input",
    `groups=${groups}`,
    "--input",
    "signInUrl=https://idp.example.com/dashboard",
  ];
}

describe("fm3's inputs, checked when the run starts", () => {
  it("resolves the group's display name and each responder before anyone approves, and shows them in runbook status", async () => {
    const runId = await startFm3("INC-4705");
    const status = await breakglass("runbook", "status", runId, "--config", configPath);
    expect(status.stdout).toContain("Checked before anything runs:");
    expect(status.stdout).toContain(`add-responders: group ${OPERATORS} = ${OPERATORS_ID} (SCIM)`);
    expect(status.stdout).toContain(`add-responders: responder dana@example.com = Dana Responder (${DANA})`);
    expect(status.stdout).toContain(`add-responders: responder erin@example.com = Erin Responder (${ERIN})`);
    const json = await breakglass("runbook", "status", runId, "--json", "--config", configPath);
    expect(JSON.parse(json.stdout)).toMatchObject({
      preflight: expect.arrayContaining([
        expect.objectContaining({
          stepId: "add-responders",
          facts: expect.arrayContaining([`group ${OPERATORS} = ${OPERATORS_ID} (SCIM)`]),
        }),
      ]),
    });
    await breakglass("runbook", "abort", runId, "--as", "alice", "--reason", "seen enough", "--config", configPath);
  });

  it("refuses an unknown group and an unknown responder with exit 2, naming both on one line, before anything is declared", async () => {
    const before = storeContents();
    const refused = await breakglass(
      ...fm3Args("INC-4706", "dana@example.com,nobody@example.com", "aws-emergency-operatorz"),
    );
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe("");
    expect(refused.stderr.trimEnd().split("\n")).toEqual([
      "breakglass: runbook fm3-direct-federation: not started, because it could not apply as given (nothing was " +
        "recorded or changed): " +
        'steps "add-responders", "remove-responders", "verify-groups-empty": no group in the IdP (SCIM) has the name or id "aws-emergency-operatorz"; ' +
        'steps "add-responders", "remove-responders": no user in the IdP (SCIM) has the login or email "nobody@example.com"',
    ]);
    // No run recorded, no emergency window opened, nothing in the audit log, nobody added.
    expect(storeContents()).toEqual(before);
    expect(storeContents().windows).not.toContain("INC-4706");
    expect(scim.store.membersOf(OPERATORS_ID)).toEqual([]);
  });

  it("refuses to start without the IdP token in the environment, naming the variable, instead of failing after approval", async () => {
    const withoutToken = breakglassCli(() => ({ XDG_CACHE_HOME: join(directory, "cache") }), NOW);
    const args = fm3Args("INC-4707", "dana@example.com", OPERATORS);
    const before = storeContents();
    const refused = await asPrincipal(principalNamedIn(args, people), () => withoutToken(...args));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'steps "add-responders", "remove-responders", "verify-groups-empty": needs the IdP\'s group API, and the ' +
        "environment variable BREAKGLASS_IDP_TOKEN (idp.directory.tokenVariable) that holds its token is unset",
    );
    expect(storeContents()).toEqual(before);
  });
});

describe("fm3's inputs, checked when the run starts from Slack", () => {
  it("refuses an unknown group and responder with the same message as the CLI, and records nothing", async () => {
    const slackDirectory = mkdtempSync(join(tmpdir(), "breakglass-fm3-slack-"));
    copyFileSync(join(directory, "idp.xml"), join(slackDirectory, "idp.xml"));
    const yaml = [
      "idp:",
      "  name: Test IdP",
      `  metadata: ${join(slackDirectory, "idp.xml")}`,
      "  directory:",
      "    kind: scim",
      `    baseUrl: ${scim.baseUrl}`,
      "    tokenVariable: BREAKGLASS_IDP_TOKEN",
      `    ca: ${join(directory, "scim-ca.pem")}`,
      "store:",
      `  path: ${join(slackDirectory, "breakglass.db")}`,
      "slack:",
      "  channels:",
      `    alerts: ${CHANNELS.alerts}`,
      `    incidents: ${CHANNELS.incidents}`,
      `    security: ${CHANNELS.security}`,
      "  access:",
      `    run: [${ALICE}]`,
      `    approve: [${ALICE}]`,
      "",
    ].join("\n");
    const harness = await startHarness({
      configYaml: yaml,
      runbookDirectory: join(import.meta.dirname, "..", "..", "runbooks"),
      env: { BREAKGLASS_IDP_TOKEN: TOKEN },
      directory: slackDirectory,
    });
    try {
      await harness.command(
        "runbook start fm3-direct-federation incident=INC-4708 responders=dana@example.com,nobody@example.com " +
          "groups=aws-emergency-operatorz signInUrl=https://idp.example.com/dashboard",
        ALICE,
      );
      const said = await eventually(
        () => [
          ...harness.stub.responses.map((response) => String(response.body["text"])),
          ...harness.stub.callsTo("chat.postEphemeral").map((call) => String(call.args["text"])),
        ],
        (texts) => texts.some((text) => text.includes("not started")),
      );
      expect(said.find((text) => text.includes("not started"))).toContain(
        "runbook fm3-direct-federation: not started, because it could not apply as given (nothing was recorded or " +
          'changed): steps "add-responders", "remove-responders", "verify-groups-empty": no group in the IdP (SCIM) ' +
          'has the name or id "aws-emergency-operatorz"; steps "add-responders", "remove-responders": no user in the ' +
          'IdP (SCIM) has the login or email "nobody@example.com" — ',
      );
      const { store } = harness.service.services;
      expect(store.runs.recentRuns(10)).toEqual([]);
      expect(store.windows.openWindows()).toEqual([]);
      expect(store.audit.auditRecords().filter((record) => !record.action.startsWith("slack."))).toEqual([]);
      expect(scim.store.membersOf(OPERATORS_ID)).toEqual([]);
    } finally {
      await harness.stop();
    }
  });
});

describe("fm3-direct-federation from the CLI", () => {
  it("adds nobody in a dry run, and says so", async () => {
    const runId = await startFm3("INC-4700", "--dry-run");
    const approved = await breakglass("runbook", "approve", runId, "--as", "bob", "--config", configPath);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain("dry run: no change is applied");
    expect(stepLine(approved.stdout, "Add the responders to the emergency IdP groups, on a lease")).toContain(
      "dry run: not applied",
    );
    expect(scim.store.membersOf(OPERATORS_ID)).toEqual([]);
    expect(scim.received.filter((request) => request.method === "PATCH")).toEqual([]);
    expect(activeLeases()).toEqual([]);
    expect(
      (await breakglass("runbook", "abort", runId, "--as", "alice", "--reason", "dry run done", "--config", configPath))
        .stdout,
    ).toContain("aborted");
  });

  it("confirms the sign-in with a SAML response AWS would accept, keeping the verdict and not the response; refuses one it would not", async () => {
    const runId = await startFm3("INC-4705", "--dry-run");
    const approved = await breakglass("runbook", "approve", runId, "--as", "bob", "--config", configPath);
    expect(stepLine(approved.stdout, "Confirm one responder got in")).toMatch(/^ {2}\? /);
    // The IdP of the metadata the emergency provider holds, signing with its key (samlify).
    const idp = createSamlIdp({ entityId: "https://idp.example.test/metadata", certificate: signing });
    const role = `arn:aws:iam::${MOTO_DEFAULT_ACCOUNT_ID}:role/EmergencyAdmin`;
    const provider = `arn:aws:iam::${MOTO_DEFAULT_ACCOUNT_ID}:saml-provider/EmergencyIdP`;
    const spec = { issuedAt: NOW, roles: [`${role},${provider}`], nameId: "dana@example.com", sessionName: "dana" };
    const confirmWith = (response: string) =>
      breakglass("runbook", "confirm", runId, "--as", "alice", "--config", configPath, "--record", response);

    const stale = await idp.respond({ ...spec, issuedAt: new Date(NOW.getTime() - 3_600_000) });
    const refused = await confirmWith(stale.base64);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^breakglass: the pasted SAML response: AWS would refuse it, so the step is not confirmed: /,
    );
    expect(refused.stderr).toContain("SAML_RESPONSE_EXPIRED");
    const waiting = await breakglass("runbook", "status", runId, "--json", "--config", configPath);
    expect(JSON.parse(waiting.stdout).waitingFor).toMatchObject({ stepId: "confirm-sign-in" });

    const { base64 } = await idp.respond(spec);
    expect((await confirmWith(base64)).code).toBe(0);
    const status = JSON.parse((await breakglass("runbook", "status", runId, "--json", "--config", configPath)).stdout);
    const step = status.steps.find((candidate: { id: string }) => candidate.id === "confirm-sign-in");
    expect(step.confirmation.record).toMatch(
      new RegExp(`^SAML preflight: AWS would accept this response — dana@example.com as ${role}, issued by`),
    );
    // The response is a bearer credential for minutes: neither the run nor the audit mirror keeps it.
    expect(JSON.stringify(status)).not.toContain(base64.slice(0, 60));
    expect(readFileSync(join(directory, "audit.jsonl"), "utf8")).not.toContain(base64.slice(0, 60));
    await breakglass(
      "runbook",
      "abort",
      runId,
      "--as",
      "alice",
      "--reason",
      "preflight test done",
      "--config",
      configPath,
    );
  });

  it("adds the responders after a second person approves, removes them when the work is done, and ends with the group verified empty", async () => {
    const { runId, stdout } = await startFm3Printing("INC-4712");
    // Before anyone approves, the approval shows whom it adds to which group, and for how long.
    const expiry = new Date(NOW.getTime() + 4 * 3_600_000).toISOString();
    expect(stdout).toContain(
      [
        "         8. Add the responders to the emergency IdP groups, on a lease (idp.add-group-members)",
        `            add dana@example.com (Dana Responder), erin@example.com (Erin Responder) to ${GROUP} until ${expiry}`,
        `            group ${GROUP}: dana@example.com`,
        "              now:   not a member",
        `              after: member on a 4h lease, until ${expiry}`,
        `            group ${GROUP}: erin@example.com`,
      ].join("\n"),
    );
    expect(stdout).toMatch(
      / 14\. End the emergency window \(emergency\.close-window\)\n {12}close the emergency window of incident INC-4712/,
    );

    const self = await breakglass("runbook", "approve", runId, "--as", "alice", "--config", configPath);
    expect(self.code).toBe(5);
    expect(self.stdout).toBe("");
    expect(self.stderr).toMatch(/^breakglass: .*alice.*/);
    expect(scim.store.membersOf(OPERATORS_ID)).toEqual([]);

    const approved = await breakglass("runbook", "approve", runId, "--as", "bob", "--config", configPath);
    expect(approved.stderr).toBe("");
    expect(approved.code).toBe(0);
    expect(stepLine(approved.stdout, "A second person approves direct federation")).toContain("approved by bob");
    expect(stepLine(approved.stdout, "Check that the emergency IAM SAML provider and roles accept the IdP")).toMatch(
      /✓ .*clean/,
    );
    expect(stepLine(approved.stdout, "Repair the emergency IAM SAML provider with fm2")).toContain("skipped");
    expect(stepLine(approved.stdout, "Add the responders to the emergency IdP groups, on a lease")).toContain(
      `add dana@example.com (Dana Responder), erin@example.com (Erin Responder) to ${GROUP} until `,
    );
    expect(scim.store.membersOf(OPERATORS_ID).sort()).toEqual([DANA, ERIN].sort());
    expect(activeLeases()).toEqual([
      [OPERATORS_ID, "dana@example.com", expiry],
      [OPERATORS_ID, "erin@example.com", expiry],
    ]);
    expect(approved.stdout).toContain(
      "[notify #incident] INC-4712: emergency sign-in is open for dana@example.com, erin@example.com for 4h.",
    );
    expect(approved.stdout).toContain("1. Go to https://idp.example.com/dashboard and sign in to the IdP as usual.");
    expect(stepLine(approved.stdout, "Confirm one responder got in")).toMatch(/^ {2}\? /);

    const signedIn = await breakglass("runbook", "confirm", runId, "--as", "alice", "--config", configPath);
    expect(stepLine(signedIn.stdout, "Work the incident; confirm when direct federation is no longer needed")).toMatch(
      /^ {2}\? .*answer in writing/,
    );
    expect(scim.store.membersOf(OPERATORS_ID)).toHaveLength(2);
    const unanswered = await breakglass("runbook", "confirm", runId, "--as", "alice", "--config", configPath);
    expect(unanswered.code).toBe(2);
    expect(unanswered.stderr).toContain('"work-the-incident" needs a written answer');
    expect(scim.store.membersOf(OPERATORS_ID)).toHaveLength(2);

    const worked = await breakglass(
      "runbook",
      "confirm",
      runId,
      "--as",
      "alice",
      "--config",
      configPath,
      "--record",
      `restarted the payments ECS service in ${MOTO_DEFAULT_ACCOUNT_ID}`,
    );
    expect(worked.code).toBe(0);
    expect(stepLine(worked.stdout, "Remove the responders from the emergency IdP groups")).toContain(
      `remove dana@example.com (Dana Responder), erin@example.com (Erin Responder) from ${GROUP}`,
    );
    expect(stepLine(worked.stdout, "Verify the emergency IdP groups are empty")).toContain(
      `verified: ${GROUP} already empty`,
    );
    expect(scim.store.membersOf(OPERATORS_ID)).toEqual([]);
    expect(activeLeases()).toEqual([]);
    expect(stepLine(worked.stdout, "End the emergency window")).toMatch(
      /✓ .*close the emergency window of incident INC-4712/,
    );
    expect(existsSync(summaryPath(join(directory, "artefacts"), "INC-4712"))).toBe(true);

    const reviewed = await breakglass(
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
    expect(reviewed.code).toBe(0);
    expect(reviewed.stdout).toContain(
      "[notify #incident] INC-4712: direct federation is closed, the emergency groups are empty",
    );
    expect(reviewed.stdout).toContain(`Run ${runId}  fm3-direct-federation  succeeded`);

    const status = await breakglass("runbook", "status", runId, "--config", configPath);
    expect(status.stdout).toContain(`Run ${runId}  fm3-direct-federation  succeeded`);
    expect(stepLine(status.stdout, "Tell the security team")).toContain("posted to security");
    const audit = await breakglass("audit", "verify", "--config", configPath);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/audit records, chain intact .*mirror identical/);
  });
});

describe("fm3-direct-federation while Identity Center answers as healthy", () => {
  const start = (incident: string, ...extra: string[]) =>
    breakglass(...fm3Args(incident, RESPONDERS, OPERATORS), ...extra);

  it("stops at the first check without a reason, and goes on with one, showing it to the approver", async () => {
    ssoAdmin.status = "ACTIVE";
    try {
      const refused = await start("INC-4720");
      expect(refused.code).toBe(1);
      expect(stepLine(refused.stdout, "Confirm that Identity Center is disrupted")).toMatch(/✗ /);
      expect(refused.stdout).not.toContain("Waiting for a second person to approve");
      const refusedId = startedRunId(refused.stdout, "fm3-direct-federation");
      await breakglass("runbook", "abort", refusedId, "--as", "alice", "--reason", "healthy", "--config", configPath);

      const reason = "the portal answers 500 for everyone since 02:10; the API says ACTIVE";
      const started = await start("INC-4721", "--input", `overrideReason=${reason}`);
      expect(started.stderr).toBe("");
      expect(started.code).toBe(0);
      expect(stepLine(started.stdout, "Confirm that Identity Center is disrupted")).toContain(
        `overridden by alice (${reason})`,
      );
      expect(started.stdout).toContain(
        `Overridden: step "confirm-identity-center-disrupted" by alice, who gave as the reason: ${reason}`,
      );
      expect(started.stdout).toContain("Waiting for a second person to approve");
      const runId = startedRunId(started.stdout, "fm3-direct-federation");
      const json = JSON.parse((await breakglass("runbook", "status", runId, "--json", "--config", configPath)).stdout);
      expect(json.steps[0].override).toEqual({ by: "alice", reason });
      expect(scim.store.membersOf(OPERATORS_ID)).toEqual([]);
      await breakglass("runbook", "abort", runId, "--as", "alice", "--reason", "test done", "--config", configPath);
    } finally {
      ssoAdmin.status = "DELETE_IN_PROGRESS";
    }
  });
});

describe("rolling back an fm3 run from the CLI", () => {
  it("removes the responders again and closes the window, each undo approved by a second person", async () => {
    const runId = await startFm3("INC-4720");
    const approved = await breakglass("runbook", "approve", runId, "--as", "bob", "--config", configPath);
    expect(approved.code).toBe(0);
    expect(scim.store.membersOf(OPERATORS_ID).sort()).toEqual([DANA, ERIN].sort());

    const tooEarly = await breakglass("runbook", "rollback", runId, "--as", "alice", "--config", configPath);
    expect(tooEarly.code).toBe(4);
    expect(tooEarly.stderr).toContain(
      `is still waiting: abort it first (breakglass runbook abort ${runId}), then roll it back`,
    );
    expect(
      (
        await breakglass(
          "runbook",
          "abort",
          runId,
          "--as",
          "alice",
          "--reason",
          "wrong responders",
          "--config",
          configPath,
        )
      ).stdout,
    ).toContain("aborted");

    const started = await breakglass("runbook", "rollback", runId, "--as", "alice", "--config", configPath);
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    const rollbackId = new RegExp(`Started run (\\S+) \\(rollback-${runId}\\) to roll back run ${runId}`).exec(
      started.stdout,
    )?.[1] as string;
    expect(rollbackId).toBeDefined();
    expect(started.stdout).toContain("Waiting for a second person to approve");
    expect(started.stdout).toContain(`group ${GROUP}: dana@example.com: not a member → member on a 4h lease, until`);
    // Nothing is undone before the second person says so.
    expect(scim.store.membersOf(OPERATORS_ID)).toHaveLength(2);

    const again = await breakglass("runbook", "rollback", runId, "--as", "carol", "--config", configPath);
    expect(again.code).toBe(4);
    expect(again.stderr).toContain(`is already being rolled back by run ${rollbackId} (waiting)`);

    const self = await breakglass("runbook", "approve", rollbackId, "--as", "alice", "--config", configPath);
    expect(self.code).toBe(5);
    expect(scim.store.membersOf(OPERATORS_ID)).toHaveLength(2);

    const undone = await breakglass("runbook", "approve", rollbackId, "--as", "bob", "--config", configPath);
    expect(undone.stderr).toBe("");
    // The compensation calls the group by its id, which stays right if the group is renamed meanwhile.
    expect(stepLine(undone.stdout, `Undo step add-responders: remove from ${GROUP} whom it added`)).toContain(
      `applied and verified: remove dana@example.com (Dana Responder), erin@example.com (Erin Responder) from ${GROUP}`,
    );
    expect(scim.store.membersOf(OPERATORS_ID)).toEqual([]);
    expect(activeLeases()).toEqual([]);
    expect(undone.stdout).toContain("Waiting for a second person to approve");

    const closed = await breakglass("runbook", "approve", rollbackId, "--as", "bob", "--config", configPath);
    expect(stepLine(closed.stdout, "Undo step declare-emergency")).toMatch(
      /✓ .*close the emergency window of incident INC-4720/,
    );
    expect(closed.stdout).toContain(`Run ${rollbackId}  rollback-${runId}  succeeded`);
    expect((await breakglass("audit", "verify", "--config", configPath)).code).toBe(0);
  });

  it("says so when a run applied nothing to roll back", async () => {
    const runId = await startFm3("INC-4721", "--dry-run");
    await breakglass("runbook", "abort", runId, "--as", "alice", "--reason", "dry run done", "--config", configPath);
    const refused = await breakglass("runbook", "rollback", runId, "--as", "alice", "--config", configPath);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(`run ${runId}: has nothing to roll back: it was a dry run`);
  });
});
