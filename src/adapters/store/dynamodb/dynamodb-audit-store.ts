// The audit records in DynamoDB: each appended in one transaction with the chain head it is conditional on, so any
// number of writers, in any number of processes, keep one linear chain (see dynamodb-table-design.ts).
import {
  GENESIS_HASH,
  readStoredDetail,
  sealRecord,
  storedDetailText,
  type AuditEntry,
  type AuditRecord,
} from "../../../domain/audit/audit-chain.js";
import { BreakglassError } from "../../../domain/errors.js";
import type { AuditStore } from "../../../domain/ports/audit-store.js";
import { paddedNumber } from "./dynamodb-table-design.js";
import { backOff, CONFLICT_RETRIES, type DynamoTable, type TransactItem } from "./dynamodb-table.js";

const AUDIT = "AUDIT";
const HEAD = "HEAD";
const RECORD = "RECORD#";

/** The last record sealed: what the next one chains onto. */
export interface ChainHead {
  readonly sequence: number;
  readonly hash: string;
}

export class DynamoAuditStore implements AuditStore {
  constructor(private readonly table: DynamoTable) {}

  appendAudit(entry: AuditEntry, at: Date): AuditRecord {
    return this.appendWith(
      () => [],
      [entry],
      at,
      () => true,
    )[0] as AuditRecord;
  }

  /**
   * Writes `items` (another repository's conditional writes, given the records about to be sealed) and seals `entries`
   * onto the chain, in ONE transaction. On a cancelled transaction `retry`, given each item's reason, reads again what
   * its items need and says whether to try again (or throws its own error); the head is read again each time.
   * Returns the records as sealed.
   */
  appendWith(
    items: (records: readonly AuditRecord[]) => readonly TransactItem[],
    entries: readonly AuditEntry[],
    at: Date,
    retry: (reasons: readonly string[]) => boolean,
  ): AuditRecord[] {
    for (let attempt = 0; attempt <= CONFLICT_RETRIES; attempt++) {
      const head = this.head();
      const records = sealAfter(head, entries, at);
      const outcome = this.table.transact([...items(records), ...this.chainItems(head, records)]);
      if (outcome.written) return records;
      if (!retry(outcome.reasons)) return [];
      backOff(attempt);
    }
    throw new BreakglassError(
      "STORE_FAILED",
      this.table.description,
      `the audit chain head moved ${CONFLICT_RETRIES + 1} times while appending: too many writers at once; nothing was written`,
    );
  }

  /** The record items and the conditional head update that seal `records` after `head`. */
  chainItems(head: ChainHead | null, records: readonly AuditRecord[]): TransactItem[] {
    const last = records.at(-1);
    if (last === undefined) return [];
    return [
      ...records.map((record) => ({
        Put: { Item: recordItem(record), ConditionExpression: "attribute_not_exists(pk)" },
      })),
      {
        Put: {
          Item: { pk: AUDIT, sk: HEAD, sequence: last.sequence, hash: last.hash },
          ...(head === null
            ? { ConditionExpression: "attribute_not_exists(pk)" }
            : {
                ConditionExpression: "#sequence = :sequence",
                ExpressionAttributeNames: { "#sequence": "sequence" },
                ExpressionAttributeValues: { ":sequence": head.sequence },
              }),
        },
      },
    ];
  }

  /** The chain head, read strongly consistent; null before the first record. */
  head(): ChainHead | null {
    const item = this.table.get(AUDIT, HEAD);
    return item === null ? null : { sequence: Number(item["sequence"]), hash: String(item["hash"]) };
  }

  auditRecords(): AuditRecord[] {
    return this.table.query(AUDIT, RECORD).map(recordOf);
  }

  /** The head's sequence: it moves with every record written, from any process. */
  auditHead(): number {
    return this.head()?.sequence ?? 0;
  }

  /**
   * Writes records sealed elsewhere exactly as they are (`store migrate`), after the ones here, in transactions of up
   * to 99 records with the head; the first must chain onto this store's head.
   */
  importRecords(records: readonly AuditRecord[]): void {
    for (let start = 0; start < records.length; start += 99) {
      const batch = records.slice(start, start + 99);
      const outcome = this.table.transact(this.chainItems(this.head(), batch));
      if (!outcome.written) {
        throw new BreakglassError(
          "STORE_FAILED",
          this.table.description,
          `another writer appended to the audit chain during the copy (at record ${batch[0]?.sequence ?? "?"}); start again on an empty table`,
        );
      }
    }
  }
}

function sealAfter(head: ChainHead | null, entries: readonly AuditEntry[], at: Date): AuditRecord[] {
  let sequence = head?.sequence ?? 0;
  let previousHash = head?.hash ?? GENESIS_HASH;
  return entries.map((entry) => {
    const record = sealRecord(entry, ++sequence, at, previousHash);
    // Fails here, before any write, for a detail that JSON cannot hold (a BigInt).
    storedDetailText(record.detail);
    previousHash = record.hash;
    return record;
  });
}

function recordItem(record: AuditRecord): Record<string, unknown> {
  return {
    pk: AUDIT,
    sk: `${RECORD}${paddedNumber(record.sequence)}`,
    sequence: record.sequence,
    at: record.at,
    actor: record.actor,
    action: record.action,
    ...(record.runId === null ? {} : { runId: record.runId }),
    subject: record.subject,
    // As text, exactly as the hash covered it: a DynamoDB map would not keep the key order or number spelling.
    detail: storedDetailText(record.detail),
    previousHash: record.previousHash,
    hash: record.hash,
  };
}

function recordOf(item: Record<string, unknown>): AuditRecord {
  return {
    sequence: Number(item["sequence"]),
    at: String(item["at"]),
    actor: String(item["actor"]),
    action: String(item["action"]),
    runId: typeof item["runId"] === "string" ? item["runId"] : null,
    subject: String(item["subject"]),
    detail: parseDetail(String(item["detail"])),
    previousHash: String(item["previousHash"]),
    hash: String(item["hash"]),
  };
}

/** A detail that is not exactly the JSON it was written as was edited by hand: keep its text so verification reports it. */
function parseDetail(text: string): Record<string, unknown> {
  const value = readStoredDetail(text);
  if (value === undefined) return { unparseable: text };
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
}
