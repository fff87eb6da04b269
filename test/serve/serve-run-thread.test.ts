// A run's thread across a restart of breakglass serve: a step that moved while no process was running (approved from
// the CLI, say) still gets its reply in the thread once the service is back, and nothing is replied twice.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import { loadConfig } from "../../src/config/load-config.js";
import { openRunbookServices } from "../../src/service/runbook-engine.js";
import { ServeStateStore } from "../../src/store/serve-state-store.js";
import { visibleText } from "../support/block-text.js";
import { DAY, makeCertificate } from "../support/certificates.js";
import { eventually } from "../support/eventually.js";
import { entityXml } from "../support/metadata-builder.js";
import { ALICE, CHANNELS, configText, startHarness, type ServeHarness } from "../support/serve-harness.js";
import { startSlackApiStub, type SlackApiStub } from "../support/slack-api-stub.js";

const RUNBOOKS = new URL("./runbooks/", import.meta.url).pathname;

let stub: SlackApiStub;
let harness: ServeHarness | undefined;

afterAll(async () => {
  await harness?.stop();
  await stub?.close();
});

describe("a run's thread across a restart", () => {
  it("replies for the steps that moved while the service was down, once each", async () => {
    stub = await startSlackApiStub();
    const directory = mkdtempSync(join(tmpdir(), "breakglass-run-thread-"));
    const certificate = makeCertificate({ notAfter: new Date(Date.now() + 400 * DAY) });
    writeFileSync(join(directory, "idp-metadata.xml"), entityXml({ keys: [{ base64: certificate.base64, use: "signing" }] }));
    const start = () => startHarness({ configYaml: configText("{dir}"), runbookDirectory: RUNBOOKS, directory, stub });
    harness = await start();

    await harness.command("runbook start slack-drill incident=INC-31", ALICE, CHANNELS.incidents);
    const runId = String((await eventually(() => harness?.service.services.store.auditRecords().find((record) => record.action === "run.started"), (record) => record !== undefined))?.runId);
    const message = new ServeStateStore(harness.service.services.store.connection).message(`run:${runId}`);
    const thread = () => stub.callsTo("chat.postMessage").filter((call) => call.args["thread_ts"] === message?.ts).map((call) => visibleText(call.args["blocks"]));
    await eventually(thread, (replies) => replies.some((reply) => reply.includes("2. A second person approves the drill")));
    await harness.stop();
    const before = thread();
    expect(before.filter((reply) => reply.includes("*1. "))).toHaveLength(1);

    // While no serve runs, Bob approves from the CLI and the run moves on to the manual step.
    const { config } = await loadConfig(join(directory, "breakglass.yaml"));
    const cli = openRunbookServices(config, { runbookDirectory: RUNBOOKS, clock: systemClock, env: {}, notify: () => Promise.resolve() });
    await cli.engine.approve(runId, "bob");
    await cli.engine.advance(runId, "bob");
    expect((await cli.engine.status(runId)).waitingFor?.kind).toBe("manual");
    cli.close();

    harness = await start();
    await harness.press("run.advance", runId, ALICE, { channel: CHANNELS.incidents, ts: message?.ts ?? "" });
    const after = await eventually(
      () => thread().slice(before.length),
      (replies) => replies.some((reply) => reply.includes("3. Write down what was done")),
    );
    expect(after.filter((reply) => reply.includes("*2. A second person approves the drill*"))).toHaveLength(1);
    expect(after.filter((reply) => reply.includes("*3. Write down what was done*"))).toHaveLength(1);
    // The step that had its reply before the restart does not get another.
    expect(after.filter((reply) => reply.includes("*1. "))).toEqual([]);
  }, 30_000);
});
