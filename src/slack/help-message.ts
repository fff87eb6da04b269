// What `/breakglass` can do, one line a command; and the reply to a command that could not be read: its problem first, then the commands.
import type { types } from "@slack/bolt";
import { contextBlock, sectionBlock } from "./blocks.js";
import { code, escapeMrkdwn } from "./mrkdwn.js";
import type { SlackMessage } from "./slack-message.js";

export const DEFAULT_SLASH_COMMAND = "/breakglass";

export interface CommandHelp {
  /** After the slash command: `runbook start <id> [name=value …] [--dry-run]`. */
  readonly usage: string;
  readonly does: string;
}

export const COMMAND_HELP: readonly CommandHelp[] = [
  { usage: "status", does: "how ready the emergency access path is" },
  { usage: "check", does: "run every check now" },
  { usage: "runbook list", does: "the runbooks you can start" },
  {
    usage: "runbook start <id> [name=value …] [--dry-run]",
    does: 'start a runbook; quote a value with spaces: reason="IdP down"',
  },
  { usage: "runbook status [run id]", does: "one run, or every open run" },
  { usage: "grant @person [ttl]", does: "add someone to the emergency groups for a while (such as 2h)" },
  { usage: "revoke @person", does: "take them out of the emergency groups now" },
  { usage: "incident declare <title>", does: "declare an incident" },
  { usage: "incident close [reference]", does: "close the incident (name it when several are open)" },
  { usage: "preflight [role ARN]", does: "upload a SAML response: would AWS accept it for the emergency account?" },
  { usage: "help", does: "this list" },
];

const helpByCommand = new Map<string, SlackMessage>();

/** The help, built once per command name: it is the commonest reply, and never changes. */
export function helpMessage(command: string = DEFAULT_SLASH_COMMAND): SlackMessage {
  let message = helpByCommand.get(command);
  if (message === undefined) {
    message = buildHelp(command);
    helpByCommand.set(command, message);
  }
  return message;
}

function buildHelp(command: string): SlackMessage {
  const lines = COMMAND_HELP.map((entry) => `${code(`${command} ${entry.usage}`)} ${escapeMrkdwn(entry.does)}`);
  const blocks: types.KnownBlock[] = [
    sectionBlock(
      `*${escapeMrkdwn(command)}* keeps the AWS emergency access path ready and drives it during an identity outage.`,
    ),
    sectionBlock(lines.join("\n")),
    contextBlock(
      "Anyone may read status and runs. Starting runs, approving steps and granting access need a place " +
        "in `slack.access` in breakglass.yaml. Pick people from the @ autocomplete.",
    ),
  ];
  return {
    text: escapeMrkdwn(
      `${command}: ${COMMAND_HELP.map((entry) => entry.usage.split(" [")[0] ?? entry.usage).join(", ")}`,
    ),
    blocks,
  };
}

/** The reply to a command that could not be read: what was wrong, then the commands in short. */
export function usageMessage(problem: string, command: string = DEFAULT_SLASH_COMMAND): SlackMessage {
  const problemLine = `:warning: ${escapeMrkdwn(problem)}`;
  const blocks: types.KnownBlock[] = [
    sectionBlock(problemLine),
    contextBlock(COMMAND_HELP.map((entry) => code(`${command} ${entry.usage}`)).join("\n")),
  ];
  return { text: escapeMrkdwn(`${command}: ${problem}`), blocks };
}
