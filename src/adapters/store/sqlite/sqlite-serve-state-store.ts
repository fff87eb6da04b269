// What `breakglass serve` remembers, in SQLite: alerts, expiry-ladder claims, the Slack message of each subject, named facts.
import type {
  AlertRecord,
  SeenFinding,
  ServeStateStore,
  SlackMessageRef,
} from "../../../domain/ports/serve-state-store.js";
import { guarded } from "./sqlite-connection.js";
import type { SqlDatabase } from "./sql-database.js";

interface AlertRow {
  key: string;
  code: string;
  severity: string;
  message: string;
  first_seen: string;
  last_seen: string;
  posted_at: string | null;
  resolved_at: string | null;
  resolution_posted_at: string | null;
}

export class SqliteServeStateStore implements ServeStateStore {
  constructor(private readonly database: SqlDatabase) {}

  /**
   * Records a finding seen by a check. A finding seen for the first time, or again after it was resolved, starts a new
   * alert (not posted yet); one already open only has its last sighting and message brought up to date.
   */
  recordSeen(finding: SeenFinding, at: Date): void {
    const now = at.toISOString();
    this.guard(() =>
      this.database
        .prepare(
          `INSERT INTO alerts (key, code, severity, message, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET
             severity = excluded.severity, message = excluded.message, last_seen = excluded.last_seen,
             first_seen = CASE WHEN alerts.resolved_at IS NULL THEN alerts.first_seen ELSE excluded.first_seen END,
             posted_at = CASE WHEN alerts.resolved_at IS NULL THEN alerts.posted_at ELSE NULL END,
             resolution_posted_at = CASE WHEN alerts.resolved_at IS NULL THEN alerts.resolution_posted_at ELSE NULL END,
             resolved_at = NULL`,
        )
        .run(finding.key, finding.code, finding.severity, finding.message, now, now),
    );
  }

  /** Runs `work` as one transaction: one write to disk for a whole check's sightings, and all of them or none. */
  inTransaction<T>(work: () => T): T {
    return this.guard(() => this.database.immediate(work));
  }

  /** Alerts not resolved yet, posted or not. */
  openAlerts(): AlertRecord[] {
    return this.alerts("SELECT * FROM alerts WHERE resolved_at IS NULL ORDER BY first_seen, key");
  }

  /** Resolved alerts that were announced but whose resolution has not been posted yet. */
  unannouncedResolutions(): AlertRecord[] {
    return this.alerts(
      "SELECT * FROM alerts WHERE resolved_at IS NOT NULL AND posted_at IS NOT NULL AND resolution_posted_at IS NULL ORDER BY resolved_at, key",
    );
  }

  markPosted(key: string, at: Date): void {
    this.guard(() =>
      this.database
        .prepare("UPDATE alerts SET posted_at = ? WHERE key = ? AND posted_at IS NULL")
        .run(at.toISOString(), key),
    );
  }

  markResolved(key: string, at: Date): void {
    this.guard(() =>
      this.database
        .prepare("UPDATE alerts SET resolved_at = ? WHERE key = ? AND resolved_at IS NULL")
        .run(at.toISOString(), key),
    );
  }

  markResolutionPosted(key: string, at: Date): void {
    this.guard(() =>
      this.database
        .prepare("UPDATE alerts SET resolution_posted_at = ? WHERE key = ? AND resolution_posted_at IS NULL")
        .run(at.toISOString(), key),
    );
  }

  /** The expiry-ladder steps posted for a certificate, by its SHA-256 fingerprint, or being posted now. */
  postedExpirySteps(fingerprint: string): Set<string> {
    const rows = this.guard(
      () =>
        this.database.prepare("SELECT step FROM expiry_warnings WHERE fingerprint = ?").all(fingerprint) as {
          step: string;
        }[],
    );
    return new Set(rows.map((row) => row.step));
  }

