// The Slack messages of the scheduler: a new finding, its resolution, and an expiry-ladder warning; short blocks that read on a phone.
import type { types } from "@slack/bolt";
import type { BreakglassConfig } from "../config/config-schema.js";
import type { Severity } from "../checks/finding.js";
import { FINDING_CODES, type FindingCodeEntry } from "../checks/finding-codes.js";
import { daysAgo, daysLeft, shortFingerprint } from "../checks/metadata-checks.js";
import { formatDuration } from "../core/duration.js";
import type { Runbook } from "../runbooks/runbook-schema.js";
import type { SlackMessage } from "../slack/slack-message.js";
import type { ExpiryStep, WatchedCertificate } from "./expiry-ladder.js";
import type { AlertSubject } from "./finding-alerts.js";

type KnownBlock = types.KnownBlock;

/** The runbook that rotates a certificate and re-imports the metadata everywhere. */
export const REIMPORT_RUNBOOK = "fm2-reimport-metadata";

// Block Kit allows 3000 characters in a text object; a phone shows far less before "see more".
const MAX_SECTION = 2900;
const MAX_CONTEXT = 500;
const MAX_FALLBACK = 300;

export type RunbookSummary = Pick<Runbook, "id" | "title" | "inputs">;

/** What the messages need to say how to start a runbook from Slack. */
export interface RunbookGuide {
  /** The runbooks serve loaded; a runbook not among them is still named, with where to find its inputs. */
  readonly runbooks: ReadonlyMap<string, RunbookSummary>;
  /** Input values breakglass.yaml already knows, filled into the command instead of a placeholder. */
  readonly knownInputs: Readonly<Record<string, string>>;
}

export function runbookGuide(config: BreakglassConfig, runbooks: readonly RunbookSummary[] = []): RunbookGuide {
  const knownInputs: Record<string, string> = {};
  if (config.aws) knownInputs["emergencyAccountId"] = config.aws.emergencyAccount.accountId;
  if (config.aws?.identityCenter) knownInputs["identityCenterRegion"] = config.aws.identityCenter.region;
  return { runbooks: new Map(runbooks.map((runbook) => [runbook.id, runbook])), knownInputs };
}

/**
 * The slash command that starts a runbook: every required input as `name=value`, from `presets`, then what the
 * config knows, else a `<name>` placeholder; optional inputs only when `presets` sets them. Plain text (not escaped).
 */
export function runbookCommand(id: string, guide: RunbookGuide, presets: Readonly<Record<string, string>> = {}): string {
  const runbook = guide.runbooks.get(id);
  const parts = ["/breakglass runbook start", id];
  for (const input of runbook?.inputs ?? []) {
    const value = presets[input.name] ?? (input.required ? (guide.knownInputs[input.name] ?? `<${input.name}>`) : undefined);
    if (value !== undefined) parts.push(`${input.name}=${value}`);
  }
  return parts.join(" ");
}

/** An alert as the messages show it: from the store (AlertRecord) with its subject parsed back from the key. */
export interface AlertView {
  readonly code: string;
  readonly severity: string;
  readonly message: string;
  readonly subject: AlertSubject;
  readonly firstSeen: Date;
}

const SEVERITY_LOOK: Readonly<Record<Severity, { emoji: string; label: string }>> = {
  critical: { emoji: ":red_circle:", label: "Critical" },
  high: { emoji: ":large_orange_circle:", label: "High" },
  medium: { emoji: ":large_yellow_circle:", label: "Medium" },
  low: { emoji: ":large_blue_circle:", label: "Low" },
  info: { emoji: ":white_circle:", label: "Info" },
};

/** Codes whose runbook is a planned change, made before anything breaks. */
const PLANNED_RUNBOOK_PRESETS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  ROLLOVER_IN_PROGRESS: { workforceSignIn: "working" },
};

