// `/breakglass …`: answered within Slack's 3 seconds every time — help, usage, status and lists straight away, anything
// that takes longer with a "working" reply and the result through response_url. Changes are checked against who may
// make them, and refusals are audited.
import type { App, SlashCommand as BoltSlashCommand } from "@slack/bolt";
import { BreakglassError, describeError } from "../domain/errors.js";
import { refusal, type Permission } from "./access-policy.js";
import { parseSlashCommand, type SlashCommand } from "./command-parser.js";
import {
  failure,
  grantedMessage,
  incidentClosedMessage,
  incidentDeclaredMessage,
  note,
  revokedMessage,
  runbookListMessage,
  working,
} from "./command-replies.js";
import { errorReply } from "./error-reply.js";
import { helpMessage, usageMessage } from "./help-message.js";
import { mentionPrincipal } from "./mrkdwn.js";
import { postureSnapshot } from "./posture-snapshot.js";
import { postureStatusMessage } from "./posture-view.js";
import type { RunDriver } from "./run-driver.js";
import { runMessage } from "./run-message.js";
import { openPreflightModal } from "./saml-preflight.js";
import { describeSlackError } from "./slack-announcer.js";
import type { SlackContext } from "./slack-context.js";
import type { SlackMessage } from "./slack-message.js";
import { StatusMessageCache } from "./status-message-cache.js";

type Reply = (message: SlackMessage) => Promise<void>;

export function registerSlashCommand(app: App, context: SlackContext, driver: RunDriver): void {
  const status = new StatusMessageCache(context);
  // Whatever the app's manifest calls the command (/breakglass, or /bg), it is this one: replies name it as typed.
  app.command(/^\/\S+$/, async ({ command, ack, respond }) => {
    const parsed = parseSlashCommand(command.text);
    const reply: Reply = async (message) => {
      await respond({
        response_type: "ephemeral",
        replace_original: false,
        text: message.text,
        blocks: [...message.blocks],
      }).catch((error: unknown) => {
        context.log.warn(`could not answer ${command.user_id} through response_url: ${describeError(error)}`);
      });
    };
    let immediate: SlackMessage | undefined;
    try {
      immediate = await quickAnswer(parsed, command, context, status);
    } catch (error) {
      // A store that cannot be read, a runbook that no longer parses: said in one line, and the command is still acked.
      immediate = errorReply(error, command.command);
    }
    if (immediate !== undefined) {
      await ack(ephemeral(immediate));
      return;
    }
    // Someone who may not do it is refused first, instead of hearing "Running a full check…" and then no. A user group
    // Slack is slow to list must not cost the 3 s: undecided by then, the refusal comes after the acknowledgement.
    const need = NEEDS[parsed.kind];
    if (need !== undefined) {
      const allowed = await decidedWithin(context.access.allows(command.user_id, need.permission), ACCESS_DECISION_MS);
      if (allowed === false) {
        let refused: SlackMessage;
        try {
          refused = refuse(parsed, command, context, need);
        } catch (error) {
          refused = errorReply(error, command.command);
        }
        await ack(ephemeral(refused));
        return;
      }
    }
    await ack(ephemeral(working(acknowledgement(parsed))));
    context.work.run(`/breakglass ${parsed.kind} by ${command.user_id}`, async () => {
      try {
        await slow(parsed, command, context, driver, reply);
      } catch (error) {
        await reply(errorReply(error, command.command));
      }
    });
  });
}

/** Answers that need nothing but this process and its store; undefined when the command must go on in the background. */
async function quickAnswer(
  parsed: SlashCommand,
  command: BoltSlashCommand,
  context: SlackContext,
  status: StatusMessageCache,
): Promise<SlackMessage | undefined> {
  switch (parsed.kind) {
    case "usage":
      return usageMessage(parsed.problem, command.command);
    case "help":
      return helpMessage(command.command);
    case "status":
      return status.message();
    case "runbook-list":
      return runbookListMessage(await context.services.runs.catalog.list(), command.command);
    case "saml-preflight":
      // Slack gives a trigger 3 s: the modal opens now, and the verdict follows the upload.
      await openPreflightModal(context, command.trigger_id, { channel: command.channel_id, role: parsed.role });
      return note("Upload the SAML response in the window that opened; the verdict follows here, only for you.");
    default:
      return undefined;
  }
}

