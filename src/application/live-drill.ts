// The live drill (a game day against the configured organisation), one use case for `breakglass drill --live` and for
// serve's scheduled drill (serve.drill): the whole check, a SAML response preflighted, and only when asked one
// 15-minute AssumeRoleWithSAML inside a drill window; then an evidence report (Markdown and JSON) an auditor can keep.
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { assumeRoleWithSaml, type SamlFederationResult } from "../adapters/aws/saml-federation.js";
import type { BreakglassConfig } from "../config/config-schema.js";
import { verifyAudit } from "../domain/audit/audit-log.js";
import { isBlocking, type Finding } from "../domain/checks/finding.js";
import { BreakglassError, describeError } from "../domain/errors.js";
import type { Actor } from "../domain/identity/actor.js";
import type { Clock } from "../domain/shared/clock.js";
import type { EmergencyAccess } from "./emergency-access.js";
import type { PostureEvaluation } from "./evaluate-posture.js";
import type { RunbookServices } from "./runbook-runtime.js";

export interface PreflightVerdict {
  /** True only when the preflight ran and found nothing that would make AWS refuse the response. */
  readonly accepted: boolean;
  /** One line for the drill's output: what was checked, or why it was not. */
  readonly summary: string;
  /** False when no preflight ran at all: the drill then reports the step as not checked, never as passed. */
  readonly available?: boolean;
}

/**
 * Judges one SAML Response (its XML, decoded) as AWS would for direct federation into the emergency account, against
 * the emergency provider of the configuration at `configPath` (the drill's own world), or of the one the command names.
 */
export type PreflightSamlResponse = (responseXml: string, configPath?: string) => Promise<PreflightVerdict>;

/** A SAML Response as given, in both forms: XML for the preflight, base64 for AWS. */
export interface SamlResponseText {
  readonly xml: string;
  readonly base64: string;
  /** Where it came from (a file, or - for stdin), as errors and the report name it. */
  readonly source: string;
}

export interface LiveDrillRequest {
  readonly config: BreakglassConfig;
  readonly configPath: string;
  readonly actor: Actor;
  readonly response?: SamlResponseText;
  readonly assume: boolean;
  /** Where the evidence report goes. */
  readonly reportDirectory: string;
}

export interface LiveDrillDependencies {
  readonly clock: Clock;
  /** The Region AssumeRoleWithSAML is sent to when the configuration names none. */
  readonly defaultRegion: string;
  readonly services: Pick<RunbookServices, "store"> & { readonly emergency: EmergencyAccess };
  /** The full check, as `planChecks(config, undefined)` plans it. */
  readonly evaluate: (now: Date) => Promise<PostureEvaluation>;
  readonly preflight: PreflightSamlResponse;
  /** Each line of progress, as it happens. */
  readonly say: (line: string) => void;
}

export interface LiveDrillOutcome {
  readonly passed: boolean;
  readonly evidence: LiveDrillEvidence;
  readonly markdownPath: string;
  readonly jsonPath: string;
}

/** Long enough to see the console, short enough that a drill session is gone by the time anyone could misuse it. */
export const LIVE_DRILL_SESSION_SECONDS = 900;
/** What a drill's session name should start with, so that CloudTrail and the watch tell it from a real emergency. */
export const DRILL_SESSION_PREFIX = "breakglass-drill-";
const ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role";
const SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";

export interface LiveDrillEvidence {
  readonly kind: "breakglass-live-drill";
  readonly by: { readonly person: string; readonly verification: string };
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly config: string;
  readonly check: {
    readonly ok: boolean;
    readonly findings: readonly { code: string; severity: string; message: string }[];
  };
  readonly preflight: PreflightVerdict | null;
  readonly assume:
    | { readonly requested: false }
    | {
        readonly requested: true;
        readonly roleArn: string;
        readonly providerArn: string;
        readonly sessionName: string | null;
        readonly sessionNameMarksDrill: boolean;
        readonly durationSeconds: number;
        readonly drillWindow: string;
        readonly result: SamlFederationResult | null;
        readonly error: string | null;
      };
  readonly auditHeadHash: string | null;
  readonly passed: boolean;
}

