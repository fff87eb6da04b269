// `breakglass runbook run|confirm|status … --json` as a script drives a run: one JSON object on stdout, errors still one line on stderr.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runViewJson } from "../../src/cli/run-view-json.js";
import type { RunView } from "../../src/domain/runbooks/run-view.js";
import { DAY, makeCertificate } from "../support/certificates.js";
import { entityXml } from "../support/metadata-builder.js";
import { breakglassCli } from "../support/runbook-cli.js";

const NOW = new Date("2026-11-25T10:00:00Z");
const signing = makeCertificate({
  commonName: "idp signing",
  notBefore: new Date(NOW.getTime() - DAY),
  notAfter: new Date(NOW.getTime() + 700 * DAY),
});

let directory: string;
let configPath: string;
const breakglass = breakglassCli(() => ({ XDG_CACHE_HOME: join(directory, "cache") }), NOW);

interface StepJson {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly attempts: number;
  readonly summary: string | null;
  readonly changes: readonly { target: string; before: string | null; after: string | null }[];
  readonly confirmation: { actor: string; record: string | null } | null;
}

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "breakglass-run-json-"));
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
      "",
    ].join("\n"),
  );
});

/** fm1 started with every input, as a script would start it. */
function startFm1(...extra: string[]) {
  return breakglass(
    "runbook",
    "run",
    "fm1-idp-unavailable",
    "--as",
    "alice",
    "--config",
    configPath,
    "--input",
    "incident=INC-7",
    "--input",
    "reason=Restore the payments database security group",
    "--input",
    "emergencyAccountId=111122223333",
    "--input",
    "workloadAccountId=444455556666",
    ...extra,
  );
}

describe("runbook run --json", () => {
  it("prints the run as one JSON object: id, status, inputs, each step's outcome, and the step it waits on", async () => {
    const { code, stdout } = await startFm1("--json");
    expect(code).toBe(0);
    const run = JSON.parse(stdout);
    expect(Object.keys(run)).toEqual([
      "id",
      "runbookId",
      "status",
      "initiator",
      "dryRun",
      "inputs",
      "artefacts",
      "preflight",
      "steps",
      "waitingFor",
    ]);
    expect(run).toMatchObject({
      runbookId: "fm1-idp-unavailable",
      status: "waiting",
      initiator: "alice",
      dryRun: false,
      inputs: { incident: "INC-7", emergencyAccountId: "111122223333" },
      waitingFor: { stepId: "check-out-credentials", kind: "manual" },
    });
    const steps = run.steps as StepJson[];
    const declare = steps.find((step) => step.kind === "action");
    expect(declare).toMatchObject({ status: "succeeded", attempts: 1, summary: expect.stringContaining("INC-7") });
    expect(declare?.changes[0]?.target).toContain("INC-7");
    expect(steps.find((step) => step.id === "check-out-credentials")).toMatchObject({ status: "waiting" });
    expect(steps.at(-1)).toMatchObject({ status: "pending", attempts: 0, summary: null, confirmation: null });
  });

  it("keeps stdout to the JSON object: notifications go to stderr", async () => {
    const { stdout, stderr } = await startFm1("--json");
    expect(() => JSON.parse(stdout) as unknown).not.toThrow();
    expect(stdout).not.toContain("[notify #");
    expect(stderr).toContain("[notify #security] Emergency access declared for INC-7 by alice");
  });

  it("prints the readable view, unchanged, without --json", async () => {
    const { stdout } = await startFm1();
    expect(stdout).toMatch(/^Started run \S+ of fm1-idp-unavailable\.\n/);
    expect(stdout).toContain("Waiting for the step to be done by hand");
  });
});

describe("the other run commands with --json", () => {
  it("confirm prints the run with the written answer on the step it confirmed", async () => {
    const runId = (JSON.parse((await startFm1("--json")).stdout) as { id: string }).id;
    const { code, stdout } = await breakglass(
      "runbook",
      "confirm",
      runId,
      "--as",
      "alice",
      "--config",
      configPath,
      "--record",
      "alice: em-alice, vault ref 8812",
      "--json",
    );
    expect(code).toBe(0);
    const run = JSON.parse(stdout);
    expect(run.id).toBe(runId);
    expect((run.steps as StepJson[]).find((step) => step.id === "check-out-credentials")).toMatchObject({
      status: "succeeded",
      confirmation: { actor: expect.stringContaining("alice"), record: "alice: em-alice, vault ref 8812" },
    });
    expect(run.waitingFor).not.toEqual({ stepId: "check-out-credentials", kind: "manual" });
  });

  it("status with a run id prints that run; without one, the recent runs", async () => {
    const runId = (JSON.parse((await startFm1("--json")).stdout) as { id: string }).id;
    const one = await breakglass("runbook", "status", runId.slice(0, 8), "--config", configPath, "--json");
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ id: runId, status: "waiting" });

    const recent = await breakglass("runbook", "status", "--config", configPath, "--json");
    expect(recent.code).toBe(0);
    const { runs } = JSON.parse(recent.stdout) as { runs: Record<string, unknown>[] };
    expect(runs.find((run) => run.id === runId)).toEqual({
      id: runId,
      runbookId: "fm1-idp-unavailable",
      status: "waiting",
      dryRun: false,
      initiator: "alice",
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
    });
  });

  it("abort prints the aborted run and exits 1, as the text view does", async () => {
    const runId = (JSON.parse((await startFm1("--json")).stdout) as { id: string }).id;
    const { code, stdout } = await breakglass(
      "runbook",
      "abort",
      runId,
      "--as",
      "alice",
      "--reason",
      "drill over",
      "--config",
      configPath,
      "--json",
    );
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ id: runId, status: "aborted", waitingFor: null });
  });

  it("reports an error as one line on stderr with its kind's exit code, and nothing on stdout", async () => {
    const runId = (JSON.parse((await startFm1("--json")).stdout) as { id: string }).id;
    const unanswered = await breakglass("runbook", "confirm", runId, "--as", "alice", "--config", configPath, "--json");
    expect(unanswered.code).toBe(2);
    expect(unanswered.stdout).toBe("");
    expect(unanswered.stderr).toMatch(
      /^breakglass: .*"check-out-credentials" needs a written answer to confirm it: .*\n$/,
    );
    expect(unanswered.stderr.split("\n")).toHaveLength(2);

    const unknown = await breakglass("runbook", "status", "no-such-run", "--config", configPath, "--json");
    expect(unknown.code).toBe(3);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr).toMatch(/^breakglass: .*no-such-run.*\n$/);
  });
});

