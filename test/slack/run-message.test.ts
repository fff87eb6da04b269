// The run message a responder sees in the channel, on the shipped runbooks: its buttons in each state, the step waiting
// on them, escaping, and Slack's size limits.
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadRunbook } from "../../src/adapters/runbook-files/runbook-files.js";
import type { RunView, StepView } from "../../src/domain/runbooks/run-engine.js";
import { RUN_STATUSES, STEP_STATUSES, type StepOutcomeRecord } from "../../src/domain/runbooks/run-store.js";
import type { Runbook } from "../../src/domain/runbooks/runbook-schema.js";
import {
  confirmRecordModal,
  manualInstructionsReplies,
  manualStepQuestion,
  RUN_MESSAGE_TEXT_LIMIT,
  abortReasonModal,
  approveFingerprintModal,
  rejectReasonModal,
  RUN_ACTION_IDS,
  RUN_MODALS,
  runMessage,
  shortRunId,
  stepOutcomeReply,
  takeOverModal,
} from "../../src/slack/run-message.js";
import type { SlackMessage } from "../../src/slack/slack-message.js";
import {
  blockKitProblems,
  blockTextTotal,
  MESSAGE_BLOCK_TEXT_LIMIT,
  viewProblems,
} from "../support/block-kit-limits.js";
import { textObjects, visibleText } from "../support/block-text.js";

const RUNBOOKS = join(import.meta.dirname, "..", "..", "runbooks");
const FM3 = (await loadRunbook(join(RUNBOOKS, "fm3-direct-federation.yaml"))).runbook;
const FM1 = (await loadRunbook(join(RUNBOOKS, "fm1-idp-unavailable.yaml"))).runbook;
const RUN_ID = "3f2a9c1b-0d4e-4c55-9a1e-1f2b3c4d5e6f";
const INITIATOR = "slack:U0INIT0001";

interface ViewSpec {
  readonly status: RunView["status"];
  /** Steps not named are succeeded before the first named one and pending after it. */
  readonly steps: Readonly<Record<string, { status: StepView["status"]; outcome?: StepOutcomeRecord }>>;
  readonly initiator?: string;
  readonly dryRun?: boolean;
}

/** A run of a real runbook in the state the spec says, shaped exactly as RunEngine.view returns it. */
function viewOf(runbook: Runbook, spec: ViewSpec): RunView {
  const firstNamed = runbook.steps.findIndex((step) => spec.steps[step.id] !== undefined);
  const steps: StepView[] = runbook.steps.map((step, index) => {
    const named = spec.steps[step.id];
    const status = named?.status ?? (index < firstNamed ? "succeeded" : "pending");
    const outcome = named?.outcome ?? (status === "succeeded" ? { summary: "done" } : null);
    return { id: step.id, title: step.title, kind: step.kind, status, attempts: status === "pending" ? 0 : 1, outcome };
  });
  const waiting = steps.find((step) => step.status === "waiting");
  const waitingFor =
    spec.status === "waiting" && (waiting?.kind === "approval" || waiting?.kind === "manual")
      ? { stepId: waiting.id, kind: waiting.kind }
      : null;
  return {
    id: RUN_ID,
    runbookId: runbook.id,
    status: spec.status,
    initiator: spec.initiator ?? INITIATOR,
    dryRun: spec.dryRun ?? false,
    inputs: {},
    artefacts: {},
    preflight: [],
    steps,
    waitingFor,
  };
}

function buttonsOf(
  message: SlackMessage,
): Array<{ action_id: string; text: string; style?: string; value?: string; confirm?: unknown }> {
  return message.blocks.flatMap((block) =>
    block.type === "actions"
      ? block.elements.flatMap((element) =>
          element.type === "button"
            ? [{ ...element, action_id: element.action_id ?? "", text: element.text.text }]
            : [],
        )
      : [],
  );
}

