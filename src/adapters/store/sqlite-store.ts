// The embedded store: one SQLite file in WAL mode, with its schema migrations in code.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Attestation } from "../../domain/checks/posture-facts.js";
import { BreakglassError, describeError } from "../../domain/errors.js";
import { GENESIS_HASH, sealRecord, type AuditEntry, type AuditRecord } from "../../domain/audit/audit-chain.js";
import type { AuditStore } from "../../domain/audit/audit-log.js";
import type { AttestationStore } from "../../domain/ports/attestation-store.js";
import type { Artefact } from "../../domain/runbooks/runbook-schema.js";
import type { EmergencyWindow, EmergencyWindowStore, NewEmergencyWindow } from "../runbook-actions/emergency-window.js";
import type { MemberLease, MemberLeaseStore, NewMemberLease } from "../runbook-actions/group-membership.js";
import type { NewRun, RunInputs, RunRecord, RunStatus, RunStepRecord, RunStore, RunTransition, StepOutcomeRecord, StepStatus } from "../../domain/runbooks/run-store.js";
import { openSqlDatabase, type SqlDatabase } from "./sql-database.js";

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
  // Runbook runs: every step transition is a row update, so a run resumes where it was after a crash. The lease
  // (holder, expiry) keeps two processes from executing one run at once, and frees itself when its holder dies.
  `CREATE TABLE runs (
     id TEXT PRIMARY KEY,
     runbook_id TEXT NOT NULL,
     runbook_digest TEXT NOT NULL,
     inputs TEXT NOT NULL,
     initiator TEXT NOT NULL,
     dry_run INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
     status TEXT NOT NULL CHECK (status IN ('running', 'waiting', 'succeeded', 'failed', 'aborted')),
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     lease_holder TEXT,
     lease_expires_at TEXT
   );
   CREATE TABLE run_steps (
     run_id TEXT NOT NULL REFERENCES runs (id),
     step_id TEXT NOT NULL,
     position INTEGER NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'applying', 'waiting', 'succeeded', 'failed', 'skipped')),
     outcome TEXT,
     attempts INTEGER NOT NULL DEFAULT 0,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (run_id, step_id),
     UNIQUE (run_id, position)
   );
   CREATE TABLE run_artefacts (
     run_id TEXT NOT NULL REFERENCES runs (id),
     name TEXT NOT NULL,
     path TEXT NOT NULL,
     step_id TEXT NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (run_id, name)
   );`,
  // Emergency windows, one row per incident (so opening and closing are idempotent per incident), and the leases on
  // emergency group memberships: the partial unique index keeps one active lease per (group, user), and the reaper
  // finds expired ones by expires_at.
  `CREATE TABLE emergency_windows (
     incident TEXT PRIMARY KEY,
     opened_at TEXT NOT NULL,
     opened_by TEXT NOT NULL,
     reason TEXT,
     run_id TEXT,
     closed_at TEXT,
     closed_by TEXT
   );
   CREATE TABLE member_leases (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     run_id TEXT,
     group_id TEXT NOT NULL,
     user_id TEXT NOT NULL,
     login TEXT NOT NULL,
     added_at TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     removed_at TEXT
   );
   CREATE UNIQUE INDEX member_leases_one_active ON member_leases (group_id, user_id) WHERE removed_at IS NULL;
   CREATE INDEX member_leases_by_expiry ON member_leases (expires_at) WHERE removed_at IS NULL;`,
  // breakglass serve: what it has told Slack (each finding once, its resolution once, each expiry-ladder step once),
  // which message shows each run, and small facts such as when the last full check ended, all kept across restarts.
  `CREATE TABLE alerts (
     key TEXT PRIMARY KEY,
     code TEXT NOT NULL,
     severity TEXT NOT NULL,
     message TEXT NOT NULL,
     first_seen TEXT NOT NULL,
     last_seen TEXT NOT NULL,
     posted_at TEXT,
     resolved_at TEXT,
     resolution_posted_at TEXT
   );
   CREATE TABLE expiry_warnings (
     fingerprint TEXT NOT NULL,
     step TEXT NOT NULL,
     posted_at TEXT NOT NULL,
     PRIMARY KEY (fingerprint, step)
   );
   CREATE TABLE slack_messages (
     subject TEXT PRIMARY KEY,
     channel TEXT NOT NULL,
     ts TEXT NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE TABLE service_state (
     name TEXT PRIMARY KEY,
     value TEXT NOT NULL
   );`,
  // An expiry-ladder step is claimed before it is posted and marked delivered after; a claim that was never delivered
  // (the process died in between) can be taken over once stale, so a crash delays a warning instead of losing it.
  // Rows from before this version were posted: they count as delivered.
  `ALTER TABLE expiry_warnings ADD COLUMN delivered INTEGER NOT NULL DEFAULT 1;`,
];

