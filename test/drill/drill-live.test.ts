// `breakglass drill --live` as a game day runs it, against the AWS emulator: the whole check, the IdP's fresh response
// (signed by a real SAML library with a key made here), one 15-minute AssumeRoleWithSAML inside a drill window, and an
// evidence report that names who, when, what was checked, the results and the audit head hash.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { openStore } from "../../src/adapters/store/open-store.js";
import { verifyAudit } from "../../src/domain/audit/audit-log.js";
import { systemClock } from "../../src/domain/shared/clock.js";
import { buildOrganization, REGION, type TestOrganization } from "../support/aws-organization.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { startSamlIdp, type SamlIdp } from "../../src/drill/loopback/saml-idp.js";

let moto: MotoServer;
let idp: SamlIdp;
let organization: TestOrganization;
let directory: string;
let configPath: string;

async function breakglass(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    stdoutIsTty: false,
    env: { XDG_CACHE_HOME: join(directory, "cache") },
    clock: systemClock,
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: REGION,
  });
  idp = await startSamlIdp(new Date(), () => true);
  organization = await buildOrganization(moto.endpoint, { workloadAccounts: 1, idpMetadata: idp.metadata() });
  directory = mkdtempSync(join(tmpdir(), "breakglass-live-drill-"));
  writeFileSync(join(directory, "idp.xml"), idp.metadata());
  configPath = join(directory, "breakglass.yaml");
  writeFileSync(
    configPath,
    [
      "idp:",
      "  name: Drill IdP",
      `  metadata: ${join(directory, "idp.xml")}`,
      "aws:",
      `  region: ${REGION}`,
      "  emergencyAccount:",
      `    accountId: "${organization.emergencyAccountId}"`,
      `    roleArn: arn:aws:iam::${organization.emergencyAccountId}:role/OrganizationAccountAccessRole`,
      `    samlProviders: [${organization.samlProviderArn}]`,
      `    emergencyRoles: [${organization.emergencyRoleArn}]`,
      "store:",
      `  path: ${join(directory, "breakglass.db")}`,
      "",
    ].join("\n"),
  );
}, 120_000);

afterAll(async () => {
  await idp?.close();
  await moto?.stop();
});

describe("breakglass drill --live", () => {
  it("checks, takes a 15-minute session inside a drill window, and writes the evidence an auditor keeps", async () => {
    const response = await idp.testResponse("alice@drill.example", {
      roleArn: organization.emergencyRoleArn,
      providerArn: organization.samlProviderArn,
      sessionName: "breakglass-drill-alice",
    });
    writeFileSync(join(directory, "response.b64"), response);
    const reports = join(directory, "reports");
    mkdirSync(reports);

    const { code, stdout, stderr } = await breakglass(
      "drill",
      "--live",
      "--as",
      "alice",
      "--config",
      configPath,
      "--response",
      join(directory, "response.b64"),
      "--assume",
      "--report",
      reports,
    );
    expect(stderr).toBe("");
    expect(stdout).toContain("check: nothing high or critical");
    expect(stdout).toMatch(/preflight: accepted/);
    expect(stdout).toContain(
      `AssumeRoleWithSAML: arn:aws:sts::${organization.emergencyAccountId}:assumed-role/EmergencyAdmin/breakglass-drill-alice`,
    );
    expect(code).toBe(0);

    const files = readdirSync(reports).sort();
    expect(files).toHaveLength(2);
    const evidence = JSON.parse(readFileSync(join(reports, files[0]!), "utf8"));
    expect(evidence).toMatchObject({
      kind: "breakglass-live-drill",
      by: { person: "unverified:alice" },
      check: { ok: true },
      preflight: { accepted: true },
      assume: {
        requested: true,
        roleArn: organization.emergencyRoleArn,
        providerArn: organization.samlProviderArn,
        sessionName: "breakglass-drill-alice",
        sessionNameMarksDrill: true,
        durationSeconds: 900,
        result: { accessKeyIdPrefix: expect.stringMatching(/^ASIA/) },
        error: null,
      },
      passed: true,
    });
    const store = openStore({ path: join(directory, "breakglass.db") });
    try {
      expect(evidence.auditHeadHash).toBe(verifyAudit(store.audit).headHash);
      expect(store.windows.openWindows()).toEqual([]);
      // The drill window was opened and closed on the record, before the session and after it.
      const verified = store.audit
        .auditRecords()
        .filter((record) => record.action === "action.verified")
        .map((record) => record.subject);
      expect(verified).toEqual([
        `incident declare ${evidence.assume.drillWindow}`,
        `incident close ${evidence.assume.drillWindow}`,
      ]);
    } finally {
      store.close();
    }
    const markdown = readFileSync(join(reports, files[1]!), "utf8");
    expect(markdown).toContain("# breakglass live drill: evidence");
    expect(markdown).toContain(`inside drill window ${evidence.assume.drillWindow}`);
  }, 120_000);

  it("refuses a response file that is not a SAML Response, in one line naming it", async () => {
    writeFileSync(join(directory, "not-saml.txt"), "hello");
    const { code, stdout, stderr } = await breakglass(
      "drill",
      "--live",
      "--as",
      "alice",
      "--config",
      configPath,
      "--response",
      join(directory, "not-saml.txt"),
    );
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe(`breakglass: ${join(directory, "not-saml.txt")}: is not a SAML Response (XML or its base64)\n`);
  });

  it("refuses the live options without --live", async () => {
    const { code, stderr } = await breakglass("drill", "--assume");
    expect(code).toBe(2);
    expect(stderr).toBe("breakglass: --assume: belongs to a live drill: add --live\n");
  });
});
