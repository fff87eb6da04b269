// The expiry ladder through the running service: a certificate walking from 61 days to its expiry gets exactly one
// warning per ladder step in the alerts channel, also when the service restarts halfway, because the store remembers.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DAY, makeCertificate } from "../support/certificates.js";
import { CHANNELS, configText, startHarness, publishIdpMetadata, type ServeHarness } from "../support/serve-harness.js";
import { startSlackApiStub, type SlackApiStub } from "../support/slack-api-stub.js";
import { SteppingClock } from "../support/stepping-clock.js";

const RUNBOOKS = new URL("./runbooks/", import.meta.url).pathname;
const START = new Date("2026-11-25T06:00:00Z");
const NOT_AFTER = new Date(START.getTime() + 61 * DAY);

let stub: SlackApiStub;
let harness: ServeHarness | undefined;

afterAll(async () => {
  await harness?.stop();
  await stub?.close();
});

describe("certificate expiry warnings through breakglass serve", () => {
  it("posts one message per ladder step from 61 days to expiry, across a restart", async () => {
    stub = await startSlackApiStub();
    const directory = mkdtempSync(join(tmpdir(), "breakglass-ladder-"));
    const certificate = makeCertificate({
      commonName: "Okta signing 2026",
      notBefore: new Date(START.getTime() - 300 * DAY),
      notAfter: NOT_AFTER,
    });
    publishIdpMetadata(directory, certificate);
    const clock = new SteppingClock(START);
    const start = () =>
      startHarness({ configYaml: configText("{dir}"), runbookDirectory: RUNBOOKS, clock, directory, stub });
    harness = await start();

    const daysLeftWhenPosted: number[] = [];
    const alerts: string[] = [];
    for (let daysLeft = 61; daysLeft >= -2; daysLeft--) {
      if (daysLeft === 25) {
        // A restart between the 30-day and the 14-day warnings: a new process, the same store.
        await harness.stop();
        harness = await start();
      }
      const before = stub.callsTo("chat.postMessage").length;
      await harness.service.scheduler.runOnce();
      const posted = stub
        .callsTo("chat.postMessage")
        .slice(before)
        .filter((call) => call.args["channel"] === CHANNELS.alerts);
      for (const call of posted) {
        if (String(call.args["text"]).includes("signing certificate sha256")) daysLeftWhenPosted.push(daysLeft);
        else alerts.push(`${daysLeft}: ${String(call.args["text"])}`);
      }
      clock.advance(DAY);
    }

    // 60, 30, 14, 7, 3 and 1 days before, then daily once expired.
    expect(daysLeftWhenPosted).toEqual([60, 30, 14, 7, 3, 1, 0, -1, -2]);
    const texts = stub
      .callsTo("chat.postMessage")
      .filter((call) => String(call.args["text"]).includes("signing certificate sha256"))
      .map((call) => String(call.args["text"]));
    expect(texts[0]).toContain("(CN=Okta signing 2026) expires in 60 days");
    expect(texts[5]).toContain("expires in 1 day");
    expect(texts[6]).toContain("expired less than a day ago");
    expect(texts[8]).toMatch(/expired 2 days ago/);
    // Its consequence is an alert of its own, posted once.
    expect(alerts).toEqual([expect.stringMatching(/^0: Critical NO_VALID_SIGNING_CERT: /)]);
  }, 60_000);
});
