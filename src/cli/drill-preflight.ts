// The drill's SAML preflight: `breakglass saml preflight`'s use case against the emergency provider that the drill's
// configuration names (the loopback organisation's, or, with --live, the real one), as the drill's seam wants it.
import { BreakglassError, describeError } from "../domain/errors.js";
import { loadConfig, resolveConfigPath } from "../config/load-config.js";
import type { PreflightSamlResponse } from "../drill/saml-preflight-seam.js";
import type { CliIo } from "./io.js";

/** Judges a response against the providers of the configuration the drill runs on (its own world's, or `--config`'s). */
export function preflightAgainstConfig(configFlag: string | undefined, io: CliIo): PreflightSamlResponse {
  return async (responseXml, configPath) => {
    const { config } = await loadConfig(configPath ?? resolveConfigPath(configFlag, io.env));
    const account = config.aws?.emergencyAccount;
    if (!account?.samlProviders) {
      return {
        accepted: false,
        available: false,
        summary: "no aws.emergencyAccount.samlProviders in the configuration to check against",
      };
    }
    const [{ preflightSamlResponse }, { awsEmergencyAccountReader }] = await Promise.all([
      import("../application/saml-preflight.js"),
      import("../application/saml-preflight-aws.js"),
    ]);
    try {
      const report = await preflightSamlResponse(
        { bytes: Buffer.from(responseXml, "utf8"), input: "the IdP's response" },
        {
          kind: "aws",
          providerArns: account.samlProviders,
          reader: awsEmergencyAccountReader({ region: config.aws?.region, roleArn: account.roleArn }),
        },
        { now: io.clock.now() },
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
      // Unusable input or AWS unreadable: a failed preflight, said in one line, never a pass.
      return { accepted: false, summary: error instanceof BreakglassError ? error.message : describeError(error) };
    }
  };
}
