// What `breakglass serve` remembers, in DynamoDB: alerts (each change a write conditional on the alert's version),
// expiry-ladder claims, the Slack message of each subject, named facts.
import { BreakglassError } from "../../../domain/errors.js";
import type {
  AlertRecord,
  SeenFinding,
  ServeStateStore,
  SlackMessageRef,
} from "../../../domain/ports/serve-state-store.js";
import {
  backOff,
  CONFLICT_RETRIES,
  MAX_TRANSACTION_ITEMS,
  type DynamoTable,
  type TransactItem,
} from "./dynamodb-table.js";

const ALERT = "ALERT";
const expiry = (fingerprint: string) => `EXPIRY#${fingerprint}`;
const MESSAGE = "MESSAGE";
const MESSAGE_REF = "MESSAGE-REF";
const messageRef = (message: SlackMessageRef) => `${message.channel} ${message.ts}`;
const STATE = "STATE";

/** An alert as kept: the record and the version its next write is conditional on (0 for none yet). */
type Alert = Omit<AlertRecord, "key">;
/** A change to one alert: the alert after it, or undefined to leave it as it is. */
type AlertChange = (current: Alert | null) => Alert | undefined;

export class DynamoServeStateStore implements ServeStateStore {
  /** The alert changes of the transaction under way, in order; null outside inTransaction. */
  private pending: { key: string; change: AlertChange }[] | null = null;

  constructor(private readonly table: DynamoTable) {}

  recordSeen(finding: SeenFinding, at: Date): void {
    const now = at.toISOString();
    this.changeAlert(finding.key, (current) =>
      current === null || current.resolvedAt !== null
        ? // New, or seen again after it was resolved: a new alert, not posted yet.
          {
            code: finding.code,
            severity: finding.severity,
            message: finding.message,
            firstSeen: now,
            lastSeen: now,
            postedAt: null,
            resolvedAt: null,
            resolutionPostedAt: null,
          }
        : { ...current, severity: finding.severity, message: finding.message, lastSeen: now },
    );
  }

  /**
   * Runs `work`, holding back its alert changes, then writes them in one TransactWriteItems, each conditional on the
   * alert's version as read (read again and retried when another process changed one). Nothing is written when `work`
   * throws. Past 100 alerts the changes go in several transactions, each all or nothing.
   */
  inTransaction<T>(work: () => T): T {
    if (this.pending !== null) return work();
    this.pending = [];
    try {
      const result = work();
      const changes = this.pending;
      this.pending = null;
      this.applyAlertChanges(changes);
      return result;
    } finally {
      this.pending = null;
    }
  }

  openAlerts(): AlertRecord[] {
    return this.alerts()
      .filter((alert) => alert.resolvedAt === null)
      .sort((left, right) => left.firstSeen.localeCompare(right.firstSeen) || left.key.localeCompare(right.key));
  }

  unannouncedResolutions(): AlertRecord[] {
    return this.alerts()
      .filter((alert) => alert.resolvedAt !== null && alert.postedAt !== null && alert.resolutionPostedAt === null)
      .sort(
        (left, right) =>
          (left.resolvedAt ?? "").localeCompare(right.resolvedAt ?? "") || left.key.localeCompare(right.key),
      );
  }

  markPosted(key: string, at: Date): void {
    this.changeAlert(key, (current) =>
      current === null || current.postedAt !== null ? undefined : { ...current, postedAt: at.toISOString() },
    );
  }

  markResolved(key: string, at: Date): void {
    this.changeAlert(key, (current) =>
      current === null || current.resolvedAt !== null ? undefined : { ...current, resolvedAt: at.toISOString() },
    );
  }

  markResolutionPosted(key: string, at: Date): void {
    this.changeAlert(key, (current) =>
      current === null || current.resolutionPostedAt !== null
        ? undefined
        : { ...current, resolutionPostedAt: at.toISOString() },
    );
  }

  postedExpirySteps(fingerprint: string): Set<string> {
    return new Set(this.table.query(expiry(fingerprint)).map((item) => String(item["sk"])));
  }

  claimExpiryStep(fingerprint: string, step: string, at: Date, staleAfterMs: number): boolean {
    const now = at.toISOString();
    const claimed = this.table.write("Put", {
      Item: { pk: expiry(fingerprint), sk: step, postedAt: now, delivered: false },
      ConditionExpression: "attribute_not_exists(pk)",
    });
    if (claimed) return true;
    // A claim never delivered and older than staleAfterMs: its process died while posting; take it over.
    return this.table.write("Update", {
      Key: { pk: expiry(fingerprint), sk: step },
      UpdateExpression: "SET postedAt = :now",
      ConditionExpression: "delivered = :false AND postedAt <= :staleBefore",
      ExpressionAttributeValues: {
        ":now": now,
        ":false": false,
        ":staleBefore": new Date(at.getTime() - staleAfterMs).toISOString(),
      },
    });
  }

