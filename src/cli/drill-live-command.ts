// `breakglass drill --live`: a game day against the configured organisation, read-mostly: the whole check, a fresh SAML
// response from the real IdP preflighted, and only with --assume one 15-minute AssumeRoleWithSAML inside a drill
// window; then an evidence report (Markdown and JSON) an auditor can keep.
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { assumeRoleWithSaml, type SamlFederationResult } from "../adapters/aws/saml-federation.js";
import { defaultCacheDirectory, FileInspectionCache } from "../adapters/store/file-inspection-cache.js";
import { planChecks } from "../application/check-plan.js";
import { evaluatePosture } from "../application/evaluate-posture.js";
import { loadConfig, resolveConfigPath } from "../config/load-config.js";
import { verifyAudit } from "../domain/audit/audit-log.js";
import { isBlocking, type Finding } from "../domain/checks/finding.js";
import { BreakglassError, describeError } from "../domain/errors.js";
import type { PreflightSamlResponse, PreflightVerdict } from "../drill/saml-preflight-seam.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import { withActor } from "./runbook-run-command.js";

export interface LiveDrillOptions {
  readonly config?: string;
  readonly as: string;
  readonly dir: string;
  /** The SAML Response: a file, or - for stdin; XML or base64. */
  readonly response?: string;
  readonly assume?: boolean;
  /** Where the evidence report goes (default: the current directory). */
  readonly report?: string;
}

/** Long enough to see the console, short enough that a drill session is gone by the time anyone could misuse it. */
export const LIVE_DRILL_SESSION_SECONDS = 900;
/** What a drill's session name should start with, so that CloudTrail and the watch tell it from a real emergency. */
export const DRILL_SESSION_PREFIX = "breakglass-drill-";
const ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role";
const SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";

interface Evidence {
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
  options: LiveDrillOptions,
  io: CliIo,
  preflight: PreflightSamlResponse,
  readStdin: () => string = () => readFileSync(0, "utf8"),
): Promise<number> {
  if (options.assume && options.response === undefined)
    throw new BreakglassError("USAGE", "--assume", "needs a SAML response to assume with: --response <file|->");
  const response = options.response === undefined ? undefined : readSamlResponse(options.response, readStdin);
  const configPath = resolveConfigPath(options.config, io.env);
  const { config } = await loadConfig(configPath);
  const startedAt = io.clock.now();

  return withActor(options, io, "run", async (services, actor) => {
    io.stdout(`Live drill by ${actor.label} (${actor.verification}) against ${configPath}\n`);
    const evaluation = await evaluatePosture(config, planChecks(config, undefined), {
      now: startedAt,
      cache: new FileInspectionCache(defaultCacheDirectory(io.env)),
      latestAttestation: (instanceArn) => services.store.attestations.latestAttestation(instanceArn),
    });
    const checkOk = !evaluation.findings.some(isBlocking);
    io.stdout(
      `check: ${checkOk ? "nothing high or critical" : "BLOCKING findings"} (${summary(evaluation.findings)})\n`,
    );

    let verdict: PreflightVerdict | null = null;
    if (response !== undefined) {
      verdict = await preflight(response.xml);
      io.stdout(`preflight: ${verdictText(verdict)}\n`);
    } else {
      io.stdout("preflight: no SAML response given (--response <file|->): not checked\n");
    }

    let assume: Evidence["assume"] = { requested: false };
    if (options.assume && response !== undefined) {
      if (verdict?.available !== false && verdict?.accepted === false)
        throw new BreakglassError(
          "RUN_PREFLIGHT_FAILED",
          options.response ?? "-",
          `not sent to AWS: the preflight rejected it (${verdict.summary})`,
        );
      const { roleArn, providerArn } = roleOf(response.xml, options.response ?? "-");
      const sessionName = attributeValues(response.xml, SESSION_NAME_ATTRIBUTE)[0] ?? null;
      const declared = await services.emergency.declareIncident(
        `breakglass drill (live): AssumeRoleWithSAML into ${roleArn} by ${actor.label}`,
        actor,
      );
      io.stdout(`drill window ${declared.incident} opened\n`);
      let result: SamlFederationResult | null = null;
      let error: string | null = null;
      try {
        result = await assumeRoleWithSaml({
          region: config.aws?.region ?? io.env["AWS_REGION"] ?? "us-east-1",
          roleArn,
          providerArn,
          samlResponse: response.base64,
          durationSeconds: LIVE_DRILL_SESSION_SECONDS,
        });
        io.stdout(`AssumeRoleWithSAML: ${result.assumedRoleArn} until ${result.expiration}\n`);
      } catch (failure) {
        error = describeError(failure);
        io.stdout(`AssumeRoleWithSAML FAILED: ${error}\n`);
      } finally {
        await services.emergency.closeIncident(actor, declared.incident);
        io.stdout(`drill window ${declared.incident} closed\n`);
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
    const evidence: Evidence = {
      kind: "breakglass-live-drill",
      by: { person: actor.person, verification: actor.verification },
      startedAt: startedAt.toISOString(),
      finishedAt: io.clock.now().toISOString(),
      config: configPath,
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
      resolve(options.report ?? "."),
      `breakglass-drill-${startedAt.toISOString().replace(/[:.]/g, "")}`,
    );
    writeFileSync(`${base}.json`, `${JSON.stringify(evidence, null, 2)}\n`);
    writeFileSync(`${base}.md`, evidenceMarkdown(evidence));
    io.stdout(`evidence: ${base}.md and ${base}.json\n`);
    io.stdout(passed ? "Live drill passed.\n" : "Live drill NOT passed: see the evidence report.\n");
    return passed ? EXIT.ok : EXIT.findings;
  });
}

/** The response as given (a file or stdin), XML or base64, checked to be a SAML Response; both forms returned. */
function readSamlResponse(source: string, readStdin: () => string): { xml: string; base64: string } {
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

function evidenceMarkdown(evidence: Evidence): string {
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
