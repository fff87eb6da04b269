// One use case, two front ends: the same scenarios driven through the CLI (in process) and through correctly signed
// Slack requests to the real service reach the same run state and the same audit trail, person for person. On the CLI
// each person runs with their own AWS credentials (IAM users in moto, verified through STS); in Slack, as their
// Slack user; breakglass.yaml's people list says which are whom.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../src/domain/audit/audit-chain.js";
import type { RunbookServices } from "../../src/application/runbook-runtime.js";
import { loadConfig } from "../../src/config/load-config.js";
import { openRunbookServices } from "../../src/application/runbook-runtime.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { DAY, makeCertificate } from "../support/certificates.js";
import { eventually } from "../support/eventually.js";
import { startScimServer, type ScimTestServer } from "../support/idp-scim-server.js";
import { asPrincipal, iamUserPrincipal, type TestPrincipal } from "../support/aws-principals.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { breakglassCli, startedRunId, type Breakglass } from "../support/runbook-cli.js";
import { ALICE, BOB, CHANNELS, publishIdpMetadata, startHarness, type ServeHarness } from "../support/serve-harness.js";

const RUNBOOKS = join(import.meta.dirname, "..", "application", "runbooks");
const TOKEN = "scim-parity-token-51c2";
const CAROL = "U0CAROL0001";
const CAROL_LOGIN = "carol@example.com";
const CAROL_IDP = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
const OPERATORS = "aws-emergency-operators";
const EMERGENCY_ACCOUNT = "111122223333";
const NOW = new Date("2026-12-05T03:00:00Z");
/** A test's own limit: the service works in the background, slowly on a busy machine; this bounds waiting, never asserts a time. */
const PATIENCE = 60_000;

/** The people of the scenarios, as each front end names them. */
type Person = "alice" | "bob" | "carol";
const SLACK_ID: Readonly<Record<Person, string>> = { alice: ALICE, bob: BOB, carol: CAROL };
/** Each person's own AWS credentials, for the CLI. */
const AWS_PRINCIPAL = {} as Record<Person, TestPrincipal>;