/** What Slack would refuse: too many blocks, text objects empty or over their limits. */
function expectWithinSlackLimits(message: SlackMessage): void {
  expect(blockKitProblems(message.blocks)).toEqual([]);
  expect(blockTextTotal(message.blocks)).toBeLessThanOrEqual(MESSAGE_BLOCK_TEXT_LIMIT);
  expect(message.blocks.length).toBeLessThanOrEqual(50);
  expect(message.text.length).toBeGreaterThan(0);
  for (const block of message.blocks) {
    if (block.type === "header") expect(block.text.text.length).toBeLessThanOrEqual(150);
    if (block.type === "section" && block.text !== undefined) expect(block.text.text.length).toBeLessThanOrEqual(3000);
    if (block.type === "context") {
      expect(block.elements.length).toBeLessThanOrEqual(10);
      for (const element of block.elements)
        if (element.type === "mrkdwn") expect(element.text.length).toBeLessThanOrEqual(3000);
    }
  }
  for (const text of textObjects(message.blocks)) expect(text.trim()).not.toBe("");
}

const approvalReason =
  "Add ana@example.com & <raj@example.com> to the emergency IdP groups aws-emergency-operators for 4h (INC-4711). @here <!channel>";

describe("a run waiting for approval", () => {
  const run = viewOf(FM3, {
    status: "waiting",
    steps: {
      "approve-direct-federation": {
        status: "waiting",
        outcome: { summary: "waits for a second person", text: approvalReason },
      },
    },
  });
  const message = runMessage(run, FM3);
  const text = visibleText(message.blocks);

  it("offers Approve and Reject, and Abort, each carrying the run id", () => {
    expect(buttonsOf(message).map((button) => [button.action_id, button.text, button.style])).toEqual([
      ["run.approve", "Approve", "primary"],
      ["run.reject", "Reject", "danger"],
      ["run.abort", "Abort", "danger"],
    ]);
    for (const button of buttonsOf(message)) expect(button.value).toBe(RUN_ID);
  });

  it("asks why in a modal when Abort is pressed (the CLI's --reason), saying that nothing is undone", () => {
    const modal = abortReasonModal(run);
    expect(modal.callback_id).toBe("run.abort.reason");
    expect(modal.private_metadata).toBe(RUN_ID);
    const shown = visibleText(modal.blocks);
    expect(shown).toContain("ends for good and cannot be resumed");
    expect(shown).toContain("Nothing it already changed is undone");
    expect(JSON.stringify(modal.blocks)).toContain("Why do you abort it?");
  });

  it("never offers Skip on an approval", () => {
    expect(buttonsOf(message).map((button) => button.action_id)).not.toContain("run.skip");
  });

  it("shows the runbook title, the short run id, the initiator as a mention and where the run is", () => {
    expect(text).toContain(FM3.title);
    expect(text).toContain("Run `3f2a9c1b`");
    expect(text).not.toContain(RUN_ID);
    expect(text).toContain("started by <@U0INIT0001>");
    expect(text).toContain("*Waiting for a second person to approve* at step 4 of");
    expect(text).toContain("*Step 4 of 16: A second person approves direct federation*");
  });

  it("quotes the reason, escaped, and says who may not approve", () => {
    expect(text).toContain(">Add ana@example.com &amp; &lt;raj@example.com&gt; to the emergency IdP groups");
    expect(text).not.toContain("<!channel>");
    expect(text).not.toMatch(/@here/);
    expect(text).toContain("<@U0INIT0001> started this run and cannot approve it");
  });

  it("shows the progress of every step with its status", () => {
    expect(text).toContain(":white_check_mark: 1. Confirm that Identity Center is disrupted");
    expect(text).toContain(":hourglass_flowing_sand: 4. A second person approves direct federation");
    expect(text).toContain(":white_circle: 5. Check that the emergency IAM SAML provider and roles accept the IdP");
    expectWithinSlackLimits(message);
  });

  it("has a fallback text for notifications", () => {
    expect(message.text).toBe(
      `${FM3.title}: run 3f2a9c1b waiting for approval at step 4 (A second person approves direct federation)`,
    );
  });
});

