// Emergency windows in SQLite: one row per incident, so opening and closing are idempotent per incident.
import type {
  EmergencyWindow,
  EmergencyWindowStore,
  NewEmergencyWindow,
} from "../../../domain/ports/emergency-window-store.js";
import { guarded } from "./sqlite-connection.js";
import type { SqlDatabase } from "./sql-database.js";

interface EmergencyWindowRow {
  incident: string;
  opened_at: string;
  opened_by: string;
  reason: string | null;
  run_id: string | null;
  closed_at: string | null;
  closed_by: string | null;
}

export class SqliteWindowStore implements EmergencyWindowStore {
  constructor(private readonly database: SqlDatabase) {}

  findWindow(incident: string): EmergencyWindow | null {
    const row = guarded(
      this.database,
      () =>
        this.database.prepare("SELECT * FROM emergency_windows WHERE incident = ?").get(incident) as
          EmergencyWindowRow | undefined,
    );
    return row === undefined ? null : windowFromRow(row);
  }

  openWindows(): EmergencyWindow[] {
    const rows = guarded(
      this.database,
      () =>
        this.database
          .prepare("SELECT * FROM emergency_windows WHERE closed_at IS NULL ORDER BY opened_at DESC, rowid DESC")
          .all() as EmergencyWindowRow[],
    );
    return rows.map(windowFromRow);
  }

  allWindows(): EmergencyWindow[] {
    const rows = guarded(
      this.database,
      () =>
        this.database
          .prepare("SELECT * FROM emergency_windows ORDER BY opened_at, rowid")
          .all() as EmergencyWindowRow[],
    );
    return rows.map(windowFromRow);
  }

  openWindow(window: NewEmergencyWindow): boolean {
    return guarded(
      this.database,
      () =>
        this.database
          .prepare(
            `INSERT INTO emergency_windows (incident, opened_at, opened_by, reason, run_id) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (incident) DO UPDATE SET opened_at = excluded.opened_at, opened_by = excluded.opened_by, reason = excluded.reason,
               run_id = excluded.run_id, closed_at = NULL, closed_by = NULL
             WHERE emergency_windows.closed_at IS NOT NULL`,
          )
          .run(window.incident, window.openedAt.toISOString(), window.openedBy, window.reason, window.runId).changes ===
        1,
    );
  }

  closeWindow(incident: string, closedAt: Date, closedBy: string): boolean {
    return guarded(
      this.database,
      () =>
        this.database
          .prepare("UPDATE emergency_windows SET closed_at = ?, closed_by = ? WHERE incident = ? AND closed_at IS NULL")
          .run(closedAt.toISOString(), closedBy, incident).changes === 1,
    );
  }
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
