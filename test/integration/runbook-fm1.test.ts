// FM1 end to end from the CLI: the IdP is down, responders go through the emergency account by hand; breakglass opens
// and closes the window and keeps the record.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { NO_CLOUDTRAIL_RECORDED, summaryPath } from "../../src/adapters/runbook-actions/emergency-window.js";
import { openStore } from "../../src/adapters/store/open-store.js";
import { DAY, makeCertificate } from "../support/certificates.js";
import { entityXml } from "../support/metadata-builder.js";
import { breakglassCli, startedRunId, stepLine } from "../support/runbook-cli.js";

const NOW = new Date();
const INCIDENT = "INC-4711";
const EMERGENCY_ACCOUNT = "111122223333";
const WORKLOAD_ACCOUNT = "444455556666";
const signing = makeCertificate({
  commonName: "idp signing",
  notBefore: new Date(NOW.getTime() - DAY),
  notAfter: new Date(NOW.getTime() + 700 * DAY),
});

let directory: string;
let configPath: string;
const breakglass = breakglassCli(() => ({ XDG_CACHE_HOME: join(directory, "cache") }), NOW);

/** The incident's emergency window as the store holds it, read the way the CLI reads it. */
function emergencyWindow() {
  const store = openStore({ path: join(directory, "breakglass.db") });
  try {
    return store.windows.findWindow(INCIDENT);
  } finally {
    store.close();
  }
}

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "breakglass-fm1-"));
  writeFileSync(join(directory, "idp.xml"), entityXml({ keys: [{ base64: signing.base64, use: "signing" }] }));
  configPath = join(directory, "breakglass.yaml");
  writeFileSync(
    configPath,
    [
      "idp:",
      "  name: Test IdP",
      "  metadata: idp.xml",
      "store:",
      `  path: ${join(directory, "breakglass.db")}`,
      `  auditMirror: ${join(directory, "audit.jsonl")}`,
      "",
    ].join("\n"),
  );
});

