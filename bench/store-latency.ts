// Benchmark: per-operation latency of the store, SQLite beside DynamoDB (the moto emulator on loopback, one request at
// a time), p50 and p99, through the same synchronous store port the engine and the front ends use.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, type StoreSettings } from "../src/adapters/store/open-store.js";
import { initTable } from "../src/adapters/store/dynamodb/dynamodb-table-design.js";
import { DynamoTable } from "../src/adapters/store/dynamodb/dynamodb-table.js";
import type { BreakglassStore } from "../src/domain/ports/store.js";
import { startMoto } from "../test/support/moto.js";

const OPERATIONS = ["createRun", "transition+audit", "findRun", "audit append", "lease acquire"] as const;
type Operation = (typeof OPERATIONS)[number];

/** Milliseconds of each operation, `rounds` times, on one store. */
function measure(store: BreakglassStore, rounds: number, prefix: string): Record<Operation, number[]> {
  const samples = Object.fromEntries(OPERATIONS.map((operation) => [operation, [] as number[]])) as Record<
    Operation,
    number[]
  >;
  const time = (operation: Operation, work: () => void) => {
    const started = performance.now();
    work();
    samples[operation].push(performance.now() - started);
  };
  const at = new Date();
  for (let round = 0; round < rounds; round++) {
    const runId = `${prefix}-${round}`;
    time("createRun", () =>
      store.runs.createRun(
        {
          id: runId,
          runbookId: "fm2-reimport-metadata",
          runbookDigest: "ab".repeat(32),
          inputs: { incident: "INC-1" },
          initiator: "alice",
          initiatorPerson: "person:alice",
          dryRun: false,
          stepIds: ["check-idp", "approve", "import", "verify"],
        },
        { actor: "alice", action: "run.started", runId, subject: "fm2", detail: {} },
        at,
      ),
    );
    time("lease acquire", () => store.runs.acquireLease(runId, "engine-a", at, 60_000));
    time("transition+audit", () =>
      store.runs.recordTransition(
        runId,
        "engine-a",
        {
          steps: [{ stepId: "check-idp", status: "succeeded", outcome: { summary: "clean" }, started: true }],
          audit: [{ actor: "alice", action: "step.succeeded", runId, subject: "check-idp", detail: {} }],
        },
        at,
      ),
    );
    time("findRun", () => store.runs.findRun(runId));
    time("audit append", () =>
      store.audit.appendAudit({ actor: "bob", action: "slack.button", runId: null, subject: "press", detail: {} }, at),
    );
  }
  return samples;
}

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

export async function benchStoreLatency(rounds: number): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-bench-store-"));
  const moto = await startMoto({ serialized: true });
  process.env["AWS_ACCESS_KEY_ID"] ??= "testing";
  process.env["AWS_SECRET_ACCESS_KEY"] ??= "testing";
  try {
    const dynamo: StoreSettings = {
      kind: "dynamodb",
      path: "",
      table: "bench-store",
      region: "eu-west-1",
      endpoint: moto.endpoint,
    };
    initTable(new DynamoTable({ table: "bench-store", region: "eu-west-1", endpoint: moto.endpoint }), () => undefined);
    const results: [string, Record<Operation, number[]>][] = [];
    for (const [label, settings] of [
      ["SQLite", { path: join(directory, "bench.db") }],
      ["DynamoDB (moto)", dynamo],
    ] as const) {
      const store = openStore(settings);
      measure(store, 5, "warm-up"); // warm-up: the worker thread, the SDK client, SQLite's statement cache
      results.push([label, measure(store, rounds, "bench")]);
      store.close();
    }
    console.log(`  ${"operation".padEnd(18)}${results.map(([label]) => label.padStart(28)).join("")}`);
    console.log(`  ${"".padEnd(18)}${results.map(() => "p50 ms / p99 ms".padStart(28)).join("")}`);
    for (const operation of OPERATIONS) {
      const cells = results.map(([, samples]) => {
        const values = samples[operation];
        return `${percentile(values, 0.5).toFixed(2)} / ${percentile(values, 0.99).toFixed(2)}`.padStart(28);
      });
      console.log(`  ${operation.padEnd(18)}${cells.join("")}`);
    }
    console.log(
      `  (${rounds} rounds each. moto answers one request at a time and copies the whole table for every ` +
        "TransactWriteItems, so its transaction figures grow with the table: they measure the emulator, not DynamoDB, " +
        "whose single-digit-millisecond writes plus the Region's round trip are what a deployment sees)",
    );
  } finally {
    await moto.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}