export async function runLiveDrill(
  request: LiveDrillRequest,
  dependencies: LiveDrillDependencies,
): Promise<LiveDrillOutcome> {
  const { config, actor, response } = request;
  const { clock, services, say } = dependencies;
  const startedAt = clock.now();
  if (request.assume && response === undefined)
    throw new BreakglassError("USAGE", "--assume", "needs a SAML response to assume with: --response <file|->");

  say(`Live drill by ${actor.label} (${actor.verification}) against ${request.configPath}`);
  const evaluation = await dependencies.evaluate(startedAt);
  const checkOk = !evaluation.findings.some(isBlocking);
  say(`check: ${checkOk ? "nothing high or critical" : "BLOCKING findings"} (${summary(evaluation.findings)})`);

  let verdict: PreflightVerdict | null = null;
  if (response !== undefined) {
    verdict = await dependencies.preflight(response.xml);
    say(`preflight: ${verdictText(verdict)}`);
  } else {
    say("preflight: no SAML response given (--response <file|->): not checked");
  }

  let assume: LiveDrillEvidence["assume"] = { requested: false };
  if (request.assume && response !== undefined) {
    if (verdict?.available !== false && verdict?.accepted === false)
      throw new BreakglassError(
        "RUN_PREFLIGHT_FAILED",
        response.source,
        `not sent to AWS: the preflight rejected it (${verdict.summary})`,
      );
    const { roleArn, providerArn } = roleOf(response.xml, response.source);
    const sessionName = attributeValues(response.xml, SESSION_NAME_ATTRIBUTE)[0] ?? null;
    const declared = await services.emergency.declareIncident(
      `breakglass drill (live): AssumeRoleWithSAML into ${roleArn} by ${actor.label}`,
      actor,
    );
    say(`drill window ${declared.incident} opened`);
    let result: SamlFederationResult | null = null;
    let error: string | null = null;
    try {
      result = await assumeRoleWithSaml({
        region: config.aws?.region ?? dependencies.defaultRegion,
        roleArn,
        providerArn,
        samlResponse: response.base64,
        durationSeconds: LIVE_DRILL_SESSION_SECONDS,
      });
      say(`AssumeRoleWithSAML: ${result.assumedRoleArn} until ${result.expiration}`);
    } catch (failure) {
      error = describeError(failure);
      say(`AssumeRoleWithSAML FAILED: ${error}`);
    } finally {
      await services.emergency.closeIncident(actor, declared.incident);
      say(`drill window ${declared.incident} closed`);
    }
    assume = {
      requested: true,
      roleArn,
      providerArn,
      sessionName,
      sessionNameMarksDrill: sessionName?.startsWith(DRILL_SESSION_PREFIX) ?? false,
      durationSeconds: LIVE_DRILL_SESSION_SECONDS,
      drillWindow: declared.incident,
      result,
      error,
    };
  }

  const passed =
    checkOk &&
    verdict !== null &&
    verdict.available !== false &&
    verdict.accepted &&
    (!assume.requested || assume.result !== null);
  const evidence: LiveDrillEvidence = {
    kind: "breakglass-live-drill",
    by: { person: actor.person, verification: actor.verification },
    startedAt: startedAt.toISOString(),
    finishedAt: clock.now().toISOString(),
    config: request.configPath,
    check: {
      ok: checkOk,
      findings: evaluation.findings.map(({ code, severity, message }) => ({ code, severity, message })),
    },
    preflight: verdict,
    assume,
    auditHeadHash: verifyAudit(services.store.audit).headHash ?? null,
    passed,
  };
  const base = join(
    resolve(request.reportDirectory),
    `breakglass-drill-${startedAt.toISOString().replace(/[:.]/g, "")}`,
  );
  const outcome = { passed, evidence, markdownPath: `${base}.md`, jsonPath: `${base}.json` };
  writeFileSync(outcome.jsonPath, `${JSON.stringify(evidence, null, 2)}\n`);
  writeFileSync(outcome.markdownPath, evidenceMarkdown(evidence));
  say(`evidence: ${outcome.markdownPath} and ${outcome.jsonPath}`);
  say(passed ? "Live drill passed." : "Live drill NOT passed: see the evidence report.");
  return outcome;
}

/** The response as given (a file or stdin), XML or base64, checked to be a SAML Response; both forms returned. */
export function readSamlResponse(source: string, readStdin: () => string): SamlResponseText {
  const name = source === "-" ? "stdin" : source;
  let text: string;
  try {
    text = (source === "-" ? readStdin() : readFileSync(source, "utf8")).trim();
  } catch (error) {
    throw new BreakglassError("INPUT_UNREADABLE", name, describeError(error), { cause: error });
  }
  if (text === "") throw new BreakglassError("INPUT_EMPTY", name, "is empty: expected a SAML Response, XML or base64");
  const xml = text.startsWith("<") ? text : Buffer.from(text, "base64").toString("utf8");
  if (!/<(?:\w+:)?Response[\s>]/.test(xml))
    throw new BreakglassError("INPUT_ENCODING", name, "is not a SAML Response (XML or its base64)");
  return {
    xml,
    base64: text.startsWith("<") ? Buffer.from(text, "utf8").toString("base64") : text.replace(/\s+/g, ""),
    source,
  };
}

