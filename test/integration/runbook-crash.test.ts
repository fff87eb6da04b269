// Kill the CLI (SIGKILL) at every state transition of an fm2 run and right after its side effect: resuming always finishes, and the provider is updated once.
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateSAMLProviderCommand, GetSAMLProviderCommand, IAMClient } from "@aws-sdk/client-iam";
import { ListInstancesCommand, SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/adapters/store/open-store.js";
import type { CliIo } from "../../src/cli/io.js";
import type { AuditRecord } from "../../src/domain/audit/audit-chain.js";
import { main } from "../../src/cli/main.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { DAY, freshKeyPair, makeCertificate } from "../support/certificates.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { entityXml } from "../support/metadata-builder.js";
import {
  asPrincipal,
  iamUserPrincipal,
  motoAwsYamlLines,
  peopleYamlLines,
  principalNamedIn,
  type TestPrincipal,
} from "../support/aws-principals.js";
import { awsClientConfig, MOTO_DEFAULT_ACCOUNT_ID, startMoto, type MotoServer } from "../support/moto.js";

const NOW = new Date();
/**
 * A moment at which the run lease (1 min) a killed process took on the real clock has long expired: 11 minutes after now,
 * taken when resuming rather than once for the file, which would hold only while the file ran for under a minute.
 */
const afterLease = (): Date => new Date(Date.now() + 11 * 60_000);
const retired = makeCertificate({
  commonName: "idp retired",
  notBefore: new Date(NOW.getTime() - 700 * DAY),
  notAfter: new Date(NOW.getTime() + 400 * DAY),
});
const current = makeCertificate(
  {
    commonName: "idp current",
    notBefore: new Date(NOW.getTime() - DAY),
    notAfter: new Date(NOW.getTime() + 700 * DAY),
  },
  freshKeyPair(),
);
/** A full key change: the approver types the start of the new certificate's SHA-256 (the re-import guard). */
const CONFIRM_NEW_KEY = ["--confirm-fingerprint", createHash("sha256").update(current.der).digest("hex").slice(0, 8)];
const metadata = (certificate: { base64: string }) =>
  entityXml({ keys: [{ base64: certificate.base64, use: "signing" }] });
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/**
 * Each kill point starts a CLI process under tsx, which takes seconds on a busy machine: the tests that visit every kill
 * point get vitest's timeout raised far above any normal run, as a guard against a hang rather than a budget.
 */
const EVERY_KILL_POINT_TIMEOUT_MS = 15 * 60_000;
const ONE_KILL_TIMEOUT_MS = 3 * 60_000;

let moto: MotoServer;
let proxy: FaultProxy;
let instanceArn: string;
/** Alice and Bob, each with their own AWS credentials: the CLI knows who runs it from STS, not from --as. */
const people: Record<string, TestPrincipal> = {};

interface Scenario {
  readonly directory: string;
  readonly config: string;
  readonly providerArn: string;
}

async function scenario(name: string): Promise<Scenario> {
  const directory = mkdtempSync(join(tmpdir(), `breakglass-crash-${name}-`));
  writeFileSync(join(directory, "idp.xml"), metadata(current));
  // Each scenario has its own provider, so the counts of UpdateSAMLProvider calls stay apart.
  const providerArn = (
    await new IAMClient(awsClientConfig(moto.endpoint)).send(
      new CreateSAMLProviderCommand({ Name: `EmergencyIdP-${name}`, SAMLMetadataDocument: metadata(retired) }),
    )
  ).SAMLProviderArn as string;
  const config = join(directory, "breakglass.yaml");
  writeFileSync(
    config,
    [
      "idp:",
      "  name: Test IdP",
      "  metadata: idp.xml",
      ...motoAwsYamlLines(providerArn, instanceArn),
      "store:",
      "  path: breakglass.db",
      ...peopleYamlLines(people),
      "",
    ].join("\n"),
  );
  return { directory, config, providerArn };
}

async function breakglass(at: Date, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return breakglassWith({}, at, ...args);
}

/** The CLI in this process as if it ran on another machine: the lease take-over judges by this host name. */
function breakglassOnAnotherHost(
  at: Date,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return breakglassWith(
    { leaseHost: { hostname: "another-host.example", pid: process.pid, isProcessAlive: () => true } },
    at,
    ...args,
  );
}

async function breakglassWith(
  runbookSeams: CliIo["runbookSeams"],
  at: Date,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await asPrincipal(principalNamedIn(args, people), () =>
    main(args, {
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
      stdoutIsTty: false,
      env: {},
      clock: fixedClock(at),
      ...(runbookSeams === undefined ? {} : { runbookSeams }),
    }),
  );
  return { code, stdout, stderr };
}

/**
 * The real CLI in its own process, through the test-only entry that installs the fault plan (BREAKGLASS_FAULT_*) in the
 * runbook services' seams, which then kills it with SIGKILL.
 */
function breakglassProcess(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ signal: NodeJS.Signals | null; code: number | null; stdout: string }> {
  return cliProcess("test/support/faulty-cli.ts", env, args);
}

function cliProcess(
  entry: string,
  env: Record<string, string>,
  args: readonly string[],
): Promise<{ signal: NodeJS.Signals | null; code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const credentials = principalNamedIn(args, people)?.credentials ?? {};
    const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...credentials, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve({ code, signal, stdout }));
  });
}