  deliveredExpiryStep(fingerprint: string, step: string, at: Date): void {
    this.table.write("Update", {
      Key: { pk: expiry(fingerprint), sk: step },
      UpdateExpression: "SET delivered = :true, postedAt = :now",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeValues: { ":true": true, ":now": at.toISOString() },
    });
  }

  forgetExpiryStep(fingerprint: string, step: string): void {
    this.table.write("Delete", {
      Key: { pk: expiry(fingerprint), sk: step },
      ConditionExpression: "delivered = :false",
      ExpressionAttributeValues: { ":false": false },
    });
  }

  message(subject: string): SlackMessageRef | null {
    const item = this.table.get(MESSAGE, subject);
    return item === null ? null : { channel: String(item["channel"]), ts: String(item["ts"]) };
  }

  rememberMessage(subject: string, message: SlackMessageRef, at: Date): void {
    // The message by subject is the truth; the reverse item only finds a candidate subject, checked against it.
    this.table.write("Put", { Item: { pk: MESSAGE_REF, sk: messageRef(message), subject } });
    this.table.write("Put", {
      Item: { pk: MESSAGE, sk: subject, channel: message.channel, ts: message.ts, createdAt: at.toISOString() },
    });
  }

  subjectOf(message: SlackMessageRef): string | null {
    const reference = this.table.get(MESSAGE_REF, messageRef(message));
    if (reference === null) return null;
    const subject = String(reference["subject"]);
    const shown = this.message(subject);
    // A subject whose message was replaced since no longer answers to the old one.
    return shown?.channel === message.channel && shown.ts === message.ts ? subject : null;
  }

  state(name: string): string | null {
    const item = this.table.get(STATE, name);
    return item === null ? null : String(item["value"]);
  }

  setState(name: string, value: string): void {
    this.table.write("Put", { Item: { pk: STATE, sk: name, value } });
  }

  private changeAlert(key: string, change: AlertChange): void {
    if (this.pending !== null) this.pending.push({ key, change });
    else this.applyAlertChanges([{ key, change }]);
  }

  /** Reads each alert changed, applies its changes in order, and writes them conditional on the version read. */
  private applyAlertChanges(changes: readonly { key: string; change: AlertChange }[]): void {
    const keys = [...new Set(changes.map((entry) => entry.key))];
    for (let start = 0; start < keys.length; start += MAX_TRANSACTION_ITEMS) {
      const batch = keys.slice(start, start + MAX_TRANSACTION_ITEMS);
      for (let attempt = 0; ; attempt++) {
        const items: TransactItem[] = [];
        for (const key of batch) {
          const item = this.table.get(ALERT, key);
          const version = Number(item?.["version"] ?? 0);
          let alert: Alert | null = item === null ? null : alertOf(item);
          let changed = false;
          for (const entry of changes) {
            if (entry.key !== key) continue;
            const next = entry.change(alert);
            if (next !== undefined) [alert, changed] = [next, true];
          }
          if (!changed || alert === null) continue;
          items.push({
            Put: {
              Item: { pk: ALERT, sk: key, ...withoutNulls(alert), version: version + 1 },
              ConditionExpression: version === 0 ? "attribute_not_exists(pk)" : "version = :version",
              ...(version === 0 ? {} : { ExpressionAttributeValues: { ":version": version } }),
            },
          });
        }
        if (items.length === 0 || this.table.transact(items).written) break;
        if (attempt >= CONFLICT_RETRIES) {
          throw new BreakglassError(
            "STORE_FAILED",
            this.table.description,
            `alerts kept changing under this check (${batch.length} alerts, ${attempt + 1} tries); nothing was written`,
          );
        }
        backOff(attempt);
      }
    }
  }

  private alerts(): AlertRecord[] {
    return this.table.query(ALERT).map((item) => ({ key: String(item["sk"]), ...alertOf(item) }));
  }
}

function alertOf(item: Record<string, unknown>): Alert {
  const text = (name: string) => (typeof item[name] === "string" ? item[name] : null);
  return {
    code: String(item["code"]),
    severity: String(item["severity"]),
    message: String(item["message"]),
    firstSeen: String(item["firstSeen"]),
    lastSeen: String(item["lastSeen"]),
    postedAt: text("postedAt"),
    resolvedAt: text("resolvedAt"),
    resolutionPostedAt: text("resolutionPostedAt"),
  };
}

function withoutNulls(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== null));
}
