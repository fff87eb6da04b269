// End to end through `breakglass serve`: the IdP starts publishing a new signing certificate, the scheduler warns in the
// alerts channel, a responder starts fm2-reimport-metadata from Slack, a second person approves, the emergency IAM SAML
// provider in the AWS emulator is re-imported and read back, and the next check posts the drift's resolution.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CreateSAMLProviderCommand, GetSAMLProviderCommand, IAMClient } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RUNBOOK_DIRECTORY } from "../../src/cli/runbook-command.js";
import { DAY, freshKeyPair, makeCertificate } from "../support/certificates.js";
import { entityXml } from "../support/metadata-builder.js";
import { awsClientConfig, MOTO_DEFAULT_ACCOUNT_ID, startMoto, type MotoServer } from "../support/moto.js";
import { eventually } from "../support/eventually.js";
import { ALICE, BOB, CHANNELS, configText, startHarness, type ServeHarness } from "../support/serve-harness.js";
import type { RecordedCall } from "../support/slack-api-stub.js";
import { visibleText } from "../support/block-text.js";

const NOW = new Date();
const old = makeCertificate({
  commonName: "idp 2025",
  notBefore: new Date(NOW.getTime() - 300 * DAY),
  notAfter: new Date(NOW.getTime() + 400 * DAY),
});
const next = makeCertificate(
  { commonName: "idp 2026", notBefore: new Date(NOW.getTime() - DAY), notAfter: new Date(NOW.getTime() + 800 * DAY) },
  freshKeyPair(),
);
const metadata = (...certificates: { base64: string }[]) =>
  entityXml({ keys: certificates.map((certificate) => ({ base64: certificate.base64, use: "signing" as const })) });

let moto: MotoServer;
let harness: ServeHarness;
let providerArn: string;

const json = (call: RecordedCall | undefined) => JSON.stringify(call?.args ?? {});
const fingerprint = (certificate: { der: Buffer }) => createHash("sha256").update(certificate.der).digest("hex");
const alerts = () =>
  harness.stub.callsTo("chat.postMessage").filter((call) => call.args["channel"] === CHANNELS.alerts);
const providerDocument = async () =>
  (
    await new IAMClient(awsClientConfig(moto.endpoint)).send(
      new GetSAMLProviderCommand({ SAMLProviderArn: providerArn }),
    )
  ).SAMLMetadataDocument;

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: "us-east-1",
  });
  providerArn = (
    await new IAMClient(awsClientConfig(moto.endpoint)).send(
      new CreateSAMLProviderCommand({ Name: "EmergencyIdP", SAMLMetadataDocument: metadata(old) }),
    )
  ).SAMLProviderArn as string;
  const aws = [
    "aws:",
    "  region: us-east-1",
    "  emergencyAccount:",
    `    accountId: "${MOTO_DEFAULT_ACCOUNT_ID}"`,
    `    samlProviders: [${providerArn}]`,
    "checks:",
    "  enabled: [metadata, saml-providers]",
    "",
  ].join("\n");
  harness = await startHarness({ configYaml: configText("{dir}", aws), runbookDirectory: DEFAULT_RUNBOOK_DIRECTORY });
  writeFileSync(join(harness.directory, "idp-metadata.xml"), metadata(old));
}, 60_000);

afterAll(async () => {
  await harness?.stop();
  await moto?.stop();
});

