// The classifier: who counts as an emergency principal, and which verdict an event gets against the windows.
import { describe, expect, it } from "vitest";
import { classifyEvent, type EmergencyPrincipals } from "../../../src/domain/watch/classify-event.js";
import {
  readCloudTrailRecord,
  readQueuedRecord,
  type CloudTrailRecord,
} from "../../../src/domain/watch/cloudtrail-record.js";
import {
  EMERGENCY_ACCOUNT,
  EMERGENCY_ROLE,
  eventBridgeEnvelope,
  rootConsoleLogin,
  sessionCall,
} from "../../support/cloudtrail-events.js";

const PRINCIPALS: EmergencyPrincipals = {
  accountId: EMERGENCY_ACCOUNT,
  users: ["breakglass-admin"],
  roles: [EMERGENCY_ROLE.replace(":role/", ":role/emergency/")],
  samlProviders: [],
};
const at = (iso: string) => new Date(iso);
const record = (value: unknown): CloudTrailRecord => {
  const parsed = readCloudTrailRecord(value);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.record;
};

describe("classifying a CloudTrail event", () => {
  const windows = [
    { incident: "INC-1", openedAt: "2026-12-05T01:00:00.000Z", closedAt: "2026-12-05T02:00:00.000Z" },
    { incident: "INC-2", openedAt: "2026-12-05T03:00:00.000Z", closedAt: null },
  ];

  it("judges an emergency role's session by the role, whatever its path, against the window the event fell in", () => {
    const session = (time: string) => record(sessionCall(at(time), EMERGENCY_ROLE, "erin"));
    const judge = (time: string) => classifyEvent(session(time), PRINCIPALS, windows, new Set());
    expect(judge("2026-12-05T01:30:00Z")).toMatchObject({ verdict: "incident", incident: "INC-1" });
    expect(judge("2026-12-05T02:30:00Z")).toMatchObject({ verdict: "misuse", incident: null });
    expect(judge("2026-12-05T04:00:00Z")).toMatchObject({
      verdict: "incident",
      incident: "INC-2",
      actor: `arn:aws:sts::${EMERGENCY_ACCOUNT}:assumed-role/EmergencyAdmin/erin`,
      action: "iam:PutRolePolicy",
    });
  });

  it("counts a call in the second the window opened as inside it: CloudTrail's times have whole seconds", () => {
    const opened = [{ incident: "INC-3", openedAt: "2026-12-05T05:00:00.600Z", closedAt: null }];
    const call = record(sessionCall(at("2026-12-05T05:00:00.900Z"), EMERGENCY_ROLE, "erin"));
    expect(call.eventTime).toBe("2026-12-05T05:00:00Z");
    expect(classifyEvent(call, PRINCIPALS, opened, new Set())).toMatchObject({
      verdict: "incident",
      incident: "INC-3",
    });
    const before = record(sessionCall(at("2026-12-05T04:59:59.900Z"), EMERGENCY_ROLE, "erin"));
    expect(classifyEvent(before, PRINCIPALS, opened, new Set())).toMatchObject({ verdict: "misuse" });
  });

  it("ignores another account's root and a role nobody listed", () => {
    const otherRoot = rootConsoleLogin(at("2026-12-05T02:30:00Z"));
    (otherRoot["userIdentity"] as { accountId: string }).accountId = "210987654321";
    otherRoot["recipientAccountId"] = "210987654321";
    expect(classifyEvent(record(otherRoot), PRINCIPALS, windows, new Set()).verdict).toBe("ignored");
    const other = record(
      sessionCall(at("2026-12-05T02:30:00Z"), `arn:aws:iam::${EMERGENCY_ACCOUNT}:role/Deployer`, "ci"),
    );
    expect(classifyEvent(other, PRINCIPALS, windows, new Set())).toMatchObject({
      verdict: "ignored",
      actor: expect.stringContaining("Deployer"),
    });
  });

  it("reads a record from an EventBridge event, and says in one line why a message is not one", () => {
    const root = rootConsoleLogin(at("2026-12-05T02:30:00Z"));
    expect(readQueuedRecord(eventBridgeEnvelope(root))).toMatchObject({ ok: true, record: { eventID: root.eventID } });
    expect(readQueuedRecord("[1, 2]")).toEqual({ ok: false, problem: "expected a CloudTrail record (a JSON object)" });
    expect(
      readQueuedRecord(JSON.stringify({ "detail-type": "EC2 Instance State-change Notification", detail: {} })),
    ).toEqual({
      ok: false,
      problem:
        'expected an EventBridge event "… via CloudTrail", got detail-type "EC2 Instance State-change Notification"',
    });
    expect(readQueuedRecord(JSON.stringify({ ...root, eventID: undefined }))).toEqual({
      ok: false,
      problem: "expected a CloudTrail record with eventID (text), got nothing",
    });
  });
});
