// serve.drill: the leader runs the live drill when it is due, against the AWS emulator, writes the evidence report and
// posts a summary naming the report to the alerts channel; a drill not yet due does not run, and one that cannot pass
// says so in the channel. The schedule is driven by a stepping clock, never by waiting.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSamlIdp, type SamlIdp } from "../../src/drill/loopback/saml-idp.js";
import { buildOrganization, REGION, type TestOrganization } from "../support/aws-organization.js";
import { eventually } from "../support/eventually.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { CHANNELS, startHarness, type ServeHarness } from "../support/serve-harness.js";
import { SteppingClock } from "../support/stepping-clock.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";

const DAY = 86_400_000;
let moto: MotoServer;
let idp: SamlIdp;
let organization: TestOrganization;
let harness: ServeHarness;
let clock: SteppingClock;

const alertsPosts = () =>
  harness.stub
    .callsTo("chat.postMessage")
    .filter((call) => call.args["channel"] === CHANNELS.alerts)
    .map((call) => String(call.args["text"]));
const drillPosts = () => alertsPosts().filter((text) => text.startsWith("Scheduled drill"));

async function writeFreshResponse(directory: string): Promise<void> {
  const response = await idp.testResponse("alice@drill.example", {
    roleArn: organization.emergencyRoleArn,
    providerArn: organization.samlProviderArn,
    sessionName: "breakglass-drill-serve",
  });
  writeFileSync(join(directory, "response.b64"), response);
}

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: REGION,
  });
  const start = new Date();
  clock = new SteppingClock(start);
  idp = await startSamlIdp(start, () => true);
  organization = await buildOrganization(moto.endpoint, { workloadAccounts: 1, idpMetadata: idp.metadata() });
  const directory = mkdtempSync(join(tmpdir(), "breakglass-serve-drill-"));
  writeFileSync(join(directory, "idp.xml"), idp.metadata());
  mkdirSync(join(directory, "evidence"));
  await writeFreshResponse(directory);
  harness = await startHarness({
    directory,
    clock,
    runbookDirectory: join(directory, "runbooks"),
    configYaml: [
      "idp:",
      "  name: Drill IdP",
      "  metadata: idp.xml",
      "aws:",
      `  region: ${REGION}`,
      "  emergencyAccount:",
      `    accountId: "${organization.emergencyAccountId}"`,
      `    roleArn: arn:aws:iam::${organization.emergencyAccountId}:role/OrganizationAccountAccessRole`,
      `    samlProviders: [${organization.samlProviderArn}]`,
      `    emergencyRoles: [${organization.emergencyRoleArn}]`,
      "store:",
      "  path: breakglass.db",
      "serve:",
      "  drill:",
      "    every: 30d",
      "    response: response.b64",
      "    assume: true",
      "    reportDirectory: evidence",
      "slack:",
      "  channels:",
      `    alerts: ${CHANNELS.alerts}`,
      `    incidents: ${CHANNELS.incidents}`,
      `    security: ${CHANNELS.security}`,
      "",
    ].join("\n"),
  });
  await eventually(
    () => harness.service.leadership().role,
    (role) => role === "leader",
  );
}, 180_000);

afterAll(async () => {
  await harness?.stop();
  await idp?.close();
  await moto?.stop();
});

describe("serve.drill", () => {
  it("runs the live drill when due, writes the evidence and posts its path to the alerts channel", async () => {
    expect(harness.logs.join("\n")).toContain("live drill (serve.drill) every 30d");
    const result = await harness.service.drills!.runDue();
    expect(result).toMatchObject({ ran: true, posted: true, outcome: { passed: true } });
    const [post] = drillPosts();
    expect(post).toMatch(/^Scheduled drill passed: check: nothing high or critical; preflight: accepted; /);
    expect(post).toContain(`assumed-role/EmergencyAdmin/breakglass-drill-serve`);
    const reports = readdirSync(join(harness.directory, "evidence")).sort();
    expect(reports).toHaveLength(2);
    expect(post).toContain(`Evidence: ${join(harness.directory, "evidence", reports[1]!)}`);
    const evidence = JSON.parse(readFileSync(join(harness.directory, "evidence", reports[0]!), "utf8"));
    expect(evidence).toMatchObject({
      kind: "breakglass-live-drill",
      by: { person: "breakglass" },
      config: join(harness.directory, "breakglass.yaml"),
      passed: true,
      assume: { requested: true, sessionNameMarksDrill: true, durationSeconds: 900 },
    });
    expect(harness.service.services.store.windows.openWindows()).toEqual([]);
  }, 120_000);

  it("does not run again before serve.drill.every has passed, and runs once it has", async () => {
    clock.advance(29 * DAY);
    expect(await harness.service.drills!.runDue()).toEqual({ ran: false, reason: "not due" });
    expect(drillPosts()).toHaveLength(1);

    // A month on, the response file was never refreshed: the drill says so in the channel instead of passing.
    clock.advance(DAY);
    const result = await harness.service.drills!.runDue();
    expect(result).toMatchObject({ ran: true, posted: true, outcome: null });
    expect(drillPosts()).toHaveLength(2);
    expect(drillPosts()[1]).toMatch(
      /^Scheduled drill FAILED before its evidence report: .*response\.b64: not sent to AWS: the preflight rejected it/,
    );
    expect(existsSync(join(harness.directory, "evidence"))).toBe(true);
    expect(readdirSync(join(harness.directory, "evidence"))).toHaveLength(2);
  }, 120_000);
});
