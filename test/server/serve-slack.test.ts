// `breakglass serve` through Bolt's real HTTP receiver on loopback: slash commands, buttons and modals signed as Slack
// signs them, answered within the request, with everything the service says recorded by a Slack Web API stub.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCertificate, DAY } from "../support/certificates.js";
import { eventually } from "../support/eventually.js";
import {
  ALICE,
  BOB,
  CHANNELS,
  MALLORY,
  RESPONDERS_GROUP,
  configText,
  startHarness,
  publishIdpMetadata,
  type ServeHarness,
} from "../support/serve-harness.js";
import { sign, slashCommand, TEST_SIGNING_SECRET } from "../support/slack-requests.js";
import type { RecordedCall } from "../support/slack-api-stub.js";

const RUNBOOKS = new URL("./runbooks/", import.meta.url).pathname;
const CAROL = "U0CAROL0001";

let harness: ServeHarness;

function texts(call: RecordedCall | undefined): string {
  return JSON.stringify(call?.args ?? {});
}

function ackText(result: { json: unknown }): string {
  return JSON.stringify(result.json);
}

beforeAll(async () => {
  harness = await startHarness({ configYaml: configText("{dir}"), runbookDirectory: RUNBOOKS });
  const certificate = makeCertificate({
    commonName: "Okta signing",
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 400 * DAY),
  });
  publishIdpMetadata(harness.directory, certificate);
  harness.stub.setUserGroup(RESPONDERS_GROUP, [CAROL]);
  await harness.service.scheduler.runOnce();
});

afterAll(async () => {
  await harness?.stop();
});

describe("slash commands", () => {
  it("answers help at once, in the request, only to the person who asked", async () => {
    const result = await harness.command("help");
    expect(result.status).toBe(200);
    expect(result.json).toMatchObject({ response_type: "ephemeral" });
    for (const command of ["runbook start", "grant", "revoke", "incident declare", "incident close", "status", "check"])
      expect(ackText(result)).toContain(command);
  });

  it("answers unknown input with a short usage message naming the problem, and runs nothing", async () => {
    const before = harness.stub.calls.length;
    const result = await harness.command("deploy prod");
    expect(result.status).toBe(200);
    expect(ackText(result)).toContain('unknown command \\"deploy\\"');
    expect(harness.service.services.store.runs.findRun("anything")).toBeNull();
    expect(harness.stub.calls.slice(before).filter((call) => call.method === "chat.postMessage")).toEqual([]);
  });

  it("shows the posture on status: certificates with days left", async () => {
    const result = await harness.command("status");
    expect(result.status).toBe(200);
    expect(ackText(result)).toContain("IdP signing certificates");
    expect(ackText(result)).toMatch(/in 399 days/);
  });

  it("lists the runbooks with the command that starts each", async () => {
    const result = await harness.command("runbook list");
    expect(ackText(result)).toContain("slack-drill");
    expect(ackText(result)).toContain("runbook start slack-drill incident=");
  });

  it("refuses at once whoever may not start runbooks, audits it, and starts nothing", async () => {
    const result = await harness.command("runbook start slack-drill incident=INC-1", MALLORY);
    expect(result.status).toBe(200);
    // Refused in the acknowledgement itself: never "Starting slack-drill…" first.
    expect(ackText(result)).toMatch(/not allowed to start runbooks/i);
    expect(ackText(result)).not.toContain("Starting");
    const refusals = harness.service.services.store.audit
      .auditRecords()
      .filter((record) => record.action === "slack.refused");
    expect(refusals.at(-1)).toMatchObject({ actor: `slack:${MALLORY}`, subject: "runbook-start" });
    expect(harness.service.services.store.audit.auditRecords().some((record) => record.action === "run.started")).toBe(
      false,
    );
  });
});

