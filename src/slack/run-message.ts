// A runbook run as one Slack message updated in place (header, progress, the step waiting on someone, buttons), and its thread replies.
import type { types } from "@slack/bolt";
import type { FindingSummary, StepOutcomeRecord, UnlockedAction } from "../domain/runbooks/run-store.js";
import type { RunView, StepView } from "../domain/runbooks/run-engine.js";
import { describeFailedAttempt, type RetryWaitEvent } from "../domain/runbooks/run-progress.js";
import type { Artefact, Runbook } from "../domain/runbooks/runbook-schema.js";
import { actionChangedSomething } from "../domain/runbooks/rollback-runbook.js";
import { contextBlock, headerBlock, plainText, SECTION_LIMIT, sectionBlock } from "./blocks.js";
import {
  code,
  cutText,
  escapeMrkdwn,
  limitedLines,
  mentionActor,
  mentionKnownActors,
  quotedText,
  redactSecrets,
  slackText,
  truncate,
} from "./mrkdwn.js";
import { severityEmoji } from "./severity-emoji.js";
import type { FingerprintRequirement } from "../domain/runbooks/fingerprint-confirmation.js";
import {
  CONFIRM_HEX_LENGTH,
  describeIncomingCertificate,
  groupedFingerprint,
  type KeyContinuity,
} from "../domain/saml/key-continuity.js";
import type { SlackMessage } from "./slack-message.js";

type KnownBlock = types.KnownBlock;

/** The action_id of every button on a run message; each button's value is the run id. */
export const RUN_ACTION_IDS = {
  advance: "run.advance",
  approve: "run.approve",
  reject: "run.reject",
  confirm: "run.confirm",
  skip: "run.skip",
  abort: "run.abort",
  rollback: "run.rollback",
  takeOver: "run.takeover",
  takeOverAndAbort: "run.takeover-abort",
} as const;
export type RunActionId = (typeof RUN_ACTION_IDS)[keyof typeof RUN_ACTION_IDS];

/** The modals a button may open: the callback_id, and where the typed answer is in `view.state.values[block][action]`. */
export const RUN_MODALS = {
  reject: { callbackId: "run.reject.reason", blockId: "reason", actionId: "reason" },
  confirm: { callbackId: "run.confirm.record", blockId: "record", actionId: "record" },
  abort: { callbackId: "run.abort.reason", blockId: "reason", actionId: "reason" },
  takeOver: { callbackId: "run.takeover.reason", blockId: "reason", actionId: "reason" },
  takeOverAndAbort: { callbackId: "run.takeover-abort.reason", blockId: "reason", actionId: "reason" },
  approveFingerprint: { callbackId: "run.approve.fingerprint", blockId: "fingerprint", actionId: "fingerprint" },
} as const;

export type RunbookForRun = Pick<Runbook, "title" | "steps">;

const STEP_EMOJI: Readonly<Record<StepView["status"], string>> = {
  pending: ":white_circle:",
  running: ":arrow_forward:",
  applying: ":arrow_forward:",
  waiting: ":hourglass_flowing_sand:",
  succeeded: ":white_check_mark:",
  failed: ":x:",
  skipped: ":heavy_minus_sign:",
};

const LIST_LIMIT = 8;
/** Action steps an approval shows before saying how many more there are; a run message has at most 50 blocks. */
const UNLOCKED_LIMIT = 6;

/** The first eight characters of a UUID run id, enough to tell runs apart in a channel. */
export function shortRunId(id: string): string {
  return id.length > 12 ? id.slice(0, 8) : id;
}

/**
 * Runbook texts are Markdown; Slack's mrkdwn marks bold with one star and has no headings or list syntax. The text is
 * escaped first, so nothing here can create a link or a mention.
 */
