// The scheduled live drill's summary in the alerts channel: passed or not, what each step found, and where the evidence
// report is (the auditor's copy stays on disk; the message only points at it).
import { describeError } from "../domain/errors.js";
import type { LiveDrillEvidence, LiveDrillOutcome } from "../application/live-drill.js";
import { contextBlock, sectionBlock } from "./blocks.js";
import { code, escapeMrkdwn, truncate } from "./mrkdwn.js";
import type { SlackMessage } from "./slack-message.js";

/** Room for a preflight summary or an AWS error in a section (3,000 characters), with the rest of the lines. */
const FIELD_LIMIT = 600;

export function drillSummaryMessage(outcome: LiveDrillOutcome): SlackMessage {
  const { evidence } = outcome;
  const headline = evidence.passed ? "Scheduled drill passed" : "Scheduled drill NOT passed";
  const lines = [checkLine(evidence), preflightLine(evidence), assumeLine(evidence)];
  const text = `${headline}: ${lines.join("; ")}. Evidence: ${outcome.markdownPath}`;
  return {
    text,
    blocks: [
      sectionBlock(
        [
          `${evidence.passed ? ":white_check_mark:" : ":x:"} *${headline}*`,
          ...lines.map((line) => `• ${escapeMrkdwn(truncate(line, FIELD_LIMIT))}`),
          `*Evidence:* ${code(outcome.markdownPath)} (and .json)`,
        ].join("\n"),
      ),
      contextBlock(`Audit head hash ${code(evidence.auditHeadHash ?? "(empty log)")} at ${evidence.finishedAt}`),
    ],
  };
}

/** The drill could not run to its report (a response file gone, the preflight refusing what --assume would send). */
export function drillFailedMessage(error: unknown): SlackMessage {
  const reason = describeError(error);
  return {
    text: `Scheduled drill FAILED before its evidence report: ${reason}`,
    blocks: [
      sectionBlock(
        `:x: *Scheduled drill FAILED* before its evidence report\n${escapeMrkdwn(truncate(reason, FIELD_LIMIT))}`,
      ),
    ],
  };
}

function checkLine(evidence: LiveDrillEvidence): string {
  return evidence.check.ok
    ? "check: nothing high or critical"
    : `check: ${evidence.check.findings.length} findings, some high or critical`;
}

function preflightLine(evidence: LiveDrillEvidence): string {
  const verdict = evidence.preflight;
  if (verdict === null) return "preflight: no SAML response configured (serve.drill.response): not checked";
  if (verdict.available === false) return `preflight: ${verdict.summary} (not counted as passing)`;
  return verdict.accepted ? "preflight: accepted" : `preflight: REJECTED: ${verdict.summary}`;
}

function assumeLine(evidence: LiveDrillEvidence): string {
  const assume = evidence.assume;
  if (!assume.requested) return "AssumeRoleWithSAML: not requested";
  return assume.result
    ? `AssumeRoleWithSAML: credentials for ${assume.result.assumedRoleArn} (drill window ${assume.drillWindow})`
    : `AssumeRoleWithSAML FAILED: ${assume.error ?? "no answer"}`;
}