describe("requests that are not Slack's", () => {
  it("refuses a forged signature, a stale timestamp, a replay and missing headers with 401, and counts each", async () => {
    const before = harness.stub.calls.length;
    const body = slashCommand("runbook start slack-drill incident=INC-9", {
      user: ALICE,
      responseUrl: harness.stub.responseUrl("forged"),
    });
    const forged = await harness.raw(body, sign(body, "not-the-signing-secret"));
    const stale = await harness.raw(body, sign(body, TEST_SIGNING_SECRET, Math.floor(Date.now() / 1000) - 6 * 60));
    const missing = await harness.raw(body, {});
    const help = slashCommand("help", { user: ALICE, responseUrl: harness.stub.responseUrl("replayed") });
    const headers = sign(help);
    const first = await harness.raw(help, headers);
    const replayed = await harness.raw(help, headers);
    expect([forged.status, stale.status, missing.status, first.status, replayed.status]).toEqual([
      401, 401, 401, 200, 401,
    ]);
    expect(harness.stub.calls.slice(before)).toEqual([]);
    expect(harness.service.services.store.audit.auditRecords().some((record) => record.action === "run.started")).toBe(
      false,
    );

    const metrics = (await harness.get("/metrics")).text;
    expect(metrics).toMatch(/breakglass_slack_requests_rejected_total\{reason="forged"\} 1/);
    expect(metrics).toMatch(/breakglass_slack_requests_rejected_total\{reason="stale"\} 1/);
    expect(metrics).toMatch(/breakglass_slack_requests_rejected_total\{reason="replayed"\} 1/);
    expect(metrics).toMatch(/breakglass_slack_requests_rejected_total\{reason="missing-headers"\} 1/);
  });

  it("answers correctly signed but malformed payloads with 400 at once, naming the problem, and runs nothing", async () => {
    const before = harness.stub.calls.length;
    const notJson = "payload=%7Bnot-json";
    const noUser = `payload=${encodeURIComponent(JSON.stringify({ type: "block_actions", actions: [{ action_id: "run.abort", value: "x" }] }))}`;
    const elsewhere = slashCommand("runbook start slack-drill incident=INC-1", {
      user: ALICE,
      responseUrl: "https://attacker.example/collect",
    });
    // "At once" is the 400 itself: the guard answers before Bolt, so nothing can be waiting on a run or on Slack.
    const results = await Promise.all(
      [notJson, noUser, elsewhere].map((body) => harness.raw(body, sign(body), "application/x-www-form-urlencoded")),
    );
    expect(results.map((result) => [result.status, result.body])).toEqual([
      [400, "malformed Slack request: payload is not a JSON object\n"],
      [400, "malformed Slack request: block_actions without user.id\n"],
      [400, "malformed Slack request: response_url points at attacker.example, not at Slack\n"],
    ]);
    expect(harness.stub.calls.slice(before)).toEqual([]);
    expect(harness.service.services.store.audit.auditRecords().some((record) => record.action === "run.started")).toBe(
      false,
    );
    expect((await harness.get("/metrics")).text).toMatch(
      /breakglass_slack_requests_rejected_total\{reason="malformed"\} 3/,
    );
  });
});

