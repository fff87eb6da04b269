// The buttons on a run message and the modals they open: each press is audited with the Slack user, checked against
// who may press it, and moves the run in the background (the press itself is acknowledged at once).
import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { describeError, isBreakglassError } from "../domain/errors.js";
import type { RunView } from "../domain/runbooks/run-engine.js";
import type { Permission } from "./access-policy.js";
import { refusal } from "./access-policy.js";
import { errorReply } from "./error-reply.js";
import type { RunDriver } from "./run-driver.js";
import {
  abortReasonModal,
  approveFingerprintModal,
  confirmRecordModal,
  manualStepQuestion,
  rejectReasonModal,
  RUN_ACTION_IDS,
  RUN_MODALS,
  shortRunId,
  takeOverModal,
  type RunActionId,
} from "./run-message.js";
import { contextBlock, plainText } from "./blocks.js";
import type { Actor } from "../domain/identity/actor.js";
import type { SlackContext } from "./slack-context.js";
import type { SlackMessage } from "./slack-message.js";

const PERMISSION: Readonly<Record<RunActionId, Permission>> = {
  "run.advance": "run",
  "run.approve": "approve",
  "run.reject": "approve",
  "run.confirm": "run",
  "run.skip": "run",
  "run.abort": "run",
  "run.rollback": "run",
  // Taking a run from a process that may still be working is a second person's call, as approving is.
  "run.takeover": "approve",
  "run.takeover-abort": "approve",
};

const WHAT: Readonly<Record<RunActionId, string>> = {
  "run.advance": "run runbook steps",
  "run.approve": "approve runbook steps",
  "run.reject": "reject runbook steps",
  "run.confirm": "confirm runbook steps",
  "run.skip": "skip runbook steps",
  "run.abort": "abort runbook runs",
  "run.rollback": "roll back runbook runs",
  "run.takeover": "take over runbook runs",
  "run.takeover-abort": "take over runbook runs",
};

