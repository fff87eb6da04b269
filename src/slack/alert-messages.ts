// The Slack messages of the scheduler: a new finding, its resolution, and an expiry-ladder warning; short blocks that read on a phone.
import type { types } from "@slack/bolt";
import type { Severity } from "../domain/checks/finding.js";
import { FINDING_CODES, type FindingCodeEntry } from "../domain/checks/finding-codes.js";
import { daysAgo, daysLeft, shortFingerprint } from "../domain/checks/metadata-checks.js";
import { formatDuration } from "../domain/shared/duration.js";
import type { Runbook } from "../domain/runbooks/runbook-schema.js";
import { plainContextBlock, plainSectionBlock, sectionBlock } from "./blocks.js";
import { code, escapeMrkdwn, redactSecrets, redactUrls, truncate, utcMinute } from "./mrkdwn.js";
import { severityEmoji } from "./severity-emoji.js";
import type { SlackMessage } from "./slack-message.js";
import type { ExpiryStep, WatchedCertificate } from "../domain/checks/expiry-ladder.js";
import type { AlertSubject } from "../application/finding-alerts.js";

type KnownBlock = types.KnownBlock;

/** The runbook that rotates a certificate and re-imports the metadata everywhere. */
export const REIMPORT_RUNBOOK = "fm2-reimport-metadata";

// A phone shows far less than Block Kit's 3000 characters before "see more".
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

/** `knownInputs`: what breakglass.yaml answers (configInputDefaults in src/application/runbook-runtime.ts). */
export function runbookGuide(
  knownInputs: Readonly<Record<string, string>>,
  runbooks: readonly RunbookSummary[] = [],
): RunbookGuide {
  return { runbooks: new Map(runbooks.map((runbook) => [runbook.id, runbook])), knownInputs };
}

/**
 * The slash command that starts a runbook: every required input as `name=value`, from `presets`, then what the
 * config knows, else a `<name>` placeholder; optional inputs only when `presets` sets them. Plain text (not escaped).
 */
