// Runbook runs in SQLite: every transition one write transaction with its audit records, under the run's execution lease.
import { leaseRefusal } from "../../../domain/runbooks/run-lease.js";
import type { AuditEntry, AuditRecord } from "../../../domain/audit/audit-chain.js";
import { BreakglassError } from "../../../domain/errors.js";
import type { RunRepository } from "../../../domain/ports/store.js";
import type { Artefact } from "../../../domain/runbooks/runbook-schema.js";
import type {
  LeaseHeld,
  NewRun,
  RunInputs,
  RunRecord,
  RunStatus,
  RunStepRecord,
  RunTransition,
  StepOutcomeRecord,
  StepPreflight,
  StepStatus,
} from "../../../domain/runbooks/run-store.js";
import type { SqliteAuditStore } from "./sqlite-audit-store.js";
import { guarded } from "./sqlite-connection.js";
import type { SqlDatabase } from "./sql-database.js";

interface RunRow {
  id: string;
  runbook_id: string;
  runbook_digest: string;
  inputs: string;
  initiator: string;
  initiator_person: string;
  dry_run: number;
  preflight: string;
  status: RunStatus;
  created_at: string;
  updated_at: string;
  lease_holder: string | null;
  lease_expires_at: string | null;
}

interface RunStepRow {
  step_id: string;
  position: number;
  status: StepStatus;
  outcome: string | null;
  attempts: number;
  updated_at: string;
}

export class SqliteRunStore implements RunRepository {
  constructor(
    private readonly database: SqlDatabase,
    /** Seals the audit records of a run's changes inside the run's own transaction. */
    private readonly audit: SqliteAuditStore,
  ) {}

  createRun(run: NewRun, audit: AuditEntry, at: Date): AuditRecord {
    const now = at.toISOString();
    return guarded(this.database, () =>
      this.database.immediate(() => {
        this.database
          .prepare(
            "INSERT INTO runs (id, runbook_id, runbook_digest, inputs, initiator, initiator_person, dry_run, " +
              "preflight, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)",
          )
          .run(
            run.id,
            run.runbookId,
            run.runbookDigest,
            JSON.stringify(run.inputs),
            run.initiator,
            run.initiatorPerson,
            run.dryRun ? 1 : 0,
            JSON.stringify(run.preflight ?? []),
            now,
            now,
          );
        const insertStep = this.database.prepare(
          "INSERT INTO run_steps (run_id, step_id, position, status, attempts, updated_at) VALUES (?, ?, ?, 'pending', 0, ?)",
        );
        run.stepIds.forEach((stepId, position) => insertStep.run(run.id, stepId, position, now));
        return this.audit.appendWithinTransaction(audit, at);
      }),
    );
  }

  findRun(runId: string): RunRecord | null {
    const row = guarded(
      this.database,
      () => this.database.prepare("SELECT * FROM runs WHERE id = ?").get(runId) as RunRow | undefined,
    );
    return row ? runRecordOf(row) : null;
  }

  recentRuns(limit: number): RunRecord[] {
    const rows = guarded(
      this.database,
      () =>
        this.database.prepare("SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?").all(limit) as RunRow[],
    );
    return rows.map(runRecordOf);
  }

  runCounts(): Record<string, number> {
    const rows = guarded(
      this.database,
      () =>
        this.database.prepare("SELECT status, COUNT(*) AS count FROM runs GROUP BY status").all() as {
          status: string;
          count: number;
        }[],
    );
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
  }

  unfinishedRunIds(limit: number): string[] {
    const rows = guarded(
      this.database,
      () =>
        this.database
          .prepare(
            "SELECT id FROM runs WHERE status IN ('running', 'waiting', 'failed') ORDER BY created_at DESC LIMIT ?",
          )
          .all(limit) as { id: string }[],
    );
    return rows.map((row) => row.id);
  }