describe("fm1-idp-unavailable from the CLI", () => {
  it("opens the emergency window, requires the written answers, and closes the window with its activity summary", async () => {
    const started = await breakglass(
      "runbook",
      "run",
      "fm1-idp-unavailable",
      "--as",
      "alice",
      "--config",
      configPath,
      "--input",
      `incident=${INCIDENT}`,
      "--input",
      "reason=Restore the payments database security group",
      "--input",
      `emergencyAccountId=${EMERGENCY_ACCOUNT}`,
      "--input",
      `workloadAccountId=${WORKLOAD_ACCOUNT}`,
    );
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    const runId = startedRunId(started.stdout, "fm1-idp-unavailable");
    expect(stepLine(started.stdout, "Declare the emergency")).toMatch(
      /✓ .*open the emergency window of incident INC-4711/,
    );
    expect(started.stdout).toContain(`[notify #security] Emergency access declared for ${INCIDENT} by alice`);
    expect(started.stdout).toContain(
      `Sign-ins to the emergency account ${EMERGENCY_ACCOUNT} are expected until the window closes.`,
    );
    expect(stepLine(started.stdout, "Check out one credential per emergency admin from the vault")).toMatch(
      /^ {2}\? .*answer in writing/,
    );
    expect(started.stdout).toContain("Waiting for the step to be done by hand");
    expect(emergencyWindow()).toMatchObject({
      incident: INCIDENT,
      runId,
      closedAt: null,
      reason: "FM1, IdP unavailable: Restore the payments database security group",
    });

    // A step with `record` cannot be confirmed without the written answer; the run stays where it was.
    const unanswered = await breakglass("runbook", "confirm", runId, "--as", "alice", "--config", configPath);
    expect(unanswered.code).toBe(2);
    expect(unanswered.stderr).toMatch(
      /^breakglass: .*"check-out-credentials" needs a written answer to confirm it: Which credentials were checked out/,
    );
    expect(unanswered.stdout).toBe("");
    const credentials = await breakglass(
      "runbook",
      "confirm",
      runId,
      "--as",
      "alice",
      "--config",
      configPath,
      "--record",
      "alice: IAM user em-alice and its MFA token, vault ref 8812",
    );
    expect(credentials.code).toBe(0);
    // signInAs defaults to iam-user: the root-only step is skipped, the sign-in waits.
    expect(stepLine(credentials.stdout, "As root, only restore an emergency IAM user")).toMatch(
      /– .*skipped: its when condition does not hold/,
    );
    expect(stepLine(credentials.stdout, "Sign in to the emergency account as your emergency IAM user")).toMatch(
      /^ {2}\? /,
    );
    expect(credentials.stdout).toContain(`https://${EMERGENCY_ACCOUNT}.signin.aws.amazon.com/console`);

    const switched = await breakglass("runbook", "confirm", runId, "--as", "alice", "--config", configPath);
    expect(switched.stdout).toContain(
      `https://signin.aws.amazon.com/switchrole?account=${EMERGENCY_ACCOUNT}&roleName=EmergencyAdmin&displayName=EMERGENCY`,
    );
    const chained = await breakglass("runbook", "confirm", runId, "--as", "alice", "--config", configPath);
    expect(chained.stdout).toContain(`--role-arn arn:aws:iam::${WORKLOAD_ACCOUNT}:role/EmergencyAccess`);
    const working = await breakglass("runbook", "confirm", runId, "--as", "alice", "--config", configPath);
    expect(stepLine(working.stdout, "Make the change that could not wait, and nothing else")).toMatch(
      /^ {2}\? .*answer in writing/,
    );
    expect(emergencyWindow()?.closedAt).toBeNull();

    const undone = await breakglass(
      "runbook",
      "confirm",
      runId,
      "--as",
      "alice",
      "--config",
      configPath,
      "--record",
      "   ",
    );
    expect(undone.code).toBe(2);
    expect(undone.stderr).toContain('"do-the-work" needs a written answer');
    const worked = await breakglass(
      "runbook",
      "confirm",
      runId,
      "--as",
      "alice",
      "--config",
      configPath,
      "--record",
      `sg-0a12 in ${WORKLOAD_ACCOUNT}: allowed 10.0.4.0/24 on 5432`,
    );
    expect(worked.code).toBe(0);
    expect(stepLine(worked.stdout, "End the emergency window")).toMatch(
      /✓ .*close the emergency window of incident INC-4711/,
    );
    expect(emergencyWindow()?.closedAt).toBe(NOW.toISOString());

    // The review step carries the activity summary the close step wrote.
    const summary = summaryPath(join(directory, "artefacts"), INCIDENT);
    expect(existsSync(summary)).toBe(true);
    const text = readFileSync(summary, "utf8");
    expect(text).toContain(`# Activity summary: incident ${INCIDENT}`);
    // Nothing watched the account in this test: the summary says so instead of implying there was no activity.
    expect(text).toContain(NO_CLOUDTRAIL_RECORDED);
    expect(text).not.toContain("not included yet");
    expect(stepLine(worked.stdout, "Review what the emergency principals did")).toMatch(/^ {2}\? .*answer in writing/);

    const reviewed = await breakglass(
      "runbook",
      "confirm",
      runId,
      "--as",
      "alice",
      "--config",
      configPath,
      "--record",
      "none",
    );
    expect(reviewed.code).toBe(0);
    expect(reviewed.stdout).toContain(`[notify #incident] The emergency window for ${INCIDENT} is closed.`);
    expect(reviewed.stdout).toContain(`(see step check-out-credentials of run ${runId})`);
    expect(reviewed.stdout).toContain(`Run ${runId}  fm1-idp-unavailable  succeeded`);

    const status = await breakglass("runbook", "status", runId, "--config", configPath);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`Run ${runId}  fm1-idp-unavailable  succeeded`);
    expect(status.stdout).not.toMatch(/^ {2}[✗?·] /m);
    const audit = await breakglass("audit", "verify", "--config", configPath);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/audit records, chain intact .*mirror identical/);
  });
});