/** The role and provider the response asserts (`roleArn,providerArn` in either order); the first pair wins. */
function roleOf(xml: string, input: string): { roleArn: string; providerArn: string } {
  for (const value of attributeValues(xml, ROLE_ATTRIBUTE)) {
    const parts = value.split(",").map((part) => part.trim());
    const roleArn = parts.find((part) => /^arn:aws[\w-]*:iam::\d{12}:role\//.test(part));
    const providerArn = parts.find((part) => /^arn:aws[\w-]*:iam::\d{12}:saml-provider\//.test(part));
    if (roleArn && providerArn) return { roleArn, providerArn };
  }
  throw new BreakglassError(
    "INPUT_ENCODING",
    input,
    `asserts no role: expected ${ROLE_ATTRIBUTE} = roleArn,providerArn`,
  );
}

function attributeValues(xml: string, name: string): string[] {
  const attribute = new RegExp(
    `<(?:\\w+:)?Attribute\\b[^>]*Name="${name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}"[^>]*>([\\s\\S]*?)</(?:\\w+:)?Attribute>`,
  ).exec(xml);
  if (!attribute) return [];
  return [...(attribute[1] ?? "").matchAll(/<(?:\w+:)?AttributeValue\b[^>]*>([^<]*)</g)].map((match) =>
    (match[1] ?? "").trim(),
  );
}

const summary = (findings: readonly Finding[]) =>
  findings.length === 0 ? "no findings" : findings.map((finding) => `${finding.code} ${finding.severity}`).join(", ");

function verdictText(verdict: PreflightVerdict): string {
  if (verdict.available === false) return `${verdict.summary} (not counted as passing)`;
  return verdict.accepted ? `accepted (${verdict.summary})` : `REJECTED: ${verdict.summary}`;
}

function evidenceMarkdown(evidence: LiveDrillEvidence): string {
  const lines = [
    "# breakglass live drill: evidence",
    "",
    `- **Result**: ${evidence.passed ? "passed" : "NOT passed"}`,
    `- **By**: ${evidence.by.person} (${evidence.by.verification})`,
    `- **When**: ${evidence.startedAt} to ${evidence.finishedAt}`,
    `- **Configuration**: ${evidence.config}`,
    `- **Audit head hash**: ${evidence.auditHeadHash ?? "(empty log)"}`,
    "",
    "## Check",
    "",
    evidence.check.ok ? "Nothing high or critical." : "High or critical findings:",
    "",
    ...evidence.check.findings.map((finding) => `- ${finding.code} (${finding.severity}): ${finding.message}`),
    "",
    "## SAML response preflight",
    "",
    evidence.preflight === null ? "No response given: not checked." : verdictText(evidence.preflight),
    "",
    "## AssumeRoleWithSAML",
    "",
  ];
  if (!evidence.assume.requested) lines.push("Not requested (run with --assume to test it).");
  else {
    const assume = evidence.assume;
    lines.push(
      `- Role ${assume.roleArn} through ${assume.providerArn}, ${assume.durationSeconds} s, inside drill window ${assume.drillWindow}`,
      `- Session name ${assume.sessionName ?? "(none)"}` +
        (assume.sessionNameMarksDrill
          ? ""
          : ` (does not start with ${DRILL_SESSION_PREFIX}: set it in the IdP's test app so CloudTrail shows a drill)`),
      assume.result
        ? `- Credentials issued: ${assume.result.assumedRoleArn}, access key ${assume.result.accessKeyIdPrefix}…, until ${assume.result.expiration}`
        : `- FAILED: ${assume.error ?? "no answer"}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Judges a response against the emergency providers `config` names (`breakglass saml preflight`'s use case, read from
 * AWS), as one verdict line: unusable input or AWS unreadable is a failed preflight, never a pass.
 */
export async function preflightAgainstEmergencyProviders(
  config: BreakglassConfig,
  responseXml: string,
  now: Date,
): Promise<PreflightVerdict> {
  const account = config.aws?.emergencyAccount;
  if (!account?.samlProviders) {
    return {
      accepted: false,
      available: false,
      summary: "no aws.emergencyAccount.samlProviders in the configuration to check against",
    };
  }
  const [{ preflightSamlResponse }, { awsEmergencyAccountReader }] = await Promise.all([
    import("./saml-preflight.js"),
    import("./saml-preflight-aws.js"),
  ]);
  try {
    const report = await preflightSamlResponse(
      { bytes: Buffer.from(responseXml, "utf8"), input: "the IdP's response" },
      {
        kind: "aws",
        providerArns: account.samlProviders,
        reader: awsEmergencyAccountReader({ region: config.aws?.region, roleArn: account.roleArn }),
      },
      { now },
    );
    if (!report.accepted)
      return {
        accepted: false,
        summary: report.findings.map((finding) => `${finding.code}: ${finding.message}`).join("; "),
      };
    const signer = report.facts.signingCertificateSha256?.slice(0, 16) ?? "?";
    return {
      accepted: true,
      summary: `signature by the provider's certificate ${signer}…, audience, times and role checked against ${report.facts.provider}`,
    };
  } catch (error) {
    return { accepted: false, summary: error instanceof BreakglassError ? error.message : describeError(error) };
  }
}
