// Real `breakglass serve` processes on one store (a SQLite file, then a DynamoDB table on the moto emulator): the leader
// SIGKILLed in the middle of a runbook step, after moto applied its UpdateSAMLProvider and before the answer came back.
// A follower becomes leader and finishes the run without importing twice, and Slack gets each message once.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateSAMLProviderCommand, GetSAMLProviderCommand, IAMClient } from "@aws-sdk/client-iam";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { initStore, openStore } from "../../src/adapters/store/open-store.js";
import type { BreakglassStore } from "../../src/domain/ports/store.js";
import { DAY, freshKeyPair, makeCertificate } from "../support/certificates.js";
import { eventually } from "../support/eventually.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { entityXml } from "../support/metadata-builder.js";
import { awsClientConfig, MOTO_DEFAULT_ACCOUNT_ID, startMoto, type MotoServer } from "../support/moto.js";
import { ALICE, BOB, CHANNELS } from "../support/serve-harness.js";
import { replicaStoreYaml, startReplica, type Replica, type ReplicaStore } from "../support/serve-replicas.js";
import { startSlackApiStub, type SlackApiStub } from "../support/slack-api-stub.js";
import { buttonPress, postToSlackEndpoint, sign, slashCommand } from "../support/slack-requests.js";

const RUNBOOKS = new URL("./runbooks/", import.meta.url).pathname;
const TTL_SECONDS = 3;
const CREDENTIALS = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" };
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

/** IAM, behind the proxy that counts its calls and withholds one answer. */
let iam: MotoServer;
let proxy: FaultProxy;
let stub: SlackApiStub | undefined;
let replicas: Replica[] = [];
let store: BreakglassStore | undefined;
let providers = 0;

beforeAll(async () => {
  iam = await startMoto();
  proxy = await startFaultProxy(iam.endpoint, { seed: 1, throttleRate: 0, serverErrorRate: 0 });
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await iam?.stop();
});

afterEach(async () => {
  for (const replica of replicas) replica.kill();
  await Promise.all(replicas.map((replica) => replica.exited));
  replicas = [];
  store?.close();
  store = undefined;
  await stub?.close();
});

/** A folder whose IdP publishes its next certificate beside the current one, and an emergency provider holding the current. */
async function scenario(shared: ReplicaStore): Promise<{ directory: string; providerArn: string }> {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-failover-"));
  writeFileSync(join(directory, "idp.xml"), metadata(old, next));
  const providerArn = (
    await new IAMClient(awsClientConfig(iam.endpoint)).send(
      new CreateSAMLProviderCommand({ Name: `EmergencyIdP-${++providers}`, SAMLMetadataDocument: metadata(old) }),
    )
  ).SAMLProviderArn as string;
  writeFileSync(
    join(directory, "breakglass.yaml"),
    `idp:
  name: Okta
  metadata: ${join(directory, "idp.xml")}
aws:
  region: us-east-1
  emergencyAccount:
    accountId: "${MOTO_DEFAULT_ACCOUNT_ID}"
    samlProviders: [${providerArn}]
checks:
  enabled: [metadata]
${replicaStoreYaml(shared, directory)}
serve:
  leadership:
    ttlSeconds: ${TTL_SECONDS}
slack:
  channels:
    alerts: ${CHANNELS.alerts}
    incidents: ${CHANNELS.incidents}
    security: ${CHANNELS.security}
  access:
    run: [${ALICE}]
    approve: [${ALICE}, ${BOB}]
`,
  );
  return { directory, providerArn };
}

async function providerDocument(providerArn: string): Promise<string | undefined> {
  return (
    await new IAMClient(awsClientConfig(iam.endpoint)).send(
      new GetSAMLProviderCommand({ SAMLProviderArn: providerArn }),
    )
  ).SAMLMetadataDocument;
}

/** The replica that says on /readyz that it leads, among those not excluded. */
async function leaderAmong(candidates: readonly Replica[]): Promise<Replica> {
  const statuses = await eventually(
    () => Promise.all(candidates.map(async (replica) => ({ replica, status: await replica.status() }))),
    (answers) => answers.some((answer) => answer.status?.role === "leader"),
  );
  return statuses.find((answer) => answer.status?.role === "leader")?.replica as Replica;
}

/** POSTs a signed request to a replica's Slack endpoint, as Slack does. */
function toSlackEndpoint(replica: Replica, body: string) {
  return postToSlackEndpoint(`http://127.0.0.1:${replica.port() ?? 0}/slack/events`, body, sign(body));
}

