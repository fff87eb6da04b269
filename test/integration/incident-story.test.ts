// The incident path as a new identity admin meets it, scripted end to end on the AWS emulator (issue 10's story): the
// config template refused until filled in; the IdP rolls its signing certificate over, and FM2, started with
// management-account credentials, applies through the configured action role on the first try, after which a SAML
// response signed with the new key gets credentials from sts:AssumeRoleWithSAML; then Identity Center is disrupted,
// fm3 is refused for an unknown group before anything is declared, and with the groups' display names it adds the
// responders, after which one of them federates directly. Each person's command is counted; the time from "new
// certificate published" and from "Identity Center disrupted" to credentials is printed (machine time: every retry
// passes on its first attempt here; a person's reading time is not in it).
import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { CreateRoleCommand, GetSAMLProviderCommand, IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { AssumeRoleWithSAMLCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { buildOrganization, REGION, shippedPolicy, type TestOrganization } from "../support/aws-organization.js";
import {
  asPrincipal,
  iamUserPrincipal,
  peopleYamlLines,
  principalNamedIn,
  type TestPrincipal,
} from "../support/aws-principals.js";
import { DAY, freshKeyPair, makeCertificate, type TestCertificate } from "../support/certificates.js";
import { corpusPath } from "../support/corpus.js";
import { startIamSimulatorProxy, type IamSimulatorProxy } from "../support/iam-simulator-proxy.js";
import { startScimServer, type ScimTestServer } from "../support/idp-scim-server.js";
import { entityXml } from "../support/metadata-builder.js";
import { awsClientConfig, MOTO_DEFAULT_ACCOUNT_ID, startMoto, type MotoServer } from "../support/moto.js";
import { startedRunId, stepLine } from "../support/runbook-cli.js";
import { startSsoAdmin, type SsoAdminServer } from "../support/runbook-sso-admin.js";
import { ALGORITHM, signXml } from "../support/xml-signing.js";

const NOW = new Date();
const TOKEN = "scim-story-token-8d1f2a";
const SIGN_IN = "https://signin.aws.amazon.com/saml";
const INSTANCE = "arn:aws:sso:::instance/ssoins-7223a2f5d3b4c6e8";
const OPERATORS_ID = randomUUID();
const DANA = randomUUID();
const ERIN = randomUUID();
/** The IdP's next signing certificate, with a key made here: the responses AWS must accept are signed with it. */
const next: TestCertificate = makeCertificate(
  {
    commonName: "okta next signing",
    notBefore: new Date(NOW.getTime() - DAY),
    notAfter: new Date(NOW.getTime() + 700 * DAY),
  },
  freshKeyPair(),
);
/** What Okta published before (a real Okta document, as it is): the emergency IAM SAML provider holds it. */
const OKTA = readFileSync(corpusPath("okta-aws-iam-identity-center.xml"), "utf8");
/** The rolled-over metadata keeps Okta's entity ID: the same IdP, a new signing key. */
const ENTITY_ID = /entityID="([^"]+)"/.exec(OKTA)?.[1] as string;
const nextMetadata = entityXml({ entityID: ENTITY_ID, keys: [{ base64: next.base64, use: "signing" }] });

let moto: MotoServer;
let simulator: IamSimulatorProxy;
let ssoAdmin: SsoAdminServer;
let scim: ScimTestServer;
let organization: TestOrganization;
let directory: string;
let configPath: string;
const people: Record<string, TestPrincipal> = {};
/** Every command a person typed during the incident, in order: what the closing figures count. */
const typed: string[] = [];

async function breakglass(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  typed.push(args.slice(0, 3).join(" "));
  const code = await asPrincipal(principalNamedIn(args, people), () =>
    main(args, {
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
      stdoutIsTty: false,
      env: { XDG_CACHE_HOME: join(directory, "cache"), BREAKGLASS_IDP_TOKEN: TOKEN },
      clock: fixedClock(NOW),
    }),
  );
  return { code, stdout, stderr };
}