function markdownToMrkdwn(text: string): string {
  return escapeMrkdwn(redactSecrets(text))
    .replace(/^([ \t]*)```[A-Za-z0-9_-]+[ \t]*$/gm, "$1```")
    .replace(/^([ \t]*)[-*+][ \t]+(?=\S)/gm, "$1• ")
    .replace(/^#{1,6}[ \t]+(.+)$/gm, "*$1*")
    .replace(/\*\*(.+?)\*\*/g, "*$1*")
    .replace(/__(.+?)__/g, "*$1*");
}

/** Long text as several sections, split between paragraphs, so that none passes Slack's limit. */
function textSections(text: string, maxSections = 4): KnownBlock[] {
  const chunks: string[] = [];
  let current = "";
  for (const paragraph of text.split(/\n{2,}/)) {
    const piece = truncate(paragraph, SECTION_LIMIT);
    if (current !== "" && current.length + piece.length + 2 > SECTION_LIMIT) {
      chunks.push(current);
      current = piece;
    } else current = current === "" ? piece : `${current}\n\n${piece}`;
  }
  if (current.trim() !== "") chunks.push(current);
  const blocks: KnownBlock[] = chunks.slice(0, maxSections).map((chunk) => sectionBlock(chunk));
  if (chunks.length > maxSections)
    blocks.push(contextBlock("_The rest is shortened here: `breakglass runbook status` in a terminal shows it all._"));
  return blocks;
}

interface Located {
  readonly step: StepView;
  readonly index: number;
}

/**
 * The whole run as one message, rebuilt from the run's view after every change and posted over the previous one; `wait`
 * is the retry the running step waits in, if any (the engine's progress, which the view does not hold).
 */
export function runMessage(run: RunView, runbook: RunbookForRun, wait?: RetryWaitEvent): SlackMessage {
  const current = currentStep(run);
  const blocks: KnownBlock[] = [headerBlock(`${run.dryRun ? "[DRY RUN] " : ""}${runbook.title}`)];
  blocks.push(
    contextBlock(
      `Run ${code(shortRunId(run.id))} · ${code(run.runbookId)} · started by ${mentionActor(run.initiator)}`,
    ),
  );
  if (run.dryRun)
    blocks.push(contextBlock(":test_tube: *Dry run*: actions only show what they would change; nothing is applied."));
  blocks.push(sectionBlock(statusLine(run, current)));
  blocks.push(contextBlock(progressLines(run).join("\n")));

  const finished = run.status === "succeeded" || run.status === "aborted";
  if (current !== undefined && !finished) {
    blocks.push({ type: "divider" });
    blocks.push(...stepDetail(run, runbook, current));
    if (wait !== undefined && wait.stepId === current.step.id && current.step.status === "running")
      blocks.push(contextBlock(waitLine(wait)));
  }
  const hint = nextHint(run, current);
  if (hint !== undefined) blocks.push(contextBlock(hint));
  const buttons = runButtons(run);
  if (buttons.length > 0) blocks.push({ type: "actions", block_id: "run.actions", elements: buttons });
  // A manual step's whole instructions are posted in the thread (manualInstructionsReplies); anything else is in full
  // in `breakglass runbook status`.
  const marker = run.waitingFor?.kind === "manual" ? CONTINUED : SHORTENED;
  return { text: fallbackText(run, runbook, current), blocks: capMessageText(blocks, RUN_MESSAGE_TEXT_LIMIT, marker) };
}

/**
 * The most text a run message's blocks carry in all. Slack documents 3,000 characters per section and 50 blocks, but
 * refuses a message whose blocks' text totals roughly 12,000-13,300 characters with `msg_blocks_too_long`
 * (slackapi/bolt-js issues 2509 and 2867); the run message is re-sent on every chat.update, so it keeps well below.
 */
export const RUN_MESSAGE_TEXT_LIMIT = 10_000;
const CONTINUED = "… _(continued in the thread)_";
const SHORTENED = "… _(shortened: `breakglass runbook status` shows it all)_";

/** The characters of every text object in the blocks: what Slack counts towards msg_blocks_too_long. */
export function blockTextLength(blocks: readonly KnownBlock[]): number {
  let total = 0;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === "object") {
      for (const [key, child] of Object.entries(node)) {
        if (key === "text" && typeof child === "string") total += child.length;
        else walk(child);
      }
    }
  };
  walk(blocks);
  return total;
}

/**
 * Blocks whose text totals at most `limit`: the longest mrkdwn sections are cut (the later one of two as long), each saying the rest is in the thread
 * (where a manual step's whole instructions are posted, see manualInstructionsReply).
 */
function capMessageText(blocks: KnownBlock[], limit: number, marker: string): KnownBlock[] {
  const capped = [...blocks];
  for (let excess = blockTextLength(capped) - limit; excess > 0; excess = blockTextLength(capped) - limit) {
    let longest = -1;
    for (const [index, block] of capped.entries()) {
      const text = block.type === "section" && block.text?.type === "mrkdwn" ? block.text.text : "";
      const best = capped[longest];
      const bestLength = best?.type === "section" ? (best.text?.text.length ?? 0) : 0;
      if (text.length > marker.length * 2 && text.length >= bestLength) longest = index;
    }
    const block = capped[longest];
    if (block?.type !== "section" || block.text === undefined) break;
    const keep = Math.max(0, block.text.text.length - excess - marker.length);
    capped[longest] = sectionBlock(`${cutText(block.text.text, keep)}${marker}`);
  }
  return capped;
}

