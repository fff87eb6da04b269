// FM2's guarded re-import, through the CLI and through signed Slack requests to the real service: a full key change that
// no pinned signer vouches for is applied only after the approver types the start of the new certificate's SHA-256.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateSAMLProviderCommand,
  GetSAMLProviderCommand,
  IAMClient,
  UpdateSAMLProviderCommand,
} from "@aws-sdk/client-iam";
import { ListInstancesCommand, SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRunbookServices } from "../../src/application/runbook-runtime.js";
import { main } from "../../src/cli/main.js";
import { loadConfig } from "../../src/config/load-config.js";
import type { AuditRecord } from "../../src/domain/audit/audit-chain.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import {
  asPrincipal,
  iamUserPrincipal,
  motoAwsYamlLines,
  principalNamedIn,
  type TestPrincipal,
} from "../support/aws-principals.js";
import { DAY, freshKeyPair, makeCertificate, type TestCertificate } from "../support/certificates.js";
import { eventually } from "../support/eventually.js";
import { entityXml, signDocument } from "../support/metadata-builder.js";
import { awsClientConfig, MOTO_DEFAULT_ACCOUNT_ID, startMoto, type MotoServer } from "../support/moto.js";
import { ALICE, BOB, CHANNELS, startHarness, type ServeHarness } from "../support/serve-harness.js";

const NOW = new Date();
const RUNBOOKS = join(import.meta.dirname, "..", "..", "runbooks");
const PATIENCE = 60_000;
const validFor = (name: string) => ({
  commonName: name,
  notBefore: new Date(NOW.getTime() - DAY),
  notAfter: new Date(NOW.getTime() + 700 * DAY),
});
const old = makeCertificate(validFor("idp old"));
const next = makeCertificate(validFor("idp next"), freshKeyPair());
const signer = makeCertificate(validFor("metadata signer"), freshKeyPair());
const metadata = (...certificates: TestCertificate[]) =>
  entityXml({ keys: certificates.map((certificate) => ({ base64: certificate.base64, use: "signing" as const })) });
const sha256 = (certificate: TestCertificate) => createHash("sha256").update(certificate.der).digest("hex");
/** As the IdP's admin console shows it: upper case, colon-separated pairs. */
const consoleFingerprint = (certificate: TestCertificate) =>
  (sha256(certificate).toUpperCase().match(/.{2}/g) ?? []).join(":");
const FM2_INPUTS = [
  "incident=CHG-1203",
  "workforceSignIn=working",
  `emergencyAccountId=${MOTO_DEFAULT_ACCOUNT_ID}`,
  `identityCenterAccountId=${MOTO_DEFAULT_ACCOUNT_ID}`,
  "identityCenterRegion=us-east-1",
];

let moto: MotoServer;
let iam: IAMClient;
let providerArn: string;
let instanceArn: string;
const people: Record<string, TestPrincipal> = {};

const providerDocument = async () =>
  (await iam.send(new GetSAMLProviderCommand({ SAMLProviderArn: providerArn }))).SAMLMetadataDocument;
const providerHolds = (document: string) =>
  iam.send(new UpdateSAMLProviderCommand({ SAMLProviderArn: providerArn, SAMLMetadataDocument: document }));

function configYaml(directory: string, extra: string[] = []): string {
  return [
    "idp:",
    "  name: Test IdP",
    `  metadata: ${join(directory, "idp-metadata.xml")}`,
    ...extra,
    ...motoAwsYamlLines(providerArn, instanceArn),
    "store:",
    `  path: ${join(directory, "breakglass.db")}`,
    "slack:",
    "  channels:",
    `    alerts: ${CHANNELS.alerts}`,
    `    incidents: ${CHANNELS.incidents}`,
    `    security: ${CHANNELS.security}`,
    "  access:",
    `    run: [${ALICE}]`,
    `    approve: [${ALICE}, ${BOB}]`,
    "people:",
    ...Object.entries({ alice: ALICE, bob: BOB }).flatMap(([name, slack]) => [
      `  - name: ${name}`,
      `    slack: [${slack}]`,
      "    aws:",
      `      - userArn: ${people[name]?.arn ?? ""}`,
    ]),
    "",
  ].join("\n");
}

