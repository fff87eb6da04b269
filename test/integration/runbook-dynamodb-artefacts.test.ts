// Alice and bob on two laptops: two CLI processes with their own config folders (so no artefact file is shared) on one
// DynamoDB table (the moto emulator). Alice's fm2 run inspects the IdP's metadata; bob approves it on his machine and
// the import applies exactly the bytes alice inspected, read from the store, never from a file bob happens to have;
// a rollback executed on the other laptop puts back the document the provider held, kept in the store when saved.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CreateSAMLProviderCommand,
  GetSAMLProviderCommand,
  IAMClient,
  UpdateSAMLProviderCommand,
} from "@aws-sdk/client-iam";
import { ListInstancesCommand, SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artefactPartition } from "../../src/adapters/store/dynamodb/dynamodb-artefact-store.js";
import { DynamoTable } from "../../src/adapters/store/dynamodb/dynamodb-table.js";
import { iamUserPrincipal, motoAwsYamlLines, peopleYamlLines, type TestPrincipal } from "../support/aws-principals.js";
import { DAY, freshKeyPair, makeCertificate } from "../support/certificates.js";
import { entityXml } from "../support/metadata-builder.js";
import { awsClientConfig, MOTO_DEFAULT_ACCOUNT_ID, startMoto, type MotoServer } from "../support/moto.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const NOW = new Date();
const TABLE = "shared-artefacts";
const certificate = (commonName: string, ageDays: number) =>
  makeCertificate(
    {
      commonName,
      notBefore: new Date(NOW.getTime() - ageDays * DAY),
      notAfter: new Date(NOW.getTime() + 400 * DAY),
    },
    freshKeyPair(),
  );
const retired = certificate("idp retired", 700);
const current = certificate("idp current", 1);
/** What bob's own idp.xml holds: a copy he once saved, not what alice's run inspected. */
const bobsCopy = certificate("bob's stale copy", 2);
const metadata = (signing: { base64: string }) => entityXml({ keys: [{ base64: signing.base64, use: "signing" }] });
const fingerprint = (signing: { der: Buffer }) => createHash("sha256").update(signing.der).digest("hex");

let moto: MotoServer;
let providerArn: string;
const folders: Record<"alice" | "bob", string> = { alice: "", bob: "" };
const people: Record<string, TestPrincipal> = {};

beforeAll(async () => {
  moto = await startMoto({ serialized: true });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: "us-east-1",
  });
  const iam = new IAMClient(awsClientConfig(moto.endpoint));
  providerArn = (
    await iam.send(new CreateSAMLProviderCommand({ Name: "EmergencyIdP", SAMLMetadataDocument: metadata(retired) }))
  ).SAMLProviderArn as string;
  const instanceArn = (await new SSOAdminClient(awsClientConfig(moto.endpoint)).send(new ListInstancesCommand({})))
    .Instances?.[0]?.InstanceArn as string;
  people["alice"] = await iamUserPrincipal(moto.endpoint, "alice");
  people["bob"] = await iamUserPrincipal(moto.endpoint, "bob");
  for (const who of ["alice", "bob"] as const) {
    // Each laptop its own folder: its config, its IdP metadata file, its store path and so its artefact folder.
    folders[who] = mkdtempSync(join(tmpdir(), `breakglass-${who}-`));
    writeFileSync(join(folders[who], "idp.xml"), metadata(who === "alice" ? current : bobsCopy));
    writeFileSync(
      join(folders[who], "breakglass.yaml"),
      [
        "idp:",
        "  name: Test IdP",
        "  metadata: idp.xml",
        ...motoAwsYamlLines(providerArn, instanceArn),
        "store:",
        "  kind: dynamodb",
        `  table: ${TABLE}`,
        "  region: us-east-1",
        `  endpoint: ${moto.endpoint}`,
        "  path: state/breakglass.db",
        ...peopleYamlLines(people),
        "",
      ].join("\n"),
    );
  }
  // One table for both laptops, made once from alice's.
  expect(await cliProcess("alice", "store", "init")).toMatchObject({ code: 0, stderr: "" });
}, 60_000);

afterAll(async () => {
  await moto?.stop();
  for (const folder of Object.values(folders)) if (folder !== "") rmSync(folder, { recursive: true, force: true });
});