describe("an approved action in the run JSON", () => {
  it("shows who approved, what the plan changes, whether it was applied and how it read back", () => {
    const view: RunView = {
      id: "0f1e2d3c-aaaa-bbbb-cccc-000000000001",
      runbookId: "fm2-reimport-metadata",
      status: "succeeded",
      initiator: "alice",
      dryRun: false,
      preflight: [],
      inputs: { incident: "INC-7" },
      artefacts: { "metadata-file": "/var/lib/breakglass/runs/0f1e2d3c/idp-metadata.xml" },
      steps: [
        {
          id: "approve-import",
          title: "A second person approves the import",
          kind: "approval",
          status: "succeeded",
          attempts: 1,
          outcome: {
            summary: "approved by bob",
            approval: { decision: "granted", approver: "bob", initiator: "alice", approverPerson: "bob" },
          },
        },
        {
          id: "import",
          title: "Import the metadata into the emergency SAML providers",
          kind: "action",
          status: "succeeded",
          attempts: 1,
          outcome: {
            summary: "imported into 1 provider",
            plan: {
              summary: "update 1 provider",
              alreadyDone: false,
              changes: [{ target: "arn:aws:iam::111122223333:saml-provider/okta", before: "3f2a…", after: "9c1d…" }],
            },
            applied: true,
            verification: { ok: true, detail: "the provider holds 9c1d…" },
          },
        },
      ],
      waitingFor: null,
    };
    const run = JSON.parse(JSON.stringify(runViewJson(view)));
    expect(run.artefacts).toEqual({ "metadata-file": "/var/lib/breakglass/runs/0f1e2d3c/idp-metadata.xml" });
    expect(run.steps[0].approval).toEqual({
      decision: "granted",
      approver: "bob",
      reason: null,
      confirmedFingerprint: null,
    });
    expect(run.steps[1]).toMatchObject({
      changes: [{ target: "arn:aws:iam::111122223333:saml-provider/okta", before: "3f2a…", after: "9c1d…" }],
      applied: true,
      verification: { ok: true, detail: "the provider holds 9c1d…" },
      approval: null,
      error: null,
    });
  });
});

describe("an approval's unlocked actions in the run JSON", () => {
  it("lists each with its plan's changes, or why it has none yet, every key present", () => {
    const view: RunView = {
      id: "0f1e2d3c-aaaa-bbbb-cccc-000000000002",
      runbookId: "fm2-reimport-metadata",
      status: "waiting",
      initiator: "alice",
      dryRun: false,
      inputs: { incident: "INC-7" },
      artefacts: {},
      preflight: [],
      steps: [
        {
          id: "approve-reimport",
          title: "A second person approves the re-import",
          kind: "approval",
          status: "waiting",
          attempts: 1,
          outcome: {
            summary: "waits for a second person (not alice) to approve",
            unlocks: [
              {
                stepId: "update-emergency-providers",
                action: "iam.update-saml-provider",
                plan: {
                  summary: "import idp.xml into arn:aws:iam::111122223333:saml-provider/okta",
                  alreadyDone: false,
                  changes: [
                    {
                      target: "arn:aws:iam::111122223333:saml-provider/okta",
                      before: "signing certificates sha256 3f2a",
                      after: "signing certificates sha256 9c1d",
                      savedBefore: "/var/lib/breakglass/artefacts/previous.xml",
                    },
                  ],
                },
              },
              {
                stepId: "close-window",
                action: "emergency.close-window",
                condition: "only if step declare-emergency succeeds",
                notPlanned: "the plan failed: the store is locked",
              },
            ],
          },
        },
      ],
      waitingFor: { stepId: "approve-reimport", kind: "approval" },
    };
    const run = JSON.parse(JSON.stringify(runViewJson(view)));
    expect(run.steps[0].unlocks).toEqual([
      {
        stepId: "update-emergency-providers",
        action: "iam.update-saml-provider",
        condition: null,
        summary: "import idp.xml into arn:aws:iam::111122223333:saml-provider/okta",
        alreadyDone: false,
        changes: [
          {
            target: "arn:aws:iam::111122223333:saml-provider/okta",
            before: "signing certificates sha256 3f2a",
            after: "signing certificates sha256 9c1d",
          },
        ],
        notPlanned: null,
        keyContinuity: null,
      },
      {
        stepId: "close-window",
        action: "emergency.close-window",
        condition: "only if step declare-emergency succeeds",
        summary: null,
        alreadyDone: null,
        changes: [],
        notPlanned: "the plan failed: the store is locked",
        keyContinuity: null,
      },
    ]);
  });
});
