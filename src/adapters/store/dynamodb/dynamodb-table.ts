// The store's one DynamoDB table, answered synchronously: each call runs in a worker thread (synckit) under a deadline,
// and every failure comes back as a BreakglassError naming the table and its Region.
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { createSyncFn } from "synckit";
import { BreakglassError, describeError } from "../../../domain/errors.js";
import type { DynamoAnswer, DynamoClientSettings, DynamoOperation, DynamoRequest } from "./dynamodb-protocol.js";
import { pauseThread } from "../pause-thread.js";

/** breakglass.yaml's store section for `kind: dynamodb`. */
export interface DynamoStoreSettings {
  readonly table: string;
  readonly region: string;
  /** Another endpoint than the Region's (a DynamoDB emulator, a VPC endpoint). */
  readonly endpoint?: string;
}

/** One attempt's deadline; the SDK tries throttled or failed requests again up to MAX_ATTEMPTS times in all. */
const REQUEST_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 3_000;
const MAX_ATTEMPTS = 3;
/** The whole call, retries and backoff included: past it the caller's thread stops waiting and reports the store unavailable. */
export const CALL_TIMEOUT_MS = MAX_ATTEMPTS * (REQUEST_TIMEOUT_MS + CONNECT_TIMEOUT_MS) + 6_000;
/** How many times a write that lost a race (a condition on a version or the chain head) is read again and retried. */
export const CONFLICT_RETRIES = 25;

type Item = Record<string, unknown>;

/**
 * Waits before retrying a write that lost a race: a random time up to 10 ms doubled per attempt (at most 320 ms), so
 * that two writers in lockstep fall out of it instead of one losing every time ("full jitter").
 */
export function backOff(attempt: number): void {
  pauseThread(Math.random() * 10 * 2 ** Math.min(attempt, 5));
}

/** One item of a TransactWriteItems: its operation (Put, Update, Delete, ConditionCheck) and its body, without TableName. */
export type TransactItem = Record<string, Item>;

/** The outcome of a transaction: written, or cancelled by a condition (or a concurrent write), with each item's reason. */
export type TransactOutcome =
  { readonly written: true } | { readonly written: false; readonly reasons: readonly string[] };

let callWorker: ((request: DynamoRequest) => DynamoAnswer) | undefined;

/** The worker, started once per process: compiled JavaScript under dist/, TypeScript through tsx under vitest or tsx. */
function worker(): (request: DynamoRequest) => DynamoAnswer {
  if (callWorker === undefined) {
    // From the sources the worker is TypeScript: a small .mjs entry loads it through tsx (see that file for why).
    const fromSources = extname(fileURLToPath(import.meta.url)) === ".ts";
    const entry = fromSources ? "./dynamodb-worker-tsx.mjs" : "./dynamodb-worker.js";
    callWorker = createSyncFn<(request: DynamoRequest) => Promise<DynamoAnswer>>(
      fileURLToPath(new URL(entry, import.meta.url)),
      { timeout: CALL_TIMEOUT_MS },
    );
  }
  return callWorker;
}

export class DynamoTable {
  readonly name: string;
  private readonly client: DynamoClientSettings;
  private closed = false;

  constructor(readonly settings: DynamoStoreSettings) {
    this.name = settings.table;
    this.client = {
      region: settings.region,
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      maxAttempts: MAX_ATTEMPTS,
    };
  }

  /** What errors and reports name: `DynamoDB table T in Region R`. */
  get description(): string {
    return `DynamoDB table ${this.settings.table} in Region ${this.settings.region}`;
  }

  close(): void {
    this.closed = true;
  }

  /** A strongly consistent read of one item. */
  get(pk: string, sk: string): Item | null {
    return this.call("Get", { TableName: this.name, Key: { pk, sk }, ConsistentRead: true }) as Item | null;
  }

  /** Every item of a partition (whose sort key begins with `prefix`), strongly consistent, in sort-key order. */
  query(
    pk: string,
    prefix?: string,
    options: { readonly newestFirst?: boolean; readonly limit?: number } = {},
  ): Item[] {
    return this.call("QueryAll", {
      TableName: this.name,
      ConsistentRead: true,
      KeyConditionExpression: prefix === undefined ? "pk = :pk" : "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: prefix === undefined ? { ":pk": pk } : { ":pk": pk, ":prefix": prefix },
      ...(options.newestFirst === true ? { ScanIndexForward: false } : {}),
      ...(options.limit === undefined ? {} : { Limit: options.limit }),
    }) as Item[];
  }

  /** A put, update or delete with a condition: false when the condition did not hold (nothing was written). */
  write(operation: "Put" | "Update" | "Delete", input: Item): boolean {
    for (let attempt = 0; ; attempt++) {
      const answer = this.send(operation, { TableName: this.name, ...input });
      if (answer.ok) return true;
      if (answer.name === "ConditionalCheckFailedException") return false;
      // A multi-Region strongly consistent table refused a write racing one in another Region: try it again, and its
      // condition is judged again against the write that won.
      if (answer.name === "ReplicatedWriteConflictException" && attempt < CONFLICT_RETRIES) continue;
      throw this.failure(answer);
    }
  }

