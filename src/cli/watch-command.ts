// `breakglass watch [--once] [--json]`, `breakglass watch attach <eventId>` and `breakglass incident timeline <id>`: the
// emergency-account watcher from the command line, calling the same use cases serve and Slack call.
import { jsonlAuditMirror } from "../adapters/store/jsonl-audit-mirror.js";
import { AuditLog } from "../domain/audit/audit-log.js";
import { loadConfig, resolveConfigPath } from "../config/load-config.js";
import { openStore } from "../adapters/store/open-store.js";
import { openWatch, watchSettings } from "../application/watch-runtime.js";
import type { PollResult } from "../application/watch-emergency-account.js";
import type { IncidentTimeline, TimelineEntry } from "../application/incident-activity.js";
import { describeError } from "../domain/errors.js";
import type { Judgement } from "../domain/watch/classify-event.js";
import type { WatchedEvent } from "../domain/ports/watched-event-store.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import { withActor, withServices, type OperatorOptions } from "./runbook-run-command.js";

export interface WatchOptions {
  readonly config?: string;
  readonly once?: boolean;
  readonly json?: boolean;
}

/** One JSON Lines object per judged event: what `breakglass watch --json` prints and a SIEM can ingest. */
export function judgementJson(judgement: Judgement): Record<string, unknown> {
  return {
    verdict: judgement.verdict,
    actor: judgement.actor,
    action: judgement.action,
    eventId: judgement.eventId,
    time: judgement.time,
    sourceIp: judgement.sourceIp,
    region: judgement.region,
    accountId: judgement.accountId,
    errorCode: judgement.errorCode,
    incident: judgement.incident,
  };
}

export async function runWatch(options: WatchOptions, io: CliIo): Promise<number> {
  const { config } = await loadConfig(resolveConfigPath(options.config, io.env));
  const settings = watchSettings(config);
  const store = openStore(config.store);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  try {
    const { source, watcher } = openWatch(settings, {
      store,
      audit: new AuditLog(store.audit, io.clock, jsonlAuditMirror(config.store.auditMirror)),
      clock: io.clock,
      warn: (message) => io.stderr(`breakglass: ${message}\n`),
    });
    const print = (result: PollResult) => {
      for (const judgement of result.judged) {
        io.stdout(options.json ? `${JSON.stringify(judgementJson(judgement))}\n` : `${judgementLine(judgement)}\n`);
      }
      for (const message of result.unreadable)
        io.stderr(
          `breakglass: message ${message.messageId} from ${source.description} is not a CloudTrail event ` +
            `(${message.problem}): ${result.deadLetter ?? "kept in the store"}\n`,
        );
    };
    if (options.once) {
      const total = await watcher.drain(source, print);
      if (!options.json)
        io.stderr(
          `Read ${source.description}: ${total.judged.length} new event(s), ${total.duplicates} already recorded, ${total.unreadable.length} unreadable.\n`,
        );
      return EXIT.ok;
    }
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    io.stderr(`Watching ${source.description} (Ctrl-C stops); misuse alerts are posted by breakglass serve.\n`);
    while (!stop.signal.aborted) {
      try {
        print(await watcher.poll(source, { wait: true, signal: stop.signal }));
      } catch (error) {
        if (stop.signal.aborted) break;
        io.stderr(`breakglass: ${describeError(error)}; trying again\n`);
        await new Promise((resolve) => setTimeout(resolve, 5_000));
      }
    }
    return EXIT.ok;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    store.close();
  }
}

export async function runWatchAttach(
  eventId: string,
  options: OperatorOptions & { incident?: string },
  io: CliIo,
): Promise<number> {
  return withActor(options, io, "run", ({ activity }, actor) => {
    const attached = activity.attach(eventId, options.incident, actor);
    if (options.json) io.stdout(`${JSON.stringify({ incident: attached.incident, event: attached.event })}\n`);
    else
      io.stdout(
        `Attached event ${eventId} (${attached.event.actor}, ${attached.event.action} at ${attached.event.time}) ` +
          `to ${attached.incident}: it is on the incident's timeline now, not misuse.\n`,
      );
    return Promise.resolve(EXIT.ok);
  });
}

export async function runIncidentTimeline(
  incident: string,
  options: { config?: string; json?: boolean; dir: string },
  io: CliIo,
): Promise<number> {
  return withServices(options, io, ({ activity }) => {
    const timeline = activity.timeline(incident);
    io.stdout(options.json ? `${JSON.stringify(timelineJson(timeline), null, 2)}\n` : timelineText(timeline));
    return Promise.resolve(EXIT.ok);
  });
}

function judgementLine(judgement: Judgement): string {
  const where = judgement.incident === null ? "" : ` [${judgement.incident}]`;
  const failed = judgement.errorCode === null ? "" : ` (failed: ${judgement.errorCode})`;
  const what = `${judgement.actor}  ${judgement.action}${failed}  from ${judgement.sourceIp ?? "?"}`;
  return `${judgement.verdict.toUpperCase().padEnd(8)} ${judgement.time}  ${what}  event ${judgement.eventId}${where}`;
}

export function timelineJson(timeline: IncidentTimeline): Record<string, unknown> {
  return {
    incident: timeline.incident,
    window: timeline.window,
    entries: timeline.entries.map((entry) => {
      switch (entry.kind) {
        case "window":
          return { kind: "window", at: entry.at, what: entry.what, by: entry.by };
        case "cloudtrail":
          return { kind: "cloudtrail", at: entry.at, ...eventJson(entry.event) };
        case "audit":
          return {
            kind: "audit",
            at: entry.at,
            sequence: entry.record.sequence,
            actor: entry.record.actor,
            action: entry.record.action,
            subject: entry.record.subject,
            runId: entry.record.runId,
          };
      }
    }),
  };
}

function eventJson(event: WatchedEvent): Record<string, unknown> {
  return {
    verdict: event.verdict,
    actor: event.actor,
    action: event.action,
    eventId: event.eventId,
    time: event.time,
    sourceIp: event.sourceIp,
    region: event.region,
    errorCode: event.errorCode,
    attachedBy: event.attachedBy,
  };
}

function timelineText(timeline: IncidentTimeline): string {
  const { window } = timeline;
  const lines = [
    `Incident ${timeline.incident}: window opened ${window.openedAt} by ${window.openedBy}, ` +
      `${window.closedAt === null ? "still open" : `closed ${window.closedAt} by ${window.closedBy ?? "?"}`}.`,
    `${timeline.events.length} CloudTrail event(s) of the emergency principals.`,
    "",
    ...timeline.entries.map(entryLine),
  ];
  if (timeline.events.length === 0)
    lines.push(
      "",
      "No CloudTrail activity of an emergency principal was recorded: if neither serve nor `breakglass watch` was running, review CloudTrail by hand.",
    );
  return `${lines.join("\n")}\n`;
}

function entryLine(entry: TimelineEntry): string {
  switch (entry.kind) {
    case "window":
      return `${entry.at}  window ${entry.what} by ${entry.by}`;
    case "cloudtrail": {
      const event = entry.event;
      const notes = [
        event.errorCode === null ? "" : ` (failed: ${event.errorCode})`,
        event.attachedBy === null ? "" : ` (misuse, attached by ${event.attachedBy})`,
      ].join("");
      return `${entry.at}  cloudtrail  ${event.actor}  ${event.action}${notes}  from ${event.sourceIp ?? "?"} in ${event.region}  event ${event.eventId}`;
    }
    case "audit":
      return `${entry.at}  breakglass  ${entry.record.actor}  ${entry.record.action}  ${entry.record.subject}`;
  }
}
