// How Slack tells a person that something they asked for failed: one line whose emoji and advice follow the error's
// kind, so that a typo, a run someone else is moving and an attack on the emergency path never read alike.
import { describeError, isBreakglassError, kindOf, oneLine, type ErrorKind } from "../domain/errors.js";
import { note } from "./command-replies.js";
import { code, redactUrls, slackText } from "./mrkdwn.js";
import type { SlackMessage } from "./slack-message.js";

/** Within the 3,000 characters of a section block's text, with room for the advice. */
const REPLY_MAX_LENGTH = 2_400;

/** The emoji each kind starts with: a glance at the channel tells "fix it" from "wait" from "stop". */
export const ERROR_EMOJI: Readonly<Record<ErrorKind, string>> = {
  usage: ":pencil2:",
  "not-found": ":mag:",
  conflict: ":hourglass:",
  refused: ":no_entry:",
  unavailable: ":cloud:",
  integrity: ":rotating_light:",
  internal: ":bug:",
};

/** What the person can do next, per kind; `command` is the slash command as the app is installed (/breakglass, /bg). */
function adviceFor(kind: ErrorKind, command: string): string {
  switch (kind) {
    case "usage":
      return `Fix what it names, the command as written (${code(`${command} help`)} shows them all) or the file or setting it points to, and try again.`;
    case "not-found":
      return (
        `Nothing by that name exists here: ${code(`${command} runbook status`)} lists the ` +
        `runs, ${code(`${command} runbook list`)} the runbooks, ${code(`${command} status`)} the open incident.`
      );
    case "conflict":
      return "The run or incident is not in a state that allows this now: wait a moment, look at its latest message, and try again if it still applies.";
    case "refused":
      return "Someone else must do this: a second person approves a run you started, and missing AWS or IdP permissions are granted by their admins.";
    case "unavailable":
      return "A service did not answer; this is usually temporary and safe to retry: try again in a minute.";
    case "integrity":
      return "Stop: do not retry or work around it. Tell the security team now.";
    case "internal":
      return "breakglass did not expect this: report it to its maintainers with the time; the service log has the details.";
  }
}

/**
 * The reply to an error, as one line: emoji, what failed (naming the input), the hint if any, then what to do. Passed
 * through the same redaction as everything breakglass shows, and with URLs cut to their host and path, so that a token
 * or a presigned query in an error never reaches a channel.
 */
export function errorReply(error: unknown, command = "/breakglass"): SlackMessage {
  const kind = kindOf(error);
  const hint = isBreakglassError(error) && error.hint !== undefined ? ` (${error.hint})` : "";
  // A BreakglassError's message is already bounded where it was made (a refused run's preflight names every problem, in
  // up to 2,000 characters); anything else is cut short like every foreign message.
  const message = isBreakglassError(error) ? error.message : describeError(error);
  const said = slackText(redactUrls(oneLine(`${message}${hint}`, REPLY_MAX_LENGTH)));
  return note(`${ERROR_EMOJI[kind]} ${said} — ${adviceFor(kind, command)}`);
}