async function auditRecords(directory: string): Promise<AuditRecord[]> {
  const { config } = await loadConfig(join(directory, "breakglass.yaml"));
  const services = openRunbookServices(config, {
    runbookDirectory: RUNBOOKS,
    clock: fixedClock(NOW),
    env: {},
    notify: () => Promise.resolve(),
  });
  try {
    return services.store.audit.auditRecords();
  } finally {
    services.close();
  }
}

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: "us-east-1",
  });
  iam = new IAMClient(awsClientConfig(moto.endpoint));
  providerArn = (
    await iam.send(new CreateSAMLProviderCommand({ Name: "EmergencyIdP", SAMLMetadataDocument: metadata(old) }))
  ).SAMLProviderArn as string;
  instanceArn = (await new SSOAdminClient(awsClientConfig(moto.endpoint)).send(new ListInstancesCommand({})))
    .Instances?.[0]?.InstanceArn as string;
  people["alice"] = await iamUserPrincipal(moto.endpoint, "alice");
  people["bob"] = await iamUserPrincipal(moto.endpoint, "bob");
}, PATIENCE);

afterAll(async () => {
  await moto?.stop();
});

describe("the guarded re-import from the CLI", () => {
  let directory: string;
  let prompted: string[] = [];
  let answer: string | undefined;
  const breakglass = async (...args: string[]) => {
    let stdout = "";
    let stderr = "";
    const code = await asPrincipal(principalNamedIn(args, people), () =>
      main([...args, "--config", join(directory, "breakglass.yaml")], {
        stdout: (text) => void (stdout += text),
        stderr: (text) => void (stderr += text),
        stdoutIsTty: false,
        env: { XDG_CACHE_HOME: join(directory, "cache") },
        clock: fixedClock(NOW),
        ...(answer === undefined
          ? {}
          : {
              prompt: (question: string) => {
                prompted.push(question);
                return Promise.resolve(answer ?? "");
              },
            }),
      }),
    );
    return { code, stdout, stderr };
  };
  const startFm2 = async () => {
    const started = await breakglass(
      "runbook",
      "run",
      "fm2-reimport-metadata",
      "--as",
      "alice",
      ...FM2_INPUTS.flatMap((input) => ["--input", input]),
    );
    expect(started.stderr).toBe("");
    expect(started.stdout).toContain("Waiting for a second person to approve");
    return { runId: /Started run (\S+) of/.exec(started.stdout)?.[1] as string, stdout: started.stdout };
  };
  const approve = (runId: string, ...extra: string[]) =>
    breakglass("runbook", "approve", runId, "--as", "bob", ...extra);

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), "breakglass-guard-cli-"));
    writeFileSync(join(directory, "signer.pem"), signer.pem);
    writeFileSync(join(directory, "breakglass.yaml"), configYaml(directory));
  });

  it("asks for no fingerprint when the new metadata keeps a key the provider trusts", async () => {
    await providerHolds(metadata(old));
    writeFileSync(join(directory, "idp-metadata.xml"), metadata(old, next));
    const { runId, stdout } = await startFm2();
    expect(stdout).toContain("keeps a signing key each provider already trusts");
    expect(stdout).toContain(`new:  CN=idp next, expires ${validFor("").notAfter.toISOString().slice(0, 10)}`);
    expect(stdout).toContain(`sha256 ${consoleFingerprint(next)}`);
    const approved = await approve(runId);
    expect(approved.stderr).toBe("");
    expect(approved.code).toBe(0);
    expect(await providerDocument()).toBe(metadata(old, next));
  });

  it("notes a full key change signed by the pinned metadata signer, and asks for no fingerprint", async () => {
    const signed = join(directory, "signed");
    mkdirSync(signed);
    writeFileSync(join(signed, "signer.pem"), signer.pem);
    writeFileSync(
      join(signed, "breakglass.yaml"),
      configYaml(signed, [`  metadataSigner: ${join(signed, "signer.pem")}`]),
    );
    const document = signDocument(metadata(next), signer.privateKeyPem, signer.base64);
    writeFileSync(join(signed, "idp-metadata.xml"), document);
    await providerHolds(metadata(old));
    const outer = directory;
    directory = signed;
    try {
      const { runId, stdout } = await startFm2();
      expect(stdout).toContain("full key change: ");
      expect(stdout).toContain("the document is signed by the pinned metadata signer (idp.metadataSigner)");
      expect(stdout).not.toContain("--confirm-fingerprint");
      const approved = await approve(runId);
      expect(approved.stderr).toBe("");
      expect(approved.code).toBe(0);
      expect(await providerDocument()).toBe(document);
    } finally {
      directory = outer;
    }
  });

  it(
    "applies a full key change nobody vouches for only once the approver types the new certificate's fingerprint",
    async () => {
      await providerHolds(metadata(old));
      writeFileSync(join(directory, "idp-metadata.xml"), metadata(next));
      const { runId, stdout } = await startFm2();
      expect(stdout).toContain("FULL KEY CHANGE, NOT SIGNED BY THE PINNED METADATA SIGNER");
      expect(stdout).toContain(`sha256 ${consoleFingerprint(next)}`);
      expect(stdout).toContain("approve with: --confirm-fingerprint");
      expect(stdout).toContain(`breakglass runbook approve ${runId} --as <name> --confirm-fingerprint <8 hex>`);

      // Whoever started the run is refused as ever, without being asked for a fingerprint.
      const self = await breakglass("runbook", "approve", runId, "--as", "alice");
      expect(self.code).toBe(5);
      expect(self.stderr).toContain("needs a second person");

      // No terminal to ask at: one line saying exactly what to pass; nothing approved, nothing imported.
      const without = await approve(runId);
      expect(without.code).toBe(2);
      expect(without.stderr).toMatch(
        new RegExp(
          "^breakglass: --confirm-fingerprint: run \\S+ unlocks a full key change not signed by the pinned metadata " +
            "signer: pass --confirm-fingerprint <hex>, the first 8 hex characters of the SHA-256 of the new signing " +
            "certificate CN=idp next, expires \\d{4}-\\d\\d-\\d\\d, as the IdP's own admin console shows it\n",
        ),
      );
      expect(without.stderr.trimEnd().split("\n")).toHaveLength(1);

      const wrong = await approve(runId, "--confirm-fingerprint", "00:11:22:33");
      expect(wrong.code).toBe(5);
      expect(wrong.stderr).toContain(
        '"00:11:22:33" is not the start of the SHA-256 of the new signing certificate CN=idp next',
      );
      expect(await providerDocument()).toBe(metadata(old));
      const status = await breakglass("runbook", "status", runId);
      expect(status.stdout).toContain("Waiting for a second person to approve");

      const typed = consoleFingerprint(next).slice(0, 11).toLowerCase(); // "3f:9c:01:ab", as read off a console
      const right = await approve(runId, "--confirm-fingerprint", typed);
      expect(right.stderr).toBe("");
      expect(right.code).toBe(0);
      expect(right.stdout).toContain("confirming the SHA-256 of the new signing certificate CN=idp next");
      expect(await providerDocument()).toBe(metadata(next));

      const records = (await auditRecords(directory)).filter((record) => record.runId === runId);
      const refused = records.filter((record) => record.action === "approval.fingerprint-refused");
      expect(refused.map((record) => [record.actor, record.detail["typed"]])).toEqual([["person:bob", "00:11:22:33"]]);
      const granted = records.find((record) => record.action === "approval.granted");
      expect(granted?.actor).toBe("person:bob");
      expect(granted?.detail["approval"]).toMatchObject({
        approver: expect.stringContaining("bob") as unknown,
        confirmedFingerprint: { sha256: sha256(next), subject: "CN=idp next", typed: typed.replaceAll(":", "") },
      });
      // The import was planned and applied after the approval, never before.
      const order = records.map((record) => record.action);
      expect(order.indexOf("action.applied")).toBeGreaterThan(order.indexOf("approval.granted"));
      expect(order.filter((action) => action === "action.applied")).toHaveLength(1);
    },
    2 * PATIENCE,
  );

  it("asks for the fingerprint at a terminal when the option is missing", async () => {
    await providerHolds(metadata(old));
    writeFileSync(join(directory, "idp-metadata.xml"), metadata(next));
    const { runId } = await startFm2();
    prompted = [];
    answer = sha256(next).slice(0, 8).toUpperCase();
    try {
      const approved = await approve(runId);
      expect(approved.stderr).toContain(
        "This approval unlocks a full key change not signed by the pinned metadata signer.",
      );
      expect(prompted).toEqual(["SHA-256, first 8 hex characters: "]);
      expect(approved.code).toBe(0);
    } finally {
      answer = undefined;
    }
    expect(await providerDocument()).toBe(metadata(next));
  });
});