/**
 * A manual step's whole instructions as replies in the run's thread, when the run message cannot hold them all:
 * null when the message shows them whole.
 */
export function manualInstructionsReplies(run: RunView, runbook: RunbookForRun): SlackMessage[] | null {
  if (run.waitingFor?.kind !== "manual") return null;
  const message = runMessage(run, runbook);
  if (!visibleTexts(message.blocks).some((text) => text.endsWith(CONTINUED))) return null;
  const index = run.steps.findIndex((step) => step.id === run.waitingFor?.stepId);
  const step = run.steps[index];
  if (step === undefined) return null;
  const sections = textSections(markdownToMrkdwn(step.outcome?.text ?? ""), Number.MAX_SAFE_INTEGER);
  const replies: SlackMessage[] = [];
  for (let start = 0; start < sections.length; start += 3) {
    const part = sections.slice(start, start + 3);
    const heading =
      start === 0 ? [sectionBlock(`:page_facing_up: *Step ${index + 1}: ${slackText(step.title)}*, in full`)] : [];
    replies.push({ text: slackText(`Step ${index + 1} ${step.title}, in full`), blocks: [...heading, ...part] });
  }
  return replies;
}

function visibleTexts(blocks: readonly KnownBlock[]): string[] {
  return blocks.flatMap((block) => (block.type === "section" && block.text !== undefined ? [block.text.text] : []));
}

/** A reply in the run's thread when Slack refused to update the run message: the channel would keep a stale one. */
export function refusedUpdateReply(runId: string, reason: string): SlackMessage {
  const text =
    `:warning: Slack refused to update this run's message (${slackText(truncate(reason, 300))}): it may be out of ` +
    `date. ${code(`breakglass runbook status ${shortRunId(runId)}`)} in a terminal shows the run as it is.`;
  return {
    text: slackText(`Slack refused to update the message of run ${shortRunId(runId)}`),
    blocks: [sectionBlock(text)],
  };
}

/** The buttons a run offers in its state: once it has ended, only Rollback, and only when it changed something. */
export function runButtons(run: RunView): types.Button[] {
  const rollback = rollbackButton(run);
  if (run.status === "succeeded" || run.status === "aborted") return rollback === undefined ? [] : [rollback];
  const buttons: types.Button[] = [];
  if (run.status === "waiting" && run.waitingFor?.kind === "approval") {
    buttons.push(
      button(RUN_ACTION_IDS.approve, "Approve", run.id, "primary"),
      button(RUN_ACTION_IDS.reject, "Reject", run.id, "danger"),
    );
  } else if (run.status === "waiting" && run.waitingFor?.kind === "manual") {
    // Never for an approval: skipping one would defeat the second person.
    buttons.push(
      button(RUN_ACTION_IDS.confirm, "Done", run.id, "primary"),
      button(RUN_ACTION_IDS.skip, "Skip", run.id),
    );
  } else {
    buttons.push(button(RUN_ACTION_IDS.advance, "Run", run.id));
  }
  // Abort asks why in a modal (the CLI's --reason), which is also where it can still be cancelled.
  buttons.push(button(RUN_ACTION_IDS.abort, "Abort", run.id, "danger"));
  if (run.status === "failed" && rollback !== undefined) buttons.push(rollback);
  return buttons;
}

/** Rollback, on a run that has stopped (failed, aborted or succeeded) and applied an action: `breakglass runbook rollback`. */
function rollbackButton(run: RunView): types.Button | undefined {
  const stopped = run.status === "succeeded" || run.status === "aborted" || run.status === "failed";
  if (
    !stopped ||
    run.dryRun ||
    !run.steps.some((step) => step.kind === "action" && actionChangedSomething(step.status, step.outcome))
  )
    return undefined;
  const rollback = button(RUN_ACTION_IDS.rollback, "Roll back", run.id);
  rollback.confirm = {
    title: plainText("Roll this run back?"),
    text: plainText(
      "Starts a new run that undoes what this one changed, newest first. Each undo waits for a second person's approval.",
    ),
    confirm: plainText("Start the rollback"),
    deny: plainText("Keep it"),
  };
  return rollback;
}

