// What happened during an incident, one use case for every front end: its timeline (the window, the emergency
// principals' CloudTrail activity, breakglass's own audit records, in time order), and attaching a misuse event that
// turned out to be legitimate to an open incident (audited).
import type { AuditLog } from "../domain/audit/audit-log.js";
import type { AuditRecord } from "../domain/audit/audit-chain.js";
import { BreakglassError } from "../domain/errors.js";
import type { Actor } from "../domain/identity/actor.js";
import type { EmergencyWindow } from "../domain/ports/emergency-window-store.js";
import type { BreakglassStore } from "../domain/ports/store.js";
import type { WatchedEvent } from "../domain/ports/watched-event-store.js";
import type { Clock } from "../domain/shared/clock.js";

export type TimelineEntry =
  | { readonly kind: "window"; readonly at: string; readonly what: "opened" | "closed"; readonly by: string }
  | { readonly kind: "cloudtrail"; readonly at: string; readonly event: WatchedEvent }
  | { readonly kind: "audit"; readonly at: string; readonly record: AuditRecord };

export interface IncidentTimeline {
  readonly incident: string;
  readonly window: EmergencyWindow;
  readonly entries: readonly TimelineEntry[];
  /** The emergency principals' CloudTrail events on the timeline (inside the window, or attached). */
  readonly events: readonly WatchedEvent[];
}

export interface AttachResult {
  readonly event: WatchedEvent;
  readonly incident: string;
}

export class IncidentActivity {
  constructor(
    private readonly options: {
      readonly store: Pick<BreakglassStore, "windows" | "watchedEvents" | "audit">;
      readonly audit: AuditLog;
      readonly clock: Clock;
    },
  ) {}

  timeline(incident: string): IncidentTimeline {
    const { store } = this.options;
    const window = store.windows.findWindow(incident);
    if (window === null)
      throw new BreakglassError(
        "INCIDENT_NOT_FOUND",
        incident,
        "no such incident: no emergency window was opened under this reference",
      );
    const events = store.watchedEvents.incidentEvents(incident);
    const entries: TimelineEntry[] = [
      { kind: "window", at: window.openedAt, what: "opened", by: window.openedBy },
      ...events.map((event) => ({ kind: "cloudtrail" as const, at: event.time, event })),
      ...auditDuring(store.audit.auditRecords(), window).map((record) => ({
        kind: "audit" as const,
        at: record.at,
        record,
      })),
    ];
    if (window.closedAt !== null)
      entries.push({ kind: "window", at: window.closedAt, what: "closed", by: window.closedBy ?? "?" });
    // Stable: at one instant the window's opening comes first and its closing last.
    const order = (entry: TimelineEntry) => (entry.kind === "window" ? (entry.what === "opened" ? 0 : 2) : 1);
    entries.sort((a, b) => a.at.localeCompare(b.at) || order(a) - order(b));
    return { incident, window, entries, events };
  }

  /**
   * Puts a misuse event on an open incident's timeline: it was the emergency path used for a real emergency. The audit
   * record is written first; if it cannot be, nothing changes. Without `incident`, the one open incident.
   */
  attach(eventId: string, incident: string | undefined, who: Actor): AttachResult {
    const { store } = this.options;
    const subject = `event ${eventId}`;
    if (who.person.trim() === "")
      throw new BreakglassError("USAGE", subject, "no actor: attaching an event is audited with who asked for it");
    const event = store.watchedEvents.findEvent(eventId);
    if (event === null)
      throw new BreakglassError(
        "EVENT_NOT_FOUND",
        subject,
        "breakglass has not recorded this CloudTrail event: check the event id, or run breakglass watch --once first",
      );
    if (event.incident !== null)
      throw new BreakglassError("EVENT_ALREADY_ATTACHED", subject, `already on the timeline of ${event.incident}`);
    if (event.verdict !== "misuse")
      throw new BreakglassError(
        "EVENT_ALREADY_ATTACHED",
        subject,
        "not an emergency principal's event (verdict ignored): only misuse is attached to an incident",
      );
    const window = this.openWindow(incident, subject);
    this.options.audit.record({
      actor: who.person,
      action: "watch.attach",
      runId: window.incident,
      subject,
      detail: {
        incident: window.incident,
        actor: event.actor,
        action: event.action,
        time: event.time,
        label: who.label,
      },
    });
    store.watchedEvents.attachEvent(eventId, window.incident, who.person, this.options.clock.now());
    return { event: store.watchedEvents.findEvent(eventId) ?? event, incident: window.incident };
  }

  private openWindow(incident: string | undefined, subject: string): EmergencyWindow {
    const { windows } = this.options.store;
    if (incident === undefined) {
      const open = windows.openWindows();
      if (open.length === 1) return open[0] as EmergencyWindow;
      throw new BreakglassError(
        "NO_OPEN_INCIDENT",
        subject,
        open.length === 0
          ? "no incident is open to attach it to: declare one first (breakglass incident declare <title>)"
          : `${open.length} incidents are open (${open.map((window) => window.incident).join(", ")}): name one with --incident`,
      );
    }
    const window = windows.findWindow(incident);
    if (window === null) throw new BreakglassError("INCIDENT_NOT_FOUND", incident, "no such incident");
    if (window.closedAt !== null)
      throw new BreakglassError("INCIDENT_CLOSED", incident, `closed ${window.closedAt}: attach to an open incident`);
    return window;
  }
}

function auditDuring(records: readonly AuditRecord[], window: EmergencyWindow): AuditRecord[] {
  return records.filter(
    (record) => record.at >= window.openedAt && (window.closedAt === null || record.at <= window.closedAt),
  );
}
