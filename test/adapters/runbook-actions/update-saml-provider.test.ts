// iam.update-saml-provider against moto: plan by signing-certificate fingerprints, apply once, read back, and catch a provider changed behind its back.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateSAMLProviderCommand,
  GetSAMLProviderCommand,
  IAMClient,
  UpdateSAMLProviderCommand,
} from "@aws-sdk/client-iam";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AwsClients, DEFAULT_AWS_SETTINGS } from "../../../src/adapters/aws/aws-clients.js";
import { openStore } from "../../../src/adapters/store/open-store.js";
import { SharedArtefacts } from "../../../src/application/shared-artefacts.js";
import { BreakglassError } from "../../../src/domain/errors.js";
import type { BreakglassStore } from "../../../src/domain/ports/store.js";
import {
  previousDocumentPath,
  updateSamlProviderExecutor,
} from "../../../src/adapters/runbook-actions/update-saml-provider.js";
import type { ActionExecutor } from "../../../src/domain/runbooks/engine-ports.js";
import { freshKeyPair, makeCertificate, type TestCertificate } from "../../support/certificates.js";
import { entityXml } from "../../support/metadata-builder.js";
import { awsClientConfig, MOTO_DEFAULT_ACCOUNT_ID, startMoto, type MotoServer } from "../../support/moto.js";
import { quickAdaptiveRetries } from "../../support/quick-retries.js";
import { runContext } from "./run-context.js";

const REGION = "us-east-1";

let moto: MotoServer;
let iam: IAMClient;
let oldCertificate: TestCertificate;
let newCertificate: TestCertificate;
let rogueCertificate: TestCertificate;
let metadataPath: string;
let providerArns: string[];
let executor: ActionExecutor;

const metadata = (certificate: TestCertificate) =>
  entityXml({ keys: [{ base64: certificate.base64, use: "signing" }] });
const fingerprint = (certificate: TestCertificate) => createHash("sha256").update(certificate.der).digest("hex");
/** moto's default account, as its "testing" key is: the account the providers are made in. */
const testingPrincipal = () =>
  Promise.resolve({
    callerArn: `arn:aws:sts::${MOTO_DEFAULT_ACCOUNT_ID}:user/moto`,
    policySourceArn: undefined,
    accountId: MOTO_DEFAULT_ACCOUNT_ID,
    credentials: () => Promise.resolve({ accessKeyId: "testing", secretAccessKey: "testing" }),
    description: `arn:aws:sts::${MOTO_DEFAULT_ACCOUNT_ID}:user/moto in account ${MOTO_DEFAULT_ACCOUNT_ID}`,
  });
const withArtefact = () => runContext({ artefacts: { "metadata-file": metadataPath } });

beforeAll(async () => {
  moto = await startMoto();
  // AwsClients finds the emulator the way users point it at a VPC endpoint: through the SDK's standard environment.
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: REGION });
  iam = new IAMClient(awsClientConfig(moto.endpoint, REGION));
  oldCertificate = makeCertificate({ commonName: "old signing" }, freshKeyPair());
  newCertificate = makeCertificate({ commonName: "new signing" }, freshKeyPair());
  rogueCertificate = makeCertificate({ commonName: "rogue signing" }, freshKeyPair());
  metadataPath = join(mkdtempSync(join(tmpdir(), "breakglass-metadata-")), "metadata.xml");
  writeFileSync(metadataPath, metadata(newCertificate));
});

afterAll(async () => {
  await moto.stop();
});

beforeEach(async () => {
  await moto.reset();
  providerArns = [];
  for (const name of ["EmergencyIdP", "EmergencyIdPSecondary"]) {
    const created = await iam.send(
      new CreateSAMLProviderCommand({ Name: name, SAMLMetadataDocument: metadata(oldCertificate) }),
    );
    providerArns.push(created.SAMLProviderArn ?? "");
  }
  const clients = new AwsClients({
    ...DEFAULT_AWS_SETTINGS,
    region: REGION,
    maxAttempts: 2,
    retryStrategy: () => quickAdaptiveRetries(2),
  });
  executor = updateSamlProviderExecutor({ clients, principal: testingPrincipal, providerArns });
});

