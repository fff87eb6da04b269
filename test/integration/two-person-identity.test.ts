// The two-person rule across front ends: a run started by one person, in Slack or on the CLI, cannot be approved by
// that same person through any mix of the two. The CLI knows who it is from STS (moto answers GetCallerIdentity for
// each person's own credentials), Slack from the signed request, and breakglass.yaml's people list joins the two.
import { writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY, makeCertificate } from "../support/certificates.js";
import { asPrincipal, iamUserPrincipal, roleSessionPrincipal, type TestPrincipal } from "../support/aws-principals.js";
import { eventually } from "../support/eventually.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { breakglassCli, startedRunId, stepLine, type Breakglass, type CliResult } from "../support/runbook-cli.js";
import {
  ALICE,
  BOB,
  CHANNELS,
  configText,
  publishIdpMetadata,
  startHarness,
  type ServeHarness,
} from "../support/serve-harness.js";
import { EXIT } from "../../src/cli/exit-codes.js";

const RUNBOOKS = join(import.meta.dirname, "..", "server", "runbooks");
const NOW = new Date();
const RESPONDER_ROLE = "arn:aws:iam::123456789012:role/ops/Responder";
/** A test's own limit on waiting for the service's background work; never an assertion about time. */
const PATIENCE = 60_000;

let moto: MotoServer;
let harness: ServeHarness;
let cli: Breakglass;
let config: string;
const principal: Record<"alice" | "bob" | "carol" | "mallory", TestPrincipal> = {} as never;

/** The people of these tests and their access rules; `more` adds people, `approvers` replaces who may approve. */
function peopleYaml(more = "", approvers = "alice, bob, carol"): string {
  return `people:${more}
  - name: alice
    slack: [${ALICE}]
    aws:
      - userArn: ${principal.alice.arn}
  - name: bob
    slack: [${BOB}]
    aws:
      - userArn: ${principal.bob.arn}
  - name: carol
    aws:
      - roleArn: ${RESPONDER_ROLE}
        sessionName: carol
access:
  run: [alice, bob, carol]
  approve: [${approvers}]
`;
}

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: "us-east-1" });
  principal.alice = await iamUserPrincipal(moto.endpoint, "alice");
  principal.bob = await iamUserPrincipal(moto.endpoint, "bob");
  principal.mallory = await iamUserPrincipal(moto.endpoint, "mallory");
  principal.carol = await roleSessionPrincipal(moto.endpoint, RESPONDER_ROLE, "carol");
  harness = await startHarness({ configYaml: configText("{dir}", peopleYaml()), runbookDirectory: RUNBOOKS });
  publishIdpMetadata(
    harness.directory,
    makeCertificate({ notBefore: new Date(NOW.getTime() - DAY), notAfter: new Date(NOW.getTime() + 400 * DAY) }),
  );
  config = join(harness.directory, "breakglass.yaml");
  cli = breakglassCli(() => ({}), NOW);
}, 120_000);

afterAll(async () => {
  await harness?.stop();
  await moto?.stop();
});

/** `breakglass <args> --config … --dir …` with this person's credentials in the environment. */
function as(who: TestPrincipal | "none", ...args: string[]): Promise<CliResult> {
  return asPrincipal(who, () => cli(...args, "--config", config, "--dir", RUNBOOKS));
}

async function startFromCli(who: TestPrincipal, label: string): Promise<string> {
  const started = await as(who, "runbook", "run", "slack-drill", "--as", label, "--input", "incident=INC-77");
  expect(started.stderr).toBe("");
  expect(started.stdout).toContain("Waiting for a second person to approve");
  return startedRunId(started.stdout, "slack-drill");
}

async function startFromSlack(user: string): Promise<string> {
  const audit = () => harness.service.services.store.audit.auditRecords();
  const before = new Set(
    audit()
      .filter((record) => record.action === "run.started")
      .map((record) => record.runId),
  );
  await harness.command("runbook start slack-drill incident=INC-78", user, CHANNELS.incidents);
  const started = await eventually(
    () => audit().find((record) => record.action === "run.started" && !before.has(record.runId)),
    (record) => record !== undefined,
  );
  const runId = String(started?.runId);
  await eventually(
    () => harness.service.services.engine.status(runId),
    (view) => view.waitingFor?.kind === "approval",
  );
  return runId;
}

