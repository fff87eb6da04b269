// `breakglass check`: the whole emergency-access posture — IdP metadata and every AWS check the config enables — as one report.
import { SingleBar } from "cli-progress";
import pc from "picocolors";
import { isBlocking } from "../domain/checks/finding.js";
import { loadConfig, resolveConfigPath } from "../config/load-config.js";
import { evaluatePosture, type PostureEvaluation } from "../application/evaluate-posture.js";
import { defaultCacheDirectory, FileInspectionCache } from "../adapters/store/file-inspection-cache.js";
import { openStore } from "../adapters/store/open-store.js";
import { checkReportJson } from "./check-report-json.js";
import { checkReportText } from "./check-report-text.js";
import { planChecks } from "../application/check-plan.js";
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
  const store =
    plan.scope?.checks.has("identity-center") || plan.runnable.has("emergency-groups")
      ? openStore(config.store)
      : undefined;
  const progress =
    io.stderrIsTty && !options.json
      ? new SingleBar({ format: "accounts {bar} {value}/{total}", stream: process.stderr, clearOnComplete: true })
      : undefined;
  let evaluation: PostureEvaluation;
  try {
    evaluation = await evaluatePosture(config, plan, {
      now,
      cache: new FileInspectionCache(defaultCacheDirectory(io.env)),
      latestAttestation: (instanceArn) => store?.attestations.latestAttestation(instanceArn) ?? null,
      env: io.env,
      leased: (groupId, userId) => store?.leases.activeLease(groupId, userId) != null,
      onAccountProgress: (done, total) => {
        if (done === 0) progress?.start(total, 0);
        else progress?.update(done);
      },
    });
  } finally {
    progress?.stop();
    store?.close();
  }
  const { findings, facts, idp } = evaluation;

  const ok = !findings.some(isBlocking);
  if (options.json) {
    io.stdout(
      `${JSON.stringify(checkReportJson({ ok, findings, facts, idp, notChecked: plan.notChecked, now }), null, 2)}\n`,
    );
  } else {
    const colors = pc.createColors(io.stdoutIsTty && !io.env["NO_COLOR"]);
    io.stdout(
      checkReportText({
        configPath,
        findings,
        notChecked: plan.notChecked,
        runnable: plan.runnable,
        now,
        colors,
        facts,
      }),
    );
  }
  return ok ? EXIT.ok : EXIT.findings;
}
