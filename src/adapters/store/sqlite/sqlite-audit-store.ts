// The audit records in SQLite: each sealed onto the chain inside a write transaction, so two processes never fork it.
import { GENESIS_HASH, sealRecord, type AuditEntry, type AuditRecord } from "../../../domain/audit/audit-chain.js";
import type { AuditStore } from "../../../domain/ports/audit-store.js";
import { guarded } from "./sqlite-connection.js";
import type { SqlDatabase } from "./sql-database.js";

interface AuditRow {
  sequence: number;
  at: string;
  actor: string;
  action: string;
  run_id: string | null;
  subject: string;
  detail: string;
  previous_hash: string;
  hash: string;
}

export class SqliteAuditStore implements AuditStore {
  constructor(private readonly database: SqlDatabase) {}

  appendAudit(entry: AuditEntry, at: Date): AuditRecord {
    return guarded(this.database, () => this.database.immediate(() => this.appendWithinTransaction(entry, at)));
  }

  /**
   * Seals `entry` after the last record and inserts it; the caller holds the write transaction (BEGIN IMMEDIATE), so
   * the last record read here is still the last when the new one is written. The run store calls it inside its own.
   */
  appendWithinTransaction(entry: AuditEntry, at: Date): AuditRecord {
    const last = this.database.prepare("SELECT sequence, hash FROM audit_records ORDER BY id DESC LIMIT 1").get() as
      { sequence: number; hash: string } | undefined;
    const record = sealRecord(entry, (last?.sequence ?? 0) + 1, at, last?.hash ?? GENESIS_HASH);
    this.database
      .prepare(
        "INSERT INTO audit_records (sequence, at, actor, action, run_id, subject, detail, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        record.sequence,
        record.at,
        record.actor,
        record.action,
        record.runId,
        record.subject,
        JSON.stringify(record.detail),
        record.previousHash,
        record.hash,
      );
    return record;
  }

  auditRecords(): AuditRecord[] {
    const rows = guarded(
      this.database,
      () =>
        this.database
          .prepare(
            "SELECT sequence, at, actor, action, run_id, subject, detail, previous_hash, hash FROM audit_records ORDER BY id",
          )
          .all() as AuditRow[],
    );
    return rows.map((row) => ({
      sequence: row.sequence,
      at: row.at,
      actor: row.actor,
      action: row.action,
      runId: row.run_id,
      subject: row.subject,
      detail: parseDetail(row.detail),
      previousHash: row.previous_hash,
      hash: row.hash,
    }));
  }

  /** The id of the newest row: it moves with every record written, from any process. */
  auditHead(): number {
    const row = guarded(
      this.database,
      () => this.database.prepare("SELECT COALESCE(MAX(id), 0) AS head FROM audit_records").get() as { head: number },
    );
    return Number(row.head);
  }
}

/** A detail that is not JSON was edited by hand; keep its text so the hash check reports the edit instead of crashing. */
function parseDetail(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { unparseable: text };
  }
}