/** Presses approve in Slack as `user`; resolves with what that user is told, or the run's state once it moved on. */
async function pressApprove(
  runId: string,
  user: string,
): Promise<{ told: string | undefined; waitingAt: string | null }> {
  const told = () => harness.stub.callsTo("chat.postEphemeral").filter((call) => call.args["user"] === user);
  const approvals = () =>
    harness.service.services.store.audit
      .auditRecords()
      .filter((record) => record.runId === runId && record.action.startsWith("approval."));
  const before = { told: told().length, approvals: approvals().length };
  await harness.press("run.approve", runId, user, { channel: CHANNELS.incidents, ts: "1700000000.000100" });
  await eventually(approvals, (records) => records.length > before.approvals);
  const view = await eventually(
    () => harness.service.services.engine.status(runId),
    // A run seen while it is still running (between one step and the next) has moved on but not yet settled.
    (current) =>
      (current.status !== "running" && current.waitingFor?.stepId !== "approve-drill") || told().length > before.told,
  );
  return {
    told: told().length > before.told ? JSON.stringify(told().at(-1)?.args) : undefined,
    waitingAt: view.waitingFor?.stepId ?? null,
  };
}

function approvalRecord(runId: string) {
  return harness.service.services.store.audit
    .auditRecords()
    .find((record) => record.runId === runId && record.action === "approval.granted");
}

describe("a run started on the CLI", () => {
  it(
    "cannot be approved on the CLI by the same AWS principal, whatever --as says",
    async () => {
      const runId = await startFromCli(principal.alice, "alice");
      for (const label of ["alice", "Alice", "bob"]) {
        const refused = await as(principal.alice, "runbook", "approve", runId, "--as", label);
        expect(refused.code).toBe(EXIT.refused);
        expect(refused.stderr).toContain(
          `run ${runId}: step "approve-drill" needs a second person: ${label} started this run`,
        );
      }
      const approved = await as(principal.bob, "runbook", "approve", runId, "--as", "bob");
      expect(approved.stderr).toBe("");
      expect(stepLine(approved.stdout, "A second person approves the drill")).toContain(
        "approved by bob (run started by alice)",
      );
      expect(approvalRecord(runId)).toMatchObject({
        actor: "person:bob",
        detail: {
          approval: {
            approverPerson: "person:bob",
            initiatorPerson: "person:alice",
            verification: `AWS STS ${principal.bob.arn}`,
          },
        },
      });
    },
    2 * PATIENCE,
  );

  it(
    "cannot be approved by its initiator's own Slack press, and can by a second person's",
    async () => {
      const runId = await startFromCli(principal.alice, "alice");
      const own = await pressApprove(runId, ALICE);
      expect(own.told).toContain("needs a second person");
      expect(own.waitingAt).toBe("approve-drill");
      const second = await pressApprove(runId, BOB);
      expect(second.waitingAt).toBe("write-down");
      expect(approvalRecord(runId)).toMatchObject({
        actor: "person:bob",
        detail: { approval: { approver: `slack:${BOB}`, initiatorPerson: "person:alice" } },
      });
    },
    2 * PATIENCE,
  );

  it(
    "is approved by a person who signs in through an assumed role, known by the role and the session name",
    async () => {
      const runId = await startFromCli(principal.alice, "alice");
      const approved = await as(principal.carol, "runbook", "approve", runId, "--as", "carol");
      expect(approved.stderr).toBe("");
      expect(approvalRecord(runId)).toMatchObject({
        actor: "person:carol",
        detail: { approval: { verification: "AWS STS arn:aws:iam::123456789012:role/Responder session carol" } },
      });
    },
    2 * PATIENCE,
  );
});

describe("a run started in Slack", () => {
  it(
    "cannot be approved on the CLI by the Slack user's own person, even named as that Slack user",
    async () => {
      const runId = await startFromSlack(ALICE);
      const refused = await as(principal.alice, "runbook", "approve", runId, "--as", `slack:${ALICE}`);
      expect(refused.code).toBe(EXIT.refused);
      expect(refused.stderr).toContain(`needs a second person: slack:${ALICE} started this run`);
      const approved = await as(principal.bob, "runbook", "approve", runId, "--as", "bob");
      expect(approved.code).toBe(EXIT.ok);
      expect(approvalRecord(runId)).toMatchObject({
        actor: "person:bob",
        detail: { approval: { initiatorPerson: "person:alice" } },
      });
    },
    2 * PATIENCE,
  );

  it(
    "cannot be approved in Slack by its initiator",
    async () => {
      const runId = await startFromSlack(BOB);
      const own = await pressApprove(runId, BOB);
      expect(own.told).toContain("needs a second person");
      expect((await pressApprove(runId, ALICE)).waitingAt).toBe("write-down");
    },
    2 * PATIENCE,
  );
});

