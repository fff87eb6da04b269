// Leader leases in DynamoDB: one item per lease name (pk `LEADER`, sk the name). Each acquire, renewal and release reads
// the item strongly consistently, judges it, and writes conditional on the record version it read, so two contenders
// can never both succeed and a holder that renewed in between keeps its lease (amazon-dynamodb-lock-client's design).
import type { LeaderLease, LeadershipStore } from "../../../domain/ports/leadership-store.js";
import { backOff, CONFLICT_RETRIES, type DynamoTable } from "./dynamodb-table.js";

export const LEADER = "LEADER";

export class DynamoLeadershipStore implements LeadershipStore {
  constructor(private readonly table: DynamoTable) {}

  acquireOrRenew(
    name: string,
    holder: string,
    now: Date,
    ttlMilliseconds: number,
    takeOverVersion?: number,
  ): LeaderLease | null {
    const at = now.toISOString();
    const expiresAt = new Date(now.getTime() + ttlMilliseconds).toISOString();
    for (let attempt = 0; ; attempt++) {
      const current = this.read(name);
      let next: LeaderLease;
      if (current === null) {
        next = { name, holder, token: 1, version: 1, acquiredAt: at, renewedAt: at, expiresAt };
      } else {
        const mine = current.holder === holder;
        const free =
          current.holder === null ||
          current.expiresAt <= at ||
          (takeOverVersion !== undefined && current.version === takeOverVersion);
        if (!mine && !free) return null;
        next = {
          name,
          holder,
          token: mine ? current.token : current.token + 1,
          version: current.version + 1,
          acquiredAt: mine ? current.acquiredAt : at,
          renewedAt: at,
          expiresAt,
        };
      }
      const written = this.table.write("Put", {
        Item: { pk: LEADER, sk: name, ...next },
        ...(current === null
          ? { ConditionExpression: "attribute_not_exists(pk)" }
          : {
              ConditionExpression: "#version = :read",
              ExpressionAttributeNames: { "#version": "version" },
              ExpressionAttributeValues: { ":read": current.version },
            }),
      });
      if (written) return next;
      // Someone wrote the item between our read and our write: judge it again as it is now.
      if (attempt >= CONFLICT_RETRIES) return null;
      backOff(attempt);
    }
  }

  release(name: string, holder: string): boolean {
    return this.table.write("Update", {
      Key: { pk: LEADER, sk: name },
      UpdateExpression: "SET #version = #version + :one REMOVE holder",
      ConditionExpression: "holder = :holder",
      ExpressionAttributeNames: { "#version": "version" },
      ExpressionAttributeValues: { ":holder": holder, ":one": 1 },
    });
  }

  read(name: string): LeaderLease | null {
    const item = this.table.get(LEADER, name);
    if (item === null) return null;
    return {
      name,
      holder: typeof item["holder"] === "string" ? item["holder"] : null,
      token: Number(item["token"]),
      version: Number(item["version"]),
      acquiredAt: String(item["acquiredAt"]),
      renewedAt: String(item["renewedAt"]),
      expiresAt: String(item["expiresAt"]),
    };
  }
}
