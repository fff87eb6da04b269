// The embedded store: one SQLite file in WAL mode, with its schema migrations in code.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Attestation } from "../checks/posture-facts.js";
import { BreakglassError, describeError } from "../errors.js";
import { GENESIS_HASH, sealRecord, type AuditEntry, type AuditRecord } from "../audit/audit-chain.js";
import type { AuditStore } from "../audit/audit-log.js";
import type { AttestationStore } from "./attestation-store.js";

/** Each entry upgrades the schema by one version; never edit a shipped entry, append a new one. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE attestations (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     instance_arn TEXT NOT NULL,
     fingerprints TEXT NOT NULL,
     attested_at TEXT NOT NULL,
     attested_by TEXT NOT NULL,
     source TEXT NOT NULL
   );
   CREATE INDEX attestations_by_instance ON attestations (instance_arn, attested_at);`,
  // The audit log: rows are only ever inserted; the triggers stop breakglass (or a careless admin) from changing one,
  // and the hash chain shows it when someone goes around them.
  `CREATE TABLE audit_records (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     sequence INTEGER NOT NULL,
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     run_id TEXT,
     subject TEXT NOT NULL,
     detail TEXT NOT NULL,
     previous_hash TEXT NOT NULL,
     hash TEXT NOT NULL
   );
   CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
   CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;`,
];

interface AttestationRow {
  instance_arn: string;
  fingerprints: string;
  attested_at: string;
  attested_by: string;
  source: string;
}

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

export class SqliteStore implements AttestationStore, AuditStore {
  private constructor(
    private readonly database: Database.Database,
    readonly path: string,
  ) {}

  static open(path: string): SqliteStore {
    try {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
      const database = new Database(path);
      database.pragma("journal_mode = WAL");
      database.pragma("busy_timeout = 5000");
      database.pragma("foreign_keys = ON");
      migrate(database);
      return new SqliteStore(database, path);
    } catch (error) {
      if (error instanceof BreakglassError) throw error;
      throw new BreakglassError("STORE_FAILED", path, `cannot open the store: ${describeError(error)}`, { cause: error });
    }
  }

  get schemaVersion(): number {
    return this.database.pragma("user_version", { simple: true }) as number;
  }

  recordAttestation(attestation: Attestation): void {
    this.guard(() =>
      this.database
        .prepare("INSERT INTO attestations (instance_arn, fingerprints, attested_at, attested_by, source) VALUES (?, ?, ?, ?, ?)")
        .run(attestation.instanceArn, JSON.stringify([...attestation.fingerprints].sort()), attestation.attestedAt.toISOString(), attestation.attestedBy, attestation.source),
    );
  }

  latestAttestation(instanceArn: string): Attestation | null {
    const row = this.guard(
      () =>
        this.database
          .prepare("SELECT instance_arn, fingerprints, attested_at, attested_by, source FROM attestations WHERE instance_arn = ? ORDER BY attested_at DESC, id DESC LIMIT 1")
          .get(instanceArn) as AttestationRow | undefined,
    );
    if (!row) return null;
    return {
      instanceArn: row.instance_arn,
      fingerprints: JSON.parse(row.fingerprints) as string[],
      attestedAt: new Date(row.attested_at),
      attestedBy: row.attested_by,
      source: row.source,
    };
  }

  /** Seals `entry` onto the end of the chain inside one transaction, so two writers can never fork it. */
  appendAudit(entry: AuditEntry, at: Date): AuditRecord {
    return this.guard(() =>
      this.database.transaction(() => {
        const last = this.database.prepare("SELECT sequence, hash FROM audit_records ORDER BY id DESC LIMIT 1").get() as { sequence: number; hash: string } | undefined;
        const record = sealRecord(entry, (last?.sequence ?? 0) + 1, at, last?.hash ?? GENESIS_HASH);
        this.database
          .prepare("INSERT INTO audit_records (sequence, at, actor, action, run_id, subject, detail, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
          .run(record.sequence, record.at, record.actor, record.action, record.runId, record.subject, JSON.stringify(record.detail), record.previousHash, record.hash);
        return record;
      }).immediate(),
    );
  }

  /** Every audit record in the order it was written. */
  auditRecords(): AuditRecord[] {
    const rows = this.guard(() => this.database.prepare("SELECT sequence, at, actor, action, run_id, subject, detail, previous_hash, hash FROM audit_records ORDER BY id").all() as AuditRow[]);
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

  close(): void {
    this.database.close();
  }

  private guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw new BreakglassError("STORE_FAILED", this.path, describeError(error), { cause: error });
    }
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

function migrate(database: Database.Database): void {
  const current = database.pragma("user_version", { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new BreakglassError("STORE_FAILED", database.name, `the store has schema version ${current}, newer than this breakglass knows (${MIGRATIONS.length}); upgrade breakglass`);
  }
  const upgrade = database.transaction(() => {
    for (let version = current; version < MIGRATIONS.length; version++) {
      database.exec(MIGRATIONS[version] as string);
      database.pragma(`user_version = ${version + 1}`);
    }
  });
  upgrade();
}