/** The question the waiting manual step asks, when it asks one: Done must then collect a written answer (RUN_MODALS.confirm). */
export function manualStepQuestion(run: RunView, runbook: RunbookForRun): string | undefined {
  if (run.waitingFor?.kind !== "manual") return undefined;
  const stepId = run.waitingFor.stepId;
  const step = runbook.steps.find((candidate) => candidate.id === stepId);
  return step?.kind === "manual" ? step.record : undefined;
}

/** Asks the person who pressed Reject why: the engine records the reason with the rejection. */
export function rejectReasonModal(run: RunView): types.ModalView {
  return textAnswerModal(RUN_MODALS.reject, run.id, {
    title: "Reject the step",
    submit: "Reject",
    close: "Cancel",
    before: [
      sectionBlock(
        `Run ${code(shortRunId(run.id))} (${code(run.runbookId)}) stops at this approval, or follows its onFailure.`,
      ),
    ],
    label: "Why do you reject it?",
  });
}

/** Asks the person who pressed Abort why, as the CLI's --reason does: the reason goes on the audit record. */
export function abortReasonModal(run: RunView): types.ModalView {
  return textAnswerModal(RUN_MODALS.abort, run.id, {
    title: "Abort the run",
    submit: "Abort the run",
    close: "Keep it",
    before: [
      sectionBlock(
        `Run ${code(shortRunId(run.id))} (${code(run.runbookId)}) ends for good and cannot be resumed. ` +
          "Nothing it already changed is undone (Roll back does that, afterwards).",
      ),
    ],
    label: "Why do you abort it?",
  });
}

/**
 * Asks the approver who pressed Take over why: the run's lease is taken from a process that stopped renewing it
 * (another host's, or a hung one), and the run goes on here. The reason goes on the audit record.
 */
export function takeOverModal(runId: string, busy: string, then: "resume" | "abort" = "resume"): types.ModalView {
  return textAnswerModal(then === "resume" ? RUN_MODALS.takeOver : RUN_MODALS.takeOverAndAbort, runId, {
    title: then === "resume" ? "Take the run over" : "Take over and abort",
    submit: then === "resume" ? "Take over" : "Abort the run",
    close: "Cancel",
    before: [
      sectionBlock(`Run ${code(shortRunId(runId))}: ${slackText(truncate(busy, 1500))}`),
      contextBlock(
        then === "resume"
          ? "Take over only if that process is gone or hung: the run then goes on here, re-running the step it was " +
              "in from its start, and the process that held it can no longer write to it."
          : "Take over only if that process is gone or hung: the run then ends for good, and the process that held " +
              "it can no longer write to it. Nothing it already changed is undone.",
      ),
    ],
    label: "Why take it over?",
  });
}

/** Asks the person who pressed Done for the written answer the manual step requires. */
export function confirmRecordModal(run: RunView, question: string): types.ModalView {
  return textAnswerModal(RUN_MODALS.confirm, run.id, {
    title: "Confirm the step",
    submit: "Done",
    close: "Cancel",
    before: [],
    label: truncate(question, 2000),
    maxLength: 2000,
    after: [contextBlock("Kept in the run and the audit log. Never write a password or a token here.")],
  });
}

/**
 * Asks the person who pressed Approve, when the approval unlocks a full key change no pinned signer vouches for, for the
 * first 8 hex characters of the new certificate's SHA-256 as the IdP's admin console shows it (the CLI's --confirm-fingerprint).
 */
export function approveFingerprintModal(run: RunView, needs: FingerprintRequirement): types.ModalView {
  const certificates = needs.certificates.map(
    (certificate) =>
      `• ${slackText(truncate(describeIncomingCertificate(certificate), 300))}\n      ` +
      `sha256 ${code(groupedFingerprint(certificate.sha256))}`,
  );
  return textAnswerModal(RUN_MODALS.approveFingerprint, run.id, {
    title: "Confirm the new key",
    submit: "Approve",
    close: "Cancel",
    before: [
      sectionBlock(
        `${severityEmoji("critical")} *Full key change, not signed by the pinned metadata signer.* Run ` +
          `${code(shortRunId(run.id))} (${code(run.runbookId)}) would make AWS trust only keys it has never trusted. ` +
          `Open the IdP's own admin console and type the first ${CONFIRM_HEX_LENGTH} hex characters of the SHA-256 ` +
          `of the new signing certificate${needs.certificates.length === 1 ? "" : " (any one of these; the one you type is recorded)"}:`,
      ),
      sectionBlock(limitedLines(certificates, LIST_LIMIT, (count) => `…and ${count} more`).join("\n")),
    ],
    label: `SHA-256, first ${CONFIRM_HEX_LENGTH} hex characters (from the IdP's admin console)`,
    maxLength: 100,
    multiline: false,
    after: [contextBlock("Case, spaces and colons do not matter. A wrong value is refused and recorded.")],
  });
}

