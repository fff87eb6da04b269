// The DynamoDB store against the moto emulator on loopback: the same store contract as SQLite, two processes on one
// table keeping one audit chain, what `store init` makes, and errors that name the table and Region.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { IAMClient, PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type StoreSettings } from "../../../src/adapters/store/open-store.js";
import { initTable } from "../../../src/adapters/store/dynamodb/dynamodb-table-design.js";
import { DynamoTable } from "../../../src/adapters/store/dynamodb/dynamodb-table.js";
import { artefactPartition } from "../../../src/adapters/store/dynamodb/dynamodb-artefact-store.js";
import { verifyChain } from "../../../src/domain/audit/audit-chain.js";
import { iamUserPrincipal } from "../../support/aws-principals.js";
import { awsClientConfig, startMoto, type MotoServer } from "../../support/moto.js";
import { runStoreContract } from "./store-contract.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const REGION = "eu-west-1";
let moto: MotoServer;
let tables = 0;

/** A new table on the emulator, made by `store init`'s own code: each test starts from an empty store. */
export function freshTable(endpoint: string, name = `breakglass-${++tables}`): StoreSettings {
  const settings = { kind: "dynamodb" as const, path: "unused", table: name, region: REGION, endpoint };
  initTable(new DynamoTable({ table: name, region: REGION, endpoint }), () => undefined);
  return settings;
}

/** test/support/append-audit-process.ts in its own process: `count` audit appends as `writer`, with `env` added. */
function appendProcess(
  settings: StoreSettings,
  writer: string,
  count: number,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "test/support/append-audit-process.ts", JSON.stringify(settings), writer, String(count)],
      { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stderr }));
  });
}

beforeAll(async () => {
  // The emulator takes any credentials; the store's worker thread reads them from the environment like the SDK does.
  process.env["AWS_ACCESS_KEY_ID"] ??= "testing";
  process.env["AWS_SECRET_ACCESS_KEY"] ??= "testing";
  moto = await startMoto({ serialized: true });
});
afterAll(async () => {
  await moto.stop();
});

describe("the DynamoDB store", () => {
  runStoreContract({
    newStore: () => {
      const settings = freshTable(moto.endpoint);
      return {
        open: () => openStore(settings),
        corruptArtefact: (runId, name) => {
          // The last chunk of the content its head names, one byte changed.
          const table = new DynamoTable({ table: settings.table ?? "", region: REGION, endpoint: moto.endpoint });
          const pk = artefactPartition(runId, name);
          const sha256 = String(table.get(pk, "CONTENT")?.["sha256"]);
          const last = table.query(pk, `CHUNK#${sha256}#`).at(-1) as { sk: string; data: Uint8Array };
          const data = new Uint8Array(last.data);
          data[0] = ((data[0] ?? 0) + 1) % 256;
          table.write("Put", { Item: { pk, sk: last.sk, data } });
        },
      };
    },
  });

  it("keeps one intact chain, no sequence twice, when two processes append to the audit log at the same time", async () => {
    const settings = freshTable(moto.endpoint);
    const append = (writer: string) => appendProcess(settings, writer, 40);
    expect(await Promise.all([append("first"), append("second")])).toEqual([
      { code: 0, stderr: "" },
      { code: 0, stderr: "" },
    ]);
    const store = openStore(settings);
    const records = store.audit.auditRecords();
    store.close();
    expect(records).toHaveLength(80);
    expect(records.map((record) => record.sequence)).toEqual(records.map((_record, index) => index + 1));
    expect(verifyChain(records)).toEqual([]);
    for (const writer of ["first", "second"]) {
      expect(records.filter((record) => record.actor === writer).map((record) => record.detail["index"])).toEqual(
        Array.from({ length: 40 }, (_value, index) => index + 1),
      );
    }
  });

  it("tells a missing table apart, naming it, its Region and the command that makes it", () => {
    const store = openStore({
      kind: "dynamodb",
      path: "unused",
      table: "never-made",
      region: REGION,
      endpoint: moto.endpoint,
    });
    expect(() => store.ping()).toThrow(
      "DynamoDB table never-made in Region eu-west-1: table never-made does not exist in Region eu-west-1: run `breakglass store init`",
    );
    expect(() => store.runs.findRun("run-1")).toThrow(expect.objectContaining({ code: "STORE_FAILED" }));
  });

  it("makes the table on demand with point-in-time recovery and TTL, and leaves an existing one as it is", () => {
    const table = new DynamoTable({ table: "made-by-init", region: REGION, endpoint: moto.endpoint });
    expect(initTable(table, () => undefined)).toMatchObject({ created: true });
    const store = openStore({
      kind: "dynamodb",
      path: "unused",
      table: "made-by-init",
      region: REGION,
      endpoint: moto.endpoint,
    });
    store.audit.appendAudit(
      { actor: "alice", action: "slack.button", runId: null, subject: "press", detail: {} },
      new Date(),
    );
    expect(initTable(table, () => undefined)).toMatchObject({ created: false });
    expect(store.audit.auditRecords()).toHaveLength(1);
    const description = table.call("DescribeTable", { TableName: "made-by-init" }) as {
      BillingModeSummary?: { BillingMode?: string };
      KeySchema: unknown[];
    };
    expect(description.BillingModeSummary?.BillingMode).toBe("PAY_PER_REQUEST");
    expect(table.call("DescribeContinuousBackups", { TableName: "made-by-init" })).toMatchObject({
      PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: "ENABLED" },
    });
    expect(table.call("DescribeTimeToLive", { TableName: "made-by-init" })).toMatchObject({
      AttributeName: "ttl",
      TimeToLiveStatus: "ENABLED",
    });
  });

  it("refuses a table that exists with other keys, saying it is not a breakglass store", () => {
    const table = new DynamoTable({ table: "someone-elses", region: REGION, endpoint: moto.endpoint });
    table.call("CreateTable", {
      TableName: "someone-elses",
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
    });
    expect(() => initTable(table, () => undefined)).toThrow(
      "DynamoDB table someone-elses in Region eu-west-1: the table exists with the key schema (id HASH), not (pk HASH, sk RANGE): " +
        "it is not a breakglass store; name another table in store.table",
    );
  });
});

