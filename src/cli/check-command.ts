// `breakglass check`: the whole emergency-access posture — IdP metadata and every AWS check the config enables — as one report.
import { SingleBar } from "cli-progress";
import pc from "picocolors";
import { AwsClients, DEFAULT_AWS_SETTINGS } from "../aws/aws-clients.js";
import { gatherPosture } from "../aws/gather-posture.js";
import { createFinding, isBlocking, type Finding } from "../checks/finding.js";
import { checkMetadata } from "../checks/metadata-checks.js";
import { checkPosture } from "../checks/posture-checks.js";
import type { PostureFacts } from "../checks/posture-facts.js";
import { loadConfig, resolveConfigPath } from "../config/load-config.js";
import type { BreakglassConfig } from "../config/config-schema.js";
import { isBreakglassError } from "../errors.js";
import type { MetadataInspection } from "../saml/metadata-model.js";
import { loadMetadataSigner } from "../saml/metadata-signer.js";
import { inspectMetadataSource } from "../saml/metadata-source.js";
import { defaultCacheDirectory, FileInspectionCache } from "../store/file-inspection-cache.js";
import { SqliteStore } from "../store/sqlite-store.js";
import { checkReportJson } from "./check-report-json.js";
import { checkReportText } from "./check-report-text.js";
import { planChecks } from "./check-scope.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import { parseInstant } from "./option-parsers.js";

export interface CheckOptions {
  readonly config?: string;
  readonly json?: boolean;
  readonly now?: string;
  readonly only?: string;
}

export async function runCheck(options: CheckOptions, io: CliIo): Promise<number> {
  const now = options.now === undefined ? io.clock.now() : parseInstant(options.now, "--now");
  const configPath = resolveConfigPath(options.config, io.env);
  const { config } = await loadConfig(configPath);
  const plan = planChecks(config, options.only);
  const findings: Finding[] = [];

  const needsIdp = plan.runnable.has("metadata") || plan.runnable.has("saml-providers") || plan.runnable.has("identity-center");
  const idp = needsIdp ? await readIdpMetadata(config, io, findings) : undefined;
  if (idp && plan.runnable.has("metadata")) findings.push(...checkMetadata(idp, { now, warnDays: config.idp.warnDays }));

  let facts: PostureFacts | undefined;
  if (plan.scope) {
    const store = plan.scope.checks.has("identity-center") ? SqliteStore.open(config.store.path) : undefined;
    const progress = io.stderrIsTty && !options.json ? new SingleBar({ format: "accounts {bar} {value}/{total}", stream: process.stderr, clearOnComplete: true }) : undefined;
    try {
      facts = await gatherPosture(plan.scope, {
        clients: new AwsClients({ ...DEFAULT_AWS_SETTINGS, region: config.aws?.region }),
        latestAttestation: (instanceArn) => store?.latestAttestation(instanceArn) ?? null,
        onAccountProgress: (done, total) => {
          if (done === 0) progress?.start(total, 0);
          else progress?.update(done);
        },
      });
    } finally {
      progress?.stop();
      store?.close();
    }
    findings.push(
      ...checkPosture({
        facts,
        enabled: plan.runnable,
        idp,
        samlProviderArns: plan.scope.emergencyAccount.samlProviders,
        emergencyRoleArns: plan.scope.emergencyAccount.emergencyRoles,
        now,
        warnDays: config.idp.warnDays,
      }),
    );
  }

  const ok = !findings.some(isBlocking);
  if (options.json) {
    io.stdout(`${JSON.stringify(checkReportJson({ ok, findings, facts, idp, notChecked: plan.notChecked, now }), null, 2)}\n`);
  } else {
    const colors = pc.createColors(io.stdoutIsTty && !io.env["NO_COLOR"]);
    io.stdout(checkReportText({ configPath, findings, notChecked: plan.notChecked, runnable: plan.runnable, now, colors, facts }));
  }
  return ok ? EXIT.ok : EXIT.findings;
}

/** An IdP whose metadata cannot be fetched is a finding (it is how FM1 begins), not a reason to stop checking AWS. */
async function readIdpMetadata(config: BreakglassConfig, io: CliIo, findings: Finding[]): Promise<MetadataInspection | undefined> {
  try {
    const signer = config.idp.metadataSigner ? await loadMetadataSigner(config.idp.metadataSigner) : undefined;
    const { inspection } = await inspectMetadataSource(config.idp.metadata, {
      signer,
      cache: new FileInspectionCache(defaultCacheDirectory(io.env)),
      fetch: { allowInsecureHttp: config.idp.insecure },
    });
    return inspection;
  } catch (error) {
    if (!isBreakglassError(error) || error.code === "SIGNER_UNREADABLE") throw error;
    findings.push(createFinding("METADATA_UNREACHABLE", `Could not read the metadata of ${config.idp.name}: ${error.message}.`));
    return undefined;
  }
}
