// The drill's SAML preflight: `breakglass saml preflight`'s use case against the emergency provider that the drill's
// configuration names (the loopback organisation's, or, with --live, the real one), as the drill's seam wants it.
import { loadConfig, resolveConfigPath } from "../config/load-config.js";
import { preflightAgainstEmergencyProviders } from "../application/live-drill.js";
import type { PreflightSamlResponse } from "../drill/saml-preflight-seam.js";
import type { CliIo } from "./io.js";

/** Judges a response against the providers of the configuration the drill runs on (its own world's, or `--config`'s). */
export function preflightAgainstConfig(configFlag: string | undefined, io: CliIo): PreflightSamlResponse {
  return async (responseXml, configPath) => {
    const { config } = await loadConfig(configPath ?? resolveConfigPath(configFlag, io.env));
    return preflightAgainstEmergencyProviders(config, responseXml, io.clock.now());
  };
}
