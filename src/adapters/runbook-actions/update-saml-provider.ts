// iam.update-saml-provider: re-imports the run's metadata-file into each emergency IAM SAML provider, compared and verified by signing-certificate fingerprints.
import { readFile } from "node:fs/promises";
import { UpdateSAMLProviderCommand, type IAMClient } from "@aws-sdk/client-iam";
import type { AwsClients, Credentials } from "../aws/aws-clients.js";
import { readSamlProvider } from "../aws/iam-reader.js";
import { awsErrorCode } from "../aws/aws-error.js";
import { describeFactError } from "../../domain/checks/fact-error.js";
import { documentSigningCertificates } from "../../domain/checks/signing-certificates.js";
import { BreakglassError, describeError } from "../../domain/errors.js";
import { inspectMetadataText } from "../../domain/saml/inspect-metadata.js";
import type {
  ActionExecutor,
  ActionParameters,
  ActionPlan,
  PlannedChange,
  RunContext,
  Verification,
} from "../../domain/runbooks/engine-ports.js";
import { optionalList } from "./action-parameters.js";

export interface UpdateSamlProviderOptions {
  readonly clients: AwsClients;
  /** The principal that may update the providers (the emergency account's). */
  readonly credentials: Credentials;
  /** The configured emergency providers (aws.emergencyAccount.samlProviders): the default, and the only ones a step may name. */
  readonly providerArns: readonly string[];
}

const ACTION = "iam.update-saml-provider";

interface MetadataArtefact {
  readonly path: string;
  readonly text: string;
  /** Sorted SHA-256 fingerprints of the document's signing certificates. */
  readonly fingerprints: readonly string[];
}

interface ProviderState {
  readonly arn: string;
  /** Sorted fingerprints of what IAM holds; null when IAM's document cannot be inspected. */
  readonly fingerprints: readonly string[] | null;
}

export function updateSamlProviderExecutor(options: UpdateSamlProviderOptions): ActionExecutor {
  const { clients, credentials, providerArns } = options;
  let iam: IAMClient | undefined;
  const client = () => (iam ??= clients.iam(credentials));

  const readProvider = async (arn: string): Promise<ProviderState> => {
    const facts = await readSamlProvider(clients, client(), arn);
    if (facts.status === "missing")
      throw new BreakglassError(
        "AWS_NOT_FOUND",
        arn,
        "no such IAM SAML provider (iam:GetSAMLProvider answered NoSuchEntity)",
      );
    if (facts.status === "error")
      throw new BreakglassError(
        awsErrorCode(facts.error),
        arn,
        `cannot read the IAM SAML provider: ${describeFactError(facts.error)}`,
      );
    return {
      arn,
      fingerprints: facts.metadataDocument === null ? null : heldFingerprints(facts.metadataDocument, arn),
    };
  };

  return {
    async plan(parameters, context): Promise<ActionPlan> {
      const artefact = await readArtefact(context);
      const states = await Promise.all(selectProviders(parameters, providerArns).map(readProvider));
      const changes: PlannedChange[] = states
        .filter((state) => !sameFingerprints(state.fingerprints, artefact.fingerprints))
        .map((state) => ({
          target: state.arn,
          before: describeFingerprints(state.fingerprints),
          after: describeFingerprints(artefact.fingerprints),
        }));
      if (changes.length === 0) {
        return {
          summary: `every provider already holds the signing certificates of ${artefact.path} (${describeFingerprints(artefact.fingerprints)})`,
          changes,
          alreadyDone: true,
        };
      }
      return {
        summary: `import ${artefact.path} into ${changes.map((change) => change.target).join(", ")}`,
        changes,
        alreadyDone: false,
      };
    },

    async apply(_plan, parameters, context) {
      const artefact = await readArtefact(context);
      for (const arn of selectProviders(parameters, providerArns)) {
        // Read again rather than trust the plan: a resumed run updates only the providers that still differ.
        const state = await readProvider(arn);
        if (sameFingerprints(state.fingerprints, artefact.fingerprints)) continue;
        try {
          await clients.call("iam", () =>
            client().send(new UpdateSAMLProviderCommand({ SAMLProviderArn: arn, SAMLMetadataDocument: artefact.text })),
          );
        } catch (error) {
          throw new BreakglassError(
            awsErrorCode(error),
            arn,
            `iam:UpdateSAMLProvider failed: ${describeError(error)}`,
            { cause: error },
          );
        }
      }
      return {};
    },

    async verify(parameters, context): Promise<Verification> {
      const artefact = await readArtefact(context);
      const states = await Promise.all(selectProviders(parameters, providerArns).map(readProvider));
      const differing = states.filter((state) => !sameFingerprints(state.fingerprints, artefact.fingerprints));
      if (differing.length > 0) {
        const detail = differing
          .map((state) => `${state.arn} holds ${describeFingerprints(state.fingerprints)}`)
          .join("; ");
        return {
          ok: false,
          detail: `${detail}; expected the signing certificates of ${artefact.path}: ${describeFingerprints(artefact.fingerprints)}`,
        };
      }
      return {
        ok: true,
        detail: `${states.map((state) => state.arn).join(", ")} hold the signing certificates of ${artefact.path} (${describeFingerprints(artefact.fingerprints)})`,
      };
    },
  };
}