/** A modal that asks one written answer of the person who pressed a run's button; the run's id rides along. */
function textAnswerModal(
  ids: { readonly callbackId: string; readonly blockId: string; readonly actionId: string },
  runId: string,
  text: {
    readonly title: string;
    readonly submit: string;
    readonly close: string;
    readonly before: readonly KnownBlock[];
    readonly label: string;
    readonly maxLength?: number;
    readonly multiline?: boolean;
    readonly after?: readonly KnownBlock[];
  },
): types.ModalView {
  return {
    type: "modal",
    callback_id: ids.callbackId,
    private_metadata: runId,
    title: plainText(text.title),
    submit: plainText(text.submit),
    close: plainText(text.close),
    blocks: [
      ...text.before,
      {
        type: "input",
        block_id: ids.blockId,
        label: plainText(text.label),
        element: {
          type: "plain_text_input",
          action_id: ids.actionId,
          multiline: text.multiline ?? true,
          max_length: text.maxLength ?? 1000,
        },
      },
      ...(text.after ?? []),
    ],
  };
}

/** One step's outcome as a short reply in the run's thread: the history below the message that keeps changing. */
export function stepOutcomeReply(run: RunView, stepId: string): SlackMessage | null {
  const index = run.steps.findIndex((step) => step.id === stepId);
  const step = run.steps[index];
  if (step === undefined) return null;
  const summary = step.outcome?.summary ?? step.status;
  const said = step.outcome === null ? slackText(summary) : outcomeText(step.outcome.summary, step.outcome, 500);
  const head = `${STEP_EMOJI[step.status]} *${index + 1}. ${slackText(step.title)}*: ${said}`;
  const blocks: KnownBlock[] = [sectionBlock(head)];
  const details = outcomeDetails(step.outcome, 5);
  if (step.outcome?.confirmation?.record !== undefined)
    details.unshift(`:memo: ${slackText(truncate(step.outcome.confirmation.record, 1000))}`);
  if (details.length > 0) blocks.push(contextBlock(details.join("\n")));
  return {
    text:
      slackText(`${run.dryRun ? "[dry run] " : ""}Step ${index + 1} ${step.title}: `) +
      (step.outcome === null ? slackText(summary) : outcomeText(step.outcome.summary, step.outcome, 200)),
    blocks,
  };
}

/** What each artefact is, for the line that introduces it in a run's thread. */
const ARTEFACT_DESCRIPTIONS: Readonly<Record<Artefact, string>> = {
  "metadata-file": "the IdP metadata file this run inspected",
  "activity-summary": "the activity summary of the emergency window",
};

/** The line above an artefact shared in the run's thread: which file it is, for which step. */
export function artefactShareComment(artefact: Artefact, index: number, stepTitle: string): string {
  return `:paperclip: For step ${index + 1} (${slackText(stepTitle)}): ${ARTEFACT_DESCRIPTIONS[artefact]}. Use this file and no other.`;
}

/** When the file could not be shared in Slack: where it is on the server, and why it is not here. */
export function artefactFallbackReply(artefact: Artefact, path: string, reason: string): SlackMessage {
  const scope = /missing_scope|not_allowed_token_type/.test(reason)
    ? " (the Slack app needs the files:write scope: add it from examples/slack-app-manifest.yaml and reinstall)"
    : "";
  const text =
    `:paperclip: Could not attach ${ARTEFACT_DESCRIPTIONS[artefact]} here: ${truncate(reason, 200)}${scope}. ` +
    `It is on the breakglass server at ${path}`;
  return {
    text: slackText(text),
    blocks: [
      sectionBlock(
        `:paperclip: Could not attach ${ARTEFACT_DESCRIPTIONS[artefact]} here: ${slackText(truncate(reason, 200))}${scope}.\n` +
          `It is on the breakglass server at ${code(path)}`,
      ),
    ],
  };
}

function button(actionId: RunActionId, label: string, runId: string, style?: types.ColorScheme): types.Button {
  return {
    type: "button",
    action_id: actionId,
    text: plainText(label),
    value: runId,
    ...(style === undefined ? {} : { style }),
  };
}

