// Leases on emergency group memberships in DynamoDB: the active lease is one item per (group, user), created only
// when absent; ending it moves it to the ended leases, which DynamoDB's TTL deletes a year later.
import type { MemberLease, MemberLeaseStore, NewMemberLease } from "../../../domain/ports/member-lease-store.js";
import { paddedNumber, TTL_ATTRIBUTE } from "./dynamodb-table-design.js";
import type { DynamoTable } from "./dynamodb-table.js";

const LEASES = "MEMBER-LEASE";
const ACTIVE = "ACTIVE#";
const ENDED = "ENDED#";
/** Ended leases are history the audit log also keeps: DynamoDB deletes them this long after they ended. */
const ENDED_KEPT_SECONDS = 366 * 24 * 60 * 60;

/** The (group, user) key: JSON, so that no id can contain the separator. */
const activeKey = (groupId: string, userId: string) => `${ACTIVE}${JSON.stringify([groupId, userId])}`;

type Item = Record<string, unknown>;

export class DynamoLeaseStore implements MemberLeaseStore {
  constructor(private readonly table: DynamoTable) {}

  recordLease(lease: NewMemberLease): boolean {
    const key = activeKey(lease.groupId, lease.userId);
    // Cheap refusal without spending an id when the (group, user) has an active lease; the conditional put decides.
    if (this.table.get(LEASES, key) !== null) return false;
    const counter = this.table.updated({
      Key: { pk: "COUNTER", sk: "member-lease" },
      UpdateExpression: "ADD #value :one",
      ExpressionAttributeNames: { "#value": "value" },
      ExpressionAttributeValues: { ":one": 1 },
    });
    return this.table.write("Put", {
      Item: {
        pk: LEASES,
        sk: key,
        id: Number(counter?.["value"]),
        ...(lease.runId === null ? {} : { runId: lease.runId }),
        groupId: lease.groupId,
        userId: lease.userId,
        login: lease.login,
        addedAt: lease.addedAt.toISOString(),
        expiresAt: lease.expiresAt.toISOString(),
      },
      ConditionExpression: "attribute_not_exists(pk)",
    });
  }

  activeLease(groupId: string, userId: string): MemberLease | null {
    const item = this.table.get(LEASES, activeKey(groupId, userId));
    return item === null ? null : leaseOf(item);
  }

  activeLeases(): MemberLease[] {
    return this.table.query(LEASES, ACTIVE).map(leaseOf).sort(soonestFirst);
  }

  expiredLeases(now: Date): MemberLease[] {
    const at = now.toISOString();
    return this.activeLeases().filter((lease) => lease.expiresAt <= at);
  }

  endLease(groupId: string, userId: string, removedAt: Date): boolean {
    const item = this.table.get(LEASES, activeKey(groupId, userId));
    if (item === null) return false;
    const outcome = this.table.transact([
      // Conditional on the lease read: of two reapers ending it, one moves it and the other is told there was none.
      {
        Delete: {
          Key: { pk: LEASES, sk: item["sk"] },
          ConditionExpression: "id = :id",
          ExpressionAttributeValues: { ":id": item["id"] },
        },
      },
      {
        Put: {
          Item: {
            ...item,
            sk: `${ENDED}${paddedNumber(Number(item["id"]))}`,
            removedAt: removedAt.toISOString(),
            [TTL_ATTRIBUTE]: Math.floor(removedAt.getTime() / 1000) + ENDED_KEPT_SECONDS,
          },
        },
      },
    ]);
    return outcome.written;
  }
}

const soonestFirst = (left: MemberLease, right: MemberLease) =>
  left.expiresAt.localeCompare(right.expiresAt) || left.id - right.id;

function leaseOf(item: Item): MemberLease {
  return {
    id: Number(item["id"]),
    runId: typeof item["runId"] === "string" ? item["runId"] : null,
    groupId: String(item["groupId"]),
    userId: String(item["userId"]),
    login: String(item["login"]),
    addedAt: String(item["addedAt"]),
    expiresAt: String(item["expiresAt"]),
    removedAt: typeof item["removedAt"] === "string" ? item["removedAt"] : null,
  };
}
