// The emergency access path at a glance, for `/breakglass status` and the App Home tab: certificates, drift, Identity Center, findings, open runs and leases.
import type { types } from "@slack/bolt";
import { compareFindings, isBlocking, SEVERITY_ORDER, type Finding, type Severity } from "../domain/checks/finding.js";
import { FINDING_CODES, type FindingCode } from "../domain/checks/finding-codes.js";
import { daysAgo, daysLeft, shortFingerprint } from "../domain/checks/metadata-checks.js";
import { isIdentityProvider, signingEntries } from "../domain/checks/signing-certificates.js";
import { formatDuration } from "../domain/shared/duration.js";
import type { RunView } from "../domain/runbooks/run-engine.js";
import type { MemberLease } from "../domain/ports/member-lease-store.js";
import type { PostureEvaluation } from "../application/evaluate-posture.js";
import { contextBlock, headerBlock, sectionBlock } from "./blocks.js";
import { code, escapeMrkdwn, limitedLines, mentionActor, quotedText, slackDate, truncate } from "./mrkdwn.js";
import { shortRunId } from "./run-message.js";
import { severityEmoji } from "./severity-emoji.js";
import type { SlackMessage } from "./slack-message.js";

type KnownBlock = types.KnownBlock;

/** An unfinished run, as the store lists it; a RunView fits. */
export type OpenRunSummary = Pick<RunView, "id" | "runbookId" | "status" | "waitingFor"> & {
  readonly initiator?: string;
};

export interface PostureSnapshot {
  /** The latest completed check; undefined until one has completed. */
  readonly evaluation: Pick<PostureEvaluation, "findings" | "facts" | "idp"> | undefined;
  readonly completedAt: Date | undefined;
  readonly openRuns: readonly OpenRunSummary[];
  /** Active member leases (those with removedAt set are left out). */
  readonly leases: readonly MemberLease[];
  readonly now: Date;
}

const CERTIFICATE_CODES: readonly FindingCode[] = [
  "CERT_EXPIRED",
  "CERT_EXPIRING",
  "CERT_NOT_YET_VALID",
  "CERT_WEAK_KEY",
  "CERT_WEAK_SIGNATURE",
  "CERT_UNPARSEABLE",
];
const DRIFT_CODES: readonly FindingCode[] = [
  "SAML_PROVIDER_LACKS_CURRENT_CERT",
  "SAML_PROVIDER_DRIFT",
  "SAML_PROVIDER_MISSING",
  "SAML_PROVIDER_EXPIRED",
  "SAML_PROVIDER_CERT_EXPIRING",
  "ROLLOVER_IN_PROGRESS",
];
const IDENTITY_CENTER_CODES: readonly FindingCode[] = [
  "IDENTITY_CENTER_IDP_CHANGED",
  "IDENTITY_CENTER_UNREACHABLE",
  "IDENTITY_CENTER_NOT_ACTIVE",
  "IDENTITY_CENTER_IMPORT_UNATTESTED",
  "IDENTITY_CENTER_IMPORT_STALE",
  "IDENTITY_CENTER_REGION_NOT_ACTIVE",
  "IDENTITY_CENTER_NO_REPLICA_REGION",
];

interface Limits {
  /** Findings listed under "Other findings". */
  readonly findings: number;
  readonly runs: number;
  readonly leases: number;
}

const STATUS_LIMITS: Limits = { findings: 5, runs: 5, leases: 5 };
const HOME_LIMITS: Limits = { findings: 15, runs: 15, leases: 20 };

/** The reply to `/breakglass status`: short enough to read on a phone, with the details a tap away in the App Home. */
export function postureStatusMessage(snapshot: PostureSnapshot): SlackMessage {
  const blocks: KnownBlock[] = [headerBlock("Emergency access status"), ...postureBlocks(snapshot, STATUS_LIMITS)];
  blocks.push(contextBlock("The app's Home tab shows this at any time."));
  return { text: summaryText(snapshot), blocks };
}

/** The App Home tab: the same picture as status, with longer lists. */
export function postureHomeView(snapshot: PostureSnapshot): types.HomeView {
  const blocks: KnownBlock[] = [headerBlock("breakglass"), ...postureBlocks(snapshot, HOME_LIMITS)];
  blocks.push({ type: "divider" }, contextBlock("`/breakglass help` lists the commands."));
  return { type: "home", blocks };
}