function acknowledgement(parsed: SlashCommand): string {
  switch (parsed.kind) {
    case "check":
      return "Running a full check; the findings follow here.";
    case "runbook-start":
      return `Starting ${parsed.runbookId}${parsed.dryRun ? " (dry run)" : ""}…`;
    case "runbook-status":
      return "Looking up the run…";
    case "grant":
      return `Granting emergency access to ${mentionPrincipal(parsed.userId)}…`;
    case "revoke":
      return `Revoking emergency access from ${mentionPrincipal(parsed.userId)}…`;
    case "incident-declare":
      return "Declaring the emergency…";
    case "incident-close":
      return parsed.incident === undefined ? "Closing the emergency…" : `Closing ${parsed.incident}…`;
    default:
      return "Working on it…";
  }
}

const NEEDS: Partial<Record<SlashCommand["kind"], { permission: Permission; what: string }>> = {
  check: { permission: "run", what: "run checks" },
  "runbook-start": { permission: "run", what: "start runbooks" },
  "incident-declare": { permission: "run", what: "declare emergencies" },
  "incident-close": { permission: "run", what: "close emergencies" },
  grant: { permission: "grant", what: "grant emergency access" },
  revoke: { permission: "grant", what: "revoke emergency access" },
};

/** How long the acknowledgement waits for a permission decision (a user group listed by Slack) before saying "working". */
const ACCESS_DECISION_MS = 1_500;

/** The promise's value if it settles within `milliseconds`, else undefined (it goes on; its result is then not needed). */
async function decidedWithin<T>(promise: Promise<T>, milliseconds: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), milliseconds);
    timer.unref();
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The refusal of a command the person may not give: audited and counted, then said politely, naming who may. */
function refuse(
  parsed: SlashCommand,
  command: BoltSlashCommand,
  context: SlackContext,
  need: { readonly permission: Permission; readonly what: string },
): SlackMessage {
  context.services.audit.record({
    actor: context.services.people.slackActor(command.user_id).person,
    action: "slack.refused",
    runId: null,
    subject: parsed.kind,
    detail: { channel: command.channel_id, permission: need.permission, slackUser: command.user_id },
  });
  context.metrics.slackRefused(need.permission);
  return refusal(need.permission, need.what, context.settings.access);
}