describe("the DynamoDB store under IAM", () => {
  it("works with only iam/store-dynamodb-policy.json, and without it names the table, the Region and that policy", async () => {
    const settings = freshTable(moto.endpoint, "guarded-store");
    const iam = new IAMClient(awsClientConfig(moto.endpoint, REGION));
    const policy = JSON.parse(
      readFileSync(new URL("../../../iam/store-dynamodb-policy.json", import.meta.url), "utf8"),
    ) as {
      Statement: { Resource: string }[];
    };
    // Two concessions to the emulator, which judges DynamoDB actions against the resource "*" (not the table's ARN) and
    // asks for a dynamodb:TransactWriteItems action of its own, where DynamoDB authorises each item of a transaction as
    // the PutItem, UpdateItem or DeleteItem it is (AWS's "Using IAM with DynamoDB transactions").
    for (const statement of policy.Statement) statement.Resource = "*";
    policy.Statement.push({ Effect: "Allow", Action: "dynamodb:TransactWriteItems", Resource: "*" } as never);
    const runner = await iamUserPrincipal(moto.endpoint, "store-runner");
    await iam.send(
      new PutUserPolicyCommand({
        UserName: "store-runner",
        PolicyName: "store",
        PolicyDocument: JSON.stringify(policy),
      }),
    );
    const stranger = await iamUserPrincipal(moto.endpoint, "store-stranger");
    const enforce = async (on: boolean) => {
      const response = await fetch(`${moto.endpoint}/moto-api/reset-auth`, {
        method: "POST",
        body: on ? "0" : "Infinity",
      });
      expect(response.ok).toBe(true);
    };
    await enforce(true);
    try {
      expect(await appendProcess(settings, "runner", 3, runner.credentials)).toEqual({ code: 0, stderr: "" });
      const denied = await appendProcess(settings, "stranger", 1, stranger.credentials);
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toContain(
        "DynamoDB table guarded-store in Region eu-west-1: access denied (AccessDeniedException): ",
      );
      expect(denied.stderr).toContain("; the caller needs the actions in iam/store-dynamodb-policy.json");
    } finally {
      await enforce(false);
    }
    const store = openStore(settings);
    expect(store.audit.auditRecords().map((record) => record.actor)).toEqual(["runner", "runner", "runner"]);
    store.close();
  });
});
