// Files to Slack: a manual step that needs a file a run kept (fm2's metadata file to upload in the Identity Center
// console) gets that file in the run's thread through Slack's upload flow, once; without files:write, its path and why.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCertificate, DAY } from "../support/certificates.js";
import { eventually } from "../support/eventually.js";
import {
  ALICE,
  CHANNELS,
  configText,
  publishIdpMetadata,
  startHarness,
  type ServeHarness,
} from "../support/serve-harness.js";
import { MANIFEST_BOT_SCOPES } from "../support/slack-api-stub.js";

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

/** Starts slack-files from Slack and waits until it asks for the upload by hand; returns the run and its message. */
async function startAtUploadStep(incident: string): Promise<{ runId: string; ts: string; path: string }> {
  await harness.command(`runbook start slack-files incident=${incident}`, ALICE, CHANNELS.incidents);
  const runId = (await eventually(
    () =>
      harness.service.services.store.audit
        .auditRecords()
        .filter((record) => record.action === "run.started")
        .map((record) => record.runId as string)
        .find((id) => harness.service.services.store.runs.findRun(id)?.inputs["incident"] === incident),
    (id) => id !== undefined,
  )) as string;
  const view = await eventually(
    () => harness.service.services.engine.status(runId),
    (found) => found.waitingFor?.kind === "manual",
  );
  const ts = (await eventually(
    () => harness.service.services.store.serveState.message(`run:${runId}`)?.ts,
    (found) => found !== undefined,
  )) as string;
  return { runId, ts, path: view.artefacts["metadata-file"] as string };
}

function threadReplies(ts: string): string[] {
  return harness.stub
    .callsTo("chat.postMessage")
    .filter((call) => call.args["thread_ts"] === ts)
    .map((call) => JSON.stringify(call.args));
}

describe("a manual step that needs a file", () => {
  it("gets the exact file the run kept in the run's thread, uploaded once through files.uploadV2's three calls", async () => {
    const { runId, ts, path } = await startAtUploadStep("INC-8100");
    const completed = await eventually(
      () => harness.stub.callsTo("files.completeUploadExternal").filter((call) => call.args["thread_ts"] === ts),
      (calls) => calls.length > 0,
    );
    expect(completed[0]?.args).toMatchObject({ channel_id: CHANNELS.incidents, thread_ts: ts });
    expect(String(completed[0]?.args["initial_comment"])).toContain("For step 2 (Upload the same file by hand)");
    const fileId = (completed[0]?.args["files"] as { id: string }[])[0]?.id;
    const requested = harness.stub
      .callsTo("files.getUploadURLExternal")
      .find((call) => call.args["filename"] === path.split("/").at(-1));
    const kept = readFileSync(path);
    expect(Number(requested?.args["length"])).toBe(kept.length);
    const upload = harness.stub.uploads.find((entry) => entry.fileId === fileId);
    expect(upload?.body).toContain(kept.toString("utf8"));

    // Done moves the run on and its message is refreshed again; the file is not shared a second time.
    await harness.press("run.confirm", runId, ALICE, { channel: CHANNELS.incidents, ts });
    await eventually(
      () => harness.service.services.engine.status(runId),
      (view) => view.status === "succeeded",
    );
    await eventually(
      () =>
        harness.stub
          .callsTo("chat.update")
          .filter((call) => call.args["ts"] === ts)
          .at(-1),
      (call) => String(call?.args["text"]).includes("succeeded"),
    );
    expect(
      harness.stub.callsTo("files.completeUploadExternal").filter((call) => call.args["thread_ts"] === ts),
    ).toHaveLength(1);
  });

  it("without files:write, says in the thread where the file is on the server and which scope the app lacks", async () => {
    harness.stub.setScopes(MANIFEST_BOT_SCOPES.filter((scope) => scope !== "files:write"));
    try {
      const uploadsBefore = harness.stub.uploads.length;
      const { ts, path } = await startAtUploadStep("INC-8200");
      const fallback = await eventually(
        () => threadReplies(ts).filter((reply) => reply.includes("Could not attach")),
        (replies) => replies.length > 0,
      );
      expect(fallback[0]).toContain("missing_scope");
      expect(fallback[0]).toContain("needs the files:write scope");
      expect(fallback[0]).toContain(path);
      expect(harness.stub.uploads.length).toBe(uploadsBefore);
      expect(harness.logs.join("\n")).toContain(`could not share ${path}`);
    } finally {
      harness.stub.setScopes(MANIFEST_BOT_SCOPES);
    }
  });

  it("when Slack's upload service fails, says so in the thread with the path instead", async () => {
    // Three 500s: the first try and the client's two retries.
    const broken = { status: 500, body: "upload service unavailable" };
    harness.stub.failNext("files.getUploadURLExternal", broken, broken, broken);
    const { ts, path } = await startAtUploadStep("INC-8300");
    const fallback = await eventually(
      () => threadReplies(ts).filter((reply) => reply.includes("Could not attach")),
      (replies) => replies.length > 0,
    );
    expect(fallback[0]).toContain("500");
    expect(fallback[0]).toContain(path);
    expect(fallback[0]).not.toContain("files:write");
  });
});

describe("the Slack app manifest", () => {
  it("asks for the scopes the stand-in grants an installed app, files:write among them", () => {
    const manifest = parse(
      readFileSync(new URL("../../examples/slack-app-manifest.yaml", import.meta.url), "utf8"),
    ) as { oauth_config: { scopes: { bot: string[] } } };
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...MANIFEST_BOT_SCOPES].sort());
  });
});