function postureBlocks(snapshot: PostureSnapshot, limits: Limits): KnownBlock[] {
  const { evaluation, now } = snapshot;
  const blocks: KnownBlock[] = [...verdictBlocks(snapshot)];
  if (evaluation !== undefined) {
    const shown = new Set<Finding>();
    blocks.push({ type: "divider" });
    blocks.push(...certificateBlocks(evaluation, now, shown));
    blocks.push(...driftBlocks(evaluation, shown));
    blocks.push(...identityCenterBlocks(evaluation, shown));
    blocks.push(
      ...otherFindingBlocks(
        evaluation.findings.filter((finding) => !shown.has(finding)),
        limits.findings,
      ),
    );
  }
  blocks.push({ type: "divider" });
  blocks.push(...runBlocks(snapshot.openRuns, limits.runs));
  blocks.push(...leaseBlocks(snapshot.leases, now, limits.leases));
  return blocks;
}

function verdictBlocks({ evaluation, completedAt, now }: PostureSnapshot): KnownBlock[] {
  if (evaluation === undefined) {
    return [
      sectionBlock(
        ":grey_question: *No check has completed yet.* The first one runs when breakglass starts; `/breakglass check` runs one now.",
      ),
    ];
  }
  const findings = evaluation.findings;
  const blocking = findings.filter(isBlocking);
  const counts = severityCounts(findings);
  let verdict: string;
  if (blocking.length > 0) verdict = `:red_circle: *Not ready*: ${countText(counts, ["critical", "high"])}`;
  else if (findings.length > 0)
    verdict = `:large_green_circle: *Ready*, with ${findings.length} ${findings.length === 1 ? "finding" : "findings"} to look at`;
  else verdict = ":large_green_circle: *Ready*: no findings";
  const context: string[] = [];
  if (findings.length > 0) context.push(`Open findings: ${countText(counts, SEVERITY_ORDER)}`);
  if (completedAt !== undefined) context.push(`Last check ${slackDate(completedAt)} (${ago(completedAt, now)})`);
  return context.length === 0 ? [sectionBlock(verdict)] : [sectionBlock(verdict), contextBlock(context.join(" · "))];
}

function certificateBlocks(
  evaluation: NonNullable<PostureSnapshot["evaluation"]>,
  now: Date,
  shown: Set<Finding>,
): KnownBlock[] {
  const heading = "*IdP signing certificates*";
  const certificateFindings = evaluation.findings.filter((finding) => CERTIFICATE_CODES.includes(finding.code));
  certificateFindings.forEach((finding) => shown.add(finding));
  const idp = evaluation.idp;
  if (idp === undefined) {
    const unreachable = evaluation.findings.find((finding) => finding.code === "METADATA_UNREACHABLE");
    if (unreachable === undefined) return [sectionBlock(`${heading}\n_Not checked._`)];
    shown.add(unreachable);
    return [sectionBlock(`${heading}\n${severityEmoji(unreachable.severity)} ${quotedText(unreachable.message, 400)}`)];
  }
  const entities = idp.entities.filter(isIdentityProvider);
  const lines: string[] = [];
  for (const entity of entities) {
    if (entities.length > 1) lines.push(`_${escapeMrkdwn(truncate(entity.entityID, 120))}_`);
    const seen = new Set<string>();
    for (const entry of signingEntries(entity)) {
      if (entry.facts === null) {
        lines.push(
          `:x: a certificate that cannot be read${entry.sha256 === null ? "" : ` (${code(shortFingerprint(entry.sha256))})`}`,
        );
        continue;
      }
      const certificate = entry.facts;
      if (seen.has(certificate.sha256)) continue;
      seen.add(certificate.sha256);
      const own = certificateFindings.filter((finding) => finding.sha256 === certificate.sha256);
      const expired = certificate.notAfter.getTime() <= now.getTime();
      const emoji =
        own.length > 0 ? severityEmoji(worstSeverity(own)) : expired ? severityEmoji("critical") : ":white_check_mark:";
      const left = daysLeft(certificate.notAfter, now);
      const until = certificate.notAfter.toISOString().slice(0, 10);
      const when = expired
        ? `*expired* on ${until}, ${plural(daysAgo(certificate.notAfter, now), "day")} ago`
        : `expires ${until}, *in ${plural(left, "day")}*`;
      lines.push(`${emoji} ${code(shortFingerprint(certificate.sha256))} ${when}`);
    }
  }
  if (lines.length === 0) lines.push("_The metadata lists no signing certificate._");
  return [
    sectionBlock([heading, ...limitedLines(lines, 10, (count) => `…and ${count} more`)].join("\n")),
    contextBlock(`From ${quotedText(idp.input, 200)}`),
  ];
}

