// The emergency-account watcher's events, misuse alerts and unreadable messages in SQLite.
import type { Judgement, Verdict } from "../../../domain/watch/classify-event.js";
import type {
  MisuseAlert,
  UnreadableMessage,
  WatchedEvent,
  WatchedEventStore,
} from "../../../domain/ports/watched-event-store.js";
import { guarded } from "./sqlite-connection.js";
import type { SqlDatabase } from "./sql-database.js";

interface WatchedEventRow {
  event_id: string;
  verdict: Verdict;
  time: string;
  actor: string;
  action: string;
  source_ip: string | null;
  region: string;
  account_id: string | null;
  error_code: string | null;
  incident: string | null;
  derived_session: string | null;
  recorded_at: string;
  attached_by: string | null;
  attached_at: string | null;
}

interface MisuseAlertRow {
  id: number;
  actor: string;
  event_id: string;
  first_at: string;
  last_at: string;
  events: number;
  posted_at: string | null;
}

export class SqliteWatchedEventStore implements WatchedEventStore {
  constructor(private readonly database: SqlDatabase) {}

  recordEvent(judgement: Judgement, recordedAt: Date, burstGapMs: number): boolean {
    return this.recordEvents([judgement], recordedAt, burstGapMs)[0] ?? false;
  }

  recordEvents(judgements: readonly Judgement[], recordedAt: Date, burstGapMs: number): boolean[] {
    return guarded(this.database, () =>
      this.database.immediate(() => judgements.map((judgement) => this.insert(judgement, recordedAt, burstGapMs))),
    );
  }

  private insert(judgement: Judgement, recordedAt: Date, burstGapMs: number): boolean {
    const inserted =
      this.database
        .prepare(
          `INSERT INTO watched_events (event_id, verdict, time, actor, action, source_ip, region, account_id, error_code,
             incident, derived_session, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (event_id) DO NOTHING`,
        )
        .run(
          judgement.eventId,
          judgement.verdict,
          judgement.time,
          judgement.actor,
          judgement.action,
          judgement.sourceIp,
          judgement.region,
          judgement.accountId,
          judgement.errorCode,
          judgement.incident,
          judgement.derivedSession,
          recordedAt.toISOString(),
        ).changes === 1;
    if (inserted && judgement.verdict === "misuse") this.joinBurst(judgement, burstGapMs);
    return inserted;
  }

  /** The actor's alert whose burst this event continues (its last event at most the gap before), or a new one. */
  private joinBurst(judgement: Judgement, burstGapMs: number): void {
    const since = new Date(Date.parse(judgement.time) - burstGapMs).toISOString();
    const burst = this.database
      .prepare("SELECT id FROM misuse_alerts WHERE actor = ? AND last_at >= ? ORDER BY last_at DESC LIMIT 1")
      .get(judgement.actor, since) as { id: number } | undefined;
    if (burst !== undefined) {
      this.database
        .prepare(
          `UPDATE misuse_alerts SET events = events + 1, last_at = MAX(last_at, ?), first_at = MIN(first_at, ?)
           WHERE id = ?`,
        )
        .run(judgement.time, judgement.time, burst.id);
      return;
    }
    this.database
      .prepare("INSERT INTO misuse_alerts (actor, event_id, first_at, last_at, events) VALUES (?, ?, ?, ?, 1)")
      .run(judgement.actor, judgement.eventId, judgement.time, judgement.time);
  }

  findEvent(eventId: string): WatchedEvent | null {
    const row = guarded(
      this.database,
      () =>
        this.database.prepare("SELECT * FROM watched_events WHERE event_id = ?").get(eventId) as
          WatchedEventRow | undefined,
    );
    return row === undefined ? null : eventFromRow(row);
  }

  incidentEvents(incident: string): WatchedEvent[] {
    const rows = guarded(
      this.database,
      () =>
        this.database
          .prepare("SELECT * FROM watched_events WHERE incident = ? ORDER BY time, event_id")
          .all(incident) as WatchedEventRow[],
    );
    return rows.map(eventFromRow);
  }

  derivedSessions(): string[] {
    const rows = guarded(
      this.database,
      () =>
        this.database
          .prepare("SELECT DISTINCT derived_session AS arn FROM watched_events WHERE derived_session IS NOT NULL")
          .all() as { arn: string }[],
    );
    return rows.map((row) => row.arn);
  }

  attachEvent(eventId: string, incident: string, attachedBy: string, at: Date): boolean {
    return guarded(
      this.database,
      () =>
        this.database
          .prepare(
            `UPDATE watched_events SET incident = ?, attached_by = ?, attached_at = ?
             WHERE event_id = ? AND incident IS NULL`,
          )
          .run(incident, attachedBy, at.toISOString(), eventId).changes === 1,
    );
  }

  unpostedAlerts(): MisuseAlert[] {
    const rows = guarded(
      this.database,
      () =>
        this.database
          .prepare("SELECT * FROM misuse_alerts WHERE posted_at IS NULL ORDER BY first_at, id")
          .all() as MisuseAlertRow[],
    );
    return rows.map(alertFromRow);
  }

  markAlertPosted(id: number, at: Date): void {
    guarded(this.database, () =>
      this.database
        .prepare("UPDATE misuse_alerts SET posted_at = ? WHERE id = ? AND posted_at IS NULL")
        .run(at.toISOString(), id),
    );
  }

  recordUnreadable(message: UnreadableMessage): boolean {
    return guarded(
      this.database,
      () =>
        this.database
          .prepare(
            `INSERT INTO unreadable_messages (message_id, problem, body, received_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (message_id) DO NOTHING`,
          )
          .run(message.messageId, message.problem, message.body, message.receivedAt).changes === 1,
    );
  }

  unreadableMessages(): UnreadableMessage[] {
    const rows = guarded(
      this.database,
      () =>
        this.database.prepare("SELECT * FROM unreadable_messages ORDER BY received_at, message_id").all() as {
          message_id: string;
          problem: string;
          body: string;
          received_at: string;
        }[],
    );
    return rows.map((row) => ({
      messageId: row.message_id,
      problem: row.problem,
      body: row.body,
      receivedAt: row.received_at,
    }));
  }
}

function eventFromRow(row: WatchedEventRow): WatchedEvent {
  return {
    eventId: row.event_id,
    verdict: row.verdict,
    time: row.time,
    actor: row.actor,
    action: row.action,
    sourceIp: row.source_ip,
    region: row.region,
    accountId: row.account_id,
    errorCode: row.error_code,
    incident: row.incident,
    derivedSession: row.derived_session,
    recordedAt: row.recorded_at,
    attachedBy: row.attached_by,
    attachedAt: row.attached_at,
  };
}

function alertFromRow(row: MisuseAlertRow): MisuseAlert {
  return {
    id: row.id,
    actor: row.actor,
    eventId: row.event_id,
    firstAt: row.first_at,
    lastAt: row.last_at,
    events: row.events,
    postedAt: row.posted_at,
  };
}
