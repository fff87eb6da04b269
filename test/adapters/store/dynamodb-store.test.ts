// The DynamoDB store against the moto emulator on loopback: the same store contract as SQLite, two processes on one
// table keeping one audit chain, what `store init` makes, and errors that name the table and Region.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type StoreSettings } from "../../../src/adapters/store/open-store.js";
import { initTable } from "../../../src/adapters/store/dynamodb/dynamodb-table-design.js";
import { DynamoTable } from "../../../src/adapters/store/dynamodb/dynamodb-table.js";
import { verifyChain } from "../../../src/domain/audit/audit-chain.js";
import { startMoto, type MotoServer } from "../../support/moto.js";
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
      return { open: () => openStore(settings) };
    },
  });

  it("keeps one intact chain, no sequence twice, when two processes append to the audit log at the same time", async () => {
    const settings = freshTable(moto.endpoint);
    const append = (writer: string) =>
      new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ["--import", "tsx", "test/support/append-audit-process.ts", JSON.stringify(settings), writer, "40"],
          { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
        );
        let stderr = "";
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.once("error", reject);
        child.once("exit", (code) => resolve({ code, stderr }));
      });
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
