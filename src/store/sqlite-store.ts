// The embedded store: one SQLite file in WAL mode, with its schema migrations in code.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Attestation } from "../checks/posture-facts.js";
import { BreakglassError, describeError } from "../errors.js";
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
];

interface AttestationRow {
  instance_arn: string;
  fingerprints: string;
  attested_at: string;
  attested_by: string;
  source: string;
}

export class SqliteStore implements AttestationStore {
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