describe("re-importing the run's metadata-file", () => {
  it("plans the change by fingerprint, applies it, then finds it already done and verifies it", async () => {
    const plan = await executor.plan({}, withArtefact());
    expect(plan.alreadyDone).toBe(false);
    expect(plan.summary).toBe(
      `import ${metadataPath} into ${providerArns.join(", ")}, applied as arn:aws:sts::${MOTO_DEFAULT_ACCOUNT_ID}:user/moto ` +
        `in account ${MOTO_DEFAULT_ACCOUNT_ID}`,
    );
    expect(plan.changes).toEqual(
      providerArns.map((arn) => ({
        target: arn,
        before: `signing certificates sha256 ${fingerprint(oldCertificate)}`,
        after: `signing certificates sha256 ${fingerprint(newCertificate)}`,
      })),
    );

    await executor.apply(plan, {}, withArtefact());
    for (const arn of providerArns) {
      const held = await iam.send(new GetSAMLProviderCommand({ SAMLProviderArn: arn }));
      expect(held.SAMLMetadataDocument).toBe(metadata(newCertificate));
    }
    await expect(executor.plan({}, withArtefact())).resolves.toMatchObject({ alreadyDone: true, changes: [] });
    await expect(executor.verify({}, withArtefact())).resolves.toMatchObject({ ok: true });
  });

  it("updates only the providers named in the step", async () => {
    const [first, second] = providerArns as [string, string];
    const parameters = { providers: [second] };
    await executor.apply(await executor.plan(parameters, withArtefact()), parameters, withArtefact());
    expect((await iam.send(new GetSAMLProviderCommand({ SAMLProviderArn: first }))).SAMLMetadataDocument).toBe(
      metadata(oldCertificate),
    );
    await expect(executor.verify(parameters, withArtefact())).resolves.toMatchObject({ ok: true });
    await expect(executor.verify({}, withArtefact())).resolves.toMatchObject({ ok: false });
  });

  it("fails verification, naming the provider and what it holds, when it was changed behind its back", async () => {
    await executor.apply(await executor.plan({}, withArtefact()), {}, withArtefact());
    const [first] = providerArns as [string];
    await iam.send(
      new UpdateSAMLProviderCommand({ SAMLProviderArn: first, SAMLMetadataDocument: metadata(rogueCertificate) }),
    );
    await expect(executor.verify({}, withArtefact())).resolves.toEqual({
      ok: false,
      detail:
        `${first} holds signing certificates sha256 ${fingerprint(rogueCertificate)}; expected the signing ` +
        `certificates of ${metadataPath}: signing certificates sha256 ${fingerprint(newCertificate)}`,
    });
  });

  it("refuses to plan without the run's metadata-file, naming it", async () => {
    await expect(executor.plan({}, runContext())).rejects.toMatchObject({
      code: "RUNBOOK_INVALID",
      message: expect.stringContaining('artefact "metadata-file"'),
    });
  });

  it("refuses a provider that is not configured", async () => {
    const stranger = "arn:aws:iam::123456789012:saml-provider/Stranger";
    await expect(executor.plan({ providers: [stranger] }, withArtefact())).rejects.toThrow(
      `${stranger} not among the configured emergency providers`,
    );
  });
});

describe("the preflight, before anyone approves", () => {
  const clients = () =>
    new AwsClients({
      ...DEFAULT_AWS_SETTINGS,
      region: REGION,
      maxAttempts: 2,
      retryStrategy: () => quickAdaptiveRetries(2),
    });
  const principalDescription = `arn:aws:sts::${MOTO_DEFAULT_ACCOUNT_ID}:user/moto in account ${MOTO_DEFAULT_ACCOUNT_ID}`;

  it("names who the change is applied as, and says plainly when the simulator cannot judge that principal", async () => {
    expect(await executor.preflight?.({}, runContext())).toEqual({
      facts: [
        `applied as ${principalDescription}`,
        `could not simulate: arn:aws:sts::${MOTO_DEFAULT_ACCOUNT_ID}:user/moto is not an IAM user or role whose ` +
          "policies the simulator can judge; the permission is proven only when the change applies",
      ],
      problems: [],
    });
  });

  it("finds a configured provider missing from the account, naming the account and the principal", async () => {
    const missing = `arn:aws:iam::${MOTO_DEFAULT_ACCOUNT_ID}:saml-provider/Gone`;
    const checking = updateSamlProviderExecutor({
      clients: clients(),
      principal: testingPrincipal,
      providerArns: [...providerArns, missing],
    });
    const found = await checking.preflight?.({}, runContext());
    expect(found?.problems).toEqual([
      `${missing}: no such IAM SAML provider in account ${MOTO_DEFAULT_ACCOUNT_ID} ` +
        `(iam:GetSAMLProvider as ${principalDescription} answered NoSuchEntity)`,
    ]);
  });

  it("turns a principal in the wrong account into a problem, not a crash", async () => {
    const refusing = updateSamlProviderExecutor({
      clients: clients(),
      principal: () =>
        Promise.reject(new BreakglassError("AWS_DENIED", "the default AWS credentials", "are in another account")),
      providerArns,
    });
    expect(await refusing.preflight?.({}, runContext())).toEqual({
      facts: [],
      problems: ["the default AWS credentials: are in another account"],
    });
  });
});

