// `breakglass saml preflight <file|->`: would AWS accept this SAML response for the emergency account? Exit 0/1/2.
import pc from "picocolors";
import { readMetadataFile } from "../adapters/metadata/metadata-source.js";
import { preflightSamlResponse, type ProviderSource } from "../application/saml-preflight.js";
import { loadConfig, resolveConfigPath } from "../config/load-config.js";
import { BreakglassError } from "../domain/errors.js";
import { MAX_SAML_RESPONSE_INPUT_BYTES } from "../domain/saml/saml-response-input.js";
import { DEFAULT_FETCH_OPTIONS } from "../adapters/metadata/metadata-fetch.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import { parseInstant } from "./option-parsers.js";
import { samlPreflightJson } from "./saml-preflight-json.js";
import { samlPreflightText } from "./saml-preflight-text.js";

export interface SamlPreflightOptions {
  readonly role?: string;
  readonly providerMetadata?: string;
  readonly now?: string;
  readonly json?: boolean;
  readonly config?: string;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

export async function runSamlPreflight(source: string, options: SamlPreflightOptions, io: CliIo): Promise<number> {
  const now = options.now === undefined ? io.clock.now() : parseInstant(options.now, "--now");
  if (options.role !== undefined && !ROLE_ARN.test(options.role))
    throw new BreakglassError(
      "USAGE",
      "--role",
      `"${options.role}" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`,
    );
  const bytes = await readResponse(source, io);
  const provider: ProviderSource =
    options.providerMetadata === undefined
      ? await awsProvider(options.config, io)
      : {
          kind: "metadata",
          document: await readMetadataFile(options.providerMetadata, DEFAULT_FETCH_OPTIONS.maxBytes),
          input: options.providerMetadata,
        };
  const report = await preflightSamlResponse({ bytes, input: source }, provider, { now, role: options.role });
  if (options.json) {
    io.stdout(`${JSON.stringify(samlPreflightJson(report, now), null, 2)}\n`);
  } else {
    io.stdout(samlPreflightText(report, pc.createColors(io.stdoutIsTty && !io.env["NO_COLOR"])));
  }
  return report.accepted ? EXIT.ok : EXIT.findings;
}

async function readResponse(source: string, io: CliIo): Promise<Buffer> {
  if (source !== "-") return readMetadataFile(source, MAX_SAML_RESPONSE_INPUT_BYTES);
  if (!io.readStdin) throw new BreakglassError("INPUT_UNREADABLE", "-", "standard input cannot be read here");
  return io.readStdin();
}

async function awsProvider(configFlag: string | undefined, io: CliIo): Promise<ProviderSource> {
  const { config } = await loadConfig(resolveConfigPath(configFlag, io.env));
  const account = config.aws?.emergencyAccount;
  if (!account?.samlProviders) {
    throw new BreakglassError(
      "CONFIG_INVALID",
      "aws.emergencyAccount.samlProviders",
      "no emergency SAML provider is configured to check against; add its ARN, or pass --provider-metadata <file>",
    );
  }
  // Loaded only here: an offline preflight (--provider-metadata) loads no AWS SDK.
  const { awsEmergencyAccountReader } = await import("../application/saml-preflight-aws.js");
  return {
    kind: "aws",
    providerArns: account.samlProviders,
    reader: awsEmergencyAccountReader({ region: config.aws?.region, roleArn: account.roleArn }),
  };
}