describe("an approval with the changes it unlocks", () => {
  const until = "2026-05-01T16:00:00.000Z";
  const unlocks: StepOutcomeRecord["unlocks"] = [
    {
      stepId: "add-responders",
      action: "idp.add-group-members",
      plan: {
        summary: `add ana@example.com, raj@example.com to aws-emergency-operators until ${until}`,
        alreadyDone: false,
        changes: ["ana", "raj"].map((name) => ({
          target: `group aws-emergency-operators: ${name}@example.com`,
          before: "not a member",
          after: `member on a 4h lease, until ${until}`,
        })),
      },
    },
    {
      stepId: "remove-responders",
      action: "idp.remove-group-members",
      notPlanned: "the plan failed: https://idp.example.com/scim/v2: did not answer <!channel>",
    },
    {
      stepId: "close-window",
      action: "emergency.close-window",
      condition: "only if step confirm-sign-in succeeds",
      plan: { summary: "the emergency window of incident INC-4711 is already closed", alreadyDone: true, changes: [] },
    },
  ];
  const run = viewOf(FM3, {
    status: "waiting",
    steps: {
      "approve-direct-federation": {
        status: "waiting",
        outcome: { summary: "waits for a second person", text: approvalReason, unlocks },
      },
    },
  });
  const message = runMessage(run, FM3);
  const text = visibleText(message.blocks);

  it("lists each unlocked step with its plan, and each change with what it is now and after", () => {
    expect(text).toContain("*Approving unlocks these changes*");
    expect(text).toContain(
      "*8. Add the responders to the emergency IdP groups, on a lease* `idp.add-group-members`\n" +
        `add ana@example.com, raj@example.com to aws-emergency-operators until ${until}\n` +
        "• group aws-emergency-operators: ana@example.com\n      now: not a member\n" +
        `      after: member on a 4h lease, until ${until}`,
    );
    expect(text).toContain("nothing to change now: the emergency window of incident INC-4711 is already closed");
    expect(text).toContain("_(only if step confirm-sign-in succeeds)_");
    expectWithinSlackLimits(message);
  });

  it("says, escaped, why a step could not be planned", () => {
    expect(text).toContain(
      ":warning: the plan failed: https://idp.example.com/scim/v2: did not answer &lt;!channel&gt;",
    );
    expect(text).not.toContain("<!channel>");
  });

  it("keeps fingerprints whole and stays within Slack's limits with many changes", () => {
    const fingerprint = (seed: number) => seed.toString(16).padStart(2, "0").repeat(32);
    const many = Array.from({ length: 12 }, (_, index) => ({
      stepId: "add-responders",
      action: "iam.update-saml-provider" as const,
      plan: {
        summary: "import the file",
        alreadyDone: false,
        changes: Array.from({ length: 20 }, (_, provider) => ({
          target: `arn:aws:iam::111122223333:saml-provider/Emergency${provider}`,
          before: `signing certificates sha256 ${fingerprint(index)}`,
          after: `signing certificates sha256 ${fingerprint(index + 1)}, ${fingerprint(index + 2)}`,
        })),
      },
    }));
    const crowded = viewOf(FM3, {
      status: "waiting",
      steps: {
        "approve-direct-federation": { status: "waiting", outcome: { summary: "waits", unlocks: many } },
      },
    });
    const shown = runMessage(crowded, FM3);
    expectWithinSlackLimits(shown);
    const shownText = visibleText(shown.blocks);
    expect(shownText).toContain(`after: signing certificates sha256 ${fingerprint(1)}, ${fingerprint(2)}`);
    expect(shownText).toContain("…and 12 more (`breakglass runbook status` shows all)");
    expect(shownText).toContain("…and 6 more steps: `breakglass runbook status` shows them all.");
  });
});

describe("a 40-step runbook with long titles and 10,000-character texts", () => {
  it("keeps every state of the run message and every thread reply within Slack's limits", () => {
    const long = `🔥 ${"Do this <!channel> & slack:U0OTHER999. ".repeat(250)}`;
    const base = FM1.steps.find((step) => step.kind === "manual");
    if (base === undefined) throw new TypeError("FM1 has no manual step");
    const steps = Array.from({ length: 40 }, (_, index) => ({
      ...base,
      id: `step-${index}`,
      title: `${index} ${long}`,
    }));
    const big: Runbook = { ...FM1, title: `${"Title ".repeat(40)}🔥`, steps };
    for (const at of [0, 20, 39]) {
      for (const status of ["waiting", "failed"] as const) {
        const outcome = { summary: long, text: long, error: long };
        const run = viewOf(big, { status, steps: { [`step-${at}`]: { status, outcome } } });
        expectWithinSlackLimits(runMessage(run, big));
        const reply = stepOutcomeReply(run, `step-${at}`);
        if (reply !== null) expectWithinSlackLimits(reply);
        for (const part of manualInstructionsReplies(run, big) ?? []) expectWithinSlackLimits(part);
      }
    }
  });
});

