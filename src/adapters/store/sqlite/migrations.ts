// The store's schema, as migrations in code: each version of breakglass opens any older file and brings it up to date.
import { BreakglassError } from "../../../domain/errors.js";
import type { SqlDatabase } from "./sql-database.js";

/** Each entry upgrades the schema by one version; never edit a shipped entry, append a new one. */
export const MIGRATIONS: readonly string[] = [
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
  // The two-person rule compares people, not display names: each run keeps the person id of whoever started it. Runs
  // from before this version knew only a name: a Slack one is its Slack user; any other was never verified, so no one
  // can be shown to be a second person on it (it can still be aborted, and run again).
  `ALTER TABLE runs ADD COLUMN initiator_person TEXT NOT NULL DEFAULT '';
   UPDATE runs SET initiator_person = CASE WHEN initiator GLOB 'slack:[UW]*' THEN initiator ELSE 'unverified:' || initiator END;`,
  // What each action's preflight found when the run started (principal and account, groups and people resolved), as
  // JSON: shown to the approver. Runs from before this version had no preflight.
  `ALTER TABLE runs ADD COLUMN preflight TEXT NOT NULL DEFAULT '[]';`,
  // Leadership among serve replicas: one row per lease name, with its fencing token and record version number.
  `CREATE TABLE leader_leases (
     name TEXT PRIMARY KEY,
     holder TEXT,
     token INTEGER NOT NULL,
     version INTEGER NOT NULL,
     acquired_at TEXT NOT NULL,
     renewed_at TEXT NOT NULL,
     expires_at TEXT NOT NULL
   );`,
  // Changes to Identity Center's external IdP configuration that CloudTrail reported (sso-directory events), one row per
  // CloudTrail event id so that a redelivered event is recorded once: a change after the last attestation makes it
  // untrue until someone attests again.
  `CREATE TABLE idp_configuration_changes (
     event_id TEXT PRIMARY KEY,
     instance_arn TEXT NOT NULL,
     event_name TEXT NOT NULL,
     changed_at TEXT NOT NULL,
     changed_by TEXT NOT NULL,
     source_ip TEXT NOT NULL
   );
   CREATE INDEX idp_configuration_changes_by_instance ON idp_configuration_changes (instance_arn, changed_at);`,
  // The emergency-account watcher: each CloudTrail event judged once (the event id is the key, so a message SQS
  // delivers twice is recorded once), one misuse alert per actor per burst kept until it is posted, and the messages
  // that were not CloudTrail records.
  `CREATE TABLE watched_events (
     event_id TEXT PRIMARY KEY,
     verdict TEXT NOT NULL CHECK (verdict IN ('incident', 'misuse', 'ignored')),
     time TEXT NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     source_ip TEXT,
     region TEXT NOT NULL,
     account_id TEXT,
     error_code TEXT,
     incident TEXT,
     derived_session TEXT,
     recorded_at TEXT NOT NULL,
     attached_by TEXT,
     attached_at TEXT
   );
   CREATE INDEX watched_events_by_incident ON watched_events (incident, time) WHERE incident IS NOT NULL;
   CREATE INDEX watched_events_sessions ON watched_events (derived_session) WHERE derived_session IS NOT NULL;
   CREATE TABLE misuse_alerts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     actor TEXT NOT NULL,
     event_id TEXT NOT NULL,
     first_at TEXT NOT NULL,
     last_at TEXT NOT NULL,
     events INTEGER NOT NULL,
     posted_at TEXT
   );
   CREATE INDEX misuse_alerts_by_actor ON misuse_alerts (actor, last_at);
   CREATE TABLE unreadable_messages (
     message_id TEXT PRIMARY KEY,
     problem TEXT NOT NULL,
     body TEXT NOT NULL,
     received_at TEXT NOT NULL
   );`,
  // A run's artefact contents (the inspected metadata a later step imports), so a process on another host reads the
  // same bytes: one BLOB per run and artefact name, with its SHA-256.
  `CREATE TABLE run_artefact_contents (
     run_id TEXT NOT NULL,
     name TEXT NOT NULL,
     sha256 TEXT NOT NULL,
     size INTEGER NOT NULL,
     content BLOB NOT NULL,
     PRIMARY KEY (run_id, name)
   );`,
];

/**
 * Applies the migrations the file lacks in one transaction; a file newer than this breakglass is refused. `upTo` stops
 * at an older version, as an older breakglass left the file (the contract suite builds those files with it).
 */
export function migrate(database: SqlDatabase, upTo = MIGRATIONS.length): void {
  const newer = (current: number) =>
    new BreakglassError(
      "STORE_FAILED",
      database.name,
      `the store has schema version ${current}, newer than this breakglass knows (${MIGRATIONS.length}); upgrade breakglass`,
    );
  if (Number(database.pragma("user_version")) > MIGRATIONS.length) throw newer(Number(database.pragma("user_version")));
  // The version is read again under the write lock: two processes opening a new store at once (serve replicas started
  // together) would otherwise both apply the first migration, and the second fail with "table already exists".
  database.immediate(() => {
    const current = Number(database.pragma("user_version"));
    if (current > MIGRATIONS.length) throw newer(current);
    for (let version = current; version < upTo; version++) {
      database.exec(MIGRATIONS[version] as string);
      database.pragma(`user_version = ${version + 1}`);
    }
  });
}