export function registerRunActions(app: App, context: SlackContext, driver: RunDriver): void {
  const ids = new Set<string>(Object.values(RUN_ACTION_IDS));

  app.action<BlockAction<ButtonAction>>(
    { type: "block_actions", action_id: /^run\./ },
    async ({ ack, body, action, client }) => {
      await ack();
      const actionId = action.action_id;
      const runId = action.value ?? "";
      const user = body.user.id;
      const container = body.container as { readonly channel_id?: string } | undefined;
      const channel: string = body.channel?.id ?? container?.channel_id ?? "";
      const tell = async (message: SlackMessage) => {
        await client.chat
          .postEphemeral({ channel, user, text: message.text, blocks: [...message.blocks] })
          .catch((error: unknown) => {
            context.log.warn(`could not tell ${user} in ${channel}: ${describeError(error)}`);
          });
      };
      if (!ids.has(actionId)) return;
      const id = actionId as RunActionId;
      const permission = PERMISSION[id];
      context.work.run(`button ${id} on run ${runId}`, async () => {
        const allowed = await context.access.allows(user, permission);
        try {
          // Every press is on the record, allowed or not, before anything happens.
          context.services.audit.record({
            actor: context.services.people.slackActor(user).person,
            action: allowed ? "slack.button" : "slack.refused",
            runId: runId || null,
            subject: id,
            detail: { channel, permission, slackUser: user },
          });
        } catch (error) {
          await tell(errorReply(error));
          return;
        }
        if (!allowed) {
          context.metrics.slackRefused(permission);
          await tell(refusal(permission, WHAT[id], context.settings.access));
          return;
        }
        await press(id, runId, user, channel, body.trigger_id, context, driver, tell);
      });
    },
  );

  app.view(RUN_MODALS.reject.callbackId, async ({ ack, body, view }) => {
    const reason = view.state.values[RUN_MODALS.reject.blockId]?.[RUN_MODALS.reject.actionId]?.value?.trim() ?? "";
    if (reason === "") {
      await ack({ response_action: "errors", errors: { [RUN_MODALS.reject.blockId]: "Say why, for the record." } });
      return;
    }
    await ack();
    submitted(context, driver, body.user.id, view.private_metadata, "approve", "run.reject", (runId, actor) =>
      context.services.runs.reject(runId, actor, reason),
    );
  });

  app.view(RUN_MODALS.abort.callbackId, async ({ ack, body, view }) => {
    const reason = view.state.values[RUN_MODALS.abort.blockId]?.[RUN_MODALS.abort.actionId]?.value?.trim() ?? "";
    if (reason === "") {
      await ack({ response_action: "errors", errors: { [RUN_MODALS.abort.blockId]: "Say why, for the record." } });
      return;
    }
    await ack();
    submitted(context, driver, body.user.id, view.private_metadata, "run", "run.abort", (runId, actor) =>
      context.services.runs.abort(runId, actor, reason),
    );
  });

  for (const then of ["resume", "abort"] as const) {
    const ids = then === "resume" ? RUN_MODALS.takeOver : RUN_MODALS.takeOverAndAbort;
    app.view(ids.callbackId, async ({ ack, body, view }) => {
      const reason = view.state.values[ids.blockId]?.[ids.actionId]?.value?.trim() ?? "";
      if (reason === "") {
        await ack({ response_action: "errors", errors: { [ids.blockId]: "Say why, for the record." } });
        return;
      }
      await ack();
      // The same use cases as the CLI's `resume --take-over --reason` and `abort --take-over --reason`.
      const action = then === "resume" ? "run.takeover" : "run.takeover-abort";
      submitted(context, driver, body.user.id, view.private_metadata, "approve", action, (runId, actor) =>
        then === "resume"
          ? context.services.runs.resume(runId, actor, { reason })
          : context.services.runs.abort(runId, actor, reason, { takeOver: true }),
      );
    });
  }

  app.view(RUN_MODALS.approveFingerprint.callbackId, async ({ ack, body, view }) => {
    const ids = RUN_MODALS.approveFingerprint;
    const fingerprint = view.state.values[ids.blockId]?.[ids.actionId]?.value?.trim() ?? "";
    if (fingerprint === "") {
      await ack({
        response_action: "errors",
        errors: { [ids.blockId]: "Type the first 8 hex characters of the SHA-256, from the IdP's admin console." },
      });
      return;
    }
    await ack();
    // The same use case as the CLI's `approve --confirm-fingerprint`: a wrong value is refused, audited, and told.
    submitted(context, driver, body.user.id, view.private_metadata, "approve", "run.approve", (runId, actor) =>
      context.services.runs.approve(runId, actor, { fingerprint }),
    );
  });

  app.view(RUN_MODALS.confirm.callbackId, async ({ ack, body, view }) => {
    const record = view.state.values[RUN_MODALS.confirm.blockId]?.[RUN_MODALS.confirm.actionId]?.value?.trim() ?? "";
    if (record === "") {
      await ack({
        response_action: "errors",
        errors: { [RUN_MODALS.confirm.blockId]: "This step needs a written answer." },
      });
      return;
    }
    await ack();
    submitted(context, driver, body.user.id, view.private_metadata, "run", "run.confirm", (runId, actor) =>
      context.services.runs.confirm(runId, actor, record),
    );
  });
}