function driftBlocks(evaluation: NonNullable<PostureSnapshot["evaluation"]>, shown: Set<Finding>): KnownBlock[] {
  const providers = evaluation.facts?.samlProviders;
  const drift = evaluation.findings.filter((finding) => DRIFT_CODES.includes(finding.code)).sort(compareFindings);
  if (providers === undefined && drift.length === 0) return [];
  drift.forEach((finding) => shown.add(finding));
  const heading = "*Emergency IAM SAML providers*";
  const problems = drift.filter((finding) => finding.code !== "ROLLOVER_IN_PROGRESS");
  const lines: string[] = [];
  if (problems.length === 0 && providers !== undefined) {
    lines.push(`:white_check_mark: ${plural(providers.length, "provider")} in step with the IdP`);
  }
  lines.push(...limitedLines(drift.map(findingLine), 6, (count) => `…and ${count} more`));
  return [sectionBlock([heading, ...lines].join("\n"))];
}

function identityCenterBlocks(
  evaluation: NonNullable<PostureSnapshot["evaluation"]>,
  shown: Set<Finding>,
): KnownBlock[] {
  const facts = evaluation.facts?.identityCenter;
  const findings = evaluation.findings
    .filter((finding) => IDENTITY_CENTER_CODES.includes(finding.code))
    .sort(compareFindings);
  if (facts === undefined && findings.length === 0) return [];
  findings.forEach((finding) => shown.add(finding));
  const lines = ["*IAM Identity Center*"];
  if (facts !== undefined) {
    if (facts.status === "error") lines.push(`${severityEmoji("high")} did not answer`);
    else if (facts.status === "missing") lines.push(`${severityEmoji("critical")} the instance does not exist`);
    else if (facts.instanceStatus === "ACTIVE") lines.push(":white_check_mark: active");
    else lines.push(`${severityEmoji("critical")} ${escapeMrkdwn(facts.instanceStatus ?? "in an unknown state")}`);
  }
  // The status line above already says what IDENTITY_CENTER_UNREACHABLE and _NOT_ACTIVE say.
  const rest =
    facts === undefined
      ? findings
      : findings.filter(
          (finding) => finding.code !== "IDENTITY_CENTER_UNREACHABLE" && finding.code !== "IDENTITY_CENTER_NOT_ACTIVE",
        );
  lines.push(...rest.map(findingLine));
  const blocks: KnownBlock[] = [sectionBlock(lines.join("\n"))];
  const attestation = evaluation.facts?.attestation;
  if (attestation !== undefined && attestation !== null) {
    blocks.push(
      contextBlock(
        `Last import attested by ${mentionActor(attestation.attestedBy)} ${slackDate(attestation.attestedAt)}`,
      ),
    );
  }
  return blocks;
}

function otherFindingBlocks(findings: readonly Finding[], limit: number): KnownBlock[] {
  if (findings.length === 0) return [];
  const sorted = [...findings].sort(compareFindings);
  const lines = limitedLines(
    sorted.map(findingWithRunbook),
    limit,
    (count) => `…and ${count} more (\`breakglass check\` lists them all)`,
  );
  return [sectionBlock(["*Other findings*", ...lines].join("\n"))];
}

function runBlocks(runs: readonly OpenRunSummary[], limit: number): KnownBlock[] {
  if (runs.length === 0) return [sectionBlock("*Open runs*\n_None._")];
  const lines = runs.map((run) => {
    const by = run.initiator === undefined ? "" : `, started by ${mentionActor(run.initiator)}`;
    return `${RUN_EMOJI[run.status]} ${code(shortRunId(run.id))} ${code(run.runbookId)} ${runState(run)}${by}`;
  });
  return [
    sectionBlock(
      [
        "*Open runs*",
        ...limitedLines(lines, limit, (count) => `…and ${count} more (\`/breakglass runbook status\`)`),
      ].join("\n"),
    ),
  ];
}