/** `breakglass <args> --config <their config>` in its own process, with that person's AWS credentials. */
function cliProcess(
  who: "alice" | "bob",
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "src/cli/bin.ts", ...args, "--config", join(folders[who], "breakglass.yaml")],
      {
        cwd: ROOT,
        env: { ...process.env, ...people[who]?.credentials, XDG_CACHE_HOME: join(folders[who], "cache") },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Alice starts fm2 on her laptop and it runs to its approval; returns the run id. */
async function aliceStartsFm2(incident: string): Promise<string> {
  const started = await cliProcess(
    "alice",
    ...["runbook", "run", "fm2-reimport-metadata", "--as", "alice", "--input", `incident=${incident}`],
    ...["--input", "workforceSignIn=working", "--input", `emergencyAccountId=${MOTO_DEFAULT_ACCOUNT_ID}`],
    ...["--input", `identityCenterAccountId=${MOTO_DEFAULT_ACCOUNT_ID}`, "--input", "identityCenterRegion=us-east-1"],
  );
  expect(started.stderr).toBe("");
  expect(started.stdout).toContain("Waiting for a second person to approve");
  return /Started run (\S+) of fm2-reimport-metadata/.exec(started.stdout)?.[1] as string;
}

const bobApproves = (runId: string) =>
  cliProcess(
    "bob",
    "runbook",
    "approve",
    runId,
    "--as",
    "bob",
    "--confirm-fingerprint",
    fingerprint(current).slice(0, 8),
  );

const providerDocument = async () =>
  (
    await new IAMClient(awsClientConfig(moto.endpoint)).send(
      new GetSAMLProviderCommand({ SAMLProviderArn: providerArn }),
    )
  ).SAMLMetadataDocument;

const inspectedFile = (who: "alice" | "bob", runId: string) =>
  join(folders[who], "state", "artefacts", runId, "fetch-metadata-idp-metadata.xml");

describe("an fm2 run shared by two laptops through DynamoDB", () => {
  it("stops bob's import, applying nothing, when the metadata alice inspected no longer hashes to its digest in the store", async () => {
    const runId = await aliceStartsFm2("INC-41");
    // A chunk of the inspected metadata altered in the table behind breakglass's back.
    const table = new DynamoTable({ table: TABLE, region: "us-east-1", endpoint: moto.endpoint });
    const pk = artefactPartition(runId, "metadata-file");
    const sha256 = String(table.get(pk, "CONTENT")?.["sha256"]);
    const chunk = table.query(pk, `CHUNK#${sha256}#`)[0] as { sk: string; data: Uint8Array };
    const altered = new TextDecoder()
      .decode(chunk.data)
      .replace(current.base64.slice(0, 40), bobsCopy.base64.slice(0, 40));
    table.write("Put", { Item: { pk, sk: chunk.sk, data: new TextEncoder().encode(altered) } });

    const approved = await bobApproves(runId);
    expect(approved.code).not.toBe(0);
    expect(`${approved.stdout}${approved.stderr}`).toMatch(
      new RegExp(
        `artefact metadata-file of run ${runId}: the content in DynamoDB table ${TABLE} in Region us-east-1 hashes to SHA-256`,
      ),
    );
    expect(await providerDocument()).toBe(metadata(retired));
    expect(existsSync(inspectedFile("bob", runId))).toBe(false);
    await cliProcess("alice", "runbook", "abort", runId, "--as", "alice", "--reason", "store tampered with");
  }, 240_000);

  it("imports on bob's laptop exactly the metadata alice's run inspected on hers, with no file shared", async () => {
    const runId = await aliceStartsFm2("INC-42");
    const inspected = readFileSync(inspectedFile("alice", runId), "utf8");
    expect(inspected).toBe(metadata(current));
    expect(existsSync(inspectedFile("bob", runId))).toBe(false);
    // Alice's laptop is not bob's: nothing of her artefact folder can reach his process.
    rmSync(join(folders.alice, "state", "artefacts"), { recursive: true, force: true });

    const approved = await bobApproves(runId);
    expect(approved.stderr).toBe("");
    expect(approved.code).toBe(0);
    // Read back from IAM: alice's inspected document, not bob's own idp.xml.
    expect(await providerDocument()).toBe(inspected);
    // Bob's laptop now holds the store's copy, readable by him only.
    expect(readFileSync(inspectedFile("bob", runId), "utf8")).toBe(inspected);
    expect(statSync(inspectedFile("bob", runId)).mode & 0o777).toBe(0o600);
  }, 240_000);

  it("rolls the import back on alice's laptop, though the provider's previous document was saved on bob's and is gone", async () => {
    // The provider as it was before any run: what the rollback must put back, byte for byte.
    await new IAMClient(awsClientConfig(moto.endpoint)).send(
      new UpdateSAMLProviderCommand({ SAMLProviderArn: providerArn, SAMLMetadataDocument: metadata(retired) }),
    );
    const runId = await aliceStartsFm2("INC-43");
    // Bob's approval applies the import in his process: the document the provider held is saved on his laptop.
    expect(await bobApproves(runId)).toMatchObject({ code: 0, stderr: "" });
    expect(await providerDocument()).toBe(metadata(current));

    const aborted = await cliProcess("alice", "runbook", "abort", runId, "--as", "alice", "--reason", "bad import");
    expect(aborted.stdout).toContain("aborted");

    const started = await cliProcess("bob", "runbook", "rollback", runId, "--as", "bob");
    expect(started.stderr).toBe("");
    expect(started.stdout).toContain("Waiting for a second person to approve");
    const rollbackId = /Started run (\S+) \(rollback-/.exec(started.stdout)?.[1] as string;
    // Bob's laptop is not alice's: nothing of his artefact folder can reach her process.
    rmSync(join(folders.bob, "state", "artefacts"), { recursive: true, force: true });

    const undone = await cliProcess("alice", "runbook", "approve", rollbackId, "--as", "alice");
    expect(undone.stderr).toBe("");
    expect(undone.code).toBe(0);
    const restored = new RegExp(
      `✓ .*applied and verified: import (${folders.alice}/state/artefacts/${runId}/` +
        "[a-z0-9-]+-previous-EmergencyIdP-[0-9a-f]{8}\\.xml) into ",
    ).exec(undone.stdout);
    expect(restored).not.toBeNull();
    expect(undone.stdout).toContain(`Run ${rollbackId}  rollback-${runId}  succeeded`);
    // Read back from IAM: the document it held before the import, read from the store onto alice's laptop.
    expect(await providerDocument()).toBe(metadata(retired));
    expect(readFileSync(restored?.[1] as string, "utf8")).toBe(metadata(retired));
    expect(statSync(restored?.[1] as string).mode & 0o777).toBe(0o600);
  }, 240_000);
});
