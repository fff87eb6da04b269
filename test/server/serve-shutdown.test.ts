// Restarting serve in the middle of a run. Shutdown with a step in flight: serve waits out its grace, leaves the run where
// the store has it and gives up the run's lease, so that the next process resumes it at once (re-running that step)
// instead of waiting 10 minutes. A step that moved while no serve ran (approved from the CLI, say) still gets its reply
// in the run's thread once the service is back, and nothing is replied twice.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/domain/shared/clock.js";
import { loadConfig } from "../../src/config/load-config.js";
import { openRunbookServices } from "../../src/application/runbook-runtime.js";
import { visibleText } from "../support/block-text.js";
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
import { startSlackApiStub, type SlackApiStub } from "../support/slack-api-stub.js";
import { person } from "../support/actors.js";

const RUNBOOKS = new URL("./runbooks/", import.meta.url).pathname;

let stub: SlackApiStub;
let harness: ServeHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
  await stub?.close();
});

describe("stopping breakglass serve while a run is moving", () => {
  it("checkpoints the run, and the next process, leading at once, resumes it straight away", async () => {
    stub = await startSlackApiStub();
    const directory = mkdtempSync(join(tmpdir(), "breakglass-shutdown-"));
    const certificate = makeCertificate({
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 400 * DAY),
    });
    publishIdpMetadata(directory, certificate);
    const start = () =>
      startHarness({
        configYaml: configText("{dir}"),
        runbookDirectory: RUNBOOKS,
        directory,
        stub,
        shutdownGraceMs: 300,
      });
    harness = await start();

    await harness.command("runbook start slack-waits incident=INC-7", ALICE, CHANNELS.incidents);
    const started = await eventually(
      () => harness?.service.services.store.audit.auditRecords().find((record) => record.action === "step.started"),
      (record) => record !== undefined,
    );
    const runId = String(started?.runId);
    // The log is the proof that stopping did not wait for the run: the 0.3 s grace ran out and the run was left to resume.
    await harness.stop();
    expect(harness.logs.join("\n")).toContain(
      `work still in flight after 0.3 s is left where the store has it (runs ${runId}: resume them`,
    );

    // The next process leads at once (the lease was given up) and goes on with the run itself: nobody has to press.
    harness = await start();
    const resumed = await eventually(
      () =>
        harness?.service.services.store.audit
          .auditRecords()
          .filter((record) => record.runId === runId && record.action === "step.resumed") ?? [],
      (records) => records.length > 0,
    );
    expect(resumed[0]).toMatchObject({
      actor: "breakglass",
      subject: "wait-for-outage",
      detail: { interruptedWhile: "running" },
    });
    expect(
      stub
        .callsTo("chat.postEphemeral")
        .filter(
          (call) =>
            JSON.stringify(call.args).includes("RUN_BUSY") || JSON.stringify(call.args).includes("being advanced by"),
        ),
    ).toEqual([]);
  }, 30_000);
});

describe("a run's thread across a restart", () => {
  it("replies for the steps that moved while the service was down, once each", async () => {
    stub = await startSlackApiStub();
    const directory = mkdtempSync(join(tmpdir(), "breakglass-run-thread-"));
    const certificate = makeCertificate({ notAfter: new Date(Date.now() + 400 * DAY) });
    publishIdpMetadata(directory, certificate);
    const start = () => startHarness({ configYaml: configText("{dir}"), runbookDirectory: RUNBOOKS, directory, stub });
    harness = await start();

    await harness.command("runbook start slack-drill incident=INC-31", ALICE, CHANNELS.incidents);
    const runId = String(
      (
        await eventually(
          () => harness?.service.services.store.audit.auditRecords().find((record) => record.action === "run.started"),
          (record) => record !== undefined,
        )
      )?.runId,
    );
    // The run's message is posted after run.started is audited: read before, it is not there yet, and every message
    // in the channel would pass for its thread.
    const message = await eventually(
      () => harness?.service.services.store.serveState.message(`run:${runId}`),
      (found) => found !== null && found !== undefined,
    );
    const thread = () =>
      stub
        .callsTo("chat.postMessage")
        .filter((call) => call.args["thread_ts"] === message?.ts)
        .map((call) => visibleText(call.args["blocks"]));
    await eventually(thread, (replies) =>
      replies.some((reply) => reply.includes("2. A second person approves the drill")),
    );
    await harness.stop();
    const before = thread();
    expect(before.filter((reply) => reply.includes("*1. "))).toHaveLength(1);

    // While no serve runs, Bob approves from the CLI and the run moves on to the manual step.
    const { config } = await loadConfig(join(directory, "breakglass.yaml"));
    const cli = openRunbookServices(config, {
      runbookDirectory: RUNBOOKS,
      clock: systemClock,
      env: {},
      notify: () => Promise.resolve(),
    });
    await cli.engine.approve(runId, person("bob"));
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