describe("a certificate rollover, from the first warning to its resolution, through Slack", () => {
  it("warns, runs fm2 with a second person's approval, re-imports into the emulator, and posts the resolution", async () => {
    expect((await harness.service.scheduler.runOnce())?.evaluation.findings).toEqual([]);
    expect(alerts()).toEqual([]);

    // The IdP starts publishing its next certificate beside the current one.
    writeFileSync(join(harness.directory, "idp-metadata.xml"), metadata(old, next));
    await harness.service.scheduler.runOnce();
    const warnings = alerts();
    const drift = warnings.find((call) => json(call).includes("SAML_PROVIDER_DRIFT"));
    expect(drift, JSON.stringify(warnings.map((call) => call.args["text"]))).toBeDefined();
    expect(json(drift)).toContain("/breakglass runbook start fm2-reimport-metadata");
    expect(warnings.some((call) => json(call).includes("ROLLOVER_IN_PROGRESS"))).toBe(true);
    await harness.service.scheduler.runOnce();
    expect(alerts()).toHaveLength(warnings.length); // each finding is posted once

    await harness.command(
      `runbook start fm2-reimport-metadata incident=CHG-1203 workforceSignIn=working ` +
        `identityCenterAccountId=${MOTO_DEFAULT_ACCOUNT_ID} identityCenterRegion=us-east-1`,
      ALICE,
      CHANNELS.incidents,
    );
    const started = await eventually(
      () => harness.service.services.store.audit.auditRecords().find((record) => record.action === "run.started"),
      (record) => record !== undefined,
    );
    const runId = String(started?.runId);
    const state = harness.service.services.store.serveState;
    const message = await eventually(
      () => state.message(`run:${runId}`),
      (found) => found !== null,
    );
    expect(message?.channel).toBe(CHANNELS.incidents);
    await eventually(
      () => harness.service.services.engine.status(runId),
      (view) => view.waitingFor?.kind === "approval",
    );
    expect(await providerDocument()).toBe(metadata(old));
    // Before anyone approves, the run message shows what the approval unlocks: the provider, its fingerprints now and after.
    const showsApproval = (call: RecordedCall) =>
      call.args["channel"] === CHANNELS.incidents && json(call).includes("run.approve");
    const atApproval = await eventually(
      () => [...harness.stub.callsTo("chat.postMessage"), ...harness.stub.callsTo("chat.update")].find(showsApproval),
      (call) => call !== undefined,
    );
    const shownAtApproval = visibleText(atApproval?.args["blocks"]);
    expect(shownAtApproval).toContain("*Approving unlocks these changes*");
    expect(shownAtApproval).toContain(
      `• ${providerArn}\n      now: signing certificates sha256 ${fingerprint(old)}\n` +
        `      after: signing certificates sha256 ${[fingerprint(old), fingerprint(next)].sort().join(", ")}`,
    );
    expect(shownAtApproval).toContain("*6. Import the file into every emergency IAM SAML provider*");
    expect(await providerDocument()).toBe(metadata(old));

    await harness.press("run.approve", runId, BOB, { channel: CHANNELS.incidents, ts: message?.ts ?? "" });
    const atUpload = await eventually(
      () => harness.service.services.engine.status(runId),
      (view) => view.waitingFor?.stepId === "upload-to-identity-center",
    );
    const update = atUpload.steps.find((step) => step.id === "update-emergency-providers");
    expect(update).toMatchObject({ status: "succeeded", outcome: { applied: true, verification: { ok: true } } });
    expect(await providerDocument()).toBe(metadata(old, next));
    // The message now waits at the manual upload, with Done and Skip instead of Approve.
    const shown = await eventually(
      () =>
        harness.stub
          .callsTo("chat.update")
          .filter((call) => call.args["ts"] === message?.ts)
          .at(-1),
      (call) => json(call).includes("run.confirm"),
    );
    expect(json(shown)).toContain("Upload the same file");
    expect(json(shown)).not.toContain("run.approve");

    await harness.service.scheduler.runOnce();
    const resolution = alerts().slice(warnings.length);
    expect(resolution).toHaveLength(1);
    expect(json(resolution[0])).toMatch(/[Rr]esolved/);
    expect(json(resolution[0])).toContain("SAML_PROVIDER_DRIFT");
    await harness.service.scheduler.runOnce();
    expect(alerts().slice(warnings.length)).toHaveLength(1); // and only once
  }, 90_000);
});