describe("a runbook run from Slack", () => {
  it("is one message that updates in place, with buttons only the right people can press, every press audited", async () => {
    const started = await harness.command("runbook start slack-drill incident=INC-4711", ALICE, CHANNELS.incidents);
    expect(ackText(started)).toContain("Starting slack-drill");

    // The run's message appears in the channel and stops at the approval, with Approve and Reject.
    const posted = await eventually(
      () => harness.stub.callsTo("chat.postMessage").find((call) => texts(call).includes("Drill the Slack surface")),
      (call) => call !== undefined,
    );
    expect(posted?.args["channel"]).toBe(CHANNELS.incidents);
    const runId = String(
      (
        await eventually(
          () => harness.service.services.store.audit.auditRecords().find((record) => record.action === "run.started"),
          (record) => record !== undefined,
        )
      )?.runId,
    );
    const message = { channel: CHANNELS.incidents, ts: await messageTs(runId) };
    const waiting = await eventually(
      () => harness.stub.callsTo("chat.update").filter((call) => texts(call).includes("run.approve")),
      (calls) => calls.length > 0,
    );
    expect(texts(waiting.at(-1))).toContain("A second person approves the drill");

    // Mallory is refused; Alice started the run, so she cannot approve it; Bob can.
    await harness.press("run.approve", runId, MALLORY, message);
    await eventually(
      () => harness.stub.callsTo("chat.postEphemeral").filter((call) => call.args["user"] === MALLORY),
      (calls) => calls.length > 0,
    );
    expect(texts(harness.stub.callsTo("chat.postEphemeral").find((call) => call.args["user"] === MALLORY))).toMatch(
      /not allowed to approve/i,
    );

    await harness.press("run.approve", runId, ALICE, message);
    const refused = await eventually(
      () => harness.stub.callsTo("chat.postEphemeral").filter((call) => call.args["user"] === ALICE),
      (calls) => calls.length > 0,
    );
    expect(texts(refused[0])).toContain("needs a second person");

    await harness.press("run.approve", runId, BOB, message);
    const atManual = await eventually(
      () => harness.stub.callsTo("chat.update").filter((call) => texts(call).includes("run.confirm")),
      (calls) => calls.length > 0,
    );
    expect(texts(atManual.at(-1))).toContain("Write down what was done");
    expect(texts(atManual.at(-1))).not.toContain("run.approve");

    // The manual step asks a question: Done opens a modal, and its answer moves the run on.
    await harness.press("run.confirm", runId, CAROL, message);
    const modal = await eventually(
      () => harness.stub.callsTo("views.open"),
      (calls) => calls.length > 0,
    );
    expect(texts(modal[0])).toContain("What was done, in which accounts?");
    await harness.submit("run.confirm.record", runId, CAROL, { record: { record: "nothing changed in 111111111111" } });
    await eventually(
      () =>
        harness.stub
          .callsTo("chat.update")
          .filter((call) => texts(call).includes("waiting for a manual step at step 4 (Look at the console)")),
      (calls) => calls.length > 0,
    );

    // Skip passes over the optional manual step; the run announces its end in the incidents channel and finishes.
    await harness.press("run.skip", runId, CAROL, message);
    const announced = await eventually(
      () => harness.stub.callsTo("chat.postMessage").filter((call) => texts(call).includes("INC-4711 drill complete")),
      (calls) => calls.length > 0,
    );
    expect(announced[0]?.args["channel"]).toBe(CHANNELS.incidents);
    // The runbook's ${run.initiator} is the audit log's slack:U…; people see a mention, which Slack shows as a name.
    expect(texts(announced[0])).toContain(`started by <@${ALICE}>`);
    expect(texts(announced[0])).not.toContain(`slack:${ALICE}`);
    const finished = await eventually(
      () => harness.service.services.engine.status(runId),
      (view) => view.status === "succeeded",
    );
    expect(finished.steps.map((step) => step.status)).toEqual([
      "succeeded",
      "succeeded",
      "succeeded",
      "skipped",
      "succeeded",
    ]);
    // The update that says the run succeeded, not one of the earlier ones that already show a step's check mark: the
    // message is updated in the background after the run finishes, later still on a busy machine.
    const last = await eventually(
      () => harness.stub.callsTo("chat.update").at(-1),
      (call) => String(call?.args["text"]).endsWith(`run ${runId.slice(0, 8)} succeeded`),
    );
    expect(texts(last)).not.toContain("run.abort");

    // The thread below the message holds one reply per step outcome.
    const replies = harness.stub.callsTo("chat.postMessage").filter((call) => call.args["thread_ts"] === message.ts);
    expect(replies.length).toBeGreaterThanOrEqual(4);

    const presses = harness.service.services.store.audit
      .auditRecords()
      .filter(
        (record) =>
          record.runId === runId &&
          (record.action === "slack.button" ||
            record.action === "slack.refused" ||
            record.action === "slack.submitted"),
      );
    expect(presses.map((record) => `${record.actor} ${record.action} ${record.subject}`)).toEqual([
      `slack:${MALLORY} slack.refused run.approve`,
      `slack:${ALICE} slack.button run.approve`,
      `slack:${BOB} slack.button run.approve`,
      `slack:${CAROL} slack.button run.confirm`,
      `slack:${CAROL} slack.submitted run.confirm`,
      `slack:${CAROL} slack.button run.skip`,
    ]);
  });
});

