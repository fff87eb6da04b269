// A check that retries, seen from Slack: the run's message says which attempt failed, why, and when the next starts,
// once per attempt, and drops it when the step ends. The waits are gated by the test, never timed.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY, makeCertificate } from "../support/certificates.js";
import { eventually } from "../support/eventually.js";
import {
  ALICE,
  CHANNELS,
  configText,
  publishIdpMetadata,
  startHarness,
  type ServeHarness,
} from "../support/serve-harness.js";
import type { RecordedCall } from "../support/slack-api-stub.js";

const RETRYING_RUNBOOK = `id: retry-drill
title: Wait for good metadata
failureMode: recovery
summary: Checks the IdP metadata until it is clean.
inputs: []
steps:
  - id: inspect-metadata
    title: Inspect the IdP metadata
    kind: check
    checks: [metadata]
    expect: clean
    retry: { attempts: 3, interval: 30s }
`;

const expired = makeCertificate({
  commonName: "Okta signing (old)",
  notBefore: new Date(Date.now() - 400 * DAY),
  notAfter: new Date(Date.now() - DAY),
});
const current = makeCertificate({
  commonName: "Okta signing",
  notBefore: new Date(Date.now() - DAY),
  notAfter: new Date(Date.now() + 400 * DAY),
});

let harness: ServeHarness;
/** The waits the engine is in, each released by the test. */
const waits: { milliseconds: number; release: () => void }[] = [];

beforeAll(async () => {
  const runbooks = join(mkdtempSync(join(tmpdir(), "breakglass-progress-runbooks-")), "runbooks");
  mkdirSync(runbooks);
  writeFileSync(join(runbooks, "retry-drill.yaml"), RETRYING_RUNBOOK);
  harness = await startHarness({
    configYaml: configText("{dir}"),
    runbookDirectory: runbooks,
    runbookSeams: {
      sleep: (milliseconds) => new Promise((release) => waits.push({ milliseconds, release: () => release() })),
    },
  });
  publishIdpMetadata(harness.directory, expired);
});

afterAll(async () => {
  for (const wait of waits) wait.release();
  await harness?.stop();
});

function texts(call: RecordedCall): string {
  return JSON.stringify(call.args);
}

function updatesSaying(text: string): RecordedCall[] {
  return harness.stub.callsTo("chat.update").filter((call) => texts(call).includes(text));
}

describe("a run whose check retries, driven from Slack", () => {
  it("updates the run's message once per failed attempt with the attempt, the next try and what it waits for", async () => {
    await harness.command("runbook start retry-drill", ALICE, CHANNELS.incidents);

    await eventually(
      () => updatesSaying("attempt 1 of 3 failed"),
      (calls) => calls.length > 0,
    );
    const first = texts(updatesSaying("attempt 1 of 3 failed")[0] as RecordedCall);
    expect(first).toContain("Retrying: attempt 1 of 3 failed (CERT_EXPIRED, NO_VALID_SIGNING_CERT)");
    expect(first).toMatch(/next try at <!date\^\d+\^\{time_secs\}\|\d\d:\d\d:\d\d UTC> \(every 30 s\)/);
    expect(waits.map((wait) => wait.milliseconds)).toEqual([30_000]);

    waits[0]?.release();
    await eventually(
      () => updatesSaying("attempt 2 of 3 failed"),
      (calls) => calls.length > 0,
    );
    // One update per attempt: the live refresh while the run moves does not repeat an unchanged message.
    expect(updatesSaying("attempt 1 of 3 failed")).toHaveLength(1);

    publishIdpMetadata(harness.directory, current);
    await eventually(
      () => waits,
      (list) => list.length === 2,
    );
    waits[1]?.release();
    const done = await eventually(
      () => updatesSaying("Succeeded"),
      (calls) => calls.length > 0,
    );
    expect(texts(done.at(-1) as RecordedCall)).not.toContain("Retrying");
    expect(updatesSaying("attempt 2 of 3 failed")).toHaveLength(1);
  });
});