  /** An update that returns the item as it is afterwards (ReturnValues ALL_NEW), or null when its condition failed. */
  updated(input: Item): Item | null {
    for (let attempt = 0; ; attempt++) {
      const answer = this.send("Update", { TableName: this.name, ReturnValues: "ALL_NEW", ...input });
      if (answer.ok) return answer.value as Item;
      if (answer.name === "ConditionalCheckFailedException") return null;
      if (answer.name === "ReplicatedWriteConflictException" && attempt < CONFLICT_RETRIES) continue;
      throw this.failure(answer);
    }
  }

  /**
   * TransactWriteItems over this table (each item names its operation: Put, Update, Delete or ConditionCheck, without
   * TableName). Cancelled (a condition, a concurrent transaction, a replicated write conflict) comes back as not written.
   */
  transact(items: readonly TransactItem[]): TransactOutcome {
    if (items.length > MAX_TRANSACTION_ITEMS) {
      throw new BreakglassError(
        "STORE_FAILED",
        this.description,
        `one write needs ${items.length} items, more than the ${MAX_TRANSACTION_ITEMS} DynamoDB writes in one transaction; nothing was written`,
      );
    }
    const answer = this.send("TransactWrite", {
      TransactItems: items.map((item) =>
        Object.fromEntries(Object.entries(item).map(([kind, body]) => [kind, { TableName: this.name, ...body }])),
      ),
    });
    if (answer.ok) return { written: true };
    if (
      answer.name === "TransactionCanceledException" ||
      answer.name === "TransactionConflictException" ||
      answer.name === "ReplicatedWriteConflictException"
    ) {
      // A cancellation for another reason than a condition or a conflict (an item too large, a validation error) is
      // not one a retry can fix.
      const unfixable = answer.reasons.find((reason) => !RETRYABLE_REASONS.has(reason));
      if (unfixable === undefined) return { written: false, reasons: answer.reasons };
      throw this.failure(answer);
    }
    throw this.failure(answer);
  }

  /** Any other operation (table administration): its result, or a BreakglassError. */
  call(operation: DynamoOperation, input: Item): unknown {
    const answer = this.send(operation, input);
    if (answer.ok) return answer.value;
    throw this.failure(answer);
  }

  /** Like call, but answers null when DynamoDB says the table (or resource) does not exist. */
  callUnlessMissing(operation: DynamoOperation, input: Item): unknown {
    const answer = this.send(operation, input);
    if (answer.ok) return answer.value;
    if (answer.name === "ResourceNotFoundException") return null;
    throw this.failure(answer);
  }

  private send(operation: DynamoOperation, input: Item): DynamoAnswer {
    if (this.closed) throw new BreakglassError("STORE_FAILED", this.description, "the store was closed");
    try {
      return worker()({ client: this.client, operation, input });
    } catch (error) {
      const reason = /timed-out/.test(describeError(error))
        ? `no answer from DynamoDB within ${CALL_TIMEOUT_MS / 1000} s (retries included); is the Region reachable?`
        : `the DynamoDB worker failed: ${describeError(error)}`;
      throw new BreakglassError("STORE_FAILED", this.description, reason, { cause: error });
    }
  }

  private failure(answer: Extract<DynamoAnswer, { ok: false }>): BreakglassError {
    const { table, region } = this.settings;
    const detail = firstLine(answer.message);
    // A 403 whose body the SDK could not read (a proxy's or an emulator's page) is a denial all the same.
    const name = answer.status === 403 && !answer.name.endsWith("Exception") ? "AccessDeniedException" : answer.name;
    switch (name) {
      case "ResourceNotFoundException":
        return new BreakglassError(
          "STORE_FAILED",
          this.description,
          `table ${table} does not exist in Region ${region}: run \`breakglass store init\``,
        );
      case "AccessDeniedException":
      case "UnrecognizedClientException":
      case "ExpiredTokenException":
        return new BreakglassError(
          "STORE_FAILED",
          this.description,
          `access denied (${name}): ${detail}; the caller needs the actions in iam/store-dynamodb-policy.json`,
        );
      case "TransactionCanceledException":
        return new BreakglassError(
          "STORE_FAILED",
          this.description,
          `the write was refused (${answer.reasons.filter((reason) => reason !== "None").join(", ")}): ${detail}`,
        );
      default:
        return new BreakglassError("STORE_FAILED", this.description, `${answer.name}: ${detail}`);
    }
  }
}

/** DynamoDB's limit on one TransactWriteItems (and 4 MB in all); a run's transition beyond it is refused, not split. */
export const MAX_TRANSACTION_ITEMS = 100;

const RETRYABLE_REASONS = new Set([
  "None",
  "ConditionalCheckFailed",
  "TransactionConflict",
  "ReplicatedWriteConflict",
  "ThrottlingError",
  "ProvisionedThroughputExceeded",
]);

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}