/** The command line that starts fm2 in a scenario, by the CLI in process and by the killed child processes alike. */
function startFm2Args(s: Scenario): string[] {
  return [
    "runbook",
    "run",
    "fm2-reimport-metadata",
    "--as",
    "alice",
    "--config",
    s.config,
    "--input",
    "incident=CHG-1",
    "--input",
    "workforceSignIn=working",
    "--input",
    `emergencyAccountId=${MOTO_DEFAULT_ACCOUNT_ID}`,
    "--input",
    `identityCenterAccountId=${MOTO_DEFAULT_ACCOUNT_ID}`,
    "--input",
    "identityCenterRegion=us-east-1",
  ];
}

async function startRun(s: Scenario): Promise<string> {
  const started = await breakglass(NOW, ...startFm2Args(s));
  expect(started.stdout).toContain("Waiting for a second person to approve");
  return /Started run (\S+)/.exec(started.stdout)?.[1] as string;
}

/** The audit records of one action, read from the scenario's store as another process would. */
function auditRecordsOf(s: Scenario, action: string): AuditRecord[] {
  const store = openStore({ path: join(s.directory, "breakglass.db") });
  try {
    return store.audit.auditRecords().filter((record) => record.action === action);
  } finally {
    store.close();
  }
}

async function providerHolds(s: Scenario): Promise<string | undefined> {
  return (
    await new IAMClient(awsClientConfig(moto.endpoint)).send(
      new GetSAMLProviderCommand({ SAMLProviderArn: s.providerArn }),
    )
  ).SAMLMetadataDocument;
}

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint, { seed: 3, throttleRate: 0, serverErrorRate: 0 });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: "us-east-1",
  });
  people["alice"] = await iamUserPrincipal(moto.endpoint, "alice");
  people["bob"] = await iamUserPrincipal(moto.endpoint, "bob");
  instanceArn = (await new SSOAdminClient(awsClientConfig(moto.endpoint)).send(new ListInstancesCommand({})))
    .Instances?.[0]?.InstanceArn as string;
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});

