// `/breakglass preflight` through the real Bolt receiver: a modal takes the SAML response as a file upload, the file
// is read through files.info and url_private with the bot token, and the verdict is the CLI's, from the same use case.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateRoleCommand, CreateSAMLProviderCommand, IAMClient } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { PREFLIGHT_MODAL } from "../../src/slack/saml-preflight.js";
import { emergencyRoleTrust, REGION } from "../support/aws-organization.js";
import { blockKitProblems, viewProblems } from "../support/block-kit-limits.js";
import { DAY, makeCertificate } from "../support/certificates.js";
import { eventually } from "../support/eventually.js";
import { awsClientConfig, MOTO_DEFAULT_ACCOUNT_ID, startMoto, type MotoServer } from "../support/moto.js";
import { createSamlIdp, type ResponseSpec } from "../support/saml-idp.js";
import { fileSubmission, sign } from "../support/slack-requests.js";
import {
  ALICE,
  CHANNELS,
  configText,
  publishIdpMetadata,
  startHarness,
  type ServeHarness,
} from "../support/serve-harness.js";

const RUNBOOKS = new URL("../../runbooks/", import.meta.url).pathname;
const ACCOUNT = MOTO_DEFAULT_ACCOUNT_ID;
const PROVIDER = `arn:aws:iam::${ACCOUNT}:saml-provider/EmergencyIdP`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/EmergencyAdmin`;
const idp = createSamlIdp();
// The service's clock is the wall clock; responses are issued at the time of the test, as an IdP would.
const spec = (): ResponseSpec => ({ issuedAt: new Date(), roles: [`${ROLE},${PROVIDER}`], sessionDuration: "3600" });

let moto: MotoServer;
let harness: ServeHarness;

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: REGION,
  });
  const iam = new IAMClient(awsClientConfig(moto.endpoint, REGION));
  await iam.send(new CreateSAMLProviderCommand({ Name: "EmergencyIdP", SAMLMetadataDocument: idp.metadata }));
  await iam.send(
    new CreateRoleCommand({ RoleName: "EmergencyAdmin", AssumeRolePolicyDocument: emergencyRoleTrust(PROVIDER) }),
  );
  const aws = [
    "aws:",
    `  region: ${REGION}`,
    "  emergencyAccount:",
    `    accountId: "${ACCOUNT}"`,
    `    samlProviders: [${PROVIDER}]`,
    "",
  ];
  harness = await startHarness({ configYaml: configText("{dir}", aws.join("\n")), runbookDirectory: RUNBOOKS });
  publishIdpMetadata(
    harness.directory,
    makeCertificate({
      commonName: "idp",
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 400 * DAY),
    }),
  );
}, 60_000);

afterAll(async () => {
  await harness?.stop();
  await moto?.stop();
});

/** Types /breakglass preflight, uploads `content` in the modal that opens, and returns the ephemeral verdict posted. */
async function preflightInSlack(content: string, name: string): Promise<{ text: string; blocks: unknown[] }> {
  const before = harness.stub.callsTo("chat.postEphemeral").length;
  const typed = await harness.command("preflight", ALICE, CHANNELS.incidents);
  expect(typed.status).toBe(200);
  expect(JSON.stringify(typed.json)).toContain("Upload the SAML response in the window that opened");
  const opened = harness.stub.callsTo("views.open").at(-1);
  const view = opened?.args["view"] as Record<string, unknown>;
  expect(view["callback_id"]).toBe(PREFLIGHT_MODAL.callbackId);
  expect(viewProblems(view)).toEqual([]);
  const file = harness.stub.shareFile(name, content, ALICE);
  const body = fileSubmission(PREFLIGHT_MODAL.callbackId, String(view["private_metadata"]), ALICE, {
    blockId: PREFLIGHT_MODAL.blockId,
    actionId: PREFLIGHT_MODAL.actionId,
    files: [file],
  });
  expect((await harness.raw(body, sign(body))).status).toBe(200);
  const posted = await eventually(
    () => harness.stub.callsTo("chat.postEphemeral").slice(before),
    (calls) => calls.length > 0,
  );
  expect(posted[0]?.args).toMatchObject({ channel: CHANNELS.incidents, user: ALICE });
  const blocks = posted[0]?.args["blocks"] as unknown[];
  expect(blockKitProblems(blocks)).toEqual([]);
  return { text: String(posted[0]?.args["text"]), blocks };
}

async function cliCodes(content: string): Promise<string[]> {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-slack-preflight-"));
  writeFileSync(join(directory, "response.b64"), content);
  let stdout = "";
  await main(
    [
      "saml",
      "preflight",
      join(directory, "response.b64"),
      "--config",
      join(harness.directory, "breakglass.yaml"),
      "--json",
    ],
    {
      stdout: (text) => void (stdout += text),
      stderr: () => undefined,
      stdoutIsTty: false,
      env: {},
      clock: fixedClock(new Date()),
    },
  );
  return (JSON.parse(stdout) as { findings: { code: string }[] }).findings.map((finding) => finding.code);
}

describe("/breakglass preflight", () => {
  it("opens a modal with a file input, reads the upload with the bot token and says AWS would accept a good response", async () => {
    const { base64 } = await idp.respond(spec());
    const { text } = await preflightInSlack(base64, "response.b64");
    expect(text).toBe(`:white_check_mark: AWS would accept this sign-in as \`${ROLE}\`.`);
    const download = harness.stub.callsTo("files.info").at(-1);
    expect(download?.token).toBe("xoxb-test-not-a-real-token");
  });

  it("says why AWS would refuse one, with the same findings as the CLI for the same file", async () => {
    const { base64 } = await idp.respond({ ...spec(), audience: "https://app.example.test/saml", sessionName: "a b" });
    const { text, blocks } = await preflightInSlack(base64, "refused.b64");
    expect(text).toBe(":x: AWS would refuse this sign-in: 2 findings.");
    const shown = JSON.stringify(blocks);
    const codes = await cliCodes(base64);
    expect(codes.sort()).toEqual(["SAML_RESPONSE_AUDIENCE_WRONG", "SAML_RESPONSE_SESSION_NAME_INVALID"]);
    for (const code of codes) expect(shown).toContain(code);
  });

  it("answers an upload that is no SAML response with the one-line error the CLI prints", async () => {
    const { text } = await preflightInSlack("this is not a response", "notes.txt");
    expect(text).toContain("the uploaded file notes.txt");
    expect(text).toContain("neither XML nor base64");
  });
});
