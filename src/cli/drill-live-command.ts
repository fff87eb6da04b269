// `breakglass drill --live`: a game day against the configured organisation (the live-drill use case, which serve's
// scheduled drill runs too), by the person --as names, its progress printed as it happens.
import { readFileSync } from "node:fs";
import { defaultCacheDirectory, FileInspectionCache } from "../adapters/store/file-inspection-cache.js";
import { planChecks } from "../application/check-plan.js";
import { evaluatePosture } from "../application/evaluate-posture.js";
import { readSamlResponse, runLiveDrill as runLiveDrillUseCase } from "../application/live-drill.js";
import { loadConfig, resolveConfigPath } from "../config/load-config.js";
import { BreakglassError } from "../domain/errors.js";
import type { PreflightSamlResponse } from "../drill/saml-preflight-seam.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import { withActor } from "./runbook-run-command.js";

export { DRILL_SESSION_PREFIX, LIVE_DRILL_SESSION_SECONDS } from "../application/live-drill.js";

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

  return withActor(options, io, "run", async (services, actor) => {
    const cache = new FileInspectionCache(defaultCacheDirectory(io.env));
    const outcome = await runLiveDrillUseCase(
      {
        config,
        configPath,
        actor,
        ...(response === undefined ? {} : { response }),
        assume: options.assume === true,
        reportDirectory: options.report ?? ".",
      },
      {
        clock: io.clock,
        defaultRegion: io.env["AWS_REGION"] ?? "us-east-1",
        services,
        evaluate: (now) =>
          evaluatePosture(config, planChecks(config, undefined), {
            now,
            cache,
            latestAttestation: (instanceArn) => services.store.attestations.latestAttestation(instanceArn),
          }),
        preflight,
        say: (line) => io.stdout(`${line}\n`),
      },
    );
    return outcome.passed ? EXIT.ok : EXIT.findings;
  });
}
