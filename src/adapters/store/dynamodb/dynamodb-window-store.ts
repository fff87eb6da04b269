// Emergency windows in DynamoDB: one item per incident, opened and closed by conditional writes, so idempotent per incident.
import type {
  EmergencyWindow,
  EmergencyWindowStore,
  NewEmergencyWindow,
} from "../../../domain/ports/emergency-window-store.js";
import type { DynamoTable } from "./dynamodb-table.js";

const WINDOW = "WINDOW";

export class DynamoWindowStore implements EmergencyWindowStore {
  constructor(private readonly table: DynamoTable) {}

  findWindow(incident: string): EmergencyWindow | null {
    const item = this.table.get(WINDOW, incident);
    return item === null ? null : windowOf(item);
  }

  openWindows(): EmergencyWindow[] {
    return this.table
      .query(WINDOW)
      .filter((item) => item["closedAt"] === undefined)
      .map(windowOf)
      .sort((left, right) => right.openedAt.localeCompare(left.openedAt));
  }

  allWindows(): EmergencyWindow[] {
    return this.table
      .query(WINDOW)
      .map(windowOf)
      .sort((left, right) => left.openedAt.localeCompare(right.openedAt));
  }

  openWindow(window: NewEmergencyWindow): boolean {
    // A new incident, or one closed: an open window stays as it is.
    return this.table.write("Put", {
      Item: {
        pk: WINDOW,
        sk: window.incident,
        openedAt: window.openedAt.toISOString(),
        openedBy: window.openedBy,
        ...(window.reason === null ? {} : { reason: window.reason }),
        ...(window.runId === null ? {} : { runId: window.runId }),
      },
      ConditionExpression: "attribute_not_exists(pk) OR attribute_exists(closedAt)",
    });
  }

  closeWindow(incident: string, closedAt: Date, closedBy: string): boolean {
    return this.table.write("Update", {
      Key: { pk: WINDOW, sk: incident },
      UpdateExpression: "SET closedAt = :at, closedBy = :by",
      ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(closedAt)",
      ExpressionAttributeValues: { ":at": closedAt.toISOString(), ":by": closedBy },
    });
  }
}

function windowOf(item: Record<string, unknown>): EmergencyWindow {
  const text = (name: string) => (typeof item[name] === "string" ? item[name] : null);
  return {
    incident: String(item["sk"]),
    openedAt: String(item["openedAt"]),
    openedBy: String(item["openedBy"]),
    reason: text("reason"),
    runId: text("runId"),
    closedAt: text("closedAt"),
    closedBy: text("closedBy"),
  };
}