/** The step the run is at: the one waiting, the one it failed at, or the one running (or next to run). */
function currentStep(run: RunView): Located | undefined {
  const find = (predicate: (step: StepView) => boolean, last = false): Located | undefined => {
    const indexes = run.steps.map((_, index) => index);
    const index = (last ? indexes.reverse() : indexes).find((position) => predicate(run.steps[position] as StepView));
    return index === undefined ? undefined : { step: run.steps[index] as StepView, index };
  };
  switch (run.status) {
    case "waiting":
      return find((step) => step.status === "waiting");
    case "failed":
      // Earlier steps may have failed and been passed over (onFailure continue or goto); the run halted at the last one.
      return find((step) => step.status === "failed", true);
    case "running":
      return (
        find((step) => step.status === "running" || step.status === "applying") ??
        find((step) => step.status === "pending" || step.status === "failed")
      );
    case "aborted":
      return (
        find((step) => step.status === "waiting" || step.status === "running" || step.status === "applying") ??
        find((step) => step.status === "failed", true)
      );
    case "succeeded":
      return undefined;
  }
}

function statusLine(run: RunView, current: Located | undefined): string {
  const at = current === undefined ? "" : ` at step ${current.index + 1} of ${run.steps.length}`;
  switch (run.status) {
    case "waiting":
      if (run.waitingFor?.kind === "approval")
        return `:hourglass_flowing_sand: *Waiting for a second person to approve*${at}`;
      if (run.waitingFor?.kind === "manual") return `:raised_hand: *Waiting for someone to do a step by hand*${at}`;
      return `:hourglass_flowing_sand: *Waiting*${at}`;
    case "running":
      return current !== undefined && (current.step.status === "running" || current.step.status === "applying")
        ? `:arrow_forward: *Running*${at}`
        : `:double_vertical_bar: *Paused*${at}`;
    case "failed":
      return `:x: *Failed*${at}`;
    case "aborted":
      return `:no_entry: *Aborted*${at}`;
    case "succeeded": {
      const skipped = run.steps.filter((step) => step.status === "skipped").length;
      const failed = run.steps.filter((step) => step.status === "failed").length;
      const notes = [
        skipped > 0 ? `${skipped} skipped` : "",
        failed > 0 ? `${failed} failed and passed over` : "",
      ].filter((note) => note !== "");
      return (
        `:white_check_mark: *Succeeded*: ${run.steps.length} ` +
        `${run.steps.length === 1 ? "step" : "steps"}${notes.length === 0 ? "" : ` (${notes.join(", ")})`}`
      );
    }
  }
}

function progressLines(run: RunView): string[] {
  return run.steps.map(
    (step, index) => `${STEP_EMOJI[step.status]} ${index + 1}. ${slackText(truncate(step.title, 70))}`,
  );
}

function stepDetail(run: RunView, runbook: RunbookForRun, { step, index }: Located): KnownBlock[] {
  const heading = `*Step ${index + 1} of ${run.steps.length}: ${slackText(step.title)}*`;
  const outcome = step.outcome;
  const blocks: KnownBlock[] = [];
  if (step.kind === "approval" && step.status === "waiting") {
    blocks.push(sectionBlock(`${heading}\n${quote(markdownToMrkdwn(outcome?.text ?? "Approve to go on."))}`));
    for (const overridden of run.steps.filter((candidate) => candidate.outcome?.override !== undefined)) {
      const override = overridden.outcome?.override;
      if (override === undefined) continue;
      blocks.push(
        contextBlock(
          `:warning: *Overridden:* ${slackText(overridden.title)}, by ${mentionActor(override.by)}: ${slackText(truncate(override.reason, 300))}`,
        ),
      );
    }
    const checked = preflightLines(run);
    if (checked.length > 0) blocks.push(contextBlock(checked.join("\n")));
    blocks.push(...unlockedBlocks(run, outcome?.unlocks));
    blocks.push(
      contextBlock(
        `:busts_in_silhouette: Needs a second person: ${mentionActor(run.initiator)} started this run and cannot approve it.`,
      ),
    );
    return blocks;
  }
  if (step.kind === "manual" && step.status === "waiting") {
    blocks.push(sectionBlock(heading));
    blocks.push(...textSections(markdownToMrkdwn(outcome?.text ?? "Do the step, then press Done.")));
    const question = manualStepQuestion(run, runbook);
    if (question !== undefined)
      blocks.push(contextBlock(`:memo: *Done* asks you to answer in writing: ${slackText(truncate(question, 300))}`));
    return blocks;
  }
  const lines = [heading];
  if (outcome === null) lines.push(step.status === "pending" ? "_Not started yet._" : "_In progress…_");
  else lines.push(outcomeText(outcome.summary, outcome, 500));
  blocks.push(sectionBlock(lines.join("\n")));
  const details = outcomeDetails(outcome, LIST_LIMIT);
  if (details.length > 0) blocks.push(contextBlock(details.join("\n")));
  return blocks;
}