describe("a rejected run", () => {
  it("asks the rejecter why, stops the run, shows it by its short id, and can be aborted", async () => {
    await harness.command("runbook start slack-drill incident=INC-5000", ALICE, CHANNELS.incidents);
    const started = await eventually(
      () =>
        harness.service.services.store.audit
          .auditRecords()
          .filter((record) => record.action === "run.started")
          .map((record) => record.runId as string),
      (ids) => ids.some((id) => harness.service.services.store.runs.findRun(id)?.inputs["incident"] === "INC-5000"),
    );
    const runId = started.find(
      (id) => harness.service.services.store.runs.findRun(id)?.inputs["incident"] === "INC-5000",
    ) as string;
    await eventually(
      () => harness.service.services.engine.status(runId),
      (view) => view.waitingFor?.kind === "approval",
    );
    const message = { channel: CHANNELS.incidents, ts: await messageTs(runId) };

    const modalsBefore = harness.stub.callsTo("views.open").length;
    await harness.press("run.reject", runId, BOB, message);
    const modal = await eventually(
      () => harness.stub.callsTo("views.open").slice(modalsBefore),
      (calls) => calls.length > 0,
    );
    expect(texts(modal[0])).toContain("Why do you reject it?");

    const empty = await harness.submit("run.reject.reason", runId, BOB, { reason: { reason: "   " } });
    expect(empty.json).toEqual({ response_action: "errors", errors: { reason: "Say why, for the record." } });
    expect((await harness.service.services.engine.status(runId)).status).toBe("waiting");

    await harness.submit("run.reject.reason", runId, BOB, { reason: { reason: "the change window is closed" } });
    const failed = await eventually(
      () => harness.service.services.engine.status(runId),
      (view) => view.status === "failed",
    );
    expect(failed.steps[1]?.outcome?.summary).toBe(`rejected by slack:${BOB}: the change window is closed`);
    const shown = await eventually(
      () =>
        harness.stub
          .callsTo("chat.update")
          .filter((call) => call.args["ts"] === message.ts)
          .at(-1),
      (call) => texts(call).includes("run.advance"),
    );
    expect(texts(shown)).not.toContain("run.approve");

    const short = runId.slice(0, 8);
    const responsesBefore = harness.stub.responses.length;
    await harness.command(`runbook status ${short}`, MALLORY);
    const status = await eventually(
      () => harness.stub.responses.slice(responsesBefore),
      (list) => list.length > 0,
    );
    expect(JSON.stringify(status[0]?.body)).toContain(short);
    expect(JSON.stringify(status[0]?.body)).toContain("Drill the Slack surface");

    // Abort asks why, as the CLI's --reason does; an empty answer is refused in the modal and aborts nothing.
    const abortModalsBefore = harness.stub.callsTo("views.open").length;
    await harness.press("run.abort", runId, ALICE, message);
    const abortModal = await eventually(
      () => harness.stub.callsTo("views.open").slice(abortModalsBefore),
      (calls) => calls.length > 0,
    );
    expect(texts(abortModal[0])).toContain("Why do you abort it?");
    const noReason = await harness.submit("run.abort.reason", runId, ALICE, { reason: { reason: " " } });
    expect(noReason.json).toEqual({ response_action: "errors", errors: { reason: "Say why, for the record." } });
    expect((await harness.service.services.engine.status(runId)).status).toBe("failed");
    await harness.submit("run.abort.reason", runId, ALICE, { reason: { reason: "INC-5000 was a false alarm" } });
    await eventually(
      () => harness.service.services.engine.status(runId),
      (view) => view.status === "aborted",
    );
    const last = await eventually(
      () =>
        harness.stub
          .callsTo("chat.update")
          .filter((call) => call.args["ts"] === message.ts)
          .at(-1),
      (call) => !texts(call).includes("run.abort"),
    );
    expect(texts(last)).not.toContain('"type":"actions"');
    expect(
      harness.service.services.store.audit
        .auditRecords()
        .filter((record) => record.runId === runId && record.action === "run.aborted"),
    ).toMatchObject([{ actor: `slack:${ALICE}`, detail: { reason: "INC-5000 was a false alarm" } }]);
  });
});