describe("a CLI approval is refused, saying why, when who is approving cannot be established", () => {
  it(
    "refuses an AWS principal no person lists",
    async () => {
      const runId = await startFromSlack(ALICE);
      const refused = await as(principal.mallory, "runbook", "approve", runId, "--as", "bob");
      expect(refused.code).toBe(EXIT.refused);
      expect(refused.stderr).toContain(
        `--as bob: your AWS principal ${principal.mallory.arn} is not listed for anyone under people in breakglass.yaml, so breakglass cannot tell who you are`,
      );
      expect(approvalRecord(runId)).toBeUndefined();
    },
    2 * PATIENCE,
  );

  it(
    "refuses without credentials",
    async () => {
      const runId = await startFromSlack(ALICE);
      const refused = await as("none", "runbook", "approve", runId, "--as", "bob");
      expect(refused.code).toBe(EXIT.refused);
      expect(refused.stderr).toContain(
        "--as bob: cannot verify who you are, so nothing that needs a person is done: sts:GetCallerIdentity: ",
      );
      expect(approvalRecord(runId)).toBeUndefined();
    },
    2 * PATIENCE,
  );

  it(
    "refuses when STS cannot be reached",
    async () => {
      const runId = await startFromSlack(ALICE);
      const refused = await asPrincipal(
        principal.bob,
        () => cli("runbook", "approve", runId, "--as", "bob", "--config", config, "--dir", RUNBOOKS),
        { AWS_ENDPOINT_URL: "http://127.0.0.1:9" },
      );
      expect(refused.code).toBe(EXIT.refused);
      expect(refused.stderr).toContain("--as bob: cannot verify who you are");
      expect(approvalRecord(runId)).toBeUndefined();
    },
    2 * PATIENCE,
  );

  it(
    "refuses a person the access rules do not let approve",
    async () => {
      const restricted = join(harness.directory, "restricted.yaml");
      writeFileSync(restricted, configText(harness.directory, peopleYaml("", "alice")));
      const runId = await startFromSlack(ALICE);
      const refused = await asPrincipal(principal.carol, () =>
        cli("runbook", "approve", runId, "--as", "carol", "--config", restricted, "--dir", RUNBOOKS),
      );
      expect(refused.code).toBe(EXIT.refused);
      expect(refused.stderr).toContain(
        "--as carol: you are person:carol (AWS STS arn:aws:iam::123456789012:role/Responder session carol), who may not approve or reject runbook steps: " +
          "alice, U0ALICE0001, U0BOB000001, S0RESPOND01 may (access.approve and slack.access.approve in breakglass.yaml)",
      );
      expect(approvalRecord(runId)).toBeUndefined();
    },
    2 * PATIENCE,
  );
});

describe("lab mode", () => {
  it(
    "trusts the OS user on the CLI, and says so on the approval it records",
    async () => {
      const osUser = userInfo().username;
      const lab = join(harness.directory, "lab.yaml");
      writeFileSync(
        lab,
        configText(
          harness.directory,
          `${peopleYaml(`\n  - name: ${osUser}`, `alice, bob, ${osUser}`)}identity:\n  mode: lab\n`,
        ),
      );
      const runId = await startFromSlack(ALICE);
      const approved = await asPrincipal("none", () =>
        cli("runbook", "approve", runId, "--as", "dana", "--config", lab, "--dir", RUNBOOKS),
      );
      expect(approved.stderr).toBe("");
      expect(stepLine(approved.stdout, "A second person approves the drill")).toContain(
        `approved by dana (unverified: lab mode, OS user ${osUser})`,
      );
      expect(approvalRecord(runId)).toMatchObject({
        actor: `person:${osUser}`,
        detail: { approval: { approver: `dana (unverified: lab mode, OS user ${osUser})` } },
      });
    },
    2 * PATIENCE,
  );

  it(
    "still refuses the OS user who started the run",
    async () => {
      const lab = join(harness.directory, "lab-own.yaml");
      const osUser = userInfo().username;
      writeFileSync(
        lab,
        configText(
          harness.directory,
          `people:\n  - name: ${osUser}\naccess:\n  run: [${osUser}]\n  approve: [${osUser}]\nidentity:\n  mode: lab\n`,
        ),
      );
      const started = await asPrincipal("none", () =>
        cli(
          "runbook",
          "run",
          "slack-drill",
          "--as",
          "erin",
          "--input",
          "incident=INC-79",
          "--config",
          lab,
          "--dir",
          RUNBOOKS,
        ),
      );
      const runId = startedRunId(started.stdout, "slack-drill");
      const refused = await asPrincipal("none", () =>
        cli("runbook", "approve", runId, "--as", "frank", "--config", lab, "--dir", RUNBOOKS),
      );
      expect(refused.code).toBe(EXIT.refused);
      expect(refused.stderr).toContain(
        `needs a second person: frank started this run (as erin; both are person:${osUser}), so frank cannot approve it`,
      );
    },
    2 * PATIENCE,
  );
});