function leaseBlocks(leases: readonly MemberLease[], now: Date, limit: number): KnownBlock[] {
  const active = leases
    .filter((lease) => lease.removedAt === null)
    .sort((a, b) => a.expiresAt.localeCompare(b.expiresAt));
  if (active.length === 0)
    return [sectionBlock("*Emergency group members*\n_Nobody: the emergency groups have no one on a lease._")];
  const lines = active.map((lease) => {
    const expiresAt = new Date(lease.expiresAt);
    const who = `${escapeMrkdwn(truncate(lease.login, 80))} in ${code(truncate(lease.groupId, 80))}`;
    const run = lease.runId === null ? "" : ` (run ${code(shortRunId(lease.runId))})`;
    if (Number.isNaN(expiresAt.getTime())) return `:key: ${who}${run}`;
    if (expiresAt.getTime() <= now.getTime())
      return `:hourglass: ${who}: lease ended ${ago(expiresAt, now)}, removal pending${run}`;
    return `:key: ${who} until ${slackDate(expiresAt)} (${inTime(expiresAt, now)})${run}`;
  });
  return [
    sectionBlock(
      [
        `*Emergency group members* (${active.length})`,
        ...limitedLines(lines, limit, (count) => `…and ${count} more`),
      ].join("\n"),
    ),
  ];
}

const RUN_EMOJI: Readonly<Record<OpenRunSummary["status"], string>> = {
  running: ":arrow_forward:",
  waiting: ":hourglass_flowing_sand:",
  failed: ":x:",
  succeeded: ":white_check_mark:",
  aborted: ":no_entry:",
};

function runState(run: OpenRunSummary): string {
  if (run.status === "waiting")
    return run.waitingFor?.kind === "manual" ? "waits for a manual step" : "waits for approval";
  if (run.status === "failed") return "failed: fix the cause, then press Run";
  return run.status;
}

function findingLine(finding: Finding): string {
  return `${severityEmoji(finding.severity)} ${quotedText(finding.message, 300)}`;
}

function findingWithRunbook(finding: Finding): string {
  const runbook = FINDING_CODES[finding.code].runbook;
  return `${findingLine(finding)}${runbook === null ? "" : ` → ${code(runbook)}`}`;
}

function worstSeverity(findings: readonly Finding[]): Severity {
  return [...findings].sort(compareFindings)[0]?.severity ?? "info";
}

function severityCounts(findings: readonly Finding[]): Map<Severity, number> {
  const counts = new Map<Severity, number>();
  for (const finding of findings) counts.set(finding.severity, (counts.get(finding.severity) ?? 0) + 1);
  return counts;
}

function countText(counts: ReadonlyMap<Severity, number>, severities: readonly Severity[]): string {
  return severities
    .filter((severity) => (counts.get(severity) ?? 0) > 0)
    .map((severity) => `${counts.get(severity)} ${severity}`)
    .join(", ");
}

function summaryText({ evaluation, openRuns, leases }: PostureSnapshot): string {
  const parts: string[] = [];
  if (evaluation === undefined) parts.push("no check has completed yet");
  else {
    const blocking = evaluation.findings.filter(isBlocking).length;
    parts.push(
      blocking > 0 ? `not ready (${countText(severityCounts(evaluation.findings), ["critical", "high"])})` : "ready",
    );
  }
  parts.push(plural(openRuns.length, "open run"));
  parts.push(`${leases.filter((lease) => lease.removedAt === null).length} on a lease`);
  return `Emergency access: ${parts.join(", ")}`;
}

function plural(count: number, word: string): string {
  return `${count} ${count === 1 ? word : `${word}s`}`;
}

/** A span for people: whole days once it is over a day, minutes below. */
function span(milliseconds: number): string {
  if (milliseconds < 60_000) return "under a minute";
  const unit = milliseconds >= 86_400_000 ? 3_600_000 : 60_000;
  return formatDuration(Math.round(milliseconds / unit) * unit);
}

function ago(at: Date, now: Date): string {
  const milliseconds = now.getTime() - at.getTime();
  return milliseconds < 0 ? "just now" : `${span(milliseconds)} ago`;
}

function inTime(at: Date, now: Date): string {
  return `in ${span(at.getTime() - now.getTime())}`;
}