  runIdsStartingWith(prefix: string): string[] {
    const pattern = `${prefix.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
    const rows = guarded(
      this.database,
      () =>
        this.database.prepare("SELECT id FROM runs WHERE id LIKE ? ESCAPE '\\' LIMIT 2").all(pattern) as {
          id: string;
        }[],
    );
    return rows.map((row) => row.id);
  }

  runSteps(runId: string): RunStepRecord[] {
    const rows = guarded(
      this.database,
      () =>
        this.database
          .prepare(
            "SELECT step_id, position, status, outcome, attempts, updated_at FROM run_steps WHERE run_id = ? ORDER BY position",
          )
          .all(runId) as RunStepRow[],
    );
    return rows.map((row) => ({
      stepId: row.step_id,
      position: row.position,
      status: row.status,
      outcome: row.outcome === null ? null : (JSON.parse(row.outcome) as StepOutcomeRecord),
      attempts: row.attempts,
      updatedAt: row.updated_at,
    }));
  }

  runArtefacts(runId: string): Partial<Record<Artefact, string>> {
    const rows = guarded(
      this.database,
      () =>
        this.database.prepare("SELECT name, path FROM run_artefacts WHERE run_id = ?").all(runId) as {
          name: Artefact;
          path: string;
        }[],
    );
    return Object.fromEntries(rows.map((row) => [row.name, row.path]));
  }

  acquireLease(runId: string, holder: string, now: Date, ttlMilliseconds: number): void {
    const expiresAt = new Date(now.getTime() + ttlMilliseconds).toISOString();
    // One conditional UPDATE: SQLite serialises writers, so of two processes racing for the lease exactly one matches.
    // ISO-8601 instants in UTC sort as text, so the expiry compares in SQL.
    const changes = guarded(
      this.database,
      () =>
        this.database
          .prepare(
            "UPDATE runs SET lease_holder = ?, lease_expires_at = ? WHERE id = ? AND (lease_holder IS NULL OR lease_holder = ? OR lease_expires_at <= ?)",
          )
          .run(holder, expiresAt, runId, holder, now.toISOString()).changes,
    );
    if (changes === 1) return;
    throw this.refusal(runId);
  }

  renewLease(runId: string, holder: string, now: Date, ttlMilliseconds: number): void {
    const expiresAt = new Date(now.getTime() + ttlMilliseconds).toISOString();
    const changes = guarded(
      this.database,
      () =>
        this.database
          .prepare("UPDATE runs SET lease_expires_at = ? WHERE id = ? AND lease_holder = ?")
          .run(expiresAt, runId, holder).changes,
    );
    if (changes === 1) return;
    throw this.refusal(runId, `${holder} lost its lease, so it stopped; `);
  }

  takeOverLease(runId: string, from: LeaseHeld, holder: string, now: Date, ttlMilliseconds: number): void {
    const expiresAt = new Date(now.getTime() + ttlMilliseconds).toISOString();
    // Conditional on the holder AND its expiry as read: a renewal in between changes the expiry, so a live holder wins.
    const changes = guarded(
      this.database,
      () =>
        this.database
          .prepare(
            "UPDATE runs SET lease_holder = ?, lease_expires_at = ? WHERE id = ? AND lease_holder = ? AND lease_expires_at = ?",
          )
          .run(holder, expiresAt, runId, from.holder, from.expiresAt).changes,
    );
    if (changes === 1) return;
    throw this.refusal(runId, `${from.holder} renewed its lease or was taken over first, so it was not taken over; `);
  }

  releaseLease(runId: string, holder: string): void {
    guarded(this.database, () =>
      this.database
        .prepare("UPDATE runs SET lease_holder = NULL, lease_expires_at = NULL WHERE id = ? AND lease_holder = ?")
        .run(runId, holder),
    );
  }

  recordTransition(runId: string, holder: string, transition: RunTransition, at: Date): AuditRecord[] {
    const audit = transition.audit ?? [];
    if ((transition.steps ?? []).length > 0 && audit.length === 0) {
      throw new BreakglassError(
        "AUDIT_FAILED",
        `run ${runId}`,
        `a step's status cannot change without its audit record (steps ${(transition.steps ?? []).map((step) => step.stepId).join(", ")}); nothing was written`,
      );
    }
    const now = at.toISOString();
    const written = guarded(this.database, () =>
      this.database.immediate(() => {
        // The lease is checked by the first write: a holder that lost it changes nothing, its audit records included.
        const changes = this.database
          .prepare("UPDATE runs SET status = COALESCE(?, status), updated_at = ? WHERE id = ? AND lease_holder = ?")
          .run(transition.runStatus ?? null, now, runId, holder).changes;
        if (changes === 0) return null;
        const updateStep = this.database.prepare(
          "UPDATE run_steps SET status = ?, outcome = ?, attempts = attempts + ?, updated_at = ? WHERE run_id = ? AND step_id = ?",
        );
        for (const step of transition.steps ?? []) {
          updateStep.run(
            step.status,
            step.outcome === null ? null : JSON.stringify(step.outcome),
            step.started === true ? 1 : 0,
            now,
            runId,
            step.stepId,
          );
        }
        const keep = this.database.prepare(
          "INSERT OR REPLACE INTO run_artefacts (run_id, name, path, step_id, created_at) VALUES (?, ?, ?, ?, ?)",
        );
        for (const artefact of transition.artefacts ?? [])
          keep.run(runId, artefact.name, artefact.path, artefact.stepId, now);
        return audit.map((entry) => this.audit.appendWithinTransaction(entry, at));
      }),
    );
    if (written !== null) return written;
    throw this.refusal(runId, `${holder} lost its lease, so it stopped without writing; `);
  }

  /** RUN_NOT_FOUND without the run, otherwise RUN_BUSY naming who holds the lease and until when. */
  private refusal(runId: string, prefix = ""): BreakglassError {
    return leaseRefusal(this.findRun(runId), runId, prefix);
  }
}

function runRecordOf(row: RunRow): RunRecord {
  return {
    id: row.id,
    runbookId: row.runbook_id,
    runbookDigest: row.runbook_digest,
    inputs: JSON.parse(row.inputs) as RunInputs,
    initiator: row.initiator,
    initiatorPerson: row.initiator_person,
    dryRun: row.dry_run === 1,
    preflight: JSON.parse(row.preflight) as StepPreflight[],
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    leaseHolder: row.lease_holder,
    leaseExpiresAt: row.lease_expires_at,
  };
}