/**
 * What approving unlocks, one section per action step: its plan's summary and each change with what it is now and
 * what it will be, long enough to compare certificate fingerprints; or why the step could not be planned yet.
 */
function unlockedBlocks(run: RunView, unlocks: readonly UnlockedAction[] | undefined): KnownBlock[] {
  if (unlocks === undefined) return [];
  if (unlocks.length === 0)
    return [contextBlock("Approving unlocks no change: no action step follows before the next approval.")];
  const blocks: KnownBlock[] = [
    sectionBlock(
      "*Approving unlocks these changes* _(planned when the run reached this step; each is planned again when it runs)_",
    ),
  ];
  for (const unlocked of unlocks.slice(0, UNLOCKED_LIMIT)) {
    const index = run.steps.findIndex((step) => step.id === unlocked.stepId);
    const title = run.steps[index]?.title ?? unlocked.stepId;
    const condition = unlocked.condition === undefined ? "" : ` _(${slackText(unlocked.condition)})_`;
    const lines = [`*${index + 1}. ${slackText(title)}* ${code(unlocked.action)}${condition}`];
    const plan = unlocked.plan;
    if (plan === undefined) {
      lines.push(`:warning: ${slackText(truncate(unlocked.notPlanned ?? "not planned", 500))}`);
    } else {
      lines.push(slackText(truncate(plan.alreadyDone ? `nothing to change now: ${plan.summary}` : plan.summary, 500)));
      const changes = plan.changes.map(
        (change) =>
          `• ${slackText(truncate(change.target, 200))}\n      now: ${slackText(truncate(change.before ?? "(none)", 600))}` +
          `\n      after: ${slackText(truncate(change.after ?? "(none)", 600))}`,
      );
      lines.push(
        ...limitedLines(changes, LIST_LIMIT, (count) => `…and ${count} more (\`breakglass runbook status\` shows all)`),
      );
      if (plan.keyContinuity !== undefined && !plan.alreadyDone) lines.push(...keyContinuityLines(plan.keyContinuity));
    }
    blocks.push(sectionBlock(lines.join("\n")));
  }
  if (unlocks.length > UNLOCKED_LIMIT)
    blocks.push(
      contextBlock(`…and ${unlocks.length - UNLOCKED_LIMIT} more steps: \`breakglass runbook status\` shows them all.`),
    );
  return blocks;
}

const CONTINUITY_SEVERITY: Readonly<Record<KeyContinuity["verdict"], string>> = {
  "shares-key": "info",
  "full-change-signed": "medium",
  "full-change-unsigned": "critical",
};

/** The import's key continuity with the severity's marker (red when Approve asks for a fingerprint), and every certificate. */
function keyContinuityLines(continuity: KeyContinuity): string[] {
  const note = slackText(truncate(continuity.note, 700));
  const lines = [
    `${severityEmoji(CONTINUITY_SEVERITY[continuity.verdict])} ${continuity.verdict === "shares-key" ? note : `*${note}*`}`,
  ];
  const certificates = continuity.certificates.map(
    (certificate) =>
      `${certificate.isNew ? "new" : "kept"}: ${slackText(truncate(describeIncomingCertificate(certificate), 300))}` +
      `\n      sha256 ${code(groupedFingerprint(certificate.sha256))}`,
  );
  lines.push(...limitedLines(certificates, LIST_LIMIT, (count) => `…and ${count} more`));
  return lines;
}

/** What the run's preflight found when it started (who each change is applied as, names resolved), for the approver. */
function preflightLines(run: RunView): string[] {
  const facts = run.preflight.flatMap((checked) => checked.facts.map((fact) => `${checked.stepId}: ${fact}`));
  if (facts.length === 0) return [];
  const shown = facts.slice(0, LIST_LIMIT).map((fact) => `• ${slackText(truncate(fact, 300))}`);
  const more = facts.length > LIST_LIMIT ? [`…and ${facts.length - LIST_LIMIT} more (breakglass runbook status)`] : [];
  return [":white_check_mark: *Checked when the run started:*", ...shown, ...more];
}

