// A leader's view of the store's DynamoDB table: every write becomes a TransactWriteItems that also holds a
// ConditionCheck on the leader lease item (this holder, this token), so DynamoDB itself refuses a write of a leader
// that was replaced, atomically with the write. Reads pass through.
import { BreakglassError } from "../../../domain/errors.js";
import type { Fence } from "../../../domain/ports/leadership-store.js";
import { LEADER } from "./dynamodb-leadership-store.js";
import { DynamoTable, type TransactItem, type TransactOutcome } from "./dynamodb-table.js";

type Item = Record<string, unknown>;

export class FencedDynamoTable extends DynamoTable {
  constructor(
    private readonly base: DynamoTable,
    private readonly fence: Fence,
  ) {
    super(base.settings);
  }

  /** The view closes nothing: the table belongs to the store it was made from. */
  override close(): void {}

  override write(operation: "Put" | "Update" | "Delete", input: Item): boolean {
    return this.transact([{ [operation]: input }]).written;
  }

  /**
   * A transaction returns no item, so the item is read back (strongly consistent) after the fenced update: it shows
   * this write, or a later one.
   */
  override updated(input: Item): Item | null {
    if (!this.transact([{ Update: input }]).written) return null;
    const key = input["Key"] as { pk: string; sk: string };
    return this.get(key.pk, key.sk);
  }

  override transact(items: readonly TransactItem[]): TransactOutcome {
    const outcome = super.transact([
      ...items,
      {
        ConditionCheck: {
          Key: { pk: LEADER, sk: this.fence.name },
          ConditionExpression: "holder = :holder AND #token = :token",
          ExpressionAttributeNames: { "#token": "token" },
          ExpressionAttributeValues: { ":holder": this.fence.holder, ":token": this.fence.token },
        },
      },
    ]);
    if (outcome.written) return outcome;
    if (outcome.reasons.at(-1) === "ConditionalCheckFailed") throw this.lost();
    return { written: false, reasons: outcome.reasons.slice(0, -1) };
  }

  private lost(): BreakglassError {
    const lease = this.base.get(LEADER, this.fence.name);
    const now =
      lease === null
        ? "no one holds it"
        : typeof lease["holder"] !== "string"
          ? `it was released (token ${String(lease["token"])})`
          : `${lease["holder"]} holds it with token ${String(lease["token"])}`;
    return new BreakglassError(
      "LEADERSHIP_LOST",
      `leader lease ${this.fence.name}`,
      `write refused: this replica (${this.fence.holder}) wrote with token ${this.fence.token}, but ${now}`,
    );
  }
}
