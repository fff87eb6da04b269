// The LookupEvents fallback against a loopback CloudTrail: every page read with NextToken, a throttled call retried,
// the cursor kept in the store so the next poll reads only what is new, events at the cursor's second judged once,
// and a record that is not one kept as unreadable without stopping the others.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../../src/adapters/store/open-store.js";
import { cursorName, LookupEventsSource } from "../../../src/adapters/watch/lookup-events-source.js";
import { EmergencyAccountWatcher } from "../../../src/application/watch-emergency-account.js";
import type { BreakglassStore } from "../../../src/domain/ports/store.js";
import { fixedClock } from "../../../src/domain/shared/clock.js";
import { EMERGENCY_ACCOUNT, EMERGENCY_USER, rootConsoleLogin, userCall } from "../../support/cloudtrail-events.js";
import { startLookupServer, type LookupServer } from "../../support/cloudtrail-lookup-server.js";

const NOW = new Date("2026-12-05T04:00:00Z");
const secondsAgo = (seconds: number) => new Date(NOW.getTime() - seconds * 1000);

let server: LookupServer;
let store: BreakglassStore;

beforeAll(async () => {
  server = await startLookupServer();
  store = openStore({ path: join(mkdtempSync(join(tmpdir(), "breakglass-lookup-")), "breakglass.db") });
});

afterAll(async () => {
  store?.close();
  await server?.close();
});

function watcherAndSource(now: Date) {
  const client = new CloudTrailClient({
    endpoint: server.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 3,
  });
  const sleeps: number[] = [];
  const source = new LookupEventsSource({
    regions: [{ region: "us-east-1", client }],
    state: store.serveState,
    clock: fixedClock(now),
    lookbackMs: 3_600_000,
    sleep: (milliseconds) => {
      sleeps.push(milliseconds);
      return Promise.resolve();
    },
  });
  const watcher = new EmergencyAccountWatcher({
    events: store.watchedEvents,
    windows: store.windows,
    principals: { accountId: EMERGENCY_ACCOUNT, users: [EMERGENCY_USER], roles: [], samlProviders: [] },
    clock: fixedClock(now),
  });
  return { source, watcher, sleeps };
}

describe("the LookupEvents source", () => {
  it("reads every page from the lookback, paced at two calls a second, retries a throttled call, and judges each event", async () => {
    const others = Array.from({ length: 110 }, (_, index) =>
      userCall(secondsAgo(3000 - index), "ci-deployer", "ListUsers"),
    );
    const misuse = userCall(secondsAgo(600), EMERGENCY_USER);
    server.add(...others, misuse);
    server.addRaw("broken-1", secondsAgo(500).toISOString(), "{ not a record");
    server.throttleNext(1);
    const { source, watcher, sleeps } = watcherAndSource(NOW);
    const result = await watcher.drain(source);
    expect(result.judged).toHaveLength(111);
    expect(result.judged.filter((judgement) => judgement.verdict === "misuse").map((j) => j.eventId)).toEqual([
      misuse.eventID,
    ]);
    expect(result.unreadable).toEqual([{ messageId: "broken-1", problem: expect.stringContaining("not JSON") }]);
    // One throttled call, then three pages (112 events, 50 a page), the later pages half a second apart.
    expect(server.requests.filter((request) => request.NextToken === undefined)[0]?.StartTime).toBe(
      secondsAgo(3600).getTime() / 1000,
    );
    expect(sleeps).toEqual([500, 500]);
    expect(JSON.parse(store.serveState.state(cursorName("us-east-1")) ?? "null")).toEqual({
      time: secondsAgo(500).toISOString(),
      ids: ["broken-1"],
    });
  });

  it("reads from the cursor next time: only what is new is judged, an event at the cursor's second not again", async () => {
    const sameSecond = rootConsoleLogin(secondsAgo(500));
    const later = rootConsoleLogin(secondsAgo(100));
    server.add(sameSecond, later);
    const before = server.requests.length;
    const { source, watcher } = watcherAndSource(new Date(NOW.getTime() + 60_000));
    const result = await watcher.drain(source);
    expect(result.judged.map((judgement) => [judgement.eventId, judgement.verdict])).toEqual([
      [sameSecond.eventID, "misuse"],
      [later.eventID, "misuse"],
    ]);
    expect(server.requests.slice(before).map((request) => request.StartTime)).toContain(
      secondsAgo(500).getTime() / 1000,
    );
    const again = await watcher.drain(source);
    expect(again.judged).toEqual([]);
  });
});