describe("the guarded re-import from Slack", () => {
  let harness: ServeHarness;

  beforeAll(async () => {
    const directory = mkdtempSync(join(tmpdir(), "breakglass-guard-slack-"));
    harness = await startHarness({
      configYaml: configYaml(directory),
      runbookDirectory: RUNBOOKS,
      directory,
      clock: fixedClock(NOW),
    });
  }, PATIENCE);

  afterAll(async () => {
    await harness?.stop();
  });

  const audit = () => harness.service.services.store.audit.auditRecords();
  const status = (runId: string) => harness.service.services.engine.status(runId);
  const startFm2 = async () => {
    const before = new Set(audit().map((record) => record.runId));
    await harness.command(`runbook start fm2-reimport-metadata ${FM2_INPUTS.join(" ")}`, ALICE, CHANNELS.incidents);
    const started = await eventually(
      () => audit().find((record) => record.action === "run.started" && !before.has(record.runId)),
      (record) => record !== undefined,
    );
    const runId = String(started?.runId);
    await eventually(
      () => status(runId),
      (view) => view.status !== "running",
    );
    const message = await eventually(
      () =>
        harness.stub
          .callsTo("chat.update")
          .filter((call) => String(call.args["text"]).includes(`run ${runId.slice(0, 8)}`))
          .at(-1),
      (call) => call !== undefined && JSON.stringify(call.args["blocks"]).includes("Approving unlocks these changes"),
    );
    return {
      runId,
      blocks: JSON.stringify(message?.args["blocks"]),
      message: { channel: String(message?.args["channel"]), ts: String(message?.args["ts"]) },
    };
  };
  const toBob = () => harness.stub.callsTo("chat.postMessage").filter((call) => call.args["channel"] === BOB);

  it("approves a re-import that keeps a trusted key at the press of Approve, with no modal", async () => {
    await providerHolds(metadata(old));
    writeFileSync(join(harness.directory, "idp-metadata.xml"), metadata(old, next));
    const { runId, message } = await startFm2();
    const modals = harness.stub.callsTo("views.open").length;
    await harness.press("run.approve", runId, BOB, message);
    await eventually(
      () => status(runId),
      (view) => view.waitingFor?.stepId === "upload-to-identity-center" || view.status === "failed",
    );
    expect(harness.stub.callsTo("views.open")).toHaveLength(modals);
    expect(await providerDocument()).toBe(metadata(old, next));
  });

  it(
    "asks in a modal for the new certificate's fingerprint, refuses and records a wrong one, and applies on the right one",
    async () => {
      await providerHolds(metadata(old));
      writeFileSync(join(harness.directory, "idp-metadata.xml"), metadata(next));
      const { runId, blocks, message } = await startFm2();
      expect(blocks).toContain(":red_circle: *FULL KEY CHANGE, NOT SIGNED BY THE PINNED METADATA SIGNER");
      expect(blocks).toContain(`sha256 \`${consoleFingerprint(next)}\``);

      const modals = harness.stub.callsTo("views.open").length;
      await harness.press("run.approve", runId, BOB, message);
      const opened = await eventually(
        () => harness.stub.callsTo("views.open"),
        (calls) => calls.length > modals,
      );
      const modal = JSON.stringify(opened.at(-1)?.args["view"]);
      expect(modal).toContain('"callback_id":"run.approve.fingerprint"');
      expect(modal).toContain("CN=idp next");
      // Pressing Approve approved nothing yet.
      expect((await status(runId)).waitingFor?.stepId).toBe("approve-reimport");
      expect(await providerDocument()).toBe(metadata(old));

      const told = toBob().length;
      await harness.submit("run.approve.fingerprint", runId, BOB, { fingerprint: { fingerprint: "0011 2233" } });
      const reply = await eventually(toBob, (calls) => calls.length > told);
      expect(String(reply.at(-1)?.args["text"])).toContain(
        "is not the start of the SHA-256 of the new signing certificate CN=idp next",
      );
      expect((await status(runId)).waitingFor?.stepId).toBe("approve-reimport");
      expect(await providerDocument()).toBe(metadata(old));
      expect(
        audit()
          .filter((record) => record.runId === runId && record.action === "approval.fingerprint-refused")
          .map((record) => record.actor),
      ).toEqual(["person:bob"]);

      const typed = ` ${consoleFingerprint(next).slice(0, 11)} `;
      await harness.submit("run.approve.fingerprint", runId, BOB, { fingerprint: { fingerprint: typed } });
      const approved = await eventually(
        () => status(runId),
        (view) => view.waitingFor?.stepId === "upload-to-identity-center" || view.status === "failed",
      );
      expect(approved.status).toBe("waiting");
      expect(await providerDocument()).toBe(metadata(next));
      const granted = audit().find((record) => record.runId === runId && record.action === "approval.granted");
      expect(granted?.actor).toBe("person:bob");
      expect(granted?.detail["approval"]).toMatchObject({
        confirmedFingerprint: { sha256: sha256(next), subject: "CN=idp next" },
      });
    },
    2 * PATIENCE,
  );
});
