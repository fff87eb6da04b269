// The watcher's fallback source when no queue is configured: CloudTrail LookupEvents, polled per Region from a cursor
// kept in the store (the last event time and the ids seen at that second), page by page with NextToken, at most two
// calls a second (LookupEvents' limit per account and Region; throttling is retried by the SDK's adaptive mode).
import { LookupEventsCommand, type CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { BreakglassError, describeError } from "../../domain/errors.js";
import type {
  CloudTrailEventSource,
  ReceiveOptions,
  SourcedMessage,
} from "../../domain/ports/cloudtrail-event-source.js";
import type { ServeStateStore } from "../../domain/ports/serve-state-store.js";
import type { Clock } from "../../domain/shared/clock.js";
import { readCloudTrailRecord, type ParsedRecord } from "../../domain/watch/cloudtrail-record.js";
import { awsErrorCode } from "../aws/aws-error.js";

/** LookupEvents allows 2 calls per second per account and Region. */
export const LOOKUP_EVENTS_INTERVAL_MS = 500;
/** LookupEvents' largest page. */
const PAGE = 50;

export interface LookupEventsRegion {
  readonly region: string;
  readonly client: CloudTrailClient;
}

export interface LookupEventsSourceOptions {
  readonly regions: readonly LookupEventsRegion[];
  /** Where the cursors are kept (one named fact per Region). */
  readonly state: Pick<ServeStateStore, "state" | "setState">;
  readonly clock: Clock;
  /** How far back the first poll of a Region reads. */
  readonly lookbackMs: number;
  /** Waits between two calls to one Region; a test passes one that returns at once. */
  readonly sleep?: (milliseconds: number) => Promise<void>;
}

/** Where a Region's polling resumes: the newest event time recorded, and the ids recorded at that time. */
interface Cursor {
  readonly time: string;
  readonly ids: readonly string[];
}

interface LookedUp extends SourcedMessage {
  readonly region: string;
  readonly time: string;
}

export class LookupEventsSource implements CloudTrailEventSource {
  readonly description: string;
  private readonly sleep: (milliseconds: number) => Promise<void>;

  constructor(private readonly options: LookupEventsSourceOptions) {
    this.description = `CloudTrail LookupEvents in ${options.regions.map((entry) => entry.region).join(", ")}`;
    this.sleep = options.sleep ?? ((milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)));
  }

  async receive(options: ReceiveOptions): Promise<readonly SourcedMessage[]> {
    const found: LookedUp[] = [];
    for (const { region, client } of this.options.regions) {
      const cursor = this.cursor(region);
      const seen = new Set(cursor?.ids ?? []);
      const startTime =
        cursor === null
          ? new Date(this.options.clock.now().getTime() - this.options.lookbackMs)
          : new Date(cursor.time);
      let nextToken: string | undefined;
      let first = true;
      do {
        if (!first) await this.sleep(LOOKUP_EVENTS_INTERVAL_MS);
        first = false;
        const page = await this.lookup(region, () =>
          client.send(
            new LookupEventsCommand({
              StartTime: startTime,
              MaxResults: PAGE,
              ...(nextToken ? { NextToken: nextToken } : {}),
            }),
            options.signal === undefined ? {} : { abortSignal: options.signal },
          ),
        );
        for (const event of page.Events ?? []) {
          if (event.EventId === undefined || seen.has(event.EventId)) continue;
          seen.add(event.EventId);
          const body = event.CloudTrailEvent ?? "";
          found.push({
            messageId: event.EventId,
            body,
            parsed: parseEvent(body),
            region,
            time: (event.EventTime ?? startTime).toISOString(),
          });
        }
        nextToken = page.NextToken;
      } while (nextToken !== undefined && nextToken !== "");
    }
    // LookupEvents answers newest first; the watcher records oldest first, so a window opening mid-page reads naturally.
    return found.sort((a, b) => a.time.localeCompare(b.time));
  }

  acknowledge(messages: readonly SourcedMessage[]): Promise<void> {
    this.advance(messages as readonly LookedUp[]);
    return Promise.resolve();
  }

  reject(messages: readonly SourcedMessage[]): Promise<string> {
    this.advance(messages as readonly LookedUp[]);
    return Promise.resolve("kept in the store; LookupEvents has no dead-letter queue, so the cursor moves past it");
  }

  /** Moves each Region's cursor to the newest event handled, keeping the ids at that second (StartTime is inclusive). */
  private advance(messages: readonly LookedUp[]): void {
    const byRegion = new Map<string, LookedUp[]>();
    for (const message of messages) byRegion.set(message.region, [...(byRegion.get(message.region) ?? []), message]);
    for (const [region, handled] of byRegion) {
      const cursor = this.cursor(region);
      let time = cursor?.time ?? "";
      let ids = new Set(cursor?.ids ?? []);
      for (const message of handled) {
        if (message.time > time) {
          time = message.time;
          ids = new Set([message.messageId]);
        } else if (message.time === time) ids.add(message.messageId);
      }
      this.options.state.setState(cursorName(region), JSON.stringify({ time, ids: [...ids] } satisfies Cursor));
    }
  }

  private cursor(region: string): Cursor | null {
    const saved = this.options.state.state(cursorName(region));
    if (saved === null) return null;
    try {
      const cursor = JSON.parse(saved) as Cursor;
      return typeof cursor.time === "string" && Array.isArray(cursor.ids) ? cursor : null;
    } catch {
      return null;
    }
  }

  private async lookup<T>(region: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw new BreakglassError(awsErrorCode(error), `cloudtrail:LookupEvents in ${region}`, describeError(error), {
        cause: error,
      });
    }
  }
}

export function cursorName(region: string): string {
  return `watch.lookup-events.${region}`;
}

function parseEvent(body: string): ParsedRecord {
  try {
    return readCloudTrailRecord(JSON.parse(body));
  } catch (error) {
    return { ok: false, problem: `CloudTrailEvent is not JSON: ${(error as Error).message}` };
  }
}