/** What a scenario does, through one front end. */
interface FrontEnd {
  readonly name: string;
  readonly directory: string;
  readonly scim: ScimTestServer;
  startRun(runbookId: string, inputs: readonly string[], as: Person): Promise<string>;
  approve(runId: string, as: Person): Promise<void>;
  /** Presses approve as someone who may not approve this run; resolves with what that person is told. */
  approveRefused(runId: string, as: Person): Promise<string>;
  confirm(runId: string, as: Person, record: string): Promise<void>;
  skip(runId: string, as: Person): Promise<void>;
  declare(title: string, as: Person): Promise<void>;
  grant(as: Person, ttl: string): Promise<void>;
  revoke(as: Person): Promise<void>;
  close(as: Person): Promise<void>;
  /** The people as the audit log names them. */
  actorOf(actor: string): string;
  read<T>(reader: (services: RunbookServices) => T | Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

function configYaml(directory: string, scim: ScimTestServer): string {
  return `idp:
  name: Okta
  metadata: ${join(directory, "idp-metadata.xml")}
  directory:
    kind: scim
    baseUrl: ${scim.baseUrl}
    tokenVariable: TEST_SCIM_TOKEN
    ca: ${join(directory, "scim-ca.pem")}
store:
  path: ${join(directory, "breakglass.db")}
aws:
  region: us-east-1
  emergencyAccount:
    accountId: "${EMERGENCY_ACCOUNT}"
slack:
  channels:
    alerts: ${CHANNELS.alerts}
    incidents: ${CHANNELS.incidents}
    security: ${CHANNELS.security}
  access:
    run: [${ALICE}, ${CAROL}]
    approve: [${ALICE}, ${BOB}]
    grant: [${ALICE}]
  grant:
    groups: [${OPERATORS}]
    defaultTtl: 2h
    maxTtl: 8h
people:
${(Object.keys(SLACK_ID) as Person[])
  .map(
    (person) =>
      `  - name: ${person}\n    slack: [${SLACK_ID[person]}]\n    aws:\n      - ` +
      `userArn: ${AWS_PRINCIPAL[person].arn}`,
  )
  .join("\n")}
`;
}

/** One SCIM server for both front ends (scimmy's resources are process-wide); each scenario leaves the group empty. */
async function startIdp(): Promise<ScimTestServer> {
  const scim = await startScimServer(TOKEN);
  scim.store.addUser({ id: CAROL_IDP, userName: CAROL_LOGIN });
  scim.store.addGroup(OPERATORS, "AWS emergency operators");
  return scim;
}

function prepare(prefix: string, scim: ScimTestServer): { directory: string; scim: ScimTestServer; yaml: string } {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(directory, "scim-ca.pem"), scim.ca);
  publishIdpMetadata(
    directory,
    makeCertificate({ notBefore: new Date(NOW.getTime() - DAY), notAfter: new Date(NOW.getTime() + 400 * DAY) }),
  );
  const yaml = configYaml(directory, scim);
  writeFileSync(join(directory, "breakglass.yaml"), yaml);
  return { directory, scim, yaml };
}

async function readStore<T>(directory: string, reader: (services: RunbookServices) => T | Promise<T>): Promise<T> {
  const { config } = await loadConfig(join(directory, "breakglass.yaml"));
  const services = openRunbookServices(config, {
    runbookDirectory: RUNBOOKS,
    clock: fixedClock(NOW),
    env: {},
    notify: () => Promise.resolve(),
  });
  try {
    return await reader(services);
  } finally {
    services.close();
  }
}

function cliFrontEnd(idp: ScimTestServer): FrontEnd {
  const { directory, scim } = prepare("breakglass-parity-cli-", idp);
  const cli: Breakglass = breakglassCli(() => ({ TEST_SCIM_TOKEN: TOKEN }), NOW);
  const common = ["--config", join(directory, "breakglass.yaml"), "--dir", RUNBOOKS];
  /** The command as the person named by --as runs it: with their own AWS credentials. */
  const asPerson = (args: string[]) =>
    asPrincipal(AWS_PRINCIPAL[args[args.indexOf("--as") + 1] as Person], () => cli(...args, ...common));
  const run = async (...args: string[]) => {
    const result = await asPerson(args);
    if (result.code !== 0)
      throw new Error(`breakglass ${args.join(" ")} exited ${result.code}: ${result.stderr}${result.stdout}`);
    return result.stdout;
  };
  return {
    name: "CLI",
    directory,
    scim,
    async startRun(runbookId, inputs, as) {
      return startedRunId(
        await run("runbook", "run", runbookId, "--as", as, ...inputs.flatMap((input) => ["--input", input])),
        runbookId,
      );
    },
    approve: async (runId, as) => void (await run("runbook", "approve", runId, "--as", as)),
    async approveRefused(runId, person) {
      const result = await asPerson(["runbook", "approve", runId, "--as", person]);
      if (result.code === 0) throw new Error(`${person} approved run ${runId}`);
      return result.stderr;
    },
    confirm: async (runId, as, record) => void (await run("runbook", "confirm", runId, "--as", as, "--record", record)),
    skip: async (runId, as) => void (await run("runbook", "skip", runId, "--as", as, "--reason", "not needed")),
    declare: async (title, as) => void (await run("incident", "declare", ...title.split(" "), "--as", as)),
    grant: async (as, ttl) => void (await run("grant", CAROL_LOGIN, "--ttl", ttl, "--as", as)),
    revoke: async (as) => void (await run("revoke", CAROL_LOGIN, "--as", as)),
    close: async (as) => void (await run("incident", "close", "--as", as)),
    actorOf: (actor) => actor.replace(/^person:/, ""),
    read: (reader) => readStore(directory, reader),
    stop: () => Promise.resolve(),
  };
}

async function slackFrontEnd(idp: ScimTestServer): Promise<FrontEnd> {
  const { directory, scim, yaml } = prepare("breakglass-parity-slack-", idp);
  const harness: ServeHarness = await startHarness({
    configYaml: yaml,
    runbookDirectory: RUNBOOKS,
    env: { TEST_SCIM_TOKEN: TOKEN },
    directory,
    clock: fixedClock(NOW),
  });
  harness.stub.setUser(CAROL, CAROL_LOGIN, "carol");
  const services = harness.service.services;
  const byId = new Map(Object.keys(SLACK_ID).map((person) => [`person:${person}`, person]));
  const auditCount = (action: string) =>
    services.store.audit.auditRecords().filter((record) => record.action === action).length;
  /** Waits until the service has written one more audit record of this action than before `work`. */
  const after = async (action: string, work: () => Promise<unknown>) => {
    const before = auditCount(action);
    await work();
    await eventually(
      () => auditCount(action),
      (count) => count > before,
    );
  };
  /** The run's message, as its in-place updates name it. */
  const messageOf = async (runId: string) => {
    const mentions = (call: { args: Record<string, unknown> }) =>
      String(call.args["text"]).includes(`run ${runId.slice(0, 8)}`);
    const updated = await eventually(
      () => harness.stub.callsTo("chat.update").find(mentions),
      (call) => call !== undefined,
    );
    return { channel: String(updated?.args["channel"]), ts: String(updated?.args["ts"]) };
  };
  const waitFor = (runId: string, predicate: (status: string, waitingAt: string | null) => boolean) =>
    eventually(
      async () => services.engine.status(runId),
      (view) => predicate(view.status, view.waitingFor?.stepId ?? null),
    );
  return {
    name: "Slack",
    directory,
    scim,
    async startRun(runbookId, inputs, as) {
      const before = new Set(
        services.store.audit
          .auditRecords()
          .filter((record) => record.action === "run.started")
          .map((record) => record.runId),
      );
      await harness.command(`runbook start ${runbookId} ${inputs.join(" ")}`, SLACK_ID[as], CHANNELS.incidents);
      const started = await eventually(
        () =>
          services.store.audit
            .auditRecords()
            .find((record) => record.action === "run.started" && !before.has(record.runId)),
        (record) => record !== undefined,
      );
      const runId = String(started?.runId);
      await waitFor(runId, (status) => status === "waiting" || status === "failed" || status === "succeeded");
      return runId;
    },
    async approve(runId, as) {
      await harness.press("run.approve", runId, SLACK_ID[as], await messageOf(runId));
      await waitFor(runId, (status, at) => at === "write-down" || status === "failed");
    },
    async approveRefused(runId, as) {
      const told = () =>
        harness.stub.callsTo("chat.postEphemeral").filter((call) => call.args["user"] === SLACK_ID[as]);
      const before = told().length;
      await harness.press("run.approve", runId, SLACK_ID[as], await messageOf(runId));
      const after = await eventually(told, (calls) => calls.length > before);
      return JSON.stringify(after.at(-1)?.args);
    },
    async confirm(runId, as, record) {
      await harness.press("run.confirm", runId, SLACK_ID[as], await messageOf(runId));
      await eventually(
        () => harness.stub.callsTo("views.open"),
        (calls) => calls.length > 0,
      );
      await harness.submit("run.confirm.record", runId, SLACK_ID[as], { record: { record } });
      await waitFor(runId, (status, at) => at === "optional-check" || status === "failed");
    },
    async skip(runId, as) {
      await harness.press("run.skip", runId, SLACK_ID[as], await messageOf(runId));
      await waitFor(runId, (status) => status === "succeeded" || status === "failed");
    },
    declare: (title, as) => after("action.verified", () => harness.command(`incident declare ${title}`, SLACK_ID[as])),
    grant: (as, ttl) => after("action.verified", () => harness.command(`grant <@${CAROL}|carol> ${ttl}`, SLACK_ID[as])),
    revoke: (as) => after("action.verified", () => harness.command(`revoke <@${CAROL}|carol>`, SLACK_ID[as])),
    close: (as) => after("action.verified", () => harness.command("incident close", SLACK_ID[as])),
    actorOf: (actor) => byId.get(actor) ?? actor,
    read: async (reader) => reader(services),
    stop: () => harness.stop(),
  };
}

/** The audit trail as a person compares it: what was done, to what, by whom; without times, hashes, or the front end's own records. */
function trail(records: readonly AuditRecord[], actorOf: (actor: string) => string, runId?: string): string[] {
  return records
    .filter((record) => !record.action.startsWith("slack.") && (runId === undefined || record.runId === runId))
    .map(
      (record) =>
        `${record.action} ${record.subject.replace(/INC-\d{8}-\d{4}(-\d+)?/g, "INC-…")} by ${actorOf(record.actor)}`,
    );
}

let moto: MotoServer;
let idp: ScimTestServer;
let cli: FrontEnd;
let slack: FrontEnd;
const runs = new Map<string, string>();

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: "us-east-1" });
  for (const person of Object.keys(SLACK_ID) as Person[])
    AWS_PRINCIPAL[person] = await iamUserPrincipal(moto.endpoint, person);
  idp = await startIdp();
  cli = cliFrontEnd(idp);
  slack = await slackFrontEnd(idp);
});