describe("the modals", () => {
  it("stay within Slack's limits for a view with 10,000-character questions and reasons", () => {
    const long = `🔥 ${"Why <!channel> & slack:U0OTHER999? ".repeat(300)}`;
    const run = viewOf(FM3, { status: "waiting", steps: { "approve-direct-federation": { status: "waiting" } } });
    for (const modal of [
      rejectReasonModal(run),
      abortReasonModal(run),
      takeOverModal(RUN_ID, long),
      takeOverModal(RUN_ID, long, "abort"),
      confirmRecordModal(run, long),
      approveFingerprintModal(run, {
        stepIds: ["update-emergency-providers"],
        certificates: Array.from({ length: 12 }, (_, index) => ({
          sha256: String(index).padStart(2, "0").repeat(32),
          subject: long,
          notAfter: "2028-01-01T00:00:00.000Z",
          isNew: true,
        })),
      }),
    ])
      expect(viewProblems(modal as unknown as Record<string, unknown>)).toEqual([]);
  });
});

describe("a manual step with instructions longer than one message holds", () => {
  // 40 paragraphs of 330 characters: 13,200 characters of instructions, each paragraph numbered to find it again.
  const paragraphs = Array.from(
    { length: 40 },
    (_, index) => `Paragraph ${index + 1}: ${"check the console. ".repeat(17)}`,
  );
  const outcome = { summary: "waits for an operator", text: paragraphs.join("\n\n") };
  const run = viewOf(FM1, { status: "waiting", steps: { "check-out-credentials": { status: "waiting", outcome } } });
  const message = runMessage(run, FM1);

  it("keeps the run message within Slack's limits and says the rest is in the thread", () => {
    expect(blockKitProblems(message.blocks)).toEqual([]);
    expect(blockTextTotal(message.blocks)).toBeLessThanOrEqual(RUN_MESSAGE_TEXT_LIMIT);
    expect(visibleText(message.blocks)).toContain("(continued in the thread)");
    expect(buttonsOf(message).map((button) => button.action_id)).toContain("run.confirm");
  });

  it("gives the whole instructions as thread replies, each within Slack's limits", () => {
    const replies = manualInstructionsReplies(run, FM1) ?? [];
    const shown = replies.map((reply) => visibleText(reply.blocks)).join("\n");
    for (const paragraph of paragraphs) expect(shown).toContain(paragraph.trim());
    for (const reply of replies) {
      expect(blockKitProblems(reply.blocks)).toEqual([]);
      expect(blockTextTotal(reply.blocks)).toBeLessThanOrEqual(MESSAGE_BLOCK_TEXT_LIMIT);
    }
  });

  it("posts nothing more when the instructions fit", () => {
    const short = viewOf(FM1, {
      status: "waiting",
      steps: { "check-out-credentials": { status: "waiting", outcome: { summary: "waits", text: "Short." } } },
    });
    expect(manualInstructionsReplies(short, FM1)).toBeNull();
  });
});

describe("a run waiting for a manual step", () => {
  const outcome = {
    summary: "waits for an operator to confirm and answer in writing",
    text: "Check out **one** credential:\n\n- **iam-user**: yours\n- **root**: only to restore\n\nWhich credentials were checked out?",
  };
  const run = viewOf(FM1, { status: "waiting", steps: { "check-out-credentials": { status: "waiting", outcome } } });
  const message = runMessage(run, FM1);
  const text = visibleText(message.blocks);

  it("offers Done and Skip, and Abort, but not Approve", () => {
    expect(buttonsOf(message).map((button) => [button.action_id, button.text, button.style])).toEqual([
      ["run.confirm", "Done", "primary"],
      ["run.skip", "Skip", undefined],
      ["run.abort", "Abort", "danger"],
    ]);
  });

  it("shows the instructions in Slack's formatting", () => {
    expect(text).toContain("Check out *one* credential:");
    expect(text).toContain("• *iam-user*: yours");
    expect(text).not.toContain("**");
  });

  it("says that Done asks for a written answer, and gives the question for the modal", () => {
    const question = manualStepQuestion(run, FM1);
    expect(question).toMatch(/^Which credentials were checked out, and by whom\?/);
    expect(text).toContain(
      ":memo: *Done* asks you to answer in writing: Which credentials were checked out, and by whom?",
    );
    const modal = confirmRecordModal(run, question ?? "");
    expect(modal).toMatchObject({
      type: "modal",
      callback_id: RUN_MODALS.confirm.callbackId,
      private_metadata: RUN_ID,
    });
    expect(modal.title.text.length).toBeLessThanOrEqual(24);
    expect(JSON.stringify(modal.blocks)).toContain(`"block_id":"${RUN_MODALS.confirm.blockId}"`);
  });

  it("has no question when the manual step asks none", () => {
    const restore = viewOf(FM1, {
      status: "waiting",
      steps: { "restore-iam-user-as-root": { status: "waiting", outcome: { summary: "waits", text: "Restore it." } } },
    });
    expect(manualStepQuestion(restore, FM1)).toBeUndefined();
    expect(visibleText(runMessage(restore, FM1).blocks)).not.toContain(":memo:");
  });

  it("splits very long instructions into sections Slack accepts", () => {
    const long = Array.from({ length: 16 }, (_, index) => `Paragraph ${index}: ${"word ".repeat(180)}`).join("\n\n");
    const longRun = viewOf(FM1, {
      status: "waiting",
      steps: { "check-out-credentials": { status: "waiting", outcome: { summary: "waits", text: long } } },
    });
    const longMessage = runMessage(longRun, FM1);
    expectWithinSlackLimits(longMessage);
    expect(visibleText(longMessage.blocks)).toContain("The rest is shortened here");
  });
});