/** What the IdP posts to AWS when a person picks the emergency role: a Response whose Assertion is signed with `key`. */
function samlResponse(login: string, roleArn: string, providerArn: string, key: TestCertificate): string {
  const instant = new Date().toISOString();
  const until = new Date(Date.now() + 5 * 60_000).toISOString();
  const attribute = (name: string, value: string) =>
    `<saml:Attribute Name="${name}"><saml:AttributeValue>${value}</saml:AttributeValue></saml:Attribute>`;
  const assertion = signXml(
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a${randomUUID()}" Version="2.0" IssueInstant="${instant}">` +
      `<saml:Issuer>${ENTITY_ID}</saml:Issuer>` +
      `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">${login}</saml:NameID>` +
      `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
      `<saml:SubjectConfirmationData NotOnOrAfter="${until}" Recipient="${SIGN_IN}"/></saml:SubjectConfirmation></saml:Subject>` +
      `<saml:Conditions NotBefore="${instant}" NotOnOrAfter="${until}"><saml:AudienceRestriction>` +
      `<saml:Audience>${SIGN_IN}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
      `<saml:AttributeStatement>${attribute("https://aws.amazon.com/SAML/Attributes/Role", `${roleArn},${providerArn}`)}` +
      `${attribute("https://aws.amazon.com/SAML/Attributes/RoleSessionName", login)}</saml:AttributeStatement>` +
      `</saml:Assertion>`,
    { privateKeyPem: key.privateKeyPem, signatureAlgorithm: ALGORITHM.rsaSha256, certificateBase64: key.base64 },
  );
  const response =
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r${randomUUID()}" Version="2.0" ` +
    `IssueInstant="${instant}" Destination="${SIGN_IN}"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">${ENTITY_ID}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>${assertion}</samlp:Response>`;
  return Buffer.from(response, "utf8").toString("base64");
}

/**
 * Direct federation into the emergency account. moto does not check a SAML response's signature, so before asking it
 * this checks what AWS would: the provider must hold the certificate the response was signed with.
 */
async function federate(login: string, key: TestCertificate): Promise<string | undefined> {
  const held = (
    await new IAMClient(await organization.configFor(organization.emergencyAccountId)).send(
      new GetSAMLProviderCommand({ SAMLProviderArn: organization.samlProviderArn }),
    )
  ).SAMLMetadataDocument;
  if (!held?.includes(key.base64)) return undefined;
  const answer = await new STSClient(awsClientConfig(moto.endpoint, REGION)).send(
    new AssumeRoleWithSAMLCommand({
      RoleArn: organization.emergencyRoleArn,
      PrincipalArn: organization.samlProviderArn,
      SAMLAssertion: samlResponse(login, organization.emergencyRoleArn, organization.samlProviderArn, key),
    }),
  );
  return answer.Credentials?.AccessKeyId;
}

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);
const fingerprint = (certificate: TestCertificate) =>
  createHash("sha256").update(certificate.der).digest("hex").slice(0, 16);