export function newAlertMessage(alert: AlertView, guide: RunbookGuide): SlackMessage {
  const look = severityLook(alert.severity);
  const entry = registryEntry(alert.code);
  const blocks: KnownBlock[] = [mrkdwnSection(`*${look.emoji} ${look.label} · ${escapeMrkdwn(alert.code)}*`), plainSection(alert.message)];
  if (entry) blocks.push(mrkdwnSection(`*What to do:* ${escapeMrkdwn(entry.remedy)}`));
  if (entry?.runbook) blocks.push(runbookSection(entry.runbook, guide, PLANNED_RUNBOOK_PRESETS[alert.code] ?? {}));
  blocks.push(contextBlock([...describeSubject(alert.subject), `First seen ${isoMinute(alert.firstSeen)}`]));
  return { text: fallback(`${look.label} ${alert.code}: ${firstLine(alert.message)}`), blocks };
}

export function resolutionMessage(alert: AlertView, resolvedAt: Date): SlackMessage {
  const open = describeOpenFor(resolvedAt.getTime() - alert.firstSeen.getTime());
  return {
    text: fallback(`Resolved: ${alert.code} (open ${open}): ${firstLine(alert.message)}`),
    blocks: [
      mrkdwnSection(`*:white_check_mark: Resolved · ${escapeMrkdwn(alert.code)}*`),
      plainSection(alert.message),
      contextBlock([`Open for ${open}`, `Since ${isoMinute(alert.firstSeen)}`, ...describeSubject(alert.subject)]),
    ],
  };
}

export interface ExpiryWarning {
  /** config.idp.name: how people call the IdP. */
  readonly idpName: string;
  readonly certificate: WatchedCertificate;
  readonly step: ExpiryStep;
  readonly now: Date;
  /** False when the IdP's metadata could not be read this time, so whether it still publishes the certificate is unknown. */
  readonly idpRead: boolean;
  readonly ladder: readonly number[];
}

export function expiryWarningMessage(warning: ExpiryWarning, guide: RunbookGuide): SlackMessage {
  const { certificate, now, idpName } = warning;
  const expired = certificate.notAfter.getTime() <= now.getTime();
  const when = expired ? describeExpiredAgo(daysAgo(certificate.notAfter, now)) : describeExpiresIn(daysLeft(certificate.notAfter, now));
  const left = daysLeft(certificate.notAfter, now);
  const emoji = expired || left < 3 ? ":rotating_light:" : left < 15 ? ":warning:" : ":hourglass_flowing_sand:";
  const fingerprint = shortFingerprint(certificate.sha256);
  const owner = certificate.publishedByIdp || certificate.samlProviders.length === 0 ? `${idpName} signing certificate` : "SAML signing certificate";
  const blocks: KnownBlock[] = [
    mrkdwnSection(`*${emoji} ${escapeMrkdwn(owner)} ${when}*`),
    mrkdwnSection(`\`${escapeMrkdwn(truncate(certificate.subject, 200))}\` · ${fingerprint}\n${expired ? "Expired" : "Expires"} ${isoMinute(certificate.notAfter)}`),
    mrkdwnSection(describeHolders(warning)),
    mrkdwnSection(
      `*Rotate it:* ${certificate.publishedByIdp ? `roll the certificate over at ${escapeMrkdwn(idpName)}, then re-import its` : `re-import ${escapeMrkdwn(idpName)}'s current`} metadata everywhere with the runbook:\n` +
        `\`${escapeMrkdwn(runbookCommand(REIMPORT_RUNBOOK, guide, expired ? {} : { workforceSignIn: "working" }))}\``,
    ),
    contextBlock([`Expiry warning ${warning.step}`, `Warned at ${warning.ladder.join("/")} days left, then daily once expired`, `sha256 ${certificate.sha256}`]),
  ];
  return { text: fallback(`${owner} ${fingerprint} (${certificate.subject}) ${when}`), blocks };
}

function describeHolders({ certificate, idpName, idpRead }: ExpiryWarning): string {
  const name = escapeMrkdwn(idpName);
  const providers = certificate.samlProviders.map((arn) => `\`${escapeMrkdwn(arn)}\``);
  const held = providers.length === 0 ? "" : `${providers.length === 1 ? "the IAM SAML provider" : "the IAM SAML providers"} ${providers.join(", ")}`;
  if (certificate.publishedByIdp) return held === "" ? `*Where:* ${name}'s metadata.` : `*Where:* ${name}'s metadata and ${held}.`;
  const idp = idpRead ? `${name}'s metadata no longer publishes it` : `${name}'s metadata could not be read just now`;
  return `*Where:* ${held}; ${idp}.`;
}

