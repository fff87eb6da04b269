// Take-over from Slack: a run held by a process that stopped renewing its lease (another host's, or a hung one) is
// offered to approvers with a Take over button, which asks why and then resumes the run here, as the CLI's
// `runbook resume --take-over --reason` does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { holderName } from "../../src/domain/runbooks/run-lease.js";
import { makeCertificate, DAY } from "../support/certificates.js";
import { eventually } from "../support/eventually.js";
import {
  ALICE,
  BOB,
  CHANNELS,
  MALLORY,
  configText,
  publishIdpMetadata,
  startHarness,
  type ServeHarness,
} from "../support/serve-harness.js";

const RUNBOOKS = new URL("./runbooks/", import.meta.url).pathname;

let harness: ServeHarness;

beforeAll(async () => {
  harness = await startHarness({ configYaml: configText("{dir}"), runbookDirectory: RUNBOOKS });
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

function ephemeralsTo(user: string, after: number): string[] {
  return harness.stub
    .callsTo("chat.postEphemeral")
    .slice(after)
    .filter((call) => call.args["user"] === user)
    .map((call) => JSON.stringify(call.args));
}

describe("a run held by a process that stopped renewing its lease", () => {
  it("offers approvers Take over, which asks why, audits it, and moves the run on here", async () => {
    await harness.command("runbook start slack-drill incident=INC-9100", ALICE, CHANNELS.incidents);
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
    const message = { channel: CHANNELS.incidents, ts };

    // A process on another host took the run 45 s ago and has not renewed its 60 s lease since: two heartbeats missed.
    const elsewhere = holderName({ hostname: "elsewhere.example", pid: 4242, isProcessAlive: () => true }, "deadbeef");
    harness.service.services.store.runs.acquireLease(runId, elsewhere, new Date(Date.now() - 45_000), 60_000);

    const before = harness.stub.callsTo("chat.postEphemeral").length;
    await harness.press("run.approve", runId, BOB, message);
    const busy = await eventually(
      () => ephemeralsTo(BOB, before),
      (replies) => replies.length > 0,
    );
    expect(busy[0]).toContain(`being advanced by ${elsewhere}`);
    expect(busy[0]).toContain('"action_id":"run.takeover"');

    // Whoever may not approve is refused the take-over, and it is on the record.
    await harness.press("run.takeover", runId, MALLORY, message);
    const refused = await eventually(
      () => ephemeralsTo(MALLORY, before),
      (replies) => replies.length > 0,
    );
    expect(refused[0]).toMatch(/not allowed to take over runbook runs/i);

    const modalsBefore = harness.stub.callsTo("views.open").length;
    await harness.press("run.takeover", runId, BOB, message);
    const modal = await eventually(
      () => harness.stub.callsTo("views.open").slice(modalsBefore),
      (calls) => calls.length > 0,
    );
    expect(JSON.stringify(modal[0]?.args)).toContain(`held by ${elsewhere}`);
    expect(JSON.stringify(modal[0]?.args)).toContain("Why take it over?");
    const empty = await harness.submit("run.takeover.reason", runId, BOB, { reason: { reason: "" } });
    expect(empty.json).toEqual({ response_action: "errors", errors: { reason: "Say why, for the record." } });
    expect(harness.service.services.store.runs.findRun(runId)?.leaseHolder).toBe(elsewhere);

    await harness.submit("run.takeover.reason", runId, BOB, { reason: { reason: "elsewhere.example was shut down" } });
    const takenOver = await eventually(
      () =>
        harness.service.services.store.audit
          .auditRecords()
          .filter((record) => record.runId === runId && record.action === "run.lease-taken-over"),
      (records) => records.length > 0,
    );
    expect(takenOver[0]).toMatchObject({
      actor: `slack:${BOB}`,
      detail: { previousHolder: elsewhere, because: "asked to take over", reason: "elsewhere.example was shut down" },
    });
    // The run is this process's again: Bob's approval now goes through.
    await eventually(
      () => harness.service.services.store.runs.findRun(runId)?.leaseHolder,
      (holder) => holder !== elsewhere,
    );
    await harness.press("run.approve", runId, BOB, message);
    await eventually(
      () => harness.service.services.engine.status(runId),
      (view) => view.waitingFor?.kind === "manual",
    );
  });

  it("lets an approver whose Abort was refused take the run over and abort it, with the reason on the record", async () => {
    await harness.command("runbook start slack-drill incident=INC-9200", ALICE, CHANNELS.incidents);
    const runId = (await eventually(
      () =>
        harness.service.services.store.audit
          .auditRecords()
          .filter((record) => record.action === "run.started")
          .map((record) => record.runId as string)
          .find((id) => harness.service.services.store.runs.findRun(id)?.inputs["incident"] === "INC-9200"),
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
    const elsewhere = holderName({ hostname: "elsewhere.example", pid: 4243, isProcessAlive: () => true }, "cafef00d");
    harness.service.services.store.runs.acquireLease(runId, elsewhere, new Date(Date.now() - 45_000), 60_000);

    // Abort asks why; the abort is refused while another process holds the run, and the answer offers the take-over.
    const directBefore = harness.stub.callsTo("chat.postMessage").length;
    await harness.press("run.abort", runId, ALICE, { channel: CHANNELS.incidents, ts });
    await harness.submit("run.abort.reason", runId, ALICE, { reason: { reason: "wrong incident" } });
    const busy = await eventually(
      () =>
        harness.stub
          .callsTo("chat.postMessage")
          .slice(directBefore)
          .filter((call) => call.args["channel"] === ALICE)
          .map((call) => JSON.stringify(call.args)),
      (replies) => replies.length > 0,
    );
    expect(busy[0]).toContain(`being advanced by ${elsewhere}`);
    expect(busy[0]).toContain('"action_id":"run.takeover-abort"');
    await expect(harness.service.services.engine.status(runId)).resolves.toMatchObject({ status: "waiting" });

    const modalsBefore = harness.stub.callsTo("views.open").length;
    await harness.press("run.takeover-abort", runId, ALICE, { channel: ALICE, ts: "1.0" });
    const modal = await eventually(
      () => harness.stub.callsTo("views.open").slice(modalsBefore),
      (calls) => calls.length > 0,
    );
    expect(JSON.stringify(modal[0]?.args)).toContain("Take over and abort");
    await harness.submit("run.takeover-abort.reason", runId, ALICE, {
      reason: { reason: "wrong incident, host gone" },
    });
    await eventually(
      () => harness.service.services.engine.status(runId),
      (view) => view.status === "aborted",
    );
    const records = harness.service.services.store.audit.auditRecords().filter((record) => record.runId === runId);
    expect(records.find((record) => record.action === "run.lease-taken-over")).toMatchObject({
      detail: { previousHolder: elsewhere, reason: "wrong incident, host gone" },
    });
    expect(records.find((record) => record.action === "run.aborted")).toMatchObject({
      actor: `slack:${ALICE}`,
      detail: { reason: "wrong incident, host gone" },
    });
  });
});
