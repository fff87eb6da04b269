// Leases on emergency group memberships in SQLite: a partial unique index keeps one active lease per (group, user).
import type { MemberLease, MemberLeaseStore, NewMemberLease } from "../../../domain/ports/member-lease-store.js";
import { guarded } from "./sqlite-connection.js";
import type { SqlDatabase } from "./sql-database.js";

interface MemberLeaseRow {
  id: number;
  run_id: string | null;
  group_id: string;
  user_id: string;
  login: string;
  added_at: string;
  expires_at: string;
  removed_at: string | null;
}

export class SqliteLeaseStore implements MemberLeaseStore {
  constructor(private readonly database: SqlDatabase) {}

  recordLease(lease: NewMemberLease): boolean {
    return guarded(
      this.database,
      () =>
        this.database
          .prepare(
            `INSERT INTO member_leases (run_id, group_id, user_id, login, added_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (group_id, user_id) WHERE removed_at IS NULL DO NOTHING`,
          )
          .run(
            lease.runId,
            lease.groupId,
            lease.userId,
            lease.login,
            lease.addedAt.toISOString(),
            lease.expiresAt.toISOString(),
          ).changes === 1,
    );
  }

  activeLease(groupId: string, userId: string): MemberLease | null {
    const row = guarded(
      this.database,
      () =>
        this.database
          .prepare("SELECT * FROM member_leases WHERE group_id = ? AND user_id = ? AND removed_at IS NULL")
          .get(groupId, userId) as MemberLeaseRow | undefined,
    );
    return row === undefined ? null : leaseFromRow(row);
  }

  activeLeases(): MemberLease[] {
    const rows = guarded(
      this.database,
      () =>
        this.database
          .prepare("SELECT * FROM member_leases WHERE removed_at IS NULL ORDER BY expires_at, id")
          .all() as MemberLeaseRow[],
    );
    return rows.map(leaseFromRow);
  }

  expiredLeases(now: Date): MemberLease[] {
    // ISO-8601 instants in UTC sort as text, so the expiry compares in SQL.
    const rows = guarded(
      this.database,
      () =>
        this.database
          .prepare("SELECT * FROM member_leases WHERE removed_at IS NULL AND expires_at <= ? ORDER BY expires_at, id")
          .all(now.toISOString()) as MemberLeaseRow[],
    );
    return rows.map(leaseFromRow);
  }

  endLease(groupId: string, userId: string, removedAt: Date): boolean {
    return guarded(
      this.database,
      () =>
        this.database
          .prepare("UPDATE member_leases SET removed_at = ? WHERE group_id = ? AND user_id = ? AND removed_at IS NULL")
          .run(removedAt.toISOString(), groupId, userId).changes === 1,
    );
  }
}

function leaseFromRow(row: MemberLeaseRow): MemberLease {
  return {
    id: row.id,
    runId: row.run_id,
    groupId: row.group_id,
    userId: row.user_id,
    login: row.login,
    addedAt: row.added_at,
    expiresAt: row.expires_at,
    removedAt: row.removed_at,
  };
}