describe("a run killed with SIGKILL", () => {
  it(
    "resumes after a kill at every transition of the approval and the re-import, and imports exactly once",
    async () => {
      let transitionsSurvived = 0;
      for (let kill = 1; kill <= 40; kill++) {
        const s = await scenario(`t${kill}`);
        const runId = await startRun(s);
        const updatesBefore = proxy.requestsFor("UpdateSAMLProvider");
        const killed = await breakglassProcess(
          { BREAKGLASS_FAULT_KILL_AFTER_TRANSITION: String(kill) },
          "runbook",
          "approve",
          runId,
          ...CONFIRM_NEW_KEY,
          "--as",
          "bob",
          "--config",
          s.config,
        );
        if (killed.signal !== "SIGKILL") {
          // Past the last transition of this command: it ran to the next wait without being killed.
          expect(killed.code).toBe(0);
          transitionsSurvived = kill - 1;
          break;
        }
        // Resume as the lease holder died: after its lease expired. Approving again is harmless if it was already recorded.
        const resumed = await breakglass(afterLease(), "runbook", "resume", runId, "--as", "bob", "--config", s.config);
        let view = resumed.stdout;
        if (view.includes("Waiting for a second person to approve"))
          view = (
            await breakglass(
              afterLease(),
              "runbook",
              "approve",
              runId,
              ...CONFIRM_NEW_KEY,
              "--as",
              "bob",
              "--config",
              s.config,
            )
          ).stdout;
        expect(view).toContain("Waiting for the step to be done by hand");
        expect(await providerHolds(s)).toBe(metadata(current));
        expect(proxy.requestsFor("UpdateSAMLProvider") - updatesBefore).toBe(1);
      }
      // The approval and the re-import write several transitions; every one of them was a kill point.
      expect(transitionsSurvived).toBeGreaterThanOrEqual(5);
    },
    EVERY_KILL_POINT_TIMEOUT_MS,
  );

  it(
    "resumes after a kill at every transition of starting the run, up to the approval",
    async () => {
      let killPoints = 0;
      for (let kill = 1; kill <= 40; kill++) {
        const s = await scenario(`s${kill}`);
        const killed = await breakglassProcess(
          { BREAKGLASS_FAULT_KILL_AFTER_TRANSITION: String(kill) },
          ...startFm2Args(s),
        );
        if (killed.signal !== "SIGKILL") {
          expect(killed.stdout).toContain("Waiting for a second person to approve");
          killPoints = kill - 1;
          break;
        }
        const list = await breakglass(afterLease(), "runbook", "status", "--config", s.config);
        const runId = /^(\S+) +fm2-reimport-metadata/m.exec(list.stdout)?.[1];
        expect(runId).toBeDefined();
        const resumed = await breakglass(
          afterLease(),
          "runbook",
          "resume",
          runId as string,
          "--as",
          "alice",
          "--config",
          s.config,
        );
        expect(resumed.stdout).toContain("Waiting for a second person to approve");
      }
      expect(killPoints).toBeGreaterThanOrEqual(3);
    },
    EVERY_KILL_POINT_TIMEOUT_MS,
  );

  it(
    "does not import twice when killed right after the import, before it was recorded",
    async () => {
      const s = await scenario("apply");
      const runId = await startRun(s);
      const updatesBefore = proxy.requestsFor("UpdateSAMLProvider");
      const killed = await breakglassProcess(
        { BREAKGLASS_FAULT_KILL_AFTER_APPLY: "iam.update-saml-provider" },
        "runbook",
        "approve",
        runId,
        ...CONFIRM_NEW_KEY,
        "--as",
        "bob",
        "--config",
        s.config,
      );
      expect(killed.signal).toBe("SIGKILL");
      expect(await providerHolds(s)).toBe(metadata(current)); // the side effect happened
      const status = await breakglass(NOW, "runbook", "status", runId, "--config", s.config);
      expect(status.stdout).toMatch(/▶ +\d+\. Import the file into every emergency IAM SAML provider/); // recorded as applying, not done

      const resumed = await breakglass(afterLease(), "runbook", "resume", runId, "--as", "bob", "--config", s.config);
      expect(resumed.stdout).toMatch(
        /✓ +\d+\. Import the file into every emergency IAM SAML provider \(action\) .*already/,
      );
      expect(proxy.requestsFor("UpdateSAMLProvider") - updatesBefore).toBe(1);
    },
    ONE_KILL_TIMEOUT_MS,
  );

  it(
    "is never killed by BREAKGLASS_FAULT_* through the real command: only the test entry installs faults",
    async () => {
      const s = await scenario("production");
      const runId = await startRun(s);
      const approved = await cliProcess("src/cli/bin.ts", { BREAKGLASS_FAULT_KILL_AFTER_TRANSITION: "1" }, [
        "runbook",
        "approve",
        runId,
        ...CONFIRM_NEW_KEY,
        "--as",
        "bob",
        "--config",
        s.config,
      ]);
      expect([approved.signal, approved.code]).toEqual([null, 0]);
      expect(approved.stdout).toContain("Waiting for the step to be done by hand");
    },
    ONE_KILL_TIMEOUT_MS,
  );

  it(
    "is resumable at once on the same host: the dead process's lease is taken over, and the take-over is on the record",
    async () => {
      const s = await scenario("same-host");
      const runId = await startRun(s);
      const killed = await breakglassProcess(
        { BREAKGLASS_FAULT_KILL_AFTER_TRANSITION: "1" },
        "runbook",
        "approve",
        runId,
        ...CONFIRM_NEW_KEY,
        "--as",
        "bob",
        "--config",
        s.config,
      );
      expect(killed.signal).toBe("SIGKILL");
      // The clock of the moment the process died, not after its lease: nothing waits for the lease to lapse.
      const resumed = await breakglass(NOW, "runbook", "resume", runId, "--as", "bob", "--config", s.config);
      expect([resumed.code, resumed.stderr]).toEqual([0, ""]);
      expect(resumed.stdout).toContain("Waiting for the step to be done by hand");
      expect(auditRecordsOf(s, "run.lease-taken-over")).toEqual([
        expect.objectContaining({
          runId,
          detail: expect.objectContaining({ because: "its process is no longer running on this host" }),
        }),
      ]);
    },
    ONE_KILL_TIMEOUT_MS,
  );

  it(
    "is taken over from another host only with --take-over and a reason, once the dead process missed two heartbeats",
    async () => {
      const s = await scenario("other-host");
      const runId = await startRun(s);
      const killed = await breakglassProcess(
        { BREAKGLASS_FAULT_KILL_AFTER_TRANSITION: "1" },
        "runbook",
        "approve",
        runId,
        ...CONFIRM_NEW_KEY,
        "--as",
        "bob",
        "--config",
        s.config,
      );
      expect(killed.signal).toBe("SIGKILL");

      const refused = await breakglassOnAnotherHost(
        NOW,
        "runbook",
        "resume",
        runId,
        "--as",
        "bob",
        "--config",
        s.config,
      );
      expect(refused.code).toBe(4);
      expect(refused.stderr).toMatch(
        new RegExp(
          "^breakglass: run \\S+: it is being advanced by [^ ]+:\\d+:\\w+, whose lease expires at \\S+; " +
            "try again after that, or, if that process is gone, take the run over with --take-over --reason <why> " +
            "from \\S+Z\\n",
        ),
      );
      // The time the refusal names: the dead process's last renewal plus two heartbeats (40 s).
      const allowedFrom = new Date(/ from (\S+Z)$/m.exec(refused.stderr)?.[1] as string);
      const takeOver = (at: Date) =>
        breakglassOnAnotherHost(
          at,
          "runbook",
          "resume",
          runId,
          "--take-over",
          "--reason",
          "laptop of bob died mid-approval",
          "--as",
          "bob",
          "--config",
          s.config,
        );
      const early = await takeOver(new Date(allowedFrom.getTime() - 1000));
      expect(early.code).toBe(4);
      expect(early.stderr).toContain(
        `so it may still be working: it can be taken over from ${allowedFrom.toISOString()}`,
      );

      const missingReason = await breakglassOnAnotherHost(
        allowedFrom,
        "runbook",
        "resume",
        runId,
        "--take-over",
        "--as",
        "bob",
        "--config",
        s.config,
      );
      expect([missingReason.code, missingReason.stderr]).toEqual([
        2,
        "breakglass: --take-over: needs --reason <text>: taking a run over goes on the record\n",
      ]);

      const taken = await takeOver(allowedFrom);
      expect([taken.code, taken.stderr]).toEqual([0, ""]);
      expect(taken.stdout).toContain("Waiting for the step to be done by hand");
      expect(auditRecordsOf(s, "run.lease-taken-over")).toHaveLength(1);
      expect(auditRecordsOf(s, "run.lease-taken-over")[0]?.detail).toMatchObject({
        because: "asked to take over",
        reason: "laptop of bob died mid-approval",
      });
    },
    ONE_KILL_TIMEOUT_MS,
  );

  it(
    "can be aborted from another host with --take-over once the dead process missed two heartbeats",
    async () => {
      const s = await scenario("other-host-abort");
      const runId = await startRun(s);
      await breakglassProcess(
        { BREAKGLASS_FAULT_KILL_AFTER_TRANSITION: "1" },
        "runbook",
        "approve",
        runId,
        ...CONFIRM_NEW_KEY,
        "--as",
        "bob",
        "--config",
        s.config,
      );
      const abort = (at: Date, ...extra: string[]) =>
        breakglassOnAnotherHost(
          at,
          "runbook",
          "abort",
          runId,
          "--reason",
          "wrong incident",
          ...extra,
          "--as",
          "bob",
          "--config",
          s.config,
        );
      const refused = await abort(NOW);
      expect(refused.code).toBe(4);
      const allowedFrom = new Date(/ from (\S+Z)$/m.exec(refused.stderr)?.[1] as string);
      const aborted = await abort(allowedFrom, "--take-over");
      expect([aborted.code, aborted.stderr]).toEqual([1, ""]);
      const status = await breakglass(NOW, "runbook", "status", runId, "--config", s.config);
      expect(status.stdout).toMatch(/aborted/i);
    },
    ONE_KILL_TIMEOUT_MS,
  );
});
