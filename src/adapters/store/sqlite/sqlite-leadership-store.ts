// Leader leases in SQLite: each acquire, renewal and release one conditional statement on the lease's row.
import type { LeaderLease, LeadershipStore } from "../../../domain/ports/leadership-store.js";
import { guarded } from "./sqlite-connection.js";
import type { SqlDatabase } from "./sql-database.js";

interface LeaderLeaseRow {
  name: string;
  holder: string | null;
  token: number;
  version: number;
  acquired_at: string;
  renewed_at: string;
  expires_at: string;
}

export class SqliteLeadershipStore implements LeadershipStore {
  constructor(private readonly database: SqlDatabase) {}

  acquireOrRenew(
    name: string,
    holder: string,
    now: Date,
    ttlMilliseconds: number,
    takeOverVersion?: number,
  ): LeaderLease | null {
    const at = now.toISOString();
    const expiresAt = new Date(now.getTime() + ttlMilliseconds).toISOString();
    // One statement: the upsert's WHERE is the condition (free, released, expired, or mine), evaluated under the write
    // lock, so two contenders can never both succeed. ISO-8601 instants in UTC compare as text.
    const row = guarded(
      this.database,
      () =>
        this.database
          .prepare(
            `INSERT INTO leader_leases (name, holder, token, version, acquired_at, renewed_at, expires_at)
             VALUES (?, ?, 1, 1, ?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET
               token = CASE WHEN leader_leases.holder IS excluded.holder THEN leader_leases.token ELSE leader_leases.token + 1 END,
               acquired_at = CASE WHEN leader_leases.holder IS excluded.holder THEN leader_leases.acquired_at ELSE excluded.acquired_at END,
               holder = excluded.holder, version = leader_leases.version + 1,
               renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
             WHERE leader_leases.holder IS NULL OR leader_leases.holder = excluded.holder OR leader_leases.expires_at <= excluded.renewed_at
               OR leader_leases.version = ?
             RETURNING *`,
          )
          .get(name, holder, at, at, expiresAt, takeOverVersion ?? -1) as LeaderLeaseRow | undefined,
    );
    return row === undefined ? null : leaseOfRow(row);
  }

  release(name: string, holder: string): boolean {
    return guarded(
      this.database,
      () =>
        this.database
          .prepare("UPDATE leader_leases SET holder = NULL, version = version + 1 WHERE name = ? AND holder = ?")
          .run(name, holder).changes === 1,
    );
  }

  read(name: string): LeaderLease | null {
    const row = guarded(
      this.database,
      () => this.database.prepare("SELECT * FROM leader_leases WHERE name = ?").get(name) as LeaderLeaseRow | undefined,
    );
    return row === undefined ? null : leaseOfRow(row);
  }
}

function leaseOfRow(row: LeaderLeaseRow): LeaderLease {
  return {
    name: row.name,
    holder: row.holder,
    token: Number(row.token),
    version: Number(row.version),
    acquiredAt: row.acquired_at,
    renewedAt: row.renewed_at,
    expiresAt: row.expires_at,
  };
}
