// A leader's view of the store's DynamoDB table: every write becomes a TransactWriteItems that also holds a
// ConditionCheck on the leader lease item (this holder, this token), so DynamoDB itself refuses a write of a leader
// that was replaced, atomically with the write. Reads pass through.
import type { BreakglassError } from "../../../domain/errors.js";
import { currentFence, fenceRefusal, type Fence, type FenceSource } from "../../../domain/ports/leadership-store.js";
import { LEADER } from "./dynamodb-leadership-store.js";
import { DynamoTable, type TransactItem, type TransactOutcome } from "./dynamodb-table.js";

type Item = Record<string, unknown>;

export class FencedDynamoTable extends DynamoTable {
  constructor(
    private readonly base: DynamoTable,
    private readonly source: FenceSource,
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
    // Read at each write: a getter's fence is the elector's term now, not when the view was made.
    const fence = currentFence(this.source, this.description);
    const outcome = super.transact([
      ...items,
      {
        ConditionCheck: {
          Key: { pk: LEADER, sk: fence.name },
          ConditionExpression: "holder = :holder AND #token = :token",
          ExpressionAttributeNames: { "#token": "token" },
          ExpressionAttributeValues: { ":holder": fence.holder, ":token": fence.token },
        },
      },
    ]);
    if (outcome.written) return outcome;
    if (outcome.reasons.at(-1) === "ConditionalCheckFailed") throw this.lost(fence);
    return { written: false, reasons: outcome.reasons.slice(0, -1) };
  }

  private lost(fence: Fence): BreakglassError {
    const lease = this.base.get(LEADER, fence.name);
    return fenceRefusal(
      this.description,
      fence,
      lease === null
        ? null
        : { holder: typeof lease["holder"] === "string" ? lease["holder"] : null, token: Number(lease["token"]) },
    );
  }
}
