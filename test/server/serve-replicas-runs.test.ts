// Two serve replicas on one store, in one process: a run started and approved through the follower is executed by
// the leader, and Slack gets each of the run's thread replies once; the follower's engine can write no step.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY, makeCertificate } from "../support/certificates.js";
import { eventually } from "../support/eventually.js";
import {
  ALICE,
  BOB,
  CHANNELS,
  configText,
  publishIdpMetadata,
  startHarness,
  type ServeHarness,
} from "../support/serve-harness.js";
import { startSlackApiStub, type SlackApiStub } from "../support/slack-api-stub.js";

const RUNBOOKS = new URL("./runbooks/", import.meta.url).pathname;
const SHORT_LEASE = "serve:\n  leadership:\n    ttlSeconds: 2\n";

let stub: SlackApiStub;
let leader: ServeHarness;
let follower: ServeHarness;

beforeAll(async () => {
  stub = await startSlackApiStub();
  leader = await startHarness({ configYaml: configText("{dir}", SHORT_LEASE), runbookDirectory: RUNBOOKS, stub });
  publishIdpMetadata(
    leader.directory,
    makeCertificate({
      commonName: "Okta signing",
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 400 * DAY),
    }),
  );
  follower = await startHarness({
    configYaml: configText("{dir}", SHORT_LEASE),
    runbookDirectory: RUNBOOKS,
    stub,
    directory: leader.directory,
  });
});

afterAll(async () => {
  await follower?.stop();
  await leader?.stop();
  await stub?.close();
});

describe("a run moved through a follower", () => {
  it("is executed by the leader: the follower records the start and the approval, the leader runs the steps", async () => {
    expect(leader.service.leadership()).toMatchObject({ role: "leader", token: 1 });
    expect(follower.service.leadership()).toMatchObject({ role: "follower", token: 1 });
    const store = follower.service.services.store;

    await follower.command("runbook start slack-drill incident=INC-77", ALICE, CHANNELS.incidents);
    const started = await eventually(
      () => store.audit.auditRecords().find((record) => record.action === "run.started"),
      (record) => record !== undefined,
    );
    const runId = String(started?.runId);
    // The leader picks the new run up and runs it to the approval.
    await eventually(
      () => store.runs.findRun(runId)?.status,
      (status) => status === "waiting",
    );
    const message = await eventually(
      () => store.serveState.message(`run:${runId}`),
      (found) => found !== null,
    );
    await follower.press("run.approve", runId, BOB, message as { channel: string; ts: string });
    // Approved on the follower; the leader goes on to the manual step.
    await eventually(
      () => store.runs.runSteps(runId).find((step) => step.stepId === "write-down")?.status,
      (status) => status === "waiting",
    );
    const records = store.audit.auditRecords().filter((record) => record.runId === runId);
    expect(records.find((record) => record.action === "approval.granted")?.actor).toBe(`slack:${BOB}`);
    const waitingForRecord = records.find(
      (record) => record.action === "step.waiting" && record.subject === "write-down",
    );
    expect(waitingForRecord?.actor).toBe("breakglass");
    // Each reply in the run's thread once, whichever replica posted it.
    const replies = stub
      .callsTo("chat.postMessage")
      .filter((call) => call.args["thread_ts"] === message?.ts)
      .map((call) => String(call.args["text"]));
    expect(replies.length).toBeGreaterThan(0);
    expect(new Set(replies).size).toBe(replies.length);
  });
});

describe("a run's steps on a replica that does not lead", () => {
  it("are refused for want of the leader's fencing token, and the run stays where it is", async () => {
    const store = follower.service.services.store;
    await follower.command("runbook start slack-drill incident=INC-78", ALICE, CHANNELS.incidents);
    const started = await eventually(
      () =>
        store.audit
          .auditRecords()
          .find(
            (record) =>
              record.action === "run.started" &&
              record.runId !== null &&
              store.runs.findRun(record.runId)?.inputs["incident"] === "INC-78",
          ),
      (record) => record !== undefined,
    );
    const runId = String(started?.runId);
    await eventually(
      () => store.runs.findRun(runId)?.status,
      (status) => status === "waiting",
    );
    const before = { run: store.runs.findRun(runId), steps: store.runs.runSteps(runId), head: store.audit.auditHead() };
    // Asked to go on with it (the Run button, a take-over), a follower leaves it to the leader; and were its engine to
    // go on anyway, the store would refuse the step's first write for want of the leader's fencing token.
    const operator = { person: "bob", label: "bob", verification: "test", verified: true };
    expect(await follower.service.services.runs.resume(runId, operator, { reason: "stuck" })).toMatchObject({
      status: "waiting",
    });
    await expect(follower.service.services.engine.advance(runId, operator.person)).rejects.toMatchObject({
      code: "LEADERSHIP_LOST",
      message: expect.stringContaining("this replica does not lead"),
    });
    expect(store.runs.findRun(runId)).toEqual(before.run);
    expect(store.runs.runSteps(runId)).toEqual(before.steps);
    expect(store.audit.auditHead()).toBe(before.head);
  });
});
