// A run started from Slack and moved from the CLI: serve notices the change in the store and brings the run's Slack
// message up to date without anyone pressing a button.
import { userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCertificate, DAY } from "../support/certificates.js";
import { eventually } from "../support/eventually.js";
import { breakglassCli } from "../support/runbook-cli.js";
import {
  ALICE,
  CHANNELS,
  configText,
  publishIdpMetadata,
  startHarness,
  type ServeHarness,
} from "../support/serve-harness.js";

const RUNBOOKS = new URL("./runbooks/", import.meta.url).pathname;

let harness: ServeHarness;

beforeAll(async () => {
  // Looks every 50 ms instead of every 15 s, so the test sees the refresh soon; what it asserts is that it happens.
  // The CLI's approver is the OS user, trusted in lab mode: this test is about Slack, not about who approves.
  const osUser = userInfo().username;
  const people = `people:\n  - name: ${osUser}\naccess:\n  run: [${osUser}]\n  approve: [${osUser}]\nidentity:\n  mode: lab\n`;
  harness = await startHarness({
    configYaml: configText("{dir}", people),
    runbookDirectory: RUNBOOKS,
    runWatchIntervalMs: 50,
  });
  publishIdpMetadata(
    harness.directory,
    makeCertificate({
      commonName: "Okta signing",
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 400 * DAY),
    }),
  );
});

afterAll(async () => {
  await harness?.stop();
});

describe("a run moved from the CLI", () => {
  it("shows in its Slack message without a button press: the step it reached, a line in its thread, then its abort", async () => {
    await harness.command("runbook start slack-drill incident=INC-7100", ALICE, CHANNELS.incidents);
    const runId = (await eventually(
      () =>
        harness.service.services.store.audit.auditRecords().find((record) => record.action === "run.started")?.runId ??
        undefined,
      (id) => id !== undefined,
    )) as string;
    await eventually(
      () => harness.service.services.engine.status(runId),
      (view) => view.waitingFor?.kind === "approval",
    );
    const ts = (await eventually(
      () => harness.service.services.store.serveState.message(`run:${runId}`)?.ts,
      (found) => found !== undefined,
    )) as string;
    const updatesOfMessage = () => harness.stub.callsTo("chat.update").filter((call) => call.args["ts"] === ts);
    await eventually(updatesOfMessage, (calls) => JSON.stringify(calls.at(-1)?.args ?? {}).includes("run.approve"));

    const breakglass = breakglassCli(() => ({}), new Date());
    const cli = (...args: string[]) =>
      breakglass(...args, "--config", join(harness.directory, "breakglass.yaml"), "--dir", RUNBOOKS);
    const repliesInThread = () =>
      harness.stub
        .callsTo("chat.postMessage")
        .filter((call) => call.args["thread_ts"] === ts)
        .map((call) => String(call.args["text"]));

    // Bob approves from a terminal: the message moves on to the manual step, and the thread tells of the approval.
    const approved = await cli("runbook", "approve", runId, "--as", "bob");
    expect(approved.stderr).toBe("");
    const atManual = await eventually(
      () => updatesOfMessage().at(-1),
      (call) => JSON.stringify(call?.args ?? {}).includes("run.confirm"),
    );
    expect(JSON.stringify(atManual?.args)).toContain("Write down what was done");
    expect(JSON.stringify(atManual?.args)).not.toContain("run.approve");
    expect(repliesInThread().some((text) => text.startsWith("Step 2 A second person approves the drill"))).toBe(true);

    // Then aborts it there: the message says so and offers no button that would act on a stopped run.
    const aborted = await cli("runbook", "abort", runId, "--as", "alice", "--reason", "wrong runbook");
    expect(aborted.stderr).toBe("");
    const shown = await eventually(
      () => updatesOfMessage().at(-1),
      (call) => String(call?.args["text"]).includes("aborted"),
    );
    expect(JSON.stringify(shown?.args)).not.toContain("run.confirm");
    expect(JSON.stringify(shown?.args)).not.toContain("run.abort");
  });

  it("says in the run's thread when Slack refuses to update its message, then updates it on the next change", async () => {
    await harness.command("runbook start slack-drill incident=INC-7101", ALICE, CHANNELS.incidents);
    const runId = (await eventually(
      () =>
        harness.service.services.store.audit
          .auditRecords()
          .filter((record) => record.action === "run.started")
          .at(1)?.runId ?? undefined,
      (id) => id !== undefined,
    )) as string;
    const ts = (await eventually(
      () => harness.service.services.store.serveState.message(`run:${runId}`)?.ts,
      (found) => found !== undefined,
    )) as string;
    const updatesOfMessage = () => harness.stub.callsTo("chat.update").filter((call) => call.args["ts"] === ts);
    await eventually(updatesOfMessage, (calls) => JSON.stringify(calls.at(-1)?.args ?? {}).includes("run.approve"));

    harness.stub.failNext("chat.update", { ok: false, error: "msg_blocks_too_long" });
    const breakglass = breakglassCli(() => ({}), new Date());
    const approved = await breakglass(
      ...["runbook", "approve", runId, "--as", "bob"],
      ...["--config", join(harness.directory, "breakglass.yaml"), "--dir", RUNBOOKS],
    );
    expect(approved.stderr).toBe("");
    const told = await eventually(
      () =>
        harness.stub
          .callsTo("chat.postMessage")
          .filter((call) => call.args["thread_ts"] === ts)
          .map((call) => JSON.stringify(call.args))
          .find((text) => text.includes("Slack refused to update")),
      (found) => found !== undefined,
    );
    expect(told).toContain("msg_blocks_too_long");
    expect(told).toContain(`breakglass runbook status ${runId.slice(0, 8)}`);
    await eventually(
      () => updatesOfMessage().at(-1),
      (call) => JSON.stringify(call?.args ?? {}).includes("run.confirm"),
    );
  });
});