/** What an outcome holds beyond its summary: an action's changes, a check's findings, the error. */
function outcomeDetails(outcome: StepOutcomeRecord | null, limit: number): string[] {
  if (outcome === null) return [];
  const lines: string[] = [];
  const changes = outcome.plan?.changes ?? [];
  if (changes.length > 0) {
    lines.push(outcome.applied === true ? "*Changed:*" : "*Changes:*");
    const changeLines = changes.map(
      (change) =>
        `• ${slackText(truncate(change.target, 120))}: ${slackText(truncate(change.before ?? "(none)", 120))} ` +
        `→ ${slackText(truncate(change.after ?? "(none)", 120))}`,
    );
    lines.push(...limitedLines(changeLines, limit, (count) => `…and ${count} more`));
  }
  const findings = outcome.findings ?? [];
  if (findings.length > 0) {
    lines.push("*Findings:*");
    lines.push(...limitedLines(findings.map(findingLine), limit, (count) => `…and ${count} more`));
  }
  if (outcome.verification !== undefined && !outcome.verification.ok)
    lines.push(`:warning: Read-back: ${slackText(truncate(outcome.verification.detail, 300))}`);
  if (outcome.error !== undefined && !outcome.summary.includes(outcome.error))
    lines.push(`:x: ${outcomeText(outcome.error, outcome, 300)}`);
  return lines;
}

/** `Retrying: attempt 2 of 3 failed (CERT_EXPIRED); next try at 03:14:05 (every 30 s)`, the time in the reader's zone. */
function waitLine(wait: RetryWaitEvent): string {
  const at = wait.nextAttemptAt;
  const time = `<!date^${Math.floor(at.getTime() / 1000)}^{time_secs}|${at.toISOString().slice(11, 19)} UTC>`;
  return (
    `:repeat: Retrying: ${slackText(describeFailedAttempt(wait))}; next try at ${time} ` +
    `(every ${Math.round(wait.intervalMilliseconds / 1000)} s)`
  );
}

export function findingLine(finding: FindingSummary): string {
  return `${severityEmoji(finding.severity)} *${escapeMrkdwn(finding.severity)}* ${code(finding.code)} ${quotedText(finding.message, 240)}`;
}

function quote(text: string): string {
  return text
    .split("\n")
    .map((line) => `>${line}`)
    .join("\n");
}

function nextHint(run: RunView, current: Located | undefined): string | undefined {
  switch (run.status) {
    case "failed":
      return "Fix the cause, then press *Run* to try this step again, or *Abort* to end the run.";
    case "running":
      return current !== undefined && (current.step.status === "running" || current.step.status === "applying")
        ? "If this does not move for a while, the process running it may have stopped: *Run* resumes it where it was, without applying anything twice."
        : "Press *Run* to go on.";
    case "waiting":
      if (run.waitingFor?.kind === "manual")
        return "Press *Done* once you have done it, or *Skip* if it does not apply.";
      if (run.waitingFor?.kind === "approval") return "Approving runs the next steps straight away.";
      return undefined;
    default:
      return undefined;
  }
}

function fallbackText(run: RunView, runbook: RunbookForRun, current: Located | undefined): string {
  const where = current === undefined ? "" : ` at step ${current.index + 1} (${current.step.title})`;
  const status: Record<RunView["status"], string> = {
    running: "running",
    waiting: run.waitingFor?.kind === "approval" ? "waiting for approval" : "waiting for a manual step",
    succeeded: "succeeded",
    failed: "failed",
    aborted: "aborted",
  };
  return slackText(
    `${run.dryRun ? "[dry run] " : ""}${runbook.title}: run ${shortRunId(run.id)} ${status[run.status]}${run.status === "succeeded" ? "" : where}`,
  );
}

/**
 * An outcome's summary (or error) as the engine wrote it, "rejected by slack:U…: <reason>": the people the outcome
 * records become mentions, and the reason or answer someone typed stays text, whatever `slack:U…` it holds.
 */
function outcomeText(text: string, outcome: StepOutcomeRecord, limit: number): string {
  const actors = [outcome.approval?.approver, outcome.approval?.initiator, outcome.confirmation?.actor].filter(
    (actor): actor is string => actor !== undefined,
  );
  const written = outcome.approval?.reason ?? outcome.confirmation?.record;
  if (written !== undefined && written !== "" && text.endsWith(`: ${written}`)) {
    const head = text.slice(0, text.length - written.length - 2);
    return `${mentionKnownActors(slackText(head), actors)}: ${slackText(truncate(written, limit))}`;
  }
  return mentionKnownActors(slackText(truncate(text, limit)), actors);
}