describe("a failed run", () => {
  const plan = {
    summary: "add ana@example.com to aws-emergency-operators",
    alreadyDone: false,
    changes: [
      {
        target: "group aws-emergency-operators: ana@example.com",
        before: "not a member",
        after: "member on a lease until 2026-05-01T16:00:00.000Z",
      },
    ],
  };
  const outcome = {
    summary: "failed: apply failed: the IdP answered 403",
    plan,
    error: "the IdP answered 403 (Authorization: Bearer abcdefghijklmnopqrstu, SSWS 00abcdefghijklmnop)",
  };
  const run = viewOf(FM3, { status: "failed", steps: { "add-responders": { status: "failed", outcome } } });
  const message = runMessage(run, FM3);
  const text = visibleText(message.blocks);

  it("offers Run to retry, and Abort", () => {
    expect(buttonsOf(message).map((button) => button.action_id)).toEqual(["run.advance", "run.abort"]);
    expect(buttonsOf(message)[0]?.text).toBe("Run");
  });

  it("shows the step it failed at, its planned changes before → after, and the error without credentials", () => {
    expect(text).toContain(":x: *Failed* at step 8 of 16");
    expect(text).toContain(
      "• group aws-emergency-operators: ana@example.com: not a member → member on a lease until 2026-05-01T16:00:00.000Z",
    );
    expect(text).toContain("Bearer [redacted]");
    expect(text).toContain("SSWS [redacted]");
    expect(text).not.toContain("abcdefghijklmnopqrstu");
    expect(text).toContain("press *Run* to try this step again");
  });

  it("shows a failed check's findings with their severity", () => {
    const findings = [
      {
        code: "SAML_PROVIDER_DRIFT",
        severity: "high",
        message: "The IAM SAML provider arn:aws:iam::111111111111:saml-provider/Emergency lacks sha256 1a2b…",
      },
      { code: "ROLLOVER_IN_PROGRESS", severity: "info", message: "The IdP publishes 2 signing certificates" },
    ];
    const failedCheck = viewOf(FM3, {
      status: "failed",
      steps: {
        "recheck-emergency-provider": {
          status: "failed",
          outcome: { summary: "failed: not clean: SAML_PROVIDER_DRIFT", findings },
        },
      },
    });
    const checkText = visibleText(runMessage(failedCheck, FM3).blocks);
    expect(checkText).toContain(
      ":large_orange_circle: *high* `SAML_PROVIDER_DRIFT` The IAM SAML provider arn:aws:iam::111111111111:saml-provider/Emergency",
    );
    expect(checkText).toContain(":white_circle: *info* `ROLLOVER_IN_PROGRESS`");
  });

  it("points at the step that halted the run, not one passed over earlier", () => {
    const passedOver = viewOf(FM3, {
      status: "failed",
      steps: {
        "tell-security": { status: "failed", outcome: { summary: "failed: Slack is down" } },
        "add-responders": { status: "failed", outcome },
      },
    });
    expect(visibleText(runMessage(passedOver, FM3).blocks)).toContain("*Failed* at step 8 of 16");
  });
});