/** What Slack was asked to post, channel, thread and text, and how many times each. */
function postCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of stub?.callsTo("chat.postMessage") ?? []) {
    const key = JSON.stringify([call.args["channel"], call.args["thread_ts"] ?? null, call.args["text"]]);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** The store every replica of a test shares, made fresh for each test; `open` opens it in the test as one more process. */
interface SharedStore {
  fresh(): { readonly replicas: ReplicaStore; open(directory: string): BreakglassStore };
}

const SQLITE: SharedStore = {
  fresh: () => ({
    replicas: { kind: "sqlite" },
    open: (directory) => openStore({ path: join(directory, "breakglass.db") }),
  }),
};

/** A table per test on a moto emulator of its own that answers one request at a time, as DynamoDB isolates transactions. */
function dynamoTables(): SharedStore {
  let moto: MotoServer | undefined;
  let tables = 0;
  beforeAll(async () => {
    moto = await startMoto({ serialized: true });
    Object.assign(process.env, CREDENTIALS);
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
  });
  return {
    fresh() {
      const endpoint = (moto as MotoServer).endpoint;
      const table = { kind: "dynamodb", table: `failover-${++tables}`, region: "us-east-1", endpoint } as const;
      initStore({ ...table, path: "" });
      return { replicas: table, open: () => openStore({ ...table, path: "" }) };
    },
  };
}

describe.each([
  { label: "sqlite", shared: () => SQLITE },
  { label: "dynamodb", shared: dynamoTables },
])("serve replicas on $label, the leader killed in the middle of a step", ({ shared: sharedStore }) => {
  const shared = sharedStore();

  it("a follower becomes leader and finishes the run: the provider updated once, each Slack message posted once", async () => {
    stub = await startSlackApiStub();
    const sharedStore = shared.fresh();
    // The replicas share one config folder; the artefact files it holds are removed below, as on separate hosts.
    const { directory, providerArn } = await scenario(sharedStore.replicas);
    const env = { ...CREDENTIALS, AWS_ENDPOINT_URL: proxy.endpoint };
    replicas = ["a", "b", "c"].map((name) =>
      startReplica(name, directory, stub as SlackApiStub, { runbooks: RUNBOOKS, env }),
    );
    const leader = await leaderAmong(replicas);
    const follower = replicas.find((replica) => replica !== leader) as Replica;
    await eventually(
      () => follower.status(),
      (status) => status?.role === "follower",
    );
    const reader = sharedStore.open(directory);
    store = reader;
    const updatesBefore = proxy.requestsFor("UpdateSAMLProvider");
    const withheld = proxy.withholdAnswerTo("UpdateSAMLProvider");

    // alice starts the run from Slack, through a follower: it records the start, the leader runs it to the approval.
    const command = slashCommand("runbook start failover-import incident=INC-90", {
      user: ALICE,
      channel: CHANNELS.incidents,
      responseUrl: stub.responseUrl("start"),
    });
    expect((await toSlackEndpoint(follower, command)).status).toBe(200);
    const start = await eventually(
      () => reader.audit.auditRecords().find((record) => record.action === "run.started"),
      (record) => record !== undefined,
    );
    const runId = String(start?.runId);
    await eventually(
      () => reader.runs.findRun(runId)?.status,
      (status) => status === "waiting",
    );
    const message = (await eventually(
      () => reader.serveState.message(`run:${runId}`),
      (found) => found !== null,
    )) as { channel: string; ts: string };
    // bob approves on the follower; the leader goes on with the import, which moto applies, and is killed while the
    // answer is withheld.
    const press = buttonPress("run.approve", runId, {
      user: BOB,
      channel: message.channel,
      messageTs: message.ts,
      responseUrl: stub.responseUrl("approve"),
    });
    expect((await toSlackEndpoint(follower, press)).status).toBe(200);
    await withheld;
    expect(await providerDocument(providerArn)).toBe(metadata(old, next));
    expect(reader.runs.runSteps(runId).find((step) => step.stepId === "update-emergency-providers")?.status).toBe(
      "applying",
    );
    leader.kill();
    await leader.exited;
    // As if the successor ran on another host: none of the files the dead leader's steps wrote are there.
    const artefacts = join(directory, "artefacts");
    const inspected = readdirSync(artefacts, { recursive: true, encoding: "utf8" }).filter((file) =>
      file.endsWith("-idp-metadata.xml"),
    );
    expect(inspected).toHaveLength(1);
    rmSync(artefacts, { recursive: true, force: true });

    // Another replica leads, takes the dead leader's run over, and finishes it.
    const successor = await leaderAmong(replicas.filter((replica) => replica !== leader));
    await eventually(
      () => reader.runs.findRun(runId)?.status,
      (status) => status === "succeeded",
    );
    expect(proxy.requestsFor("UpdateSAMLProvider") - updatesBefore).toBe(1);
    // The successor read the inspected metadata back from the store into its own artefact folder.
    expect(readFileSync(join(artefacts, inspected[0] as string), "utf8")).toBe(metadata(old, next));
    expect(await providerDocument(providerArn)).toBe(metadata(old, next));
    const update = reader.runs.runSteps(runId).find((step) => step.stepId === "update-emergency-providers");
    // Re-run from its start: the plan read the provider back, found the import done, and applied nothing.
    expect(update).toMatchObject({ status: "succeeded", attempts: 2, outcome: { applied: false } });
    const records = reader.audit.auditRecords().filter((record) => record.runId === runId);
    expect(records.filter((record) => record.action === "run.lease-taken-over")).toHaveLength(1);
    expect(records.find((record) => record.action === "step.resumed")).toMatchObject({
      subject: "update-emergency-providers",
      detail: { interruptedWhile: "applying" },
    });
    expect(successor.log()).toMatch(/the leader \S+ is a process of this host that no longer runs/);

    // Every message (the run's, its thread replies, the announcement) was posted once, by whichever replica.
    const announcement = await eventually(
      () =>
        [...postCounts().keys()].filter((key) =>
          key.includes("INC-90: the emergency SAML provider holds the IdP's current metadata."),
        ),
      (found) => found.length > 0,
    );
    expect(announcement).toHaveLength(1);
    const threadReplies = (stub.callsTo("chat.postMessage") ?? []).filter(
      (call) => call.args["thread_ts"] === message.ts,
    );
    expect(threadReplies.length).toBeGreaterThan(0);
    const counts = postCounts();
    const twice = [...counts.entries()].filter(([, count]) => count > 1).map(([key, count]) => `${count}× ${key}`);
    expect(twice).toEqual([]);
  }, 240_000);
});