interface AttestationRow {
  instance_arn: string;
  fingerprints: string;
  attested_at: string;
  attested_by: string;
  source: string;
}

interface RunRow {
  id: string;
  runbook_id: string;
  runbook_digest: string;
  inputs: string;
  initiator: string;
  dry_run: number;
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

interface EmergencyWindowRow {
  incident: string;
  opened_at: string;
  opened_by: string;
  reason: string | null;
  run_id: string | null;
  closed_at: string | null;
  closed_by: string | null;
}

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

export class SqliteStore implements AttestationStore, AuditStore, RunStore, EmergencyWindowStore, MemberLeaseStore {
  private constructor(
    private readonly database: SqlDatabase,
    readonly path: string,
  ) {}

  static open(path: string): SqliteStore {
    try {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
      const database = openSqlDatabase(path);
      database.pragma("journal_mode = WAL");
      // Every commit reaches the disk before it returns: an audit record, a lease or a run's checkpoint must survive
      // a power cut, not only a crash of the process. (better-sqlite3 is built with NORMAL as its WAL default, and
      // node:sqlite on Node 22+ may not be: set it, so both drivers keep the same promise.)
      database.pragma("synchronous = FULL");
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
    return Number(this.database.pragma("user_version"));
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
    return row ? attestationOf(row) : null;
  }

  latestAttestations(): Attestation[] {
    const rows = this.guard(
      () =>
        this.database
          .prepare(
            "SELECT instance_arn, fingerprints, attested_at, attested_by, source FROM attestations AS a WHERE a.id = (SELECT b.id FROM attestations AS b WHERE b.instance_arn = a.instance_arn ORDER BY b.attested_at DESC, b.id DESC LIMIT 1) ORDER BY instance_arn",
          )
          .all() as AttestationRow[],
    );
    return rows.map(attestationOf);
  }

  /** Seals `entry` onto the end of the chain inside one transaction, so two writers can never fork it. */
  appendAudit(entry: AuditEntry, at: Date): AuditRecord {
    return this.guard(() =>
      this.database.immediate(() => {
        const last = this.database.prepare("SELECT sequence, hash FROM audit_records ORDER BY id DESC LIMIT 1").get() as { sequence: number; hash: string } | undefined;
        const record = sealRecord(entry, (last?.sequence ?? 0) + 1, at, last?.hash ?? GENESIS_HASH);
        this.database
          .prepare("INSERT INTO audit_records (sequence, at, actor, action, run_id, subject, detail, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
          .run(record.sequence, record.at, record.actor, record.action, record.runId, record.subject, JSON.stringify(record.detail), record.previousHash, record.hash);
        return record;
      }),
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

  createRun(run: NewRun, at: Date): void {
    const now = at.toISOString();
    this.guard(() =>
      this.database.immediate(() => {
        this.database
          .prepare("INSERT INTO runs (id, runbook_id, runbook_digest, inputs, initiator, dry_run, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)")
          .run(run.id, run.runbookId, run.runbookDigest, JSON.stringify(run.inputs), run.initiator, run.dryRun ? 1 : 0, now, now);
        const insertStep = this.database.prepare("INSERT INTO run_steps (run_id, step_id, position, status, attempts, updated_at) VALUES (?, ?, ?, 'pending', 0, ?)");
        run.stepIds.forEach((stepId, position) => insertStep.run(run.id, stepId, position, now));
      }),
    );
  }

  findRun(runId: string): RunRecord | null {
    const row = this.guard(() => this.database.prepare("SELECT * FROM runs WHERE id = ?").get(runId) as RunRow | undefined);
    return row ? runRecordOf(row) : null;
  }

  /** The most recent runs, newest first, for `runbook status` without a run id. */
  recentRuns(limit: number): RunRecord[] {
    const rows = this.guard(() => this.database.prepare("SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?").all(limit) as RunRow[]);
    return rows.map(runRecordOf);
  }

  /** At most two ids of runs whose id starts with the prefix: enough to tell one run from several. */
  runIdsStartingWith(prefix: string): string[] {
    const pattern = `${prefix.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
    const rows = this.guard(() => this.database.prepare("SELECT id FROM runs WHERE id LIKE ? ESCAPE '\\' LIMIT 2").all(pattern) as { id: string }[]);
    return rows.map((row) => row.id);
  }

  runSteps(runId: string): RunStepRecord[] {
    const rows = this.guard(
      () => this.database.prepare("SELECT step_id, position, status, outcome, attempts, updated_at FROM run_steps WHERE run_id = ? ORDER BY position").all(runId) as RunStepRow[],
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
    const rows = this.guard(() => this.database.prepare("SELECT name, path FROM run_artefacts WHERE run_id = ?").all(runId) as { name: Artefact; path: string }[]);
    return Object.fromEntries(rows.map((row) => [row.name, row.path]));
  }

  acquireLease(runId: string, holder: string, now: Date, ttlMilliseconds: number): void {
    const expiresAt = new Date(now.getTime() + ttlMilliseconds).toISOString();
    // One conditional UPDATE: SQLite serialises writers, so of two processes racing for the lease exactly one matches.
    // ISO-8601 instants in UTC sort as text, so the expiry compares in SQL.
    const changes = this.guard(
      () =>
        this.database
          .prepare("UPDATE runs SET lease_holder = ?, lease_expires_at = ? WHERE id = ? AND (lease_holder IS NULL OR lease_holder = ? OR lease_expires_at <= ?)")
          .run(holder, expiresAt, runId, holder, now.toISOString()).changes,
    );
    if (changes === 1) return;
    const run = this.findRun(runId);
    if (run === null) throw new BreakglassError("RUN_NOT_FOUND", `run ${runId}`, "no run has this id in the store");
    throw busy(run);
  }

  releaseLease(runId: string, holder: string): void {
    this.guard(() => this.database.prepare("UPDATE runs SET lease_holder = NULL, lease_expires_at = NULL WHERE id = ? AND lease_holder = ?").run(runId, holder));
  }

  recordTransition(runId: string, holder: string, transition: RunTransition, at: Date): void {
    const now = at.toISOString();
    const held = this.guard(() =>
      this.database.immediate(() => {
        const changes = this.database
          .prepare("UPDATE runs SET status = COALESCE(?, status), updated_at = ? WHERE id = ? AND lease_holder = ?")
          .run(transition.runStatus ?? null, now, runId, holder).changes;
        if (changes === 0) return false;
        const updateStep = this.database.prepare("UPDATE run_steps SET status = ?, outcome = ?, attempts = attempts + ?, updated_at = ? WHERE run_id = ? AND step_id = ?");
        for (const step of transition.steps ?? []) {
          updateStep.run(step.status, step.outcome === null ? null : JSON.stringify(step.outcome), step.started === true ? 1 : 0, now, runId, step.stepId);
        }
        const keep = this.database.prepare("INSERT OR REPLACE INTO run_artefacts (run_id, name, path, step_id, created_at) VALUES (?, ?, ?, ?, ?)");
        for (const artefact of transition.artefacts ?? []) keep.run(runId, artefact.name, artefact.path, artefact.stepId, now);
        return true;
      }),
    );
    if (held) return;
    const run = this.findRun(runId);
    if (run === null) throw new BreakglassError("RUN_NOT_FOUND", `run ${runId}`, "no run has this id in the store");
    throw busy(run, `${holder} lost its lease, so it stopped without writing; `);
  }

  findWindow(incident: string): EmergencyWindow | null {
    const row = this.guard(() => this.database.prepare("SELECT * FROM emergency_windows WHERE incident = ?").get(incident) as EmergencyWindowRow | undefined);
    return row === undefined ? null : windowFromRow(row);
  }

  /** Opens the incident's window, or reopens a closed one; an open window is left as it is. True when something changed. */
  openWindow(window: NewEmergencyWindow): boolean {
    return this.guard(
      () =>
        this.database
          .prepare(
            `INSERT INTO emergency_windows (incident, opened_at, opened_by, reason, run_id) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (incident) DO UPDATE SET opened_at = excluded.opened_at, opened_by = excluded.opened_by, reason = excluded.reason,
               run_id = excluded.run_id, closed_at = NULL, closed_by = NULL
             WHERE emergency_windows.closed_at IS NOT NULL`,
          )
          .run(window.incident, window.openedAt.toISOString(), window.openedBy, window.reason, window.runId).changes === 1,
    );
  }

  /** Closes the incident's open window; a closed or never-opened one is left as it is. True when something changed. */
  closeWindow(incident: string, closedAt: Date, closedBy: string): boolean {
    return this.guard(
      () =>
        this.database.prepare("UPDATE emergency_windows SET closed_at = ?, closed_by = ? WHERE incident = ? AND closed_at IS NULL").run(closedAt.toISOString(), closedBy, incident).changes ===
        1,
    );
  }

  /** Records a lease unless the (group, user) already has an active one. True when it was recorded. */
  recordLease(lease: NewMemberLease): boolean {
    return this.guard(
      () =>
        this.database
          .prepare(
            `INSERT INTO member_leases (run_id, group_id, user_id, login, added_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (group_id, user_id) WHERE removed_at IS NULL DO NOTHING`,
          )
          .run(lease.runId, lease.groupId, lease.userId, lease.login, lease.addedAt.toISOString(), lease.expiresAt.toISOString()).changes === 1,
    );
  }

  activeLease(groupId: string, userId: string): MemberLease | null {
    const row = this.guard(
      () => this.database.prepare("SELECT * FROM member_leases WHERE group_id = ? AND user_id = ? AND removed_at IS NULL").get(groupId, userId) as MemberLeaseRow | undefined,
    );
    return row === undefined ? null : leaseFromRow(row);
  }

  activeLeases(): MemberLease[] {
    const rows = this.guard(() => this.database.prepare("SELECT * FROM member_leases WHERE removed_at IS NULL ORDER BY expires_at, id").all() as MemberLeaseRow[]);
    return rows.map(leaseFromRow);
  }

  /** Active leases whose expiry is at or before `now`, soonest first. */
  expiredLeases(now: Date): MemberLease[] {
    // ISO-8601 instants in UTC sort as text, so the expiry compares in SQL.
    const rows = this.guard(
      () => this.database.prepare("SELECT * FROM member_leases WHERE removed_at IS NULL AND expires_at <= ? ORDER BY expires_at, id").all(now.toISOString()) as MemberLeaseRow[],
    );
    return rows.map(leaseFromRow);
  }

  /** Marks the (group, user)'s active lease removed; true when there was one. */
  endLease(groupId: string, userId: string, removedAt: Date): boolean {
    return this.guard(
      () =>
        this.database.prepare("UPDATE member_leases SET removed_at = ? WHERE group_id = ? AND user_id = ? AND removed_at IS NULL").run(removedAt.toISOString(), groupId, userId).changes ===
        1,
    );
  }

  close(): void {
    this.database.close();
  }

  /** The same database, for the tables `breakglass serve` keeps (src/adapters/store/serve-state-store.ts). */
  get connection(): SqlDatabase {
    return this.database;
  }

  private guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw new BreakglassError("STORE_FAILED", this.path, describeError(error), { cause: error });
    }
  }
}

function busy(run: RunRecord, prefix = ""): BreakglassError {
  if (run.leaseHolder === null) return new BreakglassError("RUN_BUSY", `run ${run.id}`, `${prefix}no one holds its lease now; advance it again`);
  return new BreakglassError("RUN_BUSY", `run ${run.id}`, `${prefix}it is being advanced by ${run.leaseHolder}, whose lease expires at ${run.leaseExpiresAt ?? "?"}; try again after that`);
}

function windowFromRow(row: EmergencyWindowRow): EmergencyWindow {
  return {
    incident: row.incident,
    openedAt: row.opened_at,
    openedBy: row.opened_by,
    reason: row.reason,
    runId: row.run_id,
    closedAt: row.closed_at,
    closedBy: row.closed_by,
  };
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

/** A detail that is not JSON was edited by hand; keep its text so the hash check reports the edit instead of crashing. */
function parseDetail(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { unparseable: text };
  }
}

function runRecordOf(row: RunRow): RunRecord {
  return {
    id: row.id,
    runbookId: row.runbook_id,
    runbookDigest: row.runbook_digest,
    inputs: JSON.parse(row.inputs) as RunInputs,
    initiator: row.initiator,
    dryRun: row.dry_run === 1,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    leaseHolder: row.lease_holder,
    leaseExpiresAt: row.lease_expires_at,
  };
}

function migrate(database: SqlDatabase): void {
  const current = Number(database.pragma("user_version"));
  if (current > MIGRATIONS.length) {
    throw new BreakglassError("STORE_FAILED", database.name, `the store has schema version ${current}, newer than this breakglass knows (${MIGRATIONS.length}); upgrade breakglass`);
  }
  database.immediate(() => {
    for (let version = current; version < MIGRATIONS.length; version++) {
      database.exec(MIGRATIONS[version] as string);
      database.pragma(`user_version = ${version + 1}`);
    }
  });
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