describe("a running run", () => {
  it("offers Run to resume when no step is running (approved, not yet advanced)", () => {
    const run = viewOf(FM3, {
      status: "running",
      steps: {
        "approve-direct-federation": {
          status: "succeeded",
          outcome: { summary: "approved by slack:U0APPR0002 (run started by slack:U0INIT0001)" },
        },
      },
    });
    const message = runMessage(run, FM3);
    expect(buttonsOf(message).map((button) => button.action_id)).toEqual(["run.advance", "run.abort"]);
    expect(visibleText(message.blocks)).toContain(":double_vertical_bar: *Paused* at step 5 of 16");
  });

  it("says a step is running, and how to resume it if the process stopped", () => {
    const run = viewOf(FM3, {
      status: "running",
      steps: {
        "add-responders": {
          status: "applying",
          outcome: { summary: "applying: add ana", plan: { summary: "add ana", alreadyDone: false, changes: [] } },
        },
      },
    });
    const text = visibleText(runMessage(run, FM3).blocks);
    expect(text).toContain(":arrow_forward: *Running* at step 8 of 16");
    expect(text).toContain("*Run* resumes it where it was");
  });

  const recheck = {
    event: "retry-wait",
    runId: RUN_ID,
    runbookId: "fm3-direct-federation",
    stepId: "recheck-emergency-provider",
    stepTitle: "Check the emergency IAM SAML provider again",
    attempt: 2,
    attempts: 10,
    intervalMilliseconds: 30_000,
    nextAttemptAt: new Date("2026-11-25T03:14:05Z"),
    waitingFor: { summary: "failed: not clean: SAML_PROVIDER_DRIFT", codes: ["SAML_PROVIDER_DRIFT"] },
  } as const;

  it("shows a retrying check's failed attempt, what it waits for and the next try in the reader's time zone", () => {
    const run = viewOf(FM3, { status: "running", steps: { "recheck-emergency-provider": { status: "running" } } });
    const text = visibleText(runMessage(run, FM3, recheck).blocks);
    expect(text).toContain(
      ":repeat: Retrying: attempt 2 of 10 failed (SAML_PROVIDER_DRIFT); next try at " +
        "<!date^1795576445^{time_secs}|03:14:05 UTC> (every 30 s)",
    );
  });

  it("shows no retry once the run has moved past the step that waited", () => {
    const run = viewOf(FM3, { status: "running", steps: { "recheck-emergency-provider": { status: "succeeded" } } });
    expect(visibleText(runMessage(run, FM3, recheck).blocks)).not.toContain("Retrying");
  });
});

describe("a finished run", () => {
  it("has no buttons once it succeeded, and says so", () => {
    const steps = Object.fromEntries(
      FM3.steps.map((step) => [
        step.id,
        {
          status:
            step.kind === "manual" && step.id.startsWith("repair") ? ("skipped" as const) : ("succeeded" as const),
        },
      ]),
    );
    const message = runMessage(viewOf(FM3, { status: "succeeded", steps }), FM3);
    expect(buttonsOf(message)).toEqual([]);
    expect(message.blocks.some((block) => block.type === "actions")).toBe(false);
    expect(visibleText(message.blocks)).toContain(":white_check_mark: *Succeeded*: 16 steps (1 skipped)");
    expectWithinSlackLimits(message);
  });

  it("has no buttons once aborted, and says where it stopped", () => {
    const message = runMessage(
      viewOf(FM3, {
        status: "aborted",
        steps: { "approve-direct-federation": { status: "waiting", outcome: { summary: "waits", text: "x" } } },
      }),
      FM3,
    );
    expect(buttonsOf(message)).toEqual([]);
    expect(visibleText(message.blocks)).toContain(":no_entry: *Aborted* at step 4 of 16");
  });
});

