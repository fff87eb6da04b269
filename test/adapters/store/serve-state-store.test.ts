// What `breakglass serve` remembers across restarts: alerts and their resolutions, expiry-ladder steps, Slack messages, named facts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ServeStateStore } from "../../../src/adapters/store/serve-state-store.js";
import { SqliteStore } from "../../../src/adapters/store/sqlite-store.js";

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** A store file, and a way to close and reopen it as a restart does. */
function storeFile(): { state: () => ServeStateStore; reopen: () => ServeStateStore; close: () => void } {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-serve-state-"));
  directories.push(directory);
  const path = join(directory, "breakglass.db");
  let store = SqliteStore.open(path);
  let state = new ServeStateStore(store.connection);
  return {
    state: () => state,
    reopen: () => {
      store.close();
      store = SqliteStore.open(path);
      state = new ServeStateStore(store.connection);
      return state;
    },
    close: () => store.close(),
  };
}

const t = (hour: number) => new Date(Date.UTC(2026, 10, 25, hour));
const drift = { key: '{"code":"SAML_PROVIDER_DRIFT","resource":"arn:aws:iam::111111111111:saml-provider/Emergency"}', code: "SAML_PROVIDER_DRIFT", severity: "high", message: "drifts" };

describe("the serve state store", () => {
  it("keeps an alert open across sightings, bringing its message up to date but not its first sighting", () => {
    const file = storeFile();
    file.state().recordSeen(drift, t(1));
    file.state().markPosted(drift.key, t(1));
    file.state().recordSeen({ ...drift, message: "drifts differently", severity: "critical" }, t(2));
    expect(file.reopen().openAlerts()).toEqual([
      { ...drift, message: "drifts differently", severity: "critical", firstSeen: t(1).toISOString(), lastSeen: t(2).toISOString(), postedAt: t(1).toISOString(), resolvedAt: null, resolutionPostedAt: null },
    ]);
    file.close();
  });

  it("announces a resolution only for an alert that was posted, once", () => {
    const file = storeFile();
    const state = file.state();
    const quiet = { ...drift, key: "quiet", message: "never posted" };
    state.recordSeen(drift, t(1));
    state.recordSeen(quiet, t(1));
    state.markPosted(drift.key, t(1));
    state.markResolved(drift.key, t(2));
    state.markResolved(quiet.key, t(2));
    expect(state.openAlerts()).toEqual([]);
    expect(state.unannouncedResolutions().map((alert) => [alert.key, alert.resolvedAt])).toEqual([[drift.key, t(2).toISOString()]]);
    state.markResolutionPosted(drift.key, t(3));
    expect(file.reopen().unannouncedResolutions()).toEqual([]);
    file.close();
  });

  it("starts a new, unposted alert when a resolved finding is seen again", () => {
    const file = storeFile();
    const state = file.state();
    state.recordSeen(drift, t(1));
    state.markPosted(drift.key, t(1));
    state.markResolved(drift.key, t(2));
    state.markResolutionPosted(drift.key, t(2));
    state.recordSeen(drift, t(5));
    expect(state.openAlerts()).toEqual([{ ...drift, firstSeen: t(5).toISOString(), lastSeen: t(5).toISOString(), postedAt: null, resolvedAt: null, resolutionPostedAt: null }]);
    file.close();
  });

  it("lets one caller claim each expiry step, and forgets a claim Slack refused so it can be posted again", () => {
    const file = storeFile();
    const state = file.state();
    expect(state.claimExpiryStep("ab12", "30d", t(1), 120_000)).toBe(true);
    expect(state.claimExpiryStep("ab12", "30d", t(1), 120_000)).toBe(false);
    expect(state.claimExpiryStep("cd34", "30d", t(1), 120_000)).toBe(true);
    expect(file.reopen().postedExpirySteps("ab12")).toEqual(new Set(["30d"]));
    file.state().forgetExpiryStep("ab12", "30d");
    expect(file.state().postedExpirySteps("ab12")).toEqual(new Set());
    expect(file.state().claimExpiryStep("ab12", "30d", t(2), 120_000)).toBe(true);
    file.close();
  });

  it("never gives a delivered step out again, but lets a stale undelivered claim (its process died) be taken over", () => {
    const file = storeFile();
    const state = file.state();
    const minutes = (base: Date, count: number) => new Date(base.getTime() + count * 60_000);
    expect(state.claimExpiryStep("ab12", "7d", t(1), 120_000)).toBe(true);
    state.deliveredExpiryStep("ab12", "7d", t(1));
    state.forgetExpiryStep("ab12", "7d");
    expect(state.claimExpiryStep("ab12", "7d", t(9), 120_000)).toBe(false);
    expect(state.postedExpirySteps("ab12")).toEqual(new Set(["7d"]));

    // Claimed, then the process died before delivering: nobody else posts it while the claim is fresh.
    expect(state.claimExpiryStep("ab12", "3d", t(2), 120_000)).toBe(true);
    const restarted = file.reopen();
    expect(restarted.claimExpiryStep("ab12", "3d", minutes(t(2), 1), 120_000)).toBe(false);
    expect(restarted.claimExpiryStep("ab12", "3d", minutes(t(2), 2), 120_000)).toBe(true);
    expect(restarted.claimExpiryStep("ab12", "3d", minutes(t(2), 3), 120_000)).toBe(false);
    file.close();
  });

  it("keeps named facts and the message that shows each subject", () => {
    const file = storeFile();
    file.state().setState("last-check-completed-at", t(1).toISOString());
    file.state().setState("last-check-completed-at", t(2).toISOString());
    file.state().rememberMessage("run:r1", { channel: "C0ALERTS01", ts: "1.0001" }, t(1));
    file.state().rememberMessage("run:r1", { channel: "C0ALERTS01", ts: "1.0002" }, t(2));
    const state = file.reopen();
    expect(state.state("last-check-completed-at")).toBe(t(2).toISOString());
    expect(state.state("never-set")).toBeNull();
    expect(state.message("run:r1")).toEqual({ channel: "C0ALERTS01", ts: "1.0002" });
    expect(state.subjectOf({ channel: "C0ALERTS01", ts: "1.0002" })).toBe("run:r1");
    expect(state.subjectOf({ channel: "C0ALERTS01", ts: "1.0001" })).toBeNull();
    expect(() => state.ping()).not.toThrow();
    file.close();
  });

  it("names the store file when the database cannot be used", () => {
    const file = storeFile();
    const state = file.state();
    file.close();
    expect(() => state.ping()).toThrow(/breakglass\.db/);
  });
});
