// Identity Center import attestations in SQLite: every one kept, the newest per instance answered with the newest IdP
// configuration change CloudTrail reported for it.
import type { Attestation, IdpConfigurationChange } from "../../../domain/checks/posture-facts.js";
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

interface IdpChangeRow {
  event_id: string;
  instance_arn: string;
  event_name: string;
  changed_at: string;
  changed_by: string;
  source_ip: string;
}

const CHANGE_COLUMNS = "event_id, instance_arn, event_name, changed_at, changed_by, source_ip";

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
    return row ? this.withLastChange(attestationOf(row)) : null;
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
    return rows.map((row) => this.withLastChange(attestationOf(row)));
  }

  recordIdpChange(change: IdpConfigurationChange): boolean {
    const result = guarded(this.database, () =>
      this.database
        .prepare(
          `INSERT INTO idp_configuration_changes (${CHANGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        )
        .run(
          change.eventId,
          change.instanceArn,
          change.eventName,
          change.changedAt.toISOString(),
          change.changedBy,
          change.sourceIp,
        ),
    );
    return Number(result.changes) === 1;
  }

  private withLastChange(attestation: Attestation): Attestation {
    const row = guarded(
      this.database,
      () =>
        this.database
          .prepare(
            `SELECT ${CHANGE_COLUMNS} FROM idp_configuration_changes WHERE instance_arn = ? ` +
              "ORDER BY changed_at DESC, event_id DESC LIMIT 1",
          )
          .get(attestation.instanceArn) as IdpChangeRow | undefined,
    );
    if (!row) return attestation;
    return {
      ...attestation,
      lastIdpChange: {
        instanceArn: row.instance_arn,
        eventId: row.event_id,
        eventName: row.event_name,
        changedAt: new Date(row.changed_at),
        changedBy: row.changed_by,
        sourceIp: row.source_ip,
      },
    };
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