afterAll(async () => {
  await Promise.all([cli?.stop(), slack?.stop()]);
  await idp?.close();
  await moto?.stop();
});

describe.each([["CLI", () => cli] as const, ["Slack", () => slack] as const])("through %s", (_name, frontEnd) => {
  it(
    "a run starts with config-filled and repeated list inputs, refuses the initiator's own approval, and runs to the end",
    async () => {
      const fe = frontEnd();
      const runId = await fe.startRun(
        "parity-drill",
        ["incident=INC-4711", "responders=ana@example.com,raj@example.com", "responders=lee@example.com"],
        "alice",
      );
      runs.set(fe.name, runId);
      const started = await fe.read(({ engine }) => engine.status(runId));
      expect(started.inputs).toEqual({
        incident: "INC-4711",
        responders: ["ana@example.com", "raj@example.com", "lee@example.com"],
        emergencyAccountId: EMERGENCY_ACCOUNT,
      });
      expect(started.waitingFor).toEqual({ stepId: "approve-drill", kind: "approval" });
      expect(await fe.approveRefused(runId, "alice")).toContain("needs a second person");
      await fe.approve(runId, "bob");
      await fe.confirm(runId, "carol", "nothing changed in 111122223333");
      await fe.skip(runId, "carol");
      const finished = await fe.read(({ engine }) => engine.status(runId));
      expect(finished.status).toBe("succeeded");
      expect(finished.steps.map((step) => `${step.id}:${step.status}`)).toEqual([
        "inspect-metadata:succeeded",
        "approve-drill:succeeded",
        "write-down:succeeded",
        "optional-check:skipped",
        "open-window:succeeded",
        "close-window:succeeded",
        "announce:succeeded",
      ]);
    },
    4 * PATIENCE,
  );

  it(
    "an incident is declared, a responder granted and revoked in the IdP, and the incident closed",
    async () => {
      const fe = frontEnd();
      await fe.declare("IdP down for everyone", "alice");
      await fe.grant("alice", "1h");
      expect(fe.scim.store.membersOf(OPERATORS)).toEqual([CAROL_IDP]);
      const leases = await fe.read(({ store }) => store.leases.activeLeases());
      expect(
        leases.map((lease) => [lease.login, lease.groupId, Date.parse(lease.expiresAt) - Date.parse(lease.addedAt)]),
      ).toEqual([[CAROL_LOGIN, OPERATORS, 3_600_000]]);
      await fe.revoke("alice");
      expect(fe.scim.store.membersOf(OPERATORS)).toEqual([]);
      await fe.close("alice");
      const open = await fe.read(({ emergency }) => emergency.openIncidents());
      expect(open).toEqual([]);
    },
    4 * PATIENCE,
  );
});