beforeAll(async () => {
  [moto, scim, ssoAdmin] = await Promise.all([startMoto(), startScimServer(TOKEN), startSsoAdmin(INSTANCE, "ACTIVE")]);
  simulator = await startIamSimulatorProxy(moto.endpoint);
  organization = await buildOrganization(moto.endpoint, { workloadAccounts: 2, idpMetadata: OKTA });
  people["alice"] = await iamUserPrincipal(moto.endpoint, "alice");
  people["bob"] = await iamUserPrincipal(moto.endpoint, "bob");
  // The action role breakglass assumes in the emergency account, with the shipped policy; alice and bob may assume it.
  const emergencyIam = new IAMClient(await organization.configFor(organization.emergencyAccountId));
  const actionRoleArn = (
    await emergencyIam.send(
      new CreateRoleCommand({
        RoleName: "breakglass-action",
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: Object.values(people).map((person) => ({
            Effect: "Allow",
            Principal: { AWS: person.arn },
            Action: "sts:AssumeRole",
          })),
        }),
      }),
    )
  ).Role?.Arn as string;
  await emergencyIam.send(
    new PutRolePolicyCommand({
      RoleName: "breakglass-action",
      PolicyName: "action",
      PolicyDocument: shippedPolicy("action-role-policy.json")
        .replaceAll("EMERGENCY_ACCOUNT_ID", organization.emergencyAccountId)
        .replace("saml-provider/EmergencyIdP", `saml-provider/${organization.samlProviderArn.split("/").pop() ?? ""}`),
    }),
  );
  // breakglass reads the emergency account through its read role, with the shipped policy.
  await emergencyIam.send(
    new CreateRoleCommand({
      RoleName: "breakglass-reader",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${MOTO_DEFAULT_ACCOUNT_ID}:root` },
            Action: "sts:AssumeRole",
          },
        ],
      }),
    }),
  );
  await emergencyIam.send(
    new PutRolePolicyCommand({
      RoleName: "breakglass-reader",
      PolicyName: "read",
      PolicyDocument: shippedPolicy("emergency-account-reader-policy.json"),
    }),
  );
  scim.store.addUser({ id: DANA, userName: "dana@example.com", displayName: "Dana Responder" });
  scim.store.addUser({ id: ERIN, userName: "erin@example.com", displayName: "Erin Responder" });
  scim.store.addGroup(OPERATORS_ID, "aws-emergency-operators");
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: simulator.endpoint,
    AWS_ENDPOINT_URL_SSO_ADMIN: ssoAdmin.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: REGION,
  });
  directory = mkdtempSync(join(tmpdir(), "breakglass-story-"));
  writeFileSync(join(directory, "idp.xml"), OKTA);
  writeFileSync(join(directory, "scim-ca.pem"), scim.ca);
  configPath = join(directory, "breakglass.yaml");
  writeFileSync(
    configPath,
    [
      "idp:",
      "  name: Okta",
      "  metadata: idp.xml",
      "  directory:",
      "    kind: scim",
      `    baseUrl: ${scim.baseUrl}`,
      "    tokenVariable: BREAKGLASS_IDP_TOKEN",
      `    ca: ${join(directory, "scim-ca.pem")}`,
      "aws:",
      `  region: ${REGION}`,
      "  emergencyAccount:",
      `    accountId: "${organization.emergencyAccountId}"`,
      `    roleArn: arn:aws:iam::${organization.emergencyAccountId}:role/breakglass-reader`,
      `    actionRoleArn: ${actionRoleArn}`,
      `    samlProviders: [${organization.samlProviderArn}]`,
      `    emergencyRoles: [${organization.emergencyRoleArn}]`,
      "  identityCenter:",
      `    instanceArn: ${INSTANCE}`,
      `    region: ${REGION}`,
      `    accountId: "${MOTO_DEFAULT_ACCOUNT_ID}"`,
      "store:",
      `  path: ${join(directory, "breakglass.db")}`,
      ...peopleYamlLines(people),
      "",
    ].join("\n"),
  );
}, 180_000);

afterAll(async () => {
  await Promise.all([simulator?.stop(), scim?.close(), ssoAdmin?.close()]);
  await moto?.stop();
});

describe("a new identity admin's first incident, following README", () => {
  it("is refused the untouched config template, naming what is still an example", async () => {
    const template = join(directory, "template.yaml");
    expect((await breakglass("config", "init", "--config", template)).code).toBe(0);
    const validated = await breakglass("config", "validate", "--config", template);
    expect(validated.code).toBe(2);
    expect(validated.stderr).toContain("aws.emergencyAccount.accountId: still the example value");
    typed.length = 0;
  });

  it("FM2: the rolled-over certificate is imported through the action role on the first try, and direct federation works", async () => {
    const published = performance.now();
    writeFileSync(join(directory, "idp.xml"), nextMetadata);
    // Nothing the IdP signs now is accepted by AWS.
    expect(await federate("dana@example.com", next)).toBeUndefined();

    const checked = await breakglass("check", "--only", "metadata,saml-providers", "--config", configPath);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toContain("SAML_PROVIDER_LACKS_CURRENT_CERT");
    expect(checked.stdout).toContain("fm2-reimport-metadata");

    // alice works with her everyday management-account credentials; breakglass applies as the action role.
    const started = await breakglass(
      "runbook",
      "run",
      "fm2-reimport-metadata",
      "--as",
      "alice",
      "--config",
      configPath,
      "--input",
      "incident=INC-9001",
    );
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    expect(started.stdout).toContain(
      `applied as arn:aws:iam::${organization.emergencyAccountId}:role/breakglass-action`,
    );
    // The approver sees the new certificate's fingerprint before approving.
    expect(started.stdout).toContain(fingerprint(next).slice(0, 6));
    const runId = startedRunId(started.stdout, "fm2-reimport-metadata");

    // A full key change nobody signed: bob reads the new certificate's SHA-256 in the IdP's console and types its start.
    const newKeyPrefix = fingerprint(next).slice(0, 8);
    const approved = await breakglass(
      "runbook",
      "approve",
      runId,
      "--as",
      "bob",
      "--config",
      configPath,
      "--confirm-fingerprint",
      newKeyPrefix,
    );
    expect(approved.stderr).toBe("");
    expect(stepLine(approved.stdout, "Import the file into every emergency IAM SAML provider")).toContain(
      "applied and verified",
    );
    const credentials = await federate("dana@example.com", next);
    expect(credentials).toMatch(/^ASIA/);
    const fm2Seconds = seconds(published);
    const fm2Actions = typed.length;

    // The rest of FM2: Identity Center by hand (no API), then the checks agree and the window closes.
    for (const step of ["reach-identity-center", "upload-to-identity-center"]) {
      const confirmed = await breakglass(
        "runbook",
        "confirm",
        runId.slice(0, 8),
        "--as",
        "alice",
        "--config",
        configPath,
      );
      expect(confirmed.code, `${step}: ${confirmed.stderr}`).toBe(0);
    }
    const metadataFile = /--metadata (\S+) --by/.exec(
      (await breakglass("runbook", "status", runId, "--config", configPath)).stdout,
    )?.[1];
    expect(
      (
        await breakglass(
          "identity-center",
          "attest",
          "--metadata",
          String(metadataFile),
          "--by",
          "alice",
          "--config",
          configPath,
        )
      ).code,
    ).toBe(0);
    const verified = await breakglass("runbook", "confirm", runId.slice(0, 8), "--as", "alice", "--config", configPath);
    expect(stepLine(verified.stdout, "Check until AWS and the IdP agree")).toMatch(/✓ /);
    await breakglass("runbook", "confirm", runId.slice(0, 8), "--as", "alice", "--config", configPath);
    const done = await breakglass(
      "runbook",
      "confirm",
      runId.slice(0, 8),
      "--as",
      "alice",
      "--config",
      configPath,
      "--record",
      "none",
    );
    expect(done.stdout).toContain(`Run ${runId}  fm2-reimport-metadata  succeeded`);
    console.log(
      `STORY fm2: new certificate published -> AssumeRoleWithSAML credentials in ${fm2Seconds} s, ` +
        `${fm2Actions} human actions (${typed.slice(0, fm2Actions).join("; ")}); the whole run ${typed.length} actions`,
    );
    typed.length = 0;
  });

  it("FM3: an unknown group is refused before anything is declared; with display names the responders federate directly", async () => {
    const disrupted = performance.now();
    ssoAdmin.status = "DELETE_IN_PROGRESS";
    const fm3 = (groups: string) =>
      breakglass(
        "runbook",
        "run",
        "fm3-direct-federation",
        "--as",
        "alice",
        "--config",
        configPath,
        "--input",
        "incident=INC-9002",
        "--input",
        "responders=dana@example.com,erin@example.com",
        "--input",
        `groups=${groups}`,
        "--input",
        "signInUrl=https://example.okta.com/",
      );
    const auditBefore = (await breakglass("audit", "verify", "--config", configPath)).stdout;

    const refused = await fm3("aws-emergency-operators,aws-emergency-operator");
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain("aws-emergency-operator");
    expect(refused.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect((await breakglass("audit", "verify", "--config", configPath)).stdout).toBe(auditBefore);
    expect(scim.store.membersOf(OPERATORS_ID)).toEqual([]);

    const started = await fm3("aws-emergency-operators");
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    expect(started.stdout).toContain(OPERATORS_ID);
    expect(started.stdout).toContain("Waiting for a second person to approve");
    const runId = startedRunId(started.stdout, "fm3-direct-federation");
    expect(await federate("dana@example.com", next)).toBeDefined(); // the provider is right since FM2
    expect(scim.store.membersOf(OPERATORS_ID)).toEqual([]);

    const approved = await breakglass("runbook", "approve", runId, "--as", "bob", "--config", configPath);
    expect(approved.stderr).toBe("");
    expect(scim.store.membersOf(OPERATORS_ID).sort()).toEqual([DANA, ERIN].sort());
    // Dana is in the emergency group: the IdP's emergency app now issues her a response for the emergency role.
    expect(await federate("dana@example.com", next)).toMatch(/^ASIA/);
    const fm3Seconds = seconds(disrupted);
    const fm3Actions = typed.filter((command) => command.startsWith("runbook")).length;
    console.log(
      `STORY fm3: Identity Center disrupted -> AssumeRoleWithSAML credentials in ${fm3Seconds} s, ` +
        `${fm3Actions} human actions (${typed.filter((command) => command.startsWith("runbook")).join("; ")})`,
    );
    expect(
      (await breakglass("runbook", "abort", runId, "--as", "alice", "--reason", "drill over", "--config", configPath))
        .code,
    ).toBe(1);
  });
});
