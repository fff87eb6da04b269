// The ports the audit log writes through: the hash-chained records in the store, and the append-only copy outside it.
import type { AuditEntry, AuditRecord } from "../audit/audit-chain.js";

/** The audit records in the store: sealed onto the chain in one write, never changed after. */
export interface AuditStore {
  /** Seals `entry` onto the end of the chain atomically, so two writers (two processes) can never fork it or repeat a sequence. */
  appendAudit(entry: AuditEntry, at: Date): AuditRecord;
  /** Every record in the order it was written. */
  auditRecords(): AuditRecord[];
  /** A number that moves with every record written, from any process (0 for none): cheap to ask on every poll. */
  auditHead(): number;
}

/** A copy of every committed record kept outside the store (a JSONL file), so deleting the store does not delete the trail. */
export interface AuditMirror {
  /** What errors and reports name: the file. */
  readonly name: string;
  /** Appends the records, durable before it returns. */
  append(records: readonly AuditRecord[]): void;
  /** What the mirror holds, with one line per problem reading it (an unreadable file, a line that is not a record). */
  read(): { readonly records: AuditRecord[]; readonly problems: string[] };
}