async function slow(
  parsed: SlashCommand,
  command: BoltSlashCommand,
  context: SlackContext,
  driver: RunDriver,
  reply: Reply,
): Promise<void> {
  const user = command.user_id;
  // The person behind the signed request, resolved once here and passed to every use case.
  const actor = context.services.people.slackActor(user);
  const need = NEEDS[parsed.kind];
  if (need !== undefined) {
    const allowed = await context.access.allows(user, need.permission);
    if (!allowed) {
      await reply(refuse(parsed, command, context, need));
      return;
    }
    context.services.audit.record({
      actor: actor.person,
      action: "slack.command",
      runId: null,
      subject: parsed.kind,
      detail: { channel: command.channel_id, permission: need.permission, slackUser: user },
    });
  }
  switch (parsed.kind) {
    case "check": {
      const cycle = await context.scheduler.runOnce();
      await reply(
        cycle === null
          ? failure("The check could not run; the service log says why.")
          : postureStatusMessage(await postureSnapshot(context)),
      );
      return;
    }
    case "runbook-start":
      await startRun(parsed, command, context, driver, reply);
      return;
    case "runbook-status":
      await runStatus(parsed.runId, context, driver, reply);
      return;
    case "incident-declare": {
      const declared = await context.emergency.declareIncident(parsed.title, actor);
      const message = incidentDeclaredMessage(
        declared.incident,
        parsed.title,
        actor.label,
        context.clock.now(),
        command.command,
      );
      await announce(context, ["incidents", "security"], message);
      await reply(message);
      return;
    }
    case "incident-close": {
      const closed = await context.emergency.closeIncident(actor, parsed.incident);
      const message = incidentClosedMessage(
        closed.incident,
        actor.label,
        closed.revoked.map((revoked) => revoked.user.login),
        closed.notRevoked.map((failed) => failed.login),
        closed.activitySummary,
      );
      await announce(context, ["incidents", "security"], message);
      await reply(message);
      return;
    }
    case "grant": {
      const login = await emailOf(context, parsed.userId);
      const granted = await context.emergency.grant(login, parsed.ttlMilliseconds, actor);
      const message = grantedMessage(
        parsed.userId,
        granted.user.login,
        granted.groups,
        new Date(granted.expiresAt),
        granted.incident,
        actor.label,
      );
      await announce(context, ["security"], message);
      await reply(message);
      return;
    }
    case "revoke": {
      const login = await emailOf(context, parsed.userId);
      const revoked = await context.emergency.revoke(login, actor);
      const message = revokedMessage(parsed.userId, revoked.user.login, revoked.groups, actor.label);
      await announce(context, ["security"], message);
      await reply(message);
      return;
    }
    default:
      await reply(note("Nothing to do."));
  }
}

async function startRun(
  parsed: Extract<SlashCommand, { kind: "runbook-start" }>,
  command: BoltSlashCommand,
  context: SlackContext,
  driver: RunDriver,
  reply: Reply,
): Promise<void> {
  const actor = context.services.people.slackActor(command.user_id);
  const { runs } = context.services;
  const view = await runs.start({ runbookId: parsed.runbookId, inputs: parsed.inputs, dryRun: parsed.dryRun, actor });
  try {
    await driver.post(view, command.channel_id);
  } catch (error) {
    // The bot is not in this channel (or Slack refused): the run exists, so say how to follow it.
    await reply(
      failure(
        `Run ${view.id} started, but its message could not be posted here (${describeSlackError(error)}): ` +
          `invite the app to this channel, then use /breakglass runbook status ${view.id}.`,
      ),
    );
  }
  driver.drive(view.id, () => runs.advance(view.id, actor), reply);
}

async function runStatus(runId: string | null, context: SlackContext, driver: RunDriver, reply: Reply): Promise<void> {
  if (runId === null) {
    await reply(postureStatusMessage(await postureSnapshot(context)));
    return;
  }
  const view = await context.services.runs.status(runId);
  await reply(runMessage(view, await driver.runbook(view.runbookId)));
}

async function emailOf(context: SlackContext, userId: string): Promise<string> {
  let email: string | undefined;
  try {
    email = (await context.client.users.info({ user: userId })).user?.profile?.email;
  } catch (error) {
    throw new BreakglassError(
      "FETCH_FAILED",
      `slack:${userId}`,
      `could not look this user up in Slack: ${describeSlackError(error)}`,
      { cause: error },
    );
  }
  if (email === undefined || email === "")
    throw new BreakglassError(
      "INPUT_EMPTY",
      `slack:${userId}`,
      "Slack has no email address for this user (the app needs the users:read.email scope)",
    );
  return email;
}

async function announce(
  context: SlackContext,
  roles: readonly ("incidents" | "security" | "alerts")[],
  message: SlackMessage,
): Promise<void> {
  const channels = new Set<string>();
  for (const role of roles) {
    const channel = context.settings.channels[role];
    if (channel === undefined || channels.has(channel)) continue;
    channels.add(channel);
    await context.announcer
      .announce(role, message)
      .catch((error: unknown) => context.log.warn(`could not post to ${role}: ${describeError(error)}`));
  }
}

function ephemeral(message: SlackMessage) {
  return { response_type: "ephemeral" as const, text: message.text, blocks: [...message.blocks] };
}