describe("keeping what each provider held, so that a rollback can put it back", () => {
  let savedDirectory: string;
  let saving: ActionExecutor;

  beforeEach(() => {
    savedDirectory = mkdtempSync(join(tmpdir(), "breakglass-artefacts-"));
    const clients = new AwsClients({
      ...DEFAULT_AWS_SETTINGS,
      region: REGION,
      maxAttempts: 2,
      retryStrategy: () => quickAdaptiveRetries(2),
    });
    saving = updateSamlProviderExecutor({
      clients,
      principal: testingPrincipal,
      providerArns,
      savedDirectory,
    });
  });

  it("saves each provider's document, mode 0600, before replacing it, and records where in the plan", async () => {
    const context = withArtefact();
    const plan = await saving.plan({}, context);
    const paths = providerArns.map((arn) => previousDocumentPath(savedDirectory, context, arn));
    expect(plan.changes.map((change) => change.savedBefore)).toEqual(paths);
    await saving.apply(plan, {}, context);
    for (const path of paths) {
      expect(readFileSync(path, "utf8")).toBe(metadata(oldCertificate));
      expect(statSync(path).mode & 0o777).toBe(0o600);
    }
  });

  it("puts a saved document back and verifies it by reading the provider back", async () => {
    const context = withArtefact();
    await saving.apply(await saving.plan({}, context), {}, context);
    const [first] = providerArns as [string];
    const restore = { providers: [first], document: previousDocumentPath(savedDirectory, context, first) };
    const undo = runContext({ runId: "rollback-run", stepId: "undo" });
    const plan = await saving.plan(restore, undo);
    expect(plan.changes).toMatchObject([
      {
        target: first,
        before: `signing certificates sha256 ${fingerprint(newCertificate)}`,
        after: `signing certificates sha256 ${fingerprint(oldCertificate)}`,
      },
    ]);
    await saving.apply(plan, restore, undo);
    expect((await iam.send(new GetSAMLProviderCommand({ SAMLProviderArn: first }))).SAMLMetadataDocument).toBe(
      metadata(oldCertificate),
    );
    await expect(saving.verify(restore, undo)).resolves.toMatchObject({ ok: true });
  });

  it("refuses to import a document breakglass did not save, naming it", async () => {
    await expect(saving.plan({ document: metadataPath }, runContext())).rejects.toThrow(
      `${metadataPath} is not a document breakglass saved (only files under ${savedDirectory} are imported)`,
    );
  });
});

describe("a rollback executed on another host than the one that saved the document", () => {
  let root: string;
  let store: BreakglassStore;
  /** Each host's executor: its own artefact folder, one store shared by both (as a DynamoDB table is). */
  const host = (name: string) => {
    const clients = new AwsClients({
      ...DEFAULT_AWS_SETTINGS,
      region: REGION,
      maxAttempts: 2,
      retryStrategy: () => quickAdaptiveRetries(2),
    });
    const savedDirectory = join(root, name, "artefacts");
    const shared = new SharedArtefacts({
      store: () => store.artefacts,
      directory: savedDirectory,
      storeDescription: "the shared store",
    });
    return {
      savedDirectory,
      executor: updateSamlProviderExecutor({
        clients,
        principal: testingPrincipal,
        providerArns,
        savedDirectory,
        savedDocuments: shared.savedDocuments(),
      }),
    };
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "breakglass-two-hosts-"));
    store = openStore({ path: join(root, "breakglass.db") });
  });
  afterEach(() => {
    store.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("puts back the document the provider held, read from the store, though the saving host's file is gone", async () => {
    const alice = host("alice");
    const bob = host("bob");
    const context = withArtefact();
    await alice.executor.apply(await alice.executor.plan({}, context), {}, context);
    const [first] = providerArns as [string];
    const saved = previousDocumentPath(alice.savedDirectory, context, first);
    rmSync(alice.savedDirectory, { recursive: true });

    const restore = { providers: [first], document: saved };
    const undo = runContext({ runId: "rollback-run", stepId: "undo" });
    await bob.executor.apply(await bob.executor.plan(restore, undo), restore, undo);
    expect((await iam.send(new GetSAMLProviderCommand({ SAMLProviderArn: first }))).SAMLMetadataDocument).toBe(
      metadata(oldCertificate),
    );
    await expect(bob.executor.verify(restore, undo)).resolves.toMatchObject({ ok: true });
  });

  it("refuses, applying nothing, a saved document the store keeps nothing for, naming it, its run and the store", async () => {
    const bob = host("bob");
    const [first] = providerArns as [string];
    const saved = previousDocumentPath(join(root, "alice", "artefacts"), runContext(), first);
    const restore = { providers: [first], document: saved };
    await expect(bob.executor.plan(restore, runContext({ runId: "rollback-run" }))).rejects.toThrow(
      `saved document ${saved} of run run-1: the shared store keeps no content for it (saved as ${saved}); nothing is applied`,
    );
  });

  it("still refuses a file breakglass did not save, naming it", async () => {
    const bob = host("bob");
    await expect(bob.executor.plan({ document: metadataPath }, runContext())).rejects.toThrow(
      `${metadataPath} is not a document breakglass saved (only files under ${bob.savedDirectory} are imported)`,
    );
  });
});