describe("the CLI and Slack, side by side", () => {
  it("leave the same run state and the same audit trail, person for person", async () => {
    const state = (fe: FrontEnd) =>
      fe.read(({ engine, store }) => {
        const runId = runs.get(fe.name) as string;
        return engine.status(runId).then((view) => ({
          status: view.status,
          inputs: view.inputs,
          steps: view.steps.map((step) => ({ id: step.id, status: step.status, attempts: step.attempts })),
          artefacts: Object.keys(view.artefacts).sort(),
          trail: trail(store.audit.auditRecords(), (actor) => fe.actorOf(actor), runId),
        }));
      });
    const [fromCli, fromSlack] = await Promise.all([state(cli), state(slack)]);
    expect(fromCli.trail.length).toBeGreaterThan(10);
    expect(fromSlack).toEqual(fromCli);
  });

  it("leave the same audit trail for an incident's emergency access", async () => {
    const incidentTrail = (fe: FrontEnd) =>
      fe.read(({ store }) =>
        trail(
          store.audit.auditRecords().filter((record) => !runs.has(fe.name) || record.runId !== runs.get(fe.name)),
          (actor) => fe.actorOf(actor),
        ),
      );
    const [fromCli, fromSlack] = await Promise.all([incidentTrail(cli), incidentTrail(slack)]);
    expect(fromCli.some((line) => line.startsWith("action.verified"))).toBe(true);
    expect(fromSlack).toEqual(fromCli);
  });
});
