// The preflight at a run's start: each action proves it can apply before the run is recorded, so a run that cannot
// apply is refused before anyone approves it, with every problem named, and nothing in the store or the audit log.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuditLog } from "../../../src/domain/audit/audit-log.js";
import type {
  ActionExecutor,
  ActionParameters,
  ActionPreflight,
  StepExecutors,
} from "../../../src/domain/runbooks/engine-ports.js";
import { readRunbookSource } from "../../../src/adapters/runbook-files/runbook-files.js";
import { RunEngine } from "../../../src/domain/runbooks/run-engine.js";
import type { ActionName } from "../../../src/domain/runbooks/runbook-schema.js";
import { openStore } from "../../../src/adapters/store/open-store.js";
import { SteppingClock } from "../../support/stepping-clock.js";
import { person } from "../../support/actors.js";

const RUNBOOKS = join(import.meta.dirname, "..", "..", "..", "runbooks");
const FM3 = join(RUNBOOKS, "fm3-direct-federation.yaml");
const FM2 = join(RUNBOOKS, "fm2-reimport-metadata.yaml");

const FM3_INPUTS = {
  incident: "INC-4711",
  responders: ["ana@example.com", "nobody@example.com"],
  groups: ["aws-emergency-operators"],
  signInUrl: "https://idp.example.com/",
};

const KNOWN_PEOPLE = new Set(["ana@example.com"]);

/** An executor that only answers preflight (the runs here are never advanced), recording what it was asked. */
function preflightOnly(answer: (parameters: ActionParameters) => ActionPreflight, asked: string[]): ActionExecutor {
  const never = () => Promise.reject(new Error("the run must not get this far"));
  return {
    preflight: (parameters, context) => {
      asked.push(`${context.stepId} ${JSON.stringify(parameters)}`);
      return Promise.resolve(answer(parameters));
    },
    plan: never,
    apply: never,
    verify: never,
  };
}

function members(parameters: ActionParameters): readonly string[] {
  const value = parameters["members"];
  return typeof value === "string" ? [value] : (value ?? []);
}

function setUp(options: { credentialsReach: boolean }) {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-preflight-"));
  const store = openStore({ path: join(directory, "breakglass.db") });
  const clock = new SteppingClock(new Date("2026-11-25T03:00:00Z"));
  const asked: string[] = [];
  const groupPreflight = preflightOnly((parameters) => {
    const people = members(parameters).filter((member) => member !== "everyone");
    return {
      facts: people.filter((member) => KNOWN_PEOPLE.has(member)).map((member) => `${member} is user 00u1`),
      problems: people
        .filter((member) => !KNOWN_PEOPLE.has(member))
        .map((member) => `responders: the IdP has no user "${member}"`),
    };
  }, asked);
  const actions: Record<ActionName, ActionExecutor> = {
    "idp.add-group-members": groupPreflight,
    "idp.remove-group-members": groupPreflight,
    "iam.update-saml-provider": preflightOnly(
      () =>
        options.credentialsReach
          ? { facts: ["applied as arn:aws:iam::111111111111:role/breakglass-writer in 111111111111"], problems: [] }
          : {
              facts: [],
              problems: ["the credentials are of account 999999999999, not the emergency account 111111111111"],
            },
      asked,
    ),
    // Without a preflight: nothing to prove up front.
    "emergency.open-window": {
      plan: () => Promise.reject(new Error("unused")),
      apply: () => Promise.reject(new Error("unused")),
      verify: () => Promise.reject(new Error("unused")),
    },
    "emergency.close-window": {
      plan: () => Promise.reject(new Error("unused")),
      apply: () => Promise.reject(new Error("unused")),
      verify: () => Promise.reject(new Error("unused")),
    },
  };
  const executors: StepExecutors = {
    check: () => Promise.resolve({ findings: [] }),
    actions,
    notify: () => Promise.resolve(),
    sleep: () => Promise.resolve(),
  };
  const engine = new RunEngine({
    store: store.runs,
    audit: new AuditLog(store.audit, clock),
    clock,
    executors,
    runbooks: (id) => readRunbookSource(id === "fm2-reimport-metadata" ? FM2 : FM3),
    newRunId: () => "run-1",
  });
  return { store, engine, asked };
}