describe("a run that changed something", () => {
  const opened = {
    status: "succeeded" as const,
    outcome: {
      summary: "applied and verified: open the window",
      applied: true,
      plan: {
        summary: "open the window",
        alreadyDone: false,
        changes: [{ target: "emergency window of incident INC-1", before: null, after: "open" }],
      },
    },
  };

  it("offers Roll back, behind a confirmation, once it has stopped", () => {
    const aborted = runMessage(
      viewOf(FM3, {
        status: "aborted",
        steps: { "declare-emergency": opened, "add-responders": { status: "waiting", outcome: { summary: "x" } } },
      }),
      FM3,
    );
    expect(buttonsOf(aborted).map((button) => [button.action_id, button.text])).toEqual([
      [RUN_ACTION_IDS.rollback, "Roll back"],
    ]);
    expect(buttonsOf(aborted)[0]?.confirm).toMatchObject({ title: { text: "Roll this run back?" } });
    const failed = runMessage(
      viewOf(FM3, {
        status: "failed",
        steps: {
          "declare-emergency": opened,
          "add-responders": { status: "failed", outcome: { summary: "failed", error: "403" } },
        },
      }),
      FM3,
    );
    expect(buttonsOf(failed).map((button) => button.action_id)).toEqual([
      RUN_ACTION_IDS.advance,
      RUN_ACTION_IDS.abort,
      RUN_ACTION_IDS.rollback,
    ]);
  });

  it("offers no Roll back while it still runs, nor after a dry run", () => {
    const waiting = runMessage(
      viewOf(FM3, {
        status: "waiting",
        steps: {
          "declare-emergency": opened,
          "approve-direct-federation": { status: "waiting", outcome: { summary: "waits", text: "x" } },
        },
      }),
      FM3,
    );
    expect(buttonsOf(waiting).map((button) => button.action_id)).not.toContain(RUN_ACTION_IDS.rollback);
    const dryRun = runMessage(
      viewOf(FM3, { status: "aborted", dryRun: true, steps: { "declare-emergency": opened } }),
      FM3,
    );
    expect(buttonsOf(dryRun)).toEqual([]);
  });
});

describe("dry runs and initiators", () => {
  it("marks a dry run in the header, the body and the fallback", () => {
    const message = runMessage(
      viewOf(FM3, { status: "running", dryRun: true, steps: { "declare-emergency": { status: "pending" } } }),
      FM3,
    );
    expect(message.blocks[0]).toMatchObject({ type: "header", text: { text: `[DRY RUN] ${FM3.title}` } });
    expect(visibleText(message.blocks)).toContain(
      ":test_tube: *Dry run*: actions only show what they would change; nothing is applied.",
    );
    expect(message.text.startsWith("[dry run] ")).toBe(true);
  });

  it("shows an initiator from the CLI as written, escaped", () => {
    const message = runMessage(
      viewOf(FM3, { status: "running", initiator: "alice <root> & co (os user root)", steps: {} }),
      FM3,
    );
    expect(visibleText(message.blocks)).toContain("started by alice &lt;root&gt; &amp; co (os user root)");
  });
});

