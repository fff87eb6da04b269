// Misuse alerts in the security channel: an emergency principal acted outside every declared emergency window. The
// message says who, what, from where, when and the event id, with a button that attaches the event to the open
// incident (the same use case as `breakglass watch attach`), for when the use was legitimate after all.
import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import type { types } from "@slack/bolt";
import { describeError } from "../domain/errors.js";
import type { MisuseAlert, WatchedEvent } from "../domain/ports/watched-event-store.js";
import { refusal } from "./access-policy.js";
import { contextBlock, plainText, sectionBlock } from "./blocks.js";
import { errorReply } from "./error-reply.js";
import { code, escapeMrkdwn, truncate } from "./mrkdwn.js";
import type { SlackContext } from "./slack-context.js";
import type { SlackMessage } from "./slack-message.js";

export const ATTACH_ACTION_ID = "watch.attach";
/** Room for an ARN or a SAML subject in a section (3,000 characters), with the rest of the line. */
const FIELD_LIMIT = 300;

export function misuseAlertMessage(alert: MisuseAlert, event: WatchedEvent | null): SlackMessage {
  const action = event?.action ?? "?";
  const sourceIp = event?.sourceIp ?? "?";
  const failed = event?.errorCode ? ` (failed: ${event.errorCode})` : "";
  const more = alert.events > 1 ? ` and ${alert.events - 1} more call(s) until ${alert.lastAt}` : "";
  const text =
    `Emergency access used outside any declared emergency: ${alert.actor} called ${action}${failed} ` +
    `from ${sourceIp} at ${alert.firstAt} (event ${alert.eventId})`;
  const blocks: types.KnownBlock[] = [
    sectionBlock(
      [
        ":rotating_light: *Emergency access used outside any declared emergency*",
        `*Who:* ${code(truncate(alert.actor, FIELD_LIMIT))}`,
        `*What:* ${code(truncate(action, FIELD_LIMIT))}${escapeMrkdwn(failed)}${escapeMrkdwn(more)}`,
        `*From:* ${code(truncate(sourceIp, FIELD_LIMIT))}${event ? ` in ${escapeMrkdwn(event.region)}` : ""}`,
        `*When:* ${escapeMrkdwn(alert.firstAt)}`,
        `*Event id:* ${code(alert.eventId)}`,
      ].join("\n"),
    ),
    contextBlock(
      "If this was a real emergency, attach it to the open incident; otherwise treat it as a security incident. " +
        `CLI: ${code(`breakglass watch attach ${alert.eventId} --incident <id>`)}`,
    ),
    {
      type: "actions",
      elements: [
        { type: "button", action_id: ATTACH_ACTION_ID, text: plainText("Attach to incident"), value: alert.eventId },
      ],
    },
  ];
  return { text, blocks };
}

/** The "Attach to incident" button: checked against `run` access, then the use case, which audits it. */
export function registerMisuseActions(app: App, context: SlackContext): void {
  app.action<BlockAction<ButtonAction>>(
    { type: "block_actions", action_id: ATTACH_ACTION_ID },
    async ({ ack, body, action, client }) => {
      await ack();
      const eventId = action.value ?? "";
      const user = body.user.id;
      const container = body.container as { readonly channel_id?: string } | undefined;
      const channel: string = body.channel?.id ?? container?.channel_id ?? "";
      const tell = async (message: SlackMessage) => {
        await client.chat
          .postEphemeral({ channel, user, text: message.text, blocks: [...message.blocks] })
          .catch((error: unknown) => context.log.warn(`could not tell ${user} in ${channel}: ${describeError(error)}`));
      };
      context.work.run(`attaching event ${eventId} to an incident`, async () => {
        const actor = context.services.people.slackActor(user);
        if (!(await context.access.allows(user, "run"))) {
          try {
            context.services.audit.record({
              actor: actor.person,
              action: "slack.refused",
              runId: null,
              subject: ATTACH_ACTION_ID,
              detail: { channel, permission: "run", slackUser: user, eventId },
            });
          } catch (error) {
            await tell(errorReply(error));
            return;
          }
          context.metrics.slackRefused("run");
          await tell(refusal("run", "attach events to incidents", context.settings.access));
          return;
        }
        try {
          const attached = context.services.activity.attach(eventId, undefined, actor);
          await tell({
            text: `Attached event ${eventId} to ${attached.incident}: it is on the incident's timeline now, not misuse.`,
            blocks: [
              sectionBlock(
                `:paperclip: Attached event ${code(eventId)} (${code(truncate(attached.event.actor, FIELD_LIMIT))}, ` +
                  `${code(attached.event.action)}) to *${escapeMrkdwn(attached.incident)}*: it is on the incident's ` +
                  "timeline now, not misuse.",
              ),
            ],
          });
        } catch (error) {
          await tell(errorReply(error));
        }
      });
    },
  );
}
