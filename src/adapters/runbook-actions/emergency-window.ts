// emergency.open-window and emergency.close-window: the incident's emergency window in the store, and its activity-summary.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AuditRecord } from "../../domain/audit/audit-chain.js";
import type { AuditStore } from "../../domain/ports/audit-store.js";
import type { EmergencyWindow, EmergencyWindowStore } from "../../domain/ports/emergency-window-store.js";
import type { WatchedEvent, WatchedEventStore } from "../../domain/ports/watched-event-store.js";
import type {
  ActionExecutor,
  ActionParameters,
  ActionPlan,
  RunContext,
  Verification,
} from "../../domain/runbooks/engine-ports.js";
import { optionalText, requiredText } from "./action-parameters.js";

export interface OpenWindowOptions {
  readonly store: EmergencyWindowStore;
}

export interface CloseWindowOptions {
  readonly store: EmergencyWindowStore;
  /** The audit trail the activity summary is drawn from. */
  readonly audit: Pick<AuditStore, "auditRecords">;
  /** The emergency principals' CloudTrail activity the watcher recorded on the incident's timeline. */
  readonly events: Pick<WatchedEventStore, "incidentEvents">;
  /** Where activity summaries are written, e.g. next to the store. */
  readonly summaryDirectory: string;
}

const OPEN = "emergency.open-window";
const CLOSE = "emergency.close-window";

/** Said when the watcher recorded nothing: it may not run (no queue, no serve), so silence is not proof of no activity. */
export const NO_CLOUDTRAIL_RECORDED =
  "The watcher recorded no CloudTrail activity of an emergency principal during the window. If neither " +
  "`breakglass serve` nor `breakglass watch` was running, or the EventBridge rule or queue is missing " +
  "(`breakglass check` says), review the emergency account's CloudTrail for this period by hand.";

export function openWindowExecutor(options: OpenWindowOptions): ActionExecutor {
  const { store } = options;
  return {
    plan(parameters: ActionParameters): Promise<ActionPlan> {
      const incident = requiredText(OPEN, parameters, "incident");
      const window = store.findWindow(incident);
      const target = windowTarget(incident);
      if (window !== null && window.closedAt === null) {
        return Promise.resolve({
          summary: `the emergency window of incident ${incident} is already open (${describeOpened(window)})`,
          changes: [],
          alreadyDone: true,
        });
      }
      const summary =
        window === null
          ? `open the emergency window of incident ${incident}`
          : `reopen the emergency window of incident ${incident}, closed ${describeClosed(window)}`;
      return Promise.resolve({
        summary,
        changes: [{ target, before: window === null ? null : "closed", after: "open" }],
        alreadyDone: false,
      });
    },
    apply(_plan, parameters, context) {
      const incident = requiredText(OPEN, parameters, "incident");
      const reason = optionalText(OPEN, parameters, "reason") ?? null;
      // The store's conditional write is the re-check: an open window is left untouched.
      store.openWindow({ incident, openedAt: context.now, openedBy: context.initiator, reason, runId: context.runId });
      return Promise.resolve({});
    },
    verify(parameters: ActionParameters): Promise<Verification> {
      const incident = requiredText(OPEN, parameters, "incident");
      const window = store.findWindow(incident);
      if (window === null)
        return Promise.resolve({ ok: false, detail: `the store holds no emergency window for incident ${incident}` });
      if (window.closedAt !== null)
        return Promise.resolve({
          ok: false,
          detail: `the emergency window of incident ${incident} is closed (${describeClosed(window)})`,
        });
      return Promise.resolve({
        ok: true,
        detail: `the emergency window of incident ${incident} is open (${describeOpened(window)})`,
      });
    },
  };
}

