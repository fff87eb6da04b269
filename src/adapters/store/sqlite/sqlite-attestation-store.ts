// Identity Center import attestations in SQLite: every one kept, the newest per instance answered.
import type { Attestation } from "../../../domain/checks/posture-facts.js";
import type { AttestationStore } from "../../../domain/ports/attestation-store.js";
import { guarded } from "./sqlite-connection.js";
import type { SqlDatabase } from "./sql-database.js";

interface AttestationRow {
  instance_arn: string;
  fingerprints: string;
  attested_at: string;
  attested_by: string;
  source: string;
}

export class SqliteAttestationStore implements AttestationStore {
  constructor(private readonly database: SqlDatabase) {}

  recordAttestation(attestation: Attestation): void {
    guarded(this.database, () =>
      this.database
        .prepare(
          "INSERT INTO attestations (instance_arn, fingerprints, attested_at, attested_by, source) VALUES (?, ?, ?, ?, ?)",
        )
        .run(
          attestation.instanceArn,
          JSON.stringify([...attestation.fingerprints].sort()),
          attestation.attestedAt.toISOString(),
          attestation.attestedBy,
          attestation.source,
        ),
    );
  }

  latestAttestation(instanceArn: string): Attestation | null {
    const row = guarded(
      this.database,
      () =>
        this.database
          .prepare(
            "SELECT instance_arn, fingerprints, attested_at, attested_by, source FROM attestations WHERE " +
              "instance_arn = ? ORDER BY attested_at DESC, id DESC LIMIT 1",
          )
          .get(instanceArn) as AttestationRow | undefined,
    );
    return row ? attestationOf(row) : null;
  }

  latestAttestations(): Attestation[] {
    const rows = guarded(
      this.database,
      () =>
        this.database
          .prepare(
            "SELECT instance_arn, fingerprints, attested_at, attested_by, source FROM attestations AS a WHERE " +
              "a.id = (SELECT b.id FROM attestations AS b WHERE b.instance_arn = a.instance_arn ORDER BY " +
              "b.attested_at DESC, b.id DESC LIMIT 1) ORDER BY instance_arn",
          )
          .all() as AttestationRow[],
    );
    return rows.map(attestationOf);
  }
}

function attestationOf(row: AttestationRow): Attestation {
  return {
    instanceArn: row.instance_arn,
    fingerprints: JSON.parse(row.fingerprints) as string[],
    attestedAt: new Date(row.attested_at),
    attestedBy: row.attested_by,
    source: row.source,
  };
}