describe("the preflight when a run starts", () => {
  it("refuses fm3 naming the unknown responder once, with the steps that need them, and records nothing", async () => {
    const { store, engine } = setUp({ credentialsReach: true });
    await expect(
      engine.startChecked(await readRunbookSource(FM3), FM3_INPUTS, person("alice"), { dryRun: false }),
    ).rejects.toThrow(
      "runbook fm3-direct-federation: not started, because it could not apply as given (nothing was recorded or changed): " +
        'steps "add-responders", "remove-responders": responders: the IdP has no user "nobody@example.com"',
    );
    expect(store.runs.findRun("run-1")).toBeNull();
    expect(store.audit.auditRecords()).toEqual([]);
  });

  it("keeps what it found with the run and in the audit record of its start, asking once per action and parameters", async () => {
    const { store, engine, asked } = setUp({ credentialsReach: true });
    const view = await engine.startChecked(
      await readRunbookSource(FM3),
      { ...FM3_INPUTS, responders: ["ana@example.com"] },
      person("alice"),
      { dryRun: false },
    );
    expect(view.preflight).toEqual([
      { stepId: "add-responders", action: "idp.add-group-members", facts: ["ana@example.com is user 00u1"] },
      { stepId: "remove-responders", action: "idp.remove-group-members", facts: ["ana@example.com is user 00u1"] },
    ]);
    // verify-groups-empty removes "everyone": a third, different question; nothing asked twice.
    expect(asked.map((line) => line.split(" ")[0])).toEqual([
      "add-responders",
      "remove-responders",
      "verify-groups-empty",
    ]);
    expect(store.runs.findRun("run-1")?.preflight).toEqual(view.preflight);
    const started = store.audit.auditRecords().find((record) => record.action === "run.started");
    expect(started?.detail["preflight"]).toEqual(view.preflight);
  });

  it("fills parameters from the inputs only, leaving out what an earlier step or artefact will give", async () => {
    const { engine, asked } = setUp({ credentialsReach: true });
    await engine.startChecked(
      await readRunbookSource(FM3),
      { ...FM3_INPUTS, responders: ["ana@example.com"], ttl: "2h" },
      person("alice"),
      { dryRun: true },
    );
    expect(asked[0]).toBe(
      'add-responders {"groups":["aws-emergency-operators"],"members":["ana@example.com"],"ttl":"2h"}',
    );
  });

  it("refuses fm2 whose credentials cannot reach the emergency account, before the emergency is declared", async () => {
    const { store, engine } = setUp({ credentialsReach: false });
    const fm2 = await readRunbookSource(FM2);
    const inputs = {
      incident: "INC-1",
      emergencyAccountId: "111111111111",
      identityCenterAccountId: "222222222222",
      identityCenterRegion: "eu-west-1",
    };
    await expect(engine.startChecked(fm2, inputs, person("alice"), { dryRun: false })).rejects.toMatchObject({
      code: "RUN_PREFLIGHT_FAILED",
      message: expect.stringContaining(
        'step "update-emergency-providers": the credentials are of account 999999999999, not the emergency account 111111111111',
      ),
    });
    expect(store.runs.recentRuns(5)).toEqual([]);
  });

  it("skips an action whose when-condition on an input rules it out", async () => {
    const { engine, asked } = setUp({ credentialsReach: true });
    const fm2 = await readRunbookSource(FM2);
    await engine.startChecked(
      fm2,
      {
        incident: "CHG-1",
        workforceSignIn: "working",
        emergencyAccountId: "111111111111",
        identityCenterAccountId: "222222222222",
        identityCenterRegion: "eu-west-1",
      },
      person("alice"),
      { dryRun: false },
    );
    expect(asked.map((line) => line.split(" ")[0])).toEqual(["update-emergency-providers"]);
  });
});