function runbookSection(id: string, guide: RunbookGuide, presets: Readonly<Record<string, string>>): KnownBlock {
  const runbook = guide.runbooks.get(id);
  const title = runbook ? ` · ${escapeMrkdwn(runbook.title)}` : "";
  const inputs = runbook ? "" : `\n\`breakglass runbook show ${escapeMrkdwn(id)}\` lists its inputs.`;
  return mrkdwnSection(`*Runbook:* \`${escapeMrkdwn(id)}\`${title}\n\`${escapeMrkdwn(runbookCommand(id, guide, presets))}\`${inputs}`);
}

function describeSubject(subject: AlertSubject): string[] {
  return [
    ...(subject.accountId !== undefined ? [`Account ${subject.accountId}`] : []),
    ...(subject.resource !== undefined ? [subject.resource] : []),
    ...(subject.entityID !== undefined && subject.resource === undefined ? [`Entity ${subject.entityID}`] : []),
    ...(subject.sha256 !== undefined ? [shortFingerprint(subject.sha256)] : []),
  ];
}

function describeExpiresIn(days: number): string {
  if (days <= 0) return "expires in less than a day";
  return `expires in ${days} ${days === 1 ? "day" : "days"}`;
}

function describeExpiredAgo(days: number): string {
  if (days <= 0) return "expired less than a day ago";
  return `expired ${days} ${days === 1 ? "day" : "days"} ago`;
}

/** "3d4h", "2h15m", "45m": the two largest units, enough to tell a blip from a week-long problem. */
export function describeOpenFor(milliseconds: number): string {
  if (milliseconds < 60_000) return "less than a minute";
  const parts = formatDuration(Math.floor(milliseconds / 60_000) * 60_000).match(/\d+[dhms]/g) ?? [];
  return parts.slice(0, 2).join("");
}

function severityLook(severity: string): { emoji: string; label: string } {
  return Object.hasOwn(SEVERITY_LOOK, severity) ? SEVERITY_LOOK[severity as Severity] : { emoji: ":white_circle:", label: severity };
}

function registryEntry(code: string): FindingCodeEntry | undefined {
  return Object.hasOwn(FINDING_CODES, code) ? (FINDING_CODES as Readonly<Record<string, FindingCodeEntry>>)[code] : undefined;
}

/**
 * Slack must never receive a secret, and finding messages can quote a URL (the metadata source in a fetch error): a
 * presigned URL carries a credential in its query, and a URL may carry user:password. Both are cut.
 */
export function redactUrls(text: string): string {
  return text.replace(/\b(https?:\/\/)(?:[^\s/?#@]*@)?([^\s?#]*)(\?[^\s#]*)?(#\S*)?/gi, (_match, scheme: string, rest: string, query?: string, fragment?: string) => {
    // Punctuation that ends the sentence ("…?token=x: HTTP 403.") is not part of the URL and is kept.
    const tail = /[.,;:!)\]]+$/.exec(`${query ?? ""}${fragment ?? ""}`)?.[0] ?? "";
    return `${scheme}${rest}${query !== undefined || fragment !== undefined ? "?…" : ""}${tail}`;
  });
}

/** Slack reads &, < and > in mrkdwn (and in the fallback text) as markup; everything we did not write is escaped. */
export function escapeMrkdwn(text: string): string {
  return redactUrls(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function mrkdwnSection(text: string): KnownBlock {
  return { type: "section", text: { type: "mrkdwn", text: truncate(text, MAX_SECTION) } };
}

/** Finding messages are plain text: ARNs and entity IDs are full of _ and * that mrkdwn would turn into formatting. */
function plainSection(text: string): KnownBlock {
  return { type: "section", text: { type: "plain_text", text: truncate(redactUrls(text), MAX_SECTION) || "(no message)", emoji: false } };
}

function contextBlock(items: readonly string[]): KnownBlock {
  // A context block holds at most 10 elements.
  return { type: "context", elements: items.slice(0, 10).map((item) => ({ type: "plain_text", text: truncate(redactUrls(item), MAX_CONTEXT), emoji: false })) };
}

function fallback(text: string): string {
  return escapeMrkdwn(truncate(text, MAX_FALLBACK));
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? "";
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function isoMinute(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