async function press(
  id: RunActionId,
  runId: string,
  user: string,
  channel: string,
  triggerId: string,
  context: SlackContext,
  driver: RunDriver,
  tell: (message: SlackMessage) => Promise<void>,
): Promise<void> {
  const { runs } = context.services;
  const actor = context.services.people.slackActor(user);
  const problem = async (reply: SlackMessage, error?: unknown) =>
    tell(await offerTakeOver(reply, error, runId, user, context));
  switch (id) {
    case "run.advance":
      driver.drive(runId, () => runs.advance(runId, actor), problem);
      return;
    case "run.approve": {
      try {
        // A full key change nothing vouches for: the approver types a new certificate's fingerprint in a modal first.
        const needs = await runs.approvalNeeds(runId, actor);
        if (needs === undefined) {
          driver.drive(runId, () => runs.approve(runId, actor), problem);
          return;
        }
        const view = await runs.status(runId);
        await context.client.views.open({ trigger_id: triggerId, view: approveFingerprintModal(view, needs) });
      } catch (error) {
        await problem(errorReply(error));
      }
      return;
    }
    case "run.skip":
      driver.drive(runId, () => runs.skip(runId, actor, `skipped from Slack by ${actor.label}`), problem);
      return;
    case "run.takeover":
    case "run.takeover-abort": {
      try {
        const run = context.services.store.runs.findRun(runs.resolve(runId));
        if (run === null || (run.leaseHolder === null && id === "run.takeover")) {
          // Released since the button was offered: nothing to take over, the ordinary Run goes on with it.
          driver.drive(runId, () => runs.advance(runId, actor), problem);
          return;
        }
        const busy = `it is held by ${run.leaseHolder}, whose lease expires at ${run.leaseExpiresAt ?? "?"}.`;
        const then = id === "run.takeover" ? "resume" : "abort";
        await context.client.views.open({ trigger_id: triggerId, view: takeOverModal(run.id, busy, then) });
      } catch (error) {
        await problem(errorReply(error));
      }
      return;
    }
    case "run.rollback": {
      // The rollback is a run of its own: its own message, below, with its own buttons, moved like any run.
      try {
        const view = await runs.rollback(runId, actor);
        await driver.post(view, channel);
        driver.drive(view.id, () => runs.advance(view.id, actor), problem);
      } catch (error) {
        await problem(errorReply(error));
      }
      return;
    }
    case "run.abort":
    case "run.reject":
    case "run.confirm": {
      try {
        const view = await runs.status(runId);
        const runbook = await driver.runbook(view.runbookId);
        const question = id === "run.confirm" ? manualStepQuestion(view, runbook) : undefined;
        if (id === "run.confirm" && question === undefined) {
          driver.drive(runId, () => runs.confirm(runId, actor), problem);
          return;
        }
        // A reason, or the step's written answer, is asked for in a modal; the run moves when it is submitted.
        const modal =
          id === "run.abort"
            ? abortReasonModal(view)
            : question === undefined
              ? rejectReasonModal(view)
              : confirmRecordModal(view, question);
        await context.client.views.open({ trigger_id: triggerId, view: modal });
      } catch (error) {
        await problem(errorReply(error));
      }
      return;
    }
  }
}

function submitted(
  context: SlackContext,
  driver: RunDriver,
  user: string,
  runId: string,
  permission: Permission,
  action: string,
  move: (runId: string, actor: Actor) => Promise<RunView>,
): void {
  const actor = context.services.people.slackActor(user);
  const tell = async (text: string) => {
    // A modal has no channel: the answer goes to the person directly.
    await context.client.chat.postMessage({ channel: user, text: `:no_entry: ${text}` }).catch(() => undefined);
  };
  const answer = async (reply: SlackMessage, error?: unknown) => {
    const said = await offerTakeOver(reply, error, runId, user, context);
    await context.client.chat
      .postMessage({ channel: user, text: said.text, blocks: [...said.blocks] })
      .catch(() => undefined);
  };
  context.work.run(`${action} on run ${runId}`, async () => {
    const allowed = await context.access.allows(user, permission);
    try {
      context.services.audit.record({
        actor: actor.person,
        action: allowed ? "slack.submitted" : "slack.refused",
        runId: runId || null,
        subject: action,
        detail: { permission, slackUser: user },
      });
    } catch (error) {
      await answer(errorReply(error));
      return;
    }
    if (!allowed) {
      context.metrics.slackRefused(permission);
      await tell(refusal(permission, WHAT[action as RunActionId], context.settings.access).text);
      return;
    }
    driver.drive(runId, () => move(runId, actor), answer);
  });
}

/**
 * A run another process holds (RUN_BUSY): to whoever may approve, the reply also offers Take over and Take over and
 * abort, which ask why and then resume or abort the run here with the take-over the CLI's `--take-over --reason` makes
 * (the engine still refuses it until the holder has missed two heartbeats, saying from when).
 */
async function offerTakeOver(
  reply: SlackMessage,
  error: unknown,
  runId: string,
  user: string,
  context: SlackContext,
): Promise<SlackMessage> {
  if (!isBreakglassError(error) || error.code !== "RUN_BUSY" || runId === "") return reply;
  if (!(await context.access.allows(user, "approve"))) return reply;
  return {
    text: reply.text,
    blocks: [
      ...reply.blocks,
      contextBlock(
        `If that process is gone or hung, you can take run \`${shortRunId(runId)}\` over, and go on with it here or abort it.`,
      ),
      {
        type: "actions",
        block_id: "run.takeover",
        elements: [
          { type: "button", action_id: RUN_ACTION_IDS.takeOver, text: plainText("Take over"), value: runId },
          {
            type: "button",
            action_id: RUN_ACTION_IDS.takeOverAndAbort,
            text: plainText("Take over and abort"),
            value: runId,
            style: "danger",
          },
        ],
      },
    ],
  };
}