  /**
   * Claims a step for posting: true for exactly one caller, until it is delivered (deliveredExpiryStep) or given back
   * (forgetExpiryStep). A claim still undelivered after `staleAfterMs` belongs to a process that died while posting;
   * the next caller takes it over, so that step is posted late rather than never.
   */
  claimExpiryStep(fingerprint: string, step: string, at: Date, staleAfterMs: number): boolean {
    return this.guard(() =>
      this.database.immediate(() => {
        const inserted = this.database
          .prepare(
            "INSERT OR IGNORE INTO expiry_warnings (fingerprint, step, posted_at, delivered) VALUES (?, ?, ?, 0)",
          )
          .run(fingerprint, step, at.toISOString());
        if (inserted.changes === 1) return true;
        const staleBefore = new Date(at.getTime() - staleAfterMs).toISOString();
        return (
          this.database
            .prepare(
              "UPDATE expiry_warnings SET posted_at = ? WHERE fingerprint = ? AND step = ? AND delivered = 0 AND posted_at <= ?",
            )
            .run(at.toISOString(), fingerprint, step, staleBefore).changes === 1
        );
      }),
    );
  }

  /** The claimed step reached Slack (or the log, without Slack). */
  deliveredExpiryStep(fingerprint: string, step: string, at: Date): void {
    this.guard(() =>
      this.database
        .prepare("UPDATE expiry_warnings SET delivered = 1, posted_at = ? WHERE fingerprint = ? AND step = ?")
        .run(at.toISOString(), fingerprint, step),
    );
  }

  /** Gives a claimed step back (Slack refused it), so the next check posts it. */
  forgetExpiryStep(fingerprint: string, step: string): void {
    this.guard(() =>
      this.database
        .prepare("DELETE FROM expiry_warnings WHERE fingerprint = ? AND step = ? AND delivered = 0")
        .run(fingerprint, step),
    );
  }

  /** The message that shows a subject (`run:<id>`, `incident:<id>`), if one was posted. */
  message(subject: string): SlackMessageRef | null {
    const row = this.guard(
      () =>
        this.database.prepare("SELECT channel, ts FROM slack_messages WHERE subject = ?").get(subject) as
          SlackMessageRef | undefined,
    );
    return row ?? null;
  }

  rememberMessage(subject: string, message: SlackMessageRef, at: Date): void {
    this.guard(() =>
      this.database
        .prepare(
          "INSERT INTO slack_messages (subject, channel, ts, created_at) VALUES (?, ?, ?, ?) ON CONFLICT " +
            "(subject) DO UPDATE SET channel = excluded.channel, ts = excluded.ts",
        )
        .run(subject, message.channel, message.ts, at.toISOString()),
    );
  }

  /** The subject a message shows, found by the message (a button press names only the message). */
  subjectOf(message: SlackMessageRef): string | null {
    const row = this.guard(
      () =>
        this.database
          .prepare("SELECT subject FROM slack_messages WHERE channel = ? AND ts = ?")
          .get(message.channel, message.ts) as { subject: string } | undefined,
    );
    return row?.subject ?? null;
  }

  state(name: string): string | null {
    const row = this.guard(
      () =>
        this.database.prepare("SELECT value FROM service_state WHERE name = ?").get(name) as
          { value: string } | undefined,
    );
    return row?.value ?? null;
  }

  setState(name: string, value: string): void {
    this.guard(() =>
      this.database
        .prepare(
          "INSERT INTO service_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .run(name, value),
    );
  }

  private alerts(sql: string): AlertRecord[] {
    const rows = this.guard(() => this.database.prepare(sql).all() as AlertRow[]);
    return rows.map((row) => ({
      key: row.key,
      code: row.code,
      severity: row.severity,
      message: row.message,
      firstSeen: row.first_seen,
      lastSeen: row.last_seen,
      postedAt: row.posted_at,
      resolvedAt: row.resolved_at,
      resolutionPostedAt: row.resolution_posted_at,
    }));
  }

  private guard<T>(work: () => T): T {
    return guarded(this.database, work);
  }
}