describe("App Home and health", () => {
  it("publishes the posture on the App Home tab of whoever opens it", async () => {
    const result = await harness.homeOpened(BOB);
    expect(result.status).toBe(200);
    const published = await eventually(
      () => harness.stub.callsTo("views.publish"),
      (calls) => calls.length > 0,
    );
    expect(published[0]?.args["user_id"]).toBe(BOB);
    expect(texts(published[0])).toContain('"type":"home"');
    expect(texts(published[0])).toMatch(/IdP signing certificates.*in 399 days/);
  });

  it("is live, ready after a check, and exposes Prometheus metrics", async () => {
    expect(await harness.get("/healthz")).toEqual({ status: 200, text: "ok\n" });
    const ready = await harness.get("/readyz");
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toMatchObject({
      ready: true,
      store: "ok",
      lastCheckCompletedAt: expect.any(String),
    });
    const metrics = (await harness.get("/metrics")).text;
    expect(metrics).toMatch(/breakglass_checks_total\{outcome="completed"\} [1-9]/);
    expect(metrics).toMatch(/breakglass_slack_ack_seconds_bucket\{le="3",kind="command"\} [1-9]/);
    expect(metrics).toMatch(/breakglass_runbook_runs\{state="succeeded"\} 1/);
    expect(metrics).toMatch(/breakglass_runbook_runs\{state="aborted"\} 1/);
    expect(metrics).toContain("breakglass_aws_api_errors_total");
  });
});

// After the metrics test above, which counts the runs the earlier tests finished.
describe("rolling a run back from Slack", () => {
  it("offers Roll back on a run that changed something, and undoes it in a run of its own once a second person approves", async () => {
    await harness.command("runbook start slack-window incident=INC-6000", ALICE, CHANNELS.incidents);
    const runId = (await eventually(
      () =>
        harness.service.services.store.audit
          .auditRecords()
          .find((record) => record.action === "run.started" && record.subject === "slack-window")?.runId ?? undefined,
      (id) => id !== undefined,
    )) as string;
    await eventually(
      () => harness.service.services.engine.status(runId),
      (view) => view.status === "succeeded",
    );
    expect(harness.service.services.store.windows.findWindow("INC-6000")?.closedAt).toBeNull();
    const message = { channel: CHANNELS.incidents, ts: await messageTs(runId) };
    const finished = await eventually(
      () =>
        harness.stub
          .callsTo("chat.update")
          .filter((call) => call.args["ts"] === message.ts)
          .at(-1),
      (call) => texts(call).includes("run.rollback"),
    );
    expect(texts(finished)).toContain("Roll this run back?");

    await harness.press("run.rollback", runId, MALLORY, message);
    const refused = await eventually(
      () =>
        harness.stub
          .callsTo("chat.postEphemeral")
          .filter((call) => call.args["user"] === MALLORY && texts(call).includes("roll back")),
      (calls) => calls.length > 0,
    );
    expect(texts(refused[0])).toMatch(/not allowed to roll back runbook runs/i);

    await harness.press("run.rollback", runId, ALICE, message);
    const rollbackId = (await eventually(
      () =>
        harness.service.services.store.audit
          .auditRecords()
          .find((record) => record.action === "run.started" && record.subject === `rollback-${runId}`)?.runId ??
        undefined,
      (id) => id !== undefined,
    )) as string;
    await eventually(
      () => harness.service.services.engine.status(rollbackId),
      (view) => view.waitingFor?.kind === "approval",
    );
    // The rollback has its own message, with Approve on it; the window stays open until the second person approves.
    const posted = await eventually(
      () => harness.stub.callsTo("chat.postMessage").filter((call) => texts(call).includes(`Roll back run ${runId}`)),
      (calls) => calls.length > 0,
    );
    expect(posted[0]?.args["channel"]).toBe(CHANNELS.incidents);
    expect(harness.service.services.store.windows.findWindow("INC-6000")?.closedAt).toBeNull();

    const again = harness.stub.callsTo("chat.postEphemeral").length;
    await harness.press("run.rollback", runId, ALICE, message);
    const pointed = await eventually(
      () =>
        harness.stub
          .callsTo("chat.postEphemeral")
          .slice(again)
          .filter((call) => call.args["user"] === ALICE),
      (calls) => calls.length > 0,
    );
    expect(texts(pointed[0])).toContain(`is already being rolled back by run ${rollbackId}`);

    await harness.press("run.approve", rollbackId, BOB, {
      channel: CHANNELS.incidents,
      ts: await messageTs(rollbackId),
    });
    await eventually(
      () => harness.service.services.engine.status(rollbackId),
      (view) => view.status === "succeeded",
    );
    expect(harness.service.services.store.windows.findWindow("INC-6000")?.closedAt).not.toBeNull();
  });
});

async function messageTs(runId: string): Promise<string> {
  const state = harness.service.services.store.serveState;
  const found = await eventually(
    () => state.message(`run:${runId}`),
    (message) => message !== null,
  );
  return found?.ts ?? "";
}
