// The emergency-account watcher's events, misuse alerts and unreadable messages in DynamoDB. An event is written once
// (conditional on its event id) in one transaction with the misuse alert it opens or joins (conditional on the alert's
// version), so a redelivered event changes nothing and two replicas never count one event twice.
import { BreakglassError } from "../../../domain/errors.js";
import type { Judgement } from "../../../domain/watch/classify-event.js";
import type {
  MisuseAlert,
  UnreadableMessage,
  WatchedEvent,
  WatchedEventStore,
} from "../../../domain/ports/watched-event-store.js";
import { paddedNumber } from "./dynamodb-table-design.js";
import { backOff, CONFLICT_RETRIES, type DynamoTable, type TransactItem } from "./dynamodb-table.js";

const EVENT = "WATCHED";
const ALERT = "MISUSE-ALERT";
const SESSION = "DERIVED-SESSION";
const UNREADABLE = "UNREADABLE";

type Item = Record<string, unknown>;

export class DynamoWatchedEventStore implements WatchedEventStore {
  constructor(private readonly table: DynamoTable) {}

  recordEvent(judgement: Judgement, recordedAt: Date, burstGapMs: number): boolean {
    for (let attempt = 0; ; attempt++) {
      const items: TransactItem[] = [
        {
          Put: {
            Item: withoutNulls({
              pk: EVENT,
              sk: judgement.eventId,
              ...judgement,
              recordedAt: recordedAt.toISOString(),
            }),
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
      ];
      if (judgement.derivedSession !== null)
        items.push({ Put: { Item: { pk: SESSION, sk: judgement.derivedSession } } });
      if (judgement.verdict === "misuse") items.push(this.burstWrite(judgement, burstGapMs));
      const outcome = this.table.transact(items);
      if (outcome.written) return true;
      if (outcome.reasons[0] === "ConditionalCheckFailed") return false;
      // The alert changed under us (another replica's event of the same burst): read it again.
      if (attempt >= CONFLICT_RETRIES) {
        throw new BreakglassError(
          "STORE_FAILED",
          this.table.description,
          `event ${judgement.eventId} not recorded: its misuse alert kept changing under ${CONFLICT_RETRIES} attempts`,
        );
      }
      backOff(attempt);
    }
  }

  /**
   * Each event in its own transaction with its alert (DynamoDB has no cheaper durable batch); a crash part-way leaves
   * the first ones recorded, and their redelivery is then recognised by event id.
   */
  recordEvents(judgements: readonly Judgement[], recordedAt: Date, burstGapMs: number): boolean[] {
    return judgements.map((judgement) => this.recordEvent(judgement, recordedAt, burstGapMs));
  }

  /** The write that joins the actor's current burst (conditional on its version), or opens a new alert. */
  private burstWrite(judgement: Judgement, burstGapMs: number): TransactItem {
    const since = new Date(Date.parse(judgement.time) - burstGapMs).toISOString();
    const burst = this.table
      .query(ALERT)
      .filter((item) => item["actor"] === judgement.actor && String(item["lastAt"]) >= since)
      .sort((left, right) => String(right["lastAt"]).localeCompare(String(left["lastAt"])))[0];
    if (burst !== undefined) {
      return {
        Update: {
          Key: { pk: ALERT, sk: burst["sk"] },
          UpdateExpression:
            "SET #events = #events + :one, lastAt = :last, firstAt = :first, #version = #version + :one",
          ConditionExpression: "#version = :version",
          ExpressionAttributeNames: { "#events": "events", "#version": "version" },
          ExpressionAttributeValues: {
            ":one": 1,
            ":version": Number(burst["version"]),
            ":last": maxOf(String(burst["lastAt"]), judgement.time),
            ":first": minOf(String(burst["firstAt"]), judgement.time),
          },
        },
      };
    }
    const counter = this.table.updated({
      Key: { pk: "COUNTER", sk: "misuse-alert" },
      UpdateExpression: "ADD #value :one",
      ExpressionAttributeNames: { "#value": "value" },
      ExpressionAttributeValues: { ":one": 1 },
    });
    const id = Number(counter?.["value"]);
    return {
      Put: {
        Item: {
          pk: ALERT,
          sk: paddedNumber(id),
          id,
          actor: judgement.actor,
          eventId: judgement.eventId,
          firstAt: judgement.time,
          lastAt: judgement.time,
          events: 1,
          version: 1,
        },
        ConditionExpression: "attribute_not_exists(pk)",
      },
    };
  }

  findEvent(eventId: string): WatchedEvent | null {
    const item = this.table.get(EVENT, eventId);
    return item === null ? null : eventOf(item);
  }

  incidentEvents(incident: string): WatchedEvent[] {
    return this.table
      .query(EVENT)
      .filter((item) => item["incident"] === incident)
      .map(eventOf)
      .sort((left, right) => left.time.localeCompare(right.time) || left.eventId.localeCompare(right.eventId));
  }

  derivedSessions(): string[] {
    return this.table.query(SESSION).map((item) => String(item["sk"]));
  }

  attachEvent(eventId: string, incident: string, attachedBy: string, at: Date): boolean {
    return this.table.write("Update", {
      Key: { pk: EVENT, sk: eventId },
      UpdateExpression: "SET incident = :incident, attachedBy = :by, attachedAt = :at",
      ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(incident)",
      ExpressionAttributeValues: { ":incident": incident, ":by": attachedBy, ":at": at.toISOString() },
    });
  }

  unpostedAlerts(): MisuseAlert[] {
    return this.table
      .query(ALERT)
      .filter((item) => item["postedAt"] === undefined)
      .map(alertOf)
      .sort((left, right) => left.firstAt.localeCompare(right.firstAt) || left.id - right.id);
  }

  markAlertPosted(id: number, at: Date): void {
    this.table.write("Update", {
      Key: { pk: ALERT, sk: paddedNumber(id) },
      UpdateExpression: "SET postedAt = :at",
      ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(postedAt)",
      ExpressionAttributeValues: { ":at": at.toISOString() },
    });
  }

  recordUnreadable(message: UnreadableMessage): boolean {
    return this.table.write("Put", {
      Item: { pk: UNREADABLE, sk: message.messageId, ...message },
      ConditionExpression: "attribute_not_exists(pk)",
    });
  }

  unreadableMessages(): UnreadableMessage[] {
    return this.table
      .query(UNREADABLE)
      .map((item) => ({
        messageId: String(item["messageId"]),
        problem: String(item["problem"]),
        body: String(item["body"]),
        receivedAt: String(item["receivedAt"]),
      }))
      .sort(
        (left, right) =>
          left.receivedAt.localeCompare(right.receivedAt) || left.messageId.localeCompare(right.messageId),
      );
  }
}

/** DynamoDB keeps a null as an attribute of type NULL, which attribute_not_exists would not see: leave them out. */
function withoutNulls(item: Item): Item {
  return Object.fromEntries(Object.entries(item).filter(([, value]) => value !== null && value !== undefined));
}

const maxOf = (left: string, right: string) => (left >= right ? left : right);
const minOf = (left: string, right: string) => (left <= right ? left : right);

function eventOf(item: Item): WatchedEvent {
  const text = (name: string) => (typeof item[name] === "string" ? item[name] : null);
  return {
    eventId: String(item["eventId"]),
    verdict: item["verdict"] as WatchedEvent["verdict"],
    time: String(item["time"]),
    actor: String(item["actor"]),
    action: String(item["action"]),
    sourceIp: text("sourceIp"),
    region: String(item["region"]),
    accountId: text("accountId"),
    errorCode: text("errorCode"),
    incident: text("incident"),
    derivedSession: text("derivedSession"),
    recordedAt: String(item["recordedAt"]),
    attachedBy: text("attachedBy"),
    attachedAt: text("attachedAt"),
  };
}

function alertOf(item: Item): MisuseAlert {
  return {
    id: Number(item["id"]),
    actor: String(item["actor"]),
    eventId: String(item["eventId"]),
    firstAt: String(item["firstAt"]),
    lastAt: String(item["lastAt"]),
    events: Number(item["events"]),
    postedAt: typeof item["postedAt"] === "string" ? item["postedAt"] : null,
  };
}