describe("thread replies", () => {
  it("records a decision with the people as mentions", () => {
    const run = viewOf(FM3, {
      status: "running",
      steps: {
        "approve-direct-federation": {
          status: "succeeded",
          outcome: {
            summary: "approved by slack:U0APPR0002 (run started by slack:U0INIT0001)",
            approval: { decision: "granted", approver: "slack:U0APPR0002", initiator: INITIATOR },
          },
        },
      },
    });
    const reply = stepOutcomeReply(run, "approve-direct-federation");
    expect(visibleText(reply?.blocks)).toBe(
      ":white_check_mark: *4. A second person approves direct federation*: approved by <@U0APPR0002> (run started by <@U0INIT0001>)",
    );
    expect(reply?.text).toBe(
      "Step 4 A second person approves direct federation: approved by <@U0APPR0002> (run started by <@U0INIT0001>)",
    );
  });

  it("includes a manual step's written answer and an action's changes, briefly", () => {
    const run = viewOf(FM1, {
      status: "running",
      steps: {
        "check-out-credentials": {
          status: "succeeded",
          outcome: {
            summary: "confirmed by slack:U0OPER0003",
            confirmation: { actor: "slack:U0OPER0003", record: "alice: em-alice, vault ref 8812 <b>" },
          },
        },
      },
    });
    const text = visibleText(stepOutcomeReply(run, "check-out-credentials")?.blocks);
    expect(text).toContain(":memo: alice: em-alice, vault ref 8812 &lt;b&gt;");
    const changes = Array.from({ length: 9 }, (_, index) => ({
      target: `group ops: user${index}`,
      before: "member",
      after: "not a member",
    }));
    const action = viewOf(FM3, {
      status: "running",
      steps: {
        "remove-responders": {
          status: "succeeded",
          outcome: {
            summary: "applied and verified",
            applied: true,
            plan: { summary: "remove", alreadyDone: false, changes },
          },
        },
      },
    });
    const actionText = visibleText(stepOutcomeReply(action, "remove-responders")?.blocks);
    expect(actionText).toContain("*Changed:*");
    expect(actionText).toContain("• group ops: user4: member → not a member");
    expect(actionText).not.toContain("user5");
    expect(actionText).toContain("…and 4 more");
  });

  it("never turns a reject reason or a written answer into a mention or a broadcast", () => {
    const reason = "ask slack:U0OTHER999 <!channel> <@U0OTHER999>";
    const rejected = viewOf(FM3, {
      status: "failed",
      steps: {
        "approve-direct-federation": {
          status: "failed",
          outcome: {
            summary: `rejected by slack:U0APPR0002: ${reason}`,
            error: `rejected by slack:U0APPR0002: ${reason}`,
            approval: { decision: "rejected", approver: "slack:U0APPR0002", initiator: INITIATOR, reason },
          },
        },
      },
    });
    const reply = stepOutcomeReply(rejected, "approve-direct-federation");
    const message = runMessage(rejected, FM3);
    for (const text of [visibleText(reply?.blocks), reply?.text ?? "", visibleText(message.blocks), message.text]) {
      expect(text).not.toContain("<@U0OTHER999>");
      expect(text).not.toContain("<!channel>");
    }
    expect(visibleText(reply?.blocks)).toContain(
      "rejected by <@U0APPR0002>: ask slack:U0OTHER999 &lt;!channel&gt; &lt;@U0OTHER999&gt;",
    );
    const answered = viewOf(FM1, {
      status: "running",
      steps: {
        "check-out-credentials": {
          status: "succeeded",
          outcome: {
            summary: "confirmed by slack:U0OPER0003",
            confirmation: { actor: "slack:U0OPER0003", record: "handed to slack:U0OTHER999" },
          },
        },
      },
    });
    const answer = visibleText(stepOutcomeReply(answered, "check-out-credentials")?.blocks);
    expect(answer).toContain("confirmed by <@U0OPER0003>");
    expect(answer).toContain(":memo: handed to slack:U0OTHER999");
  });

  it("gives nothing for a step the run does not have", () => {
    expect(stepOutcomeReply(viewOf(FM3, { status: "running", steps: {} }), "no-such-step")).toBeNull();
  });
});

describe("the reject modal", () => {
  it("carries the run id and asks why", () => {
    const modal = rejectReasonModal(
      viewOf(FM3, { status: "waiting", steps: { "approve-direct-federation": { status: "waiting" } } }),
    );
    expect(modal).toMatchObject({ type: "modal", callback_id: "run.reject.reason", private_metadata: RUN_ID });
    expect(visibleText(modal.blocks)).toContain("Why do you reject it?");
  });
});

describe("run ids", () => {
  it("shortens UUID run ids only", () => {
    expect(shortRunId(RUN_ID)).toBe("3f2a9c1b");
    expect(shortRunId("run-1")).toBe("run-1");
  });
});

describe("in every state", () => {
  const states = fc.record({
    status: fc.constantFrom(...RUN_STATUSES),
    steps: fc.array(fc.constantFrom(...STEP_STATUSES), { minLength: FM3.steps.length, maxLength: FM3.steps.length }),
    dryRun: fc.boolean(),
  });

  it("offers buttons only on unfinished runs, always Abort among them, and never Skip on an approval", () => {
    fc.assert(
      fc.property(states, ({ status, steps, dryRun }) => {
        const spec = Object.fromEntries(
          FM3.steps.map((step, index) => [step.id, { status: steps[index] ?? "pending" }]),
        );
        const run = viewOf(FM3, { status, steps: spec, dryRun });
        const message = runMessage(run, FM3);
        const ids = buttonsOf(message).map((button) => button.action_id);
        expectWithinSlackLimits(message);
        if (status === "succeeded" || status === "aborted") expect(ids).toEqual([]);
        else expect(ids).toContain(RUN_ACTION_IDS.abort);
        if (run.waitingFor?.kind === "approval") expect(ids).not.toContain(RUN_ACTION_IDS.skip);
        if (status === "failed") expect(ids).toEqual([RUN_ACTION_IDS.advance, RUN_ACTION_IDS.abort]);
      }),
      { numRuns: 300 },
    );
  });
});
