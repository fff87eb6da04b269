// The status answer is rebuilt when what it shows can have changed, and reused in between (bursts during an incident).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SlackContext } from "../../src/slack/slack-context.js";
import { StatusMessageCache } from "../../src/slack/status-message-cache.js";
import { DAY, makeCertificate } from "../support/certificates.js";
import { configText, startHarness, publishIdpMetadata, type ServeHarness } from "../support/serve-harness.js";
import { SteppingClock } from "../support/stepping-clock.js";

let harness: ServeHarness;
const clock = new SteppingClock(new Date("2026-11-25T03:00:00Z"));

beforeAll(async () => {
  harness = await startHarness({
    configYaml: configText("{dir}"),
    runbookDirectory: new URL("../server/runbooks/", import.meta.url).pathname,
    clock,
    slack: false,
  });
  publishIdpMetadata(harness.directory, makeCertificate({ notAfter: new Date(clock.now().getTime() + 90 * DAY) }));
});

afterAll(async () => {
  await harness?.stop();
});

describe("StatusMessageCache", () => {
  it("reuses the answer until a check, an audited change or five seconds make it stale", async () => {
    const { scheduler, services } = harness.service;
    const context = {
      scheduler,
      services,
      state: services.store.serveState,
      clock,
      log: { warn: () => undefined },
    } as unknown as SlackContext;
    const cache = new StatusMessageCache(context);

    const before = await cache.message();
    expect(JSON.stringify(before)).toContain("No check has completed yet");
    expect(await cache.message()).toBe(before);

    await scheduler.runOnce();
    const checked = await cache.message();
    expect(checked).not.toBe(before);
    expect(JSON.stringify(checked)).toContain("in 90 days");
    expect(await cache.message()).toBe(checked);

    services.audit.record({
      actor: "slack:U0ALICE0001",
      action: "window.opened",
      runId: null,
      subject: "INC-1",
      detail: {},
    });
    const audited = await cache.message();
    expect(audited).not.toBe(checked);
    expect(await cache.message()).toBe(audited);

    clock.advance(5_000);
    expect(await cache.message()).not.toBe(audited);
  });

  it("builds a stale answer once for a burst of requests that arrive together", async () => {
    const { scheduler, services } = harness.service;
    let snapshots = 0;
    // Each build of the answer reads the open runs once.
    const runs = services.store.runs;
    const countingRuns: typeof runs = Object.create(runs);
    countingRuns.unfinishedRunIds = (limit) => {
      snapshots++;
      return runs.unfinishedRunIds(limit);
    };
    const store: typeof services.store = Object.create(services.store, { runs: { value: countingRuns } });
    const context = {
      scheduler,
      services: { ...services, store },
      state: services.store.serveState,
      clock,
      log: { warn: () => undefined },
    } as unknown as SlackContext;
    const cache = new StatusMessageCache(context);

    const burst = await Promise.all(Array.from({ length: 50 }, () => cache.message()));
    expect(new Set(burst).size).toBe(1);
    expect(snapshots).toBe(1);

    clock.advance(5_000);
    const next = await Promise.all(Array.from({ length: 50 }, () => cache.message()));
    expect(new Set(next).size).toBe(1);
    expect(next[0]).not.toBe(burst[0]);
    expect(snapshots).toBe(2);
  });
});