export function runbookCommand(
  id: string,
  guide: RunbookGuide,
  presets: Readonly<Record<string, string>> = {},
): string {
  const runbook = guide.runbooks.get(id);
  const parts = ["/breakglass runbook start", id];
  for (const input of runbook?.inputs ?? []) {
    const value =
      presets[input.name] ?? (input.required ? (guide.knownInputs[input.name] ?? `<${input.name}>`) : undefined);
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

const SEVERITY_LABEL: Readonly<Record<Severity, string>> = {
  critical: "Critical",
  high: "High",
  medium: "Medium",
  low: "Low",
  info: "Info",
};

/** Codes whose runbook is a planned change, made before anything breaks. */
const PLANNED_RUNBOOK_PRESETS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  ROLLOVER_IN_PROGRESS: { workforceSignIn: "working" },
};

export function newAlertMessage(alert: AlertView, guide: RunbookGuide): SlackMessage {
  const look = severityLook(alert.severity);
  const entry = registryEntry(alert.code);
  const blocks: KnownBlock[] = [
    sectionBlock(`*${look.emoji} ${look.label} · ${safe(alert.code)}*`),
    messageSection(alert.message),
  ];
  if (entry) blocks.push(sectionBlock(`*What to do:* ${safe(entry.remedy)}`));
  if (entry?.runbook) blocks.push(runbookSection(entry.runbook, guide, PLANNED_RUNBOOK_PRESETS[alert.code] ?? {}));
  blocks.push(detailsBlock([...describeSubject(alert.subject), `First seen ${utcMinute(alert.firstSeen)}`]));
  return { text: fallback(`${look.label} ${alert.code}: ${firstLine(alert.message)}`), blocks };
}

export function resolutionMessage(alert: AlertView, resolvedAt: Date): SlackMessage {
  const open = describeOpenFor(resolvedAt.getTime() - alert.firstSeen.getTime());
  return {
    text: fallback(`Resolved: ${alert.code} (open ${open}): ${firstLine(alert.message)}`),
    blocks: [
      sectionBlock(`*:white_check_mark: Resolved · ${safe(alert.code)}*`),
      messageSection(alert.message),
      detailsBlock([`Open for ${open}`, `Since ${utcMinute(alert.firstSeen)}`, ...describeSubject(alert.subject)]),
    ],
  };
}

/** More new alerts than this at once (a first check, a broad outage) are posted as one digest, not one message each. */
export const DIGEST_ABOVE = 5;
const DIGEST_CODES = 12;

/** Many alerts at once, as one message: counted by code, most severe first, each runbook's command once. */
export function alertDigestMessage(alerts: readonly AlertView[], guide: RunbookGuide): SlackMessage {
  const groups = byCode(alerts);
  const counts = severityCounts(alerts);
  const lines = groups
    .slice(0, DIGEST_CODES)
    .map(
      (group) =>
        `${severityLook(group.severity).emoji} ${safeCode(group.code)} ×${group.alerts.length}: ${safe(truncate(subjectsOf(group.alerts), 200))}`,
    );
  if (groups.length > DIGEST_CODES) lines.push(`…and ${groups.length - DIGEST_CODES} more kinds`);
  const runbooks = [
    ...new Set(
      groups
        .map((group) => registryEntry(group.code)?.runbook)
        .filter((id): id is NonNullable<typeof id> => typeof id === "string"),
    ),
  ];
  const blocks: KnownBlock[] = [
    sectionBlock(`*:bell: ${alerts.length} new findings* (${counts})`),
    sectionBlock(lines.join("\n")),
  ];
  for (const id of runbooks.slice(0, 3)) blocks.push(runbookSection(id, guide, {}));
  blocks.push(
    plainContextBlock(
      "Posted as one message to keep this channel readable. /breakglass status and breakglass check show " +
        "each finding with its remedy; each resolution is posted as it comes.",
    ),
  );
  return {
    text: fallback(`${alerts.length} new findings (${counts}): ${groups.map((group) => group.code).join(", ")}`),
    blocks,
  };
}

/** Many resolutions at once, as one message. */
export function resolutionDigestMessage(alerts: readonly AlertView[]): SlackMessage {
  const groups = byCode(alerts);
  const lines = groups
    .slice(0, DIGEST_CODES)
    .map(
      (group) => `${safeCode(group.code)} ×${group.alerts.length}: ${safe(truncate(subjectsOf(group.alerts), 200))}`,
    );
  if (groups.length > DIGEST_CODES) lines.push(`…and ${groups.length - DIGEST_CODES} more kinds`);
  return {
    text: fallback(`Resolved: ${alerts.length} findings: ${groups.map((group) => group.code).join(", ")}`),
    blocks: [sectionBlock(`*:white_check_mark: Resolved · ${alerts.length} findings*`), sectionBlock(lines.join("\n"))],
  };
}

interface CodeGroup {
  readonly code: string;
  readonly severity: string;
  readonly alerts: AlertView[];
}

function byCode(alerts: readonly AlertView[]): CodeGroup[] {
  const groups = new Map<string, CodeGroup>();
  for (const alert of alerts) {
    const group = groups.get(alert.code) ?? { code: alert.code, severity: alert.severity, alerts: [] };
    group.alerts.push(alert);
    groups.set(alert.code, group);
  }
  const rank = (severity: string) => {
    const index = Object.keys(SEVERITY_LABEL).indexOf(severity);
    return index < 0 ? Object.keys(SEVERITY_LABEL).length : index;
  };
  return [...groups.values()].sort(
    (a, b) => rank(a.severity) - rank(b.severity) || b.alerts.length - a.alerts.length || a.code.localeCompare(b.code),
  );
}

function severityCounts(alerts: readonly AlertView[]): string {
  return (Object.keys(SEVERITY_LABEL) as Severity[])
    .map((severity) => [severity, alerts.filter((alert) => alert.severity === severity).length] as const)
    .filter(([, count]) => count > 0)
    .map(([severity, count]) => `${count} ${severity}`)
    .join(", ");
}

/** Where a group of alerts is: their accounts or resources, the first few. */
function subjectsOf(alerts: readonly AlertView[]): string {
  const subjects = [
    ...new Set(
      alerts
        .map((alert) => alert.subject.accountId ?? alert.subject.resource ?? alert.subject.entityID ?? "")
        .filter((subject) => subject !== ""),
    ),
  ];
  if (subjects.length === 0) return firstLine(alerts[0]?.message ?? "");
  return subjects.length <= 4
    ? subjects.join(", ")
    : `${subjects.slice(0, 4).join(", ")} and ${subjects.length - 4} more`;
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
  const when = expired
    ? describeExpiredAgo(daysAgo(certificate.notAfter, now))
    : describeExpiresIn(daysLeft(certificate.notAfter, now));
  const left = daysLeft(certificate.notAfter, now);
  const emoji = expired || left < 3 ? ":rotating_light:" : left < 15 ? ":warning:" : ":hourglass_flowing_sand:";
  const fingerprint = shortFingerprint(certificate.sha256);
  const owner =
    certificate.publishedByIdp || certificate.samlProviders.length === 0
      ? `${idpName} signing certificate`
      : "SAML signing certificate";
  const blocks: KnownBlock[] = [
    sectionBlock(`*${emoji} ${safe(owner)} ${when}*`),
    sectionBlock(
      `${code(truncate(redact(certificate.subject), 200))} · ${fingerprint}\n${expired ? "Expired" : "Expires"} ${utcMinute(certificate.notAfter)}`,
    ),
    sectionBlock(describeHolders(warning)),
    sectionBlock(
      `*Rotate it:* ` +
        `${certificate.publishedByIdp ? `roll the certificate over at ${safe(idpName)}, then re-import its` : `re-import ${safe(idpName)}'s current`} ` +
        `metadata everywhere with the runbook:\n` +
        safeCode(runbookCommand(REIMPORT_RUNBOOK, guide, expired ? {} : { workforceSignIn: "working" })),
    ),
    detailsBlock([
      `Expiry warning ${warning.step}`,
      `Warned at ${warning.ladder.join("/")} days left, then daily once expired`,
      `sha256 ${certificate.sha256}`,
    ]),
  ];
  return { text: fallback(`${owner} ${fingerprint} (${certificate.subject}) ${when}`), blocks };
}

function describeHolders({ certificate, idpName, idpRead }: ExpiryWarning): string {
  const name = safe(idpName);
  const providers = certificate.samlProviders.map((arn) => safeCode(arn));
  const held =
    providers.length === 0
      ? ""
      : `${providers.length === 1 ? "the IAM SAML provider" : "the IAM SAML providers"} ${providers.join(", ")}`;
  if (certificate.publishedByIdp)
    return held === "" ? `*Where:* ${name}'s metadata.` : `*Where:* ${name}'s metadata and ${held}.`;
  const idp = idpRead ? `${name}'s metadata no longer publishes it` : `${name}'s metadata could not be read just now`;
  return `*Where:* ${held}; ${idp}.`;
}

function runbookSection(id: string, guide: RunbookGuide, presets: Readonly<Record<string, string>>): KnownBlock {
  const runbook = guide.runbooks.get(id);
  const title = runbook ? ` · ${safe(runbook.title)}` : "";
  const inputs = runbook ? "" : `\n${safeCode(`breakglass runbook show ${id}`)} lists its inputs.`;
  return sectionBlock(`*Runbook:* ${safeCode(id)}${title}\n${safeCode(runbookCommand(id, guide, presets))}${inputs}`);
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
  return {
    emoji: severityEmoji(severity),
    label: Object.hasOwn(SEVERITY_LABEL, severity) ? SEVERITY_LABEL[severity as Severity] : severity,
  };
}

function registryEntry(findingCode: string): FindingCodeEntry | undefined {
  return Object.hasOwn(FINDING_CODES, findingCode)
    ? (FINDING_CODES as Readonly<Record<string, FindingCodeEntry>>)[findingCode]
    : undefined;
}

/**
 * Slack must never receive a secret, and finding messages can quote a URL (the metadata source in a fetch error): a
 * presigned URL carries a credential in its query, and a URL may carry user:password. Both are cut, with anything else
 * shaped like a credential.
 */
function redact(text: string): string {
  return redactSecrets(redactUrls(text));
}

/** Slack reads &, < and > in mrkdwn (and in the fallback text) as markup; everything we did not write is redacted and escaped. */
function safe(text: string): string {
  return escapeMrkdwn(redact(text));
}

/** A code span (an ARN, a command) made safe the same way. */
function safeCode(text: string): string {
  return code(redact(text));
}

/** A finding's message, as written: it quotes ARNs and entity IDs. */
function messageSection(text: string): KnownBlock {
  return plainSectionBlock(redact(text) || "(no message)");
}

function detailsBlock(items: readonly string[]): KnownBlock {
  return plainContextBlock(...items.map((item) => truncate(redact(item), MAX_CONTEXT)));
}

function fallback(text: string): string {
  // Redacted before it is cut: a credential cut in half would no longer look like one.
  return escapeMrkdwn(truncate(redact(text), MAX_FALLBACK));
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? "";
}
