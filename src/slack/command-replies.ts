// The short replies of the slash command that are not a run or the posture: runbook list, acknowledgements, results of
// incidents and grants, and errors — Block Kit, one idea per block, readable on a phone.
import type { LoadedRunbook } from "../domain/runbooks/parse-runbook.js";
import { contextBlock, SECTION_LIMIT, sectionBlock } from "./blocks.js";
import type { SlackMessage } from "./slack-message.js";
import { code, mentionActor, mentionKnownActors, mentionPrincipal, slackDate, slackText, truncate } from "./mrkdwn.js";

/**
 * The text a runbook list holds: Slack refuses a message whose blocks' text totals roughly 12,000 characters
 * (msg_blocks_too_long, bolt-js issues 2509 and 2867), and one section holds 2,900; four sections stay within both.
 */
const RUNBOOK_LIST_TEXT = 9_000;
/** Past this many runbooks, one line each, without the start command (the closing line says how to start one). */
const FULL_LIST = 10;

export function runbookListMessage(runbooks: readonly LoadedRunbook[], command: string): SlackMessage {
  if (runbooks.length === 0) return note("No runbooks are installed.");
  const compact = runbooks.length > FULL_LIST;
  const lines = runbooks.map(({ runbook }) => {
    if (compact) return `${code(runbook.id)} ${slackText(truncate(runbook.title, 100))}`;
    const required = runbook.inputs
      .filter((input) => input.required && input.default === undefined)
      .map((input) => `${input.name}=…`);
    return (
      `*${code(runbook.id)}* (${runbook.failureMode ?? "runbook"}): ${slackText(runbook.title)}\n` +
      `${code(`${command} runbook start ${runbook.id} ${required.join(" ")}`.trim())}`
    );
  });
  // Several runbooks a section, so that 49 or more stay within a message's 50 blocks; past that, the terminal lists them.
  const sections: string[] = [];
  let shown = 0;
  let total = 0;
  for (const line of lines) {
    total += line.length + 2;
    if (total > RUNBOOK_LIST_TEXT) break;
    const last = sections.length - 1;
    const joined = last < 0 ? line : `${sections[last]}\n\n${line}`;
    if (last >= 0 && joined.length <= SECTION_LIMIT) sections[last] = compact ? `${sections[last]}\n${line}` : joined;
    else sections.push(line);
    shown += 1;
  }
  const more = runbooks.length - shown;
  return {
    text: truncate(`Runbooks: ${runbooks.map(({ runbook }) => runbook.id).join(", ")}`, 3000),
    blocks: [
      sectionBlock("*Runbooks*"),
      ...sections.map((section) => sectionBlock(section)),
      contextBlock(
        (more > 0 ? `…and ${more} more: \`breakglass runbook list\` in a terminal lists them all. ` : "") +
          (compact ? `${code(`${command} runbook start <id>`)} asks for the inputs it needs. ` : "") +
          `Inputs the config already knows (account IDs, Regions) are filled in for you. Add \`--dry-run\` to rehearse.`,
      ),
    ],
  };
}

/** What the command answers at once while the work goes on. */
export function working(text: string): SlackMessage {
  return note(`:hourglass_flowing_sand: ${text}`);
}

export function failure(text: string): SlackMessage {
  return note(`:no_entry: ${slackText(text)}`);
}

/**
 * A runbook's notify step as posted: its text with the run's initiator (`${run.initiator}`) as a mention; a `slack:U…`
 * that came from an input someone typed stays text, and the fallback text is escaped like the blocks.
 */
export function runbookNotification(text: string, initiator: string): SlackMessage {
  const shown = mentionKnownActors(slackText(text), [initiator]);
  return { text: shown, blocks: [sectionBlock(shown)] };
}

export function note(text: string): SlackMessage {
  return { text, blocks: [sectionBlock(text)] };
}

export function incidentDeclaredMessage(
  incident: string,
  title: string,
  actor: string,
  at: Date,
  command: string,
): SlackMessage {
  const text = `:rotating_light: Emergency declared: *${slackText(title)}* (${code(incident)}) by ${mentionActor(actor)}`;
  return {
    // The fallback text reaches notifications as it is: a typed <!channel> in the title must not notify anyone.
    text: slackText(`Emergency declared: ${title} (${incident})`),
    blocks: [
      sectionBlock(text),
      contextBlock(
        `${slackDate(at)} · Emergency access may now be granted: ${code(`${command} grant @person 4h`)} · End it with ${code(`${command} incident close`)}`,
      ),
    ],
  };
}

export function incidentClosedMessage(
  incident: string,
  actor: string,
  removed: readonly string[],
  notRemoved: readonly string[],
  summaryPath: string,
): SlackMessage {
  const details = [
    removed.length === 0
      ? "Nobody granted from Slack was still in the emergency groups."
      : `Removed from the emergency groups: ${removed.map(slackText).join(", ")}.`,
    ...(notRemoved.length === 0
      ? []
      : [
          `:warning: Could NOT remove: ${notRemoved.map(slackText).join(", ")}; breakglass retries when their lease ends.`,
        ]),
    `Activity summary: ${code(summaryPath)}`,
  ];
  return {
    text: `Emergency ${slackText(incident)} closed by ${mentionActor(actor)}`,
    blocks: [
      sectionBlock(
        `:white_check_mark: Emergency ${code(incident)} closed by ${mentionActor(actor)}. From now on, any ` +
          `use of the emergency access alerts the security team.`,
      ),
      contextBlock(...details),
    ],
  };
}

export function grantedMessage(
  userId: string,
  login: string,
  groups: readonly string[],
  expiresAt: Date,
  incident: string,
  actor: string,
): SlackMessage {
  return {
    text: slackText(`Emergency access granted to ${login} until ${expiresAt.toISOString()}`),
    blocks: [
      sectionBlock(
        `:key: ${mentionPrincipal(userId)} has emergency access until ${slackDate(expiresAt)} (${code(incident)}), granted by ${mentionActor(actor)}.`,
      ),
      contextBlock(
        `As ${slackText(login)} in ${groups.map((group) => code(group)).join(", ")} · removed automatically when the lease ends`,
      ),
    ],
  };
}

export function revokedMessage(userId: string, login: string, groups: readonly string[], actor: string): SlackMessage {
  return {
    text: slackText(`Emergency access revoked from ${login}`),
    blocks: [
      sectionBlock(
        `:lock: ${mentionPrincipal(userId)} no longer has emergency access (revoked by ${mentionActor(actor)}).`,
      ),
      contextBlock(`${slackText(login)} removed from ${groups.map((group) => code(group)).join(", ")}, verified.`),
    ],
  };
}
