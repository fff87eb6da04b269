// `/breakglass preflight`: a slash command carries text only, so a modal takes the SAML response as a file upload
// (Block Kit's file_input); the file is read with files.info and its url_private, then judged by the same use case as
// `breakglass saml preflight`, and the verdict is told to the person who asked.
import type { App } from "@slack/bolt";
import type { SamlPreflightReport } from "../application/saml-preflight.js";
import { compareFindings } from "../domain/checks/finding.js";
import { BreakglassError, describeError } from "../domain/errors.js";
import { MAX_SAML_RESPONSE_INPUT_BYTES } from "../domain/saml/saml-response-input.js";
import { contextBlock, headerBlock, plainText, sectionBlock } from "./blocks.js";
import { errorReply } from "./error-reply.js";
import { code, limitedLines, slackText, truncate } from "./mrkdwn.js";
import { describeSlackError } from "./slack-announcer.js";
import type { SlackContext } from "./slack-context.js";
import type { SlackMessage } from "./slack-message.js";

export const PREFLIGHT_MODAL = { callbackId: "saml.preflight", blockId: "response", actionId: "file" } as const;

interface PreflightMetadata {
  readonly channel: string;
  readonly role: string | null;
}

/** Opens the upload modal; within Slack's 3 s, from the slash command's trigger. */
export async function openPreflightModal(
  context: SlackContext,
  triggerId: string,
  metadata: PreflightMetadata,
): Promise<void> {
  await context.client.views.open({
    trigger_id: triggerId,
    view: {
      type: "modal",
      callback_id: PREFLIGHT_MODAL.callbackId,
      private_metadata: JSON.stringify(metadata),
      title: plainText("SAML preflight"),
      submit: plainText("Check"),
      close: plainText("Cancel"),
      blocks: [
        sectionBlock(
          "Would AWS accept this sign-in into the emergency account? Upload the SAML response as a file: its XML, or " +
            "the SAMLResponse value (base64) a SAML tracer or the IdP's test tool shows. Only the verdict is posted." +
            (metadata.role === null ? "" : `\nRole: ${code(metadata.role)}`),
        ),
        {
          type: "input",
          block_id: PREFLIGHT_MODAL.blockId,
          label: plainText("SAML response"),
          element: { type: "file_input", action_id: PREFLIGHT_MODAL.actionId, max_files: 1 },
        },
      ],
    },
  });
}

export function registerSamlPreflight(app: App, context: SlackContext): void {
  app.view(PREFLIGHT_MODAL.callbackId, async ({ ack, body, view }) => {
    const files = view.state.values[PREFLIGHT_MODAL.blockId]?.[PREFLIGHT_MODAL.actionId]?.files ?? [];
    const file = files[0];
    if (file === undefined) {
      await ack({ response_action: "errors", errors: { [PREFLIGHT_MODAL.blockId]: "Upload the SAML response." } });
      return;
    }
    await ack();
    const metadata = parseMetadata(view.private_metadata);
    const user = body.user.id;
    const tell = async (message: SlackMessage) => {
      await context.client.chat
        .postEphemeral({ channel: metadata.channel, user, text: message.text, blocks: [...message.blocks] })
        .catch((error: unknown) => context.log.warn(`could not tell ${user} the preflight: ${describeError(error)}`));
    };
    context.work.run(`/breakglass preflight by ${user}`, async () => {
      try {
        const bytes = await downloadFile(context, file.id);
        const report = await context.services.preflightSamlResponse(
          { bytes, input: `the uploaded file ${file.name || file.id}` },
          { role: metadata.role ?? undefined },
        );
        await tell(samlPreflightMessage(report));
      } catch (error) {
        await tell(errorReply(error, "/breakglass"));
      }
    });
  });
}

/** The verdict as a Slack message: the answer first, then the findings with their fixes, then what was asserted. */
export function samlPreflightMessage(report: SamlPreflightReport): SlackMessage {
  const { facts } = report;
  const usable = facts.roles.filter((role) => role.accepted).map((role) => role.roleArn ?? role.value);
  const answer = report.accepted
    ? `:white_check_mark: AWS would accept this sign-in${usable.length > 0 ? ` as ${usable.map(code).join(", ")}` : ""}.`
    : `:x: AWS would refuse this sign-in: ${report.findings.length} ${report.findings.length === 1 ? "finding" : "findings"}.`;
  const findingLines = limitedLines(
    [...report.findings]
      .sort(compareFindings)
      .map((finding) => `*${finding.code}* ${slackText(finding.message)}\n→ ${slackText(finding.remedy)}`),
    8,
    (count) => `…and ${count} more: run \`breakglass saml preflight\` for all of them.`,
  );
  const asserted = [
    `issuer ${slackText(facts.issuer ?? "missing")}`,
    `subject ${slackText(facts.nameId ?? "missing")}`,
    `session ${slackText(facts.sessionName ?? "missing")}`,
    facts.signingCertificateSha256 === null
      ? "no valid signature"
      : `signed (${facts.signedElement ?? ""}) by sha256 ${facts.signingCertificateSha256.slice(0, 8)}…`,
    `checked against ${slackText(facts.provider)}`,
  ];
  return {
    text: answer,
    blocks: [
      headerBlock("SAML preflight"),
      sectionBlock(answer),
      ...findingLines.map((line) => sectionBlock(truncate(line, 2900))),
      contextBlock(truncate(asserted.join(" · "), 2900)),
      ...(report.skipped.length > 0 ? [contextBlock(truncate(`Not checked: ${report.skipped.join("; ")}`, 2900))] : []),
    ],
  };
}

/** files.info for the file's private URL, then its bytes with the bot token (Slack serves url_private only so). */
async function downloadFile(context: SlackContext, fileId: string): Promise<Buffer> {
  const input = `Slack file ${fileId}`;
  let url: string | undefined;
  try {
    const info = await context.client.files.info({ file: fileId });
    url = info.file?.url_private_download ?? info.file?.url_private;
  } catch (error) {
    throw new BreakglassError("FETCH_FAILED", input, `Slack did not describe the file: ${describeSlackError(error)}`, {
      cause: error,
    });
  }
  if (url === undefined) throw new BreakglassError("FETCH_FAILED", input, "Slack gave no download URL for the file");
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${context.settings.botToken}` },
      redirect: "manual",
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new BreakglassError("FETCH_FAILED", input, `could not download the file: ${describeError(error)}`, {
      cause: error,
    });
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new BreakglassError("FETCH_HTTP_STATUS", input, `Slack answered HTTP ${response.status} for the file`);
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  if (bytes.length > MAX_SAML_RESPONSE_INPUT_BYTES)
    throw new BreakglassError(
      "INPUT_TOO_LARGE",
      input,
      `the file is ${bytes.length} bytes, too large for a SAML response`,
    );
  return bytes;
}

function parseMetadata(text: string): PreflightMetadata {
  try {
    const parsed = JSON.parse(text) as Partial<PreflightMetadata>;
    return { channel: String(parsed.channel ?? ""), role: typeof parsed.role === "string" ? parsed.role : null };
  } catch {
    return { channel: "", role: null };
  }
}
