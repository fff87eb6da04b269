// Two people on two CLI processes sharing one DynamoDB store (the moto emulator): alice starts a run, bob approves it
// from his own process, and both see the same run and one intact audit chain.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type StoreSettings } from "../../src/adapters/store/open-store.js";
import { verifyChain } from "../../src/domain/audit/audit-chain.js";
import { iamUserPrincipal, peopleYamlLines, type TestPrincipal } from "../support/aws-principals.js";
import { DAY, makeCertificate } from "../support/certificates.js";
import { entityXml } from "../support/metadata-builder.js";
import { startMoto, type MotoServer } from "../support/moto.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RUNBOOKS = join(import.meta.dirname, "..", "server", "runbooks");
const NOW = new Date();

let moto: MotoServer;
let directory: string;
let config: string;
let store: StoreSettings;
const people: Record<string, TestPrincipal> = {};

beforeAll(async () => {
  moto = await startMoto({ serialized: true });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: "us-east-1",
  });
  people["alice"] = await iamUserPrincipal(moto.endpoint, "alice");
  people["bob"] = await iamUserPrincipal(moto.endpoint, "bob");
  directory = mkdtempSync(join(tmpdir(), "breakglass-dynamodb-run-"));
  const signing = makeCertificate({
    notBefore: new Date(NOW.getTime() - DAY),
    notAfter: new Date(NOW.getTime() + 400 * DAY),
  });
  writeFileSync(join(directory, "idp.xml"), entityXml({ keys: [{ base64: signing.base64, use: "signing" }] }));
  config = join(directory, "breakglass.yaml");
  writeFileSync(
    config,
    [
      "idp:",
      "  name: Test IdP",
      "  metadata: idp.xml",
      "store:",
      "  kind: dynamodb",
      "  table: shared-store",
      "  region: us-east-1",
      `  endpoint: ${moto.endpoint}`,
      ...peopleYamlLines(people),
      "",
    ].join("\n"),
  );
  store = { kind: "dynamodb", path: "", table: "shared-store", region: "us-east-1", endpoint: moto.endpoint };
}, 60_000);

afterAll(async () => {
  await moto?.stop();
  rmSync(directory, { recursive: true, force: true });
});

/** `breakglass <args>` in its own process, with this person's AWS credentials, as on that person's laptop. */
function cliProcess(
  who: "alice" | "bob" | null,
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/bin.ts", ...args], {
      cwd: ROOT,
      env: { ...process.env, ...(who === null ? {} : people[who]?.credentials) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("a run on a DynamoDB store", () => {
  it("is started by alice in one process and approved by bob in another, on one audit chain", async () => {
    expect(await cliProcess(null, "store", "init", "--config", config)).toMatchObject({ code: 0, stderr: "" });
    const started = await cliProcess(
      "alice",
      ...["runbook", "run", "slack-drill", "--as", "alice", "--input", "incident=INC-9"],
      ...["--config", config, "--dir", RUNBOOKS],
    );
    expect(started.stderr).toBe("");
    expect(started.stdout).toContain("Waiting for a second person to approve");
    const runId = /Started run (\S+) of slack-drill/.exec(started.stdout)?.[1] as string;

    // Alice may not approve her own run, from any process.
    const self = await cliProcess(
      "alice",
      "runbook",
      "approve",
      runId,
      "--as",
      "alice",
      "--config",
      config,
      "--dir",
      RUNBOOKS,
    );
    expect(self.code).not.toBe(0);

    const approved = await cliProcess(
      "bob",
      "runbook",
      "approve",
      runId,
      "--as",
      "bob",
      "--config",
      config,
      "--dir",
      RUNBOOKS,
    );
    expect(approved.stderr).toBe("");
    expect(approved.code).toBe(0);

    const shared = openStore(store);
    try {
      const records = shared.audit.auditRecords();
      expect(verifyChain(records)).toEqual([]);
      const granted = records.find((record) => record.runId === runId && record.action === "approval.granted");
      expect(granted?.actor).toBe("person:bob");
      expect(shared.runs.runSteps(runId).find((step) => step.stepId === "approve-drill")).toMatchObject({
        status: "succeeded",
      });
    } finally {
      shared.close();
    }
    expect(await cliProcess(null, "audit", "verify", "--config", config)).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(
        /^DynamoDB table shared-store in Region us-east-1: \d+ audit records, chain intact/,
      ),
    });
  }, 180_000);
});
