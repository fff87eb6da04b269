// Shutdown with a runbook step in flight: serve waits out its grace, leaves the run where the store has it and gives up
// the run's lease, so that the next process resumes it at once (re-running that step) instead of waiting 10 minutes.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ServeStateStore } from "../../src/store/serve-state-store.js";
import { DAY, makeCertificate } from "../support/certificates.js";
import { entityXml } from "../support/metadata-builder.js";
import { eventually } from "../support/eventually.js";
import { ALICE, CHANNELS, configText, startHarness, type ServeHarness } from "../support/serve-harness.js";
import { startSlackApiStub, type SlackApiStub } from "../support/slack-api-stub.js";

const RUNBOOKS = new URL("./runbooks/", import.meta.url).pathname;

let stub: SlackApiStub;
let harness: ServeHarness | undefined;

afterAll(async () => {
  await harness?.stop();
  await stub?.close();
});

describe("stopping breakglass serve while a run is moving", () => {
  it("checkpoints the run and lets the next process resume it straight away", async () => {
    stub = await startSlackApiStub();
    const directory = mkdtempSync(join(tmpdir(), "breakglass-shutdown-"));
    const certificate = makeCertificate({ notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 400 * DAY) });
    writeFileSync(join(directory, "idp-metadata.xml"), entityXml({ keys: [{ base64: certificate.base64, use: "signing" }] }));
    const start = () => startHarness({ configYaml: configText("{dir}"), runbookDirectory: RUNBOOKS, directory, stub, shutdownGraceMs: 300 });
    harness = await start();

    await harness.command("runbook start slack-waits incident=INC-7", ALICE, CHANNELS.incidents);
    const started = await eventually(() => harness?.service.services.store.auditRecords().find((record) => record.action === "step.started"), (record) => record !== undefined);
    const runId = String(started?.runId);
    const stopping = performance.now();
    await harness.stop();
    expect(performance.now() - stopping).toBeLessThan(3_000);
    expect(harness.logs.join("\n")).toContain(`work still in flight after 0.3 s is left where the store has it (runs ${runId}: resume them`);

    harness = await start();
    const state = new ServeStateStore(harness.service.services.store.connection);
    const message = state.message(`run:${runId}`);
    expect(harness.service.services.store.findRun(runId)).toMatchObject({ status: "running", leaseHolder: null });
    await harness.press("run.advance", runId, ALICE, { channel: CHANNELS.incidents, ts: message?.ts ?? "" });
    const resumed = await eventually(() => harness?.service.services.store.auditRecords().filter((record) => record.runId === runId && record.action === "step.resumed") ?? [], (records) => records.length > 0);
    expect(resumed[0]).toMatchObject({ actor: `slack:${ALICE}`, subject: "wait-for-outage", detail: { interruptedWhile: "running" } });
    expect(stub.callsTo("chat.postEphemeral").filter((call) => JSON.stringify(call.args).includes("RUN_BUSY") || JSON.stringify(call.args).includes("being advanced by"))).toEqual([]);
  }, 30_000);
});