export function closeWindowExecutor(options: CloseWindowOptions): ActionExecutor {
  const { store, audit, events, summaryDirectory } = options;
  const summarise = (incident: string, context: RunContext) => {
    const path = summaryPath(summaryDirectory, incident);
    mkdirSync(summaryDirectory, { recursive: true });
    writeFileSync(
      path,
      activitySummary(
        incident,
        store.findWindow(incident),
        audit.auditRecords(),
        events.incidentEvents(incident),
        context.now,
      ),
      {
        encoding: "utf8",
        mode: 0o600,
      },
    );
    return { "activity-summary": path };
  };
  return {
    plan(parameters: ActionParameters): Promise<ActionPlan> {
      const incident = requiredText(CLOSE, parameters, "incident");
      const window = store.findWindow(incident);
      if (window === null) {
        return Promise.resolve({
          summary: `no emergency window was opened for incident ${incident}: nothing to close, the activity-summary is still written`,
          changes: [],
          alreadyDone: true,
        });
      }
      if (window.closedAt !== null) {
        return Promise.resolve({
          summary: `the emergency window of incident ${incident} is already closed (${describeClosed(window)})`,
          changes: [],
          alreadyDone: true,
        });
      }
      return Promise.resolve({
        summary: `close the emergency window of incident ${incident} (${describeOpened(window)})`,
        changes: [{ target: windowTarget(incident), before: "open", after: "closed" }],
        alreadyDone: false,
      });
    },
    apply(_plan, parameters, context) {
      const incident = requiredText(CLOSE, parameters, "incident");
      store.closeWindow(incident, context.now, context.initiator);
      return Promise.resolve({ artefacts: summarise(incident, context) });
    },
    verify(parameters, context): Promise<Verification> {
      const incident = requiredText(CLOSE, parameters, "incident");
      const window = store.findWindow(incident);
      if (window !== null && window.closedAt === null) {
        return Promise.resolve({
          ok: false,
          detail: `the emergency window of incident ${incident} is still open (${describeOpened(window)})`,
        });
      }
      const detail =
        window === null
          ? `no emergency window was ever opened for incident ${incident}`
          : `the emergency window of incident ${incident} is closed (${describeClosed(window)})`;
      return Promise.resolve({ ok: true, detail, artefacts: summarise(incident, context) });
    },
  };
}

/** One file per incident, so closing again rewrites the same summary instead of leaving a second one. */
export function summaryPath(directory: string, incident: string): string {
  const slug =
    incident
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 40) || "incident";
  const digest = createHash("sha256").update(incident, "utf8").digest("hex").slice(0, 8);
  return join(directory, `activity-summary-${slug}-${digest}.md`);
}

/**
 * The Markdown activity-summary of an incident's window: who opened and closed it, what the emergency principals did
 * in the emergency account (CloudTrail, as the watcher recorded it), and breakglass's own audit records during it.
 */
export function activitySummary(
  incident: string,
  window: EmergencyWindow | null,
  records: readonly AuditRecord[],
  events: readonly WatchedEvent[],
  now: Date,
): string {
  const lines = [`# Activity summary: incident ${incident}`, "", `Written by breakglass at ${now.toISOString()}.`, ""];
  if (window === null) {
    lines.push(
      "No emergency window was opened for this incident (as after a planned FM2), so no activity belongs to one.",
      "",
    );
    return lines.join("\n");
  }
  lines.push(
    "## The window",
    "",
    `- Opened: ${window.openedAt} by ${window.openedBy}${window.runId === null ? "" : ` (run ${window.runId})`}`,
    `- Reason: ${window.reason ?? "(none given)"}`,
    `- Closed: ${window.closedAt === null ? "not yet: the window is still open" : `${window.closedAt} by ${window.closedBy ?? "?"}`}`,
    "",
    "## Emergency-account activity (CloudTrail)",
    "",
    ...cloudTrailLines(events),
    `The full timeline: \`breakglass incident timeline ${incident}\`.`,
    "",
  );
  const during = records.filter(
    (record) => record.at >= window.openedAt && (window.closedAt === null || record.at <= window.closedAt),
  );
  lines.push("## breakglass audit records during the window", "");
  if (during.length === 0) {
    lines.push("None.", "");
    return lines.join("\n");
  }
  lines.push("| # | at | actor | action | subject | run |", "|---|---|---|---|---|---|");
  for (const record of during) {
    lines.push(
      `| ${record.sequence} | ${record.at} | ${cell(record.actor)} | ${cell(record.action)} | ${cell(record.subject)} | ${cell(record.runId ?? "")} |`,
    );
  }
  lines.push("");
  return lines.join("\n");
}

function cloudTrailLines(events: readonly WatchedEvent[]): string[] {
  if (events.length === 0) return [NO_CLOUDTRAIL_RECORDED, ""];
  return [
    "| time | actor | action | source IP | region | event id | note |",
    "|---|---|---|---|---|---|---|",
    ...events.map((event) => {
      const note = [
        event.errorCode === null ? "" : `failed: ${event.errorCode}`,
        event.attachedBy === null ? "" : `misuse attached by ${event.attachedBy}`,
      ]
        .filter((part) => part !== "")
        .join("; ");
      const cells = [event.time, event.actor, event.action, event.sourceIp ?? "", event.region, event.eventId, note];
      return `| ${cells.map(cell).join(" | ")} |`;
    }),
    "",
  ];
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s+/g, " ");
}

function windowTarget(incident: string): string {
  return `emergency window of incident ${incident}`;
}

function describeOpened(window: EmergencyWindow): string {
  return `opened ${window.openedAt} by ${window.openedBy}`;
}

function describeClosed(window: EmergencyWindow): string {
  return `${window.closedAt ?? "?"} by ${window.closedBy ?? "?"}`;
}