/** The step's providers: all configured ones by default; a provider outside the configuration is refused. */
function selectProviders(parameters: ActionParameters, configured: readonly string[]): string[] {
  const named = optionalList(ACTION, parameters, "providers");
  if (named === undefined) {
    if (configured.length === 0)
      throw new BreakglassError(
        "USAGE",
        `${ACTION} parameter "providers"`,
        "none given and none configured in aws.emergencyAccount.samlProviders",
      );
    return [...configured];
  }
  const unknown = named.filter((arn) => !configured.includes(arn));
  if (unknown.length > 0) {
    throw new BreakglassError(
      "USAGE",
      `${ACTION} parameter "providers"`,
      `${unknown.join(", ")} not among the configured emergency providers (${configured.join(", ") || "none"})`,
    );
  }
  return named;
}

async function readArtefact(context: RunContext): Promise<MetadataArtefact> {
  const path = context.artefacts["metadata-file"];
  if (path === undefined) {
    throw new BreakglassError(
      "RUNBOOK_INVALID",
      `${ACTION} artefact "metadata-file"`,
      "the run has no metadata-file: a check step with produces: metadata-file must come first and succeed",
    );
  }
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new BreakglassError(
      "INPUT_UNREADABLE",
      path,
      `cannot read the run's metadata-file: ${describeError(error)}`,
      { cause: error },
    );
  }
  const fingerprints = documentSigningCertificates(inspectMetadataText(text, path))
    .map((certificate) => certificate.sha256)
    .sort();
  if (fingerprints.length === 0)
    throw new BreakglassError(
      "METADATA_NO_SIGNING_CERTIFICATE",
      path,
      "the run's metadata-file has no readable IdP signing certificate; importing it would break every sign-in",
    );
  return { path, text, fingerprints };
}

function heldFingerprints(document: string, arn: string): string[] | null {
  try {
    return documentSigningCertificates(inspectMetadataText(document, arn))
      .map((certificate) => certificate.sha256)
      .sort();
  } catch {
    // A document breakglass cannot read is one to replace, not a reason to stop.
    return null;
  }
}

function sameFingerprints(held: readonly string[] | null, wanted: readonly string[]): boolean {
  return (
    held !== null && held.length === wanted.length && held.every((fingerprint, index) => fingerprint === wanted[index])
  );
}

function describeFingerprints(fingerprints: readonly string[] | null): string {
  if (fingerprints === null) return "a document breakglass cannot inspect";
  if (fingerprints.length === 0) return "no signing certificate";
  return `signing certificates sha256 ${fingerprints.join(", ")}`;
}
