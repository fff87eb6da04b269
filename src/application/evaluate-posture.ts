// Runs the checks a plan enables — IdP metadata, then the AWS posture — and returns the findings and facts; shared by `check` and runbooks.
import { AwsClients, DEFAULT_AWS_SETTINGS, type AwsSettings } from "../adapters/aws/aws-clients.js";
import { gatherPosture } from "../adapters/aws/gather-posture.js";
import { createFinding, type Finding } from "../domain/checks/finding.js";
import { checkReadsFrom } from "../domain/checks/check-registry.js";
import { judgeChecks } from "../domain/checks/posture-checks.js";
import type { Attestation, PostureFacts } from "../domain/checks/posture-facts.js";
import type { BreakglassConfig } from "../config/config-schema.js";
import { BreakglassError, isBreakglassError } from "../domain/errors.js";
import { inspectMetadataBytes } from "../domain/saml/inspect-metadata.js";
import { DEFAULT_FETCH_OPTIONS, fetchMetadata } from "../adapters/metadata/metadata-fetch.js";
import type { MetadataInspection } from "../domain/saml/metadata-model.js";
import { loadMetadataSigner } from "../adapters/metadata/metadata-signer.js";
import {
  inspectMetadataSource,
  isUrl,
  readMetadataFile,
  type InspectionCache,
} from "../adapters/metadata/metadata-source.js";
import { redactUrl } from "../domain/shared/redact-url.js";
import type { CheckPlan } from "./check-plan.js";
import type { EmergencyGroupFacts } from "../domain/checks/emergency-groups.js";
import { gatherEmergencyGroups, type LeaseLookup } from "../adapters/idp/gather-emergency-groups.js";
import { missingGroupApi, openGroupDirectory } from "./idp-group-api.js";

export interface PostureEvaluation {
  readonly findings: Finding[];
  readonly facts: PostureFacts | undefined;
  readonly idp: MetadataInspection | undefined;
  /** The IdP metadata exactly as read, when `keepDocument` asked for it and it could be read. */
  readonly document: Buffer | undefined;
  /** What the IdP's group API said of each emergency group, when the emergency-groups check ran. */
  readonly emergencyGroups?: readonly EmergencyGroupFacts[] | undefined;
}

export interface EvaluationOptions {
  readonly now: Date;
  /** Reuses inspections of an unchanged metadata URL (conditional GET); ignored when keepDocument is set. */
  readonly cache?: InspectionCache | undefined;
  /** Read the metadata from this file instead of the configured source (a runbook's metadata-file artefact). */
  readonly metadataOverride?: string | undefined;
  /** Return the document's bytes, so a runbook can keep exactly what was inspected. */
  readonly keepDocument?: boolean;
  readonly latestAttestation: (instanceArn: string) => Attestation | null;
  readonly onAccountProgress?: (done: number, total: number) => void;
  /** Told of every AWS call that failed after its retries. */
  readonly onAwsCallFailed?: AwsSettings["onCallFailed"];
  /** Where the IdP group API's token (or client secret) is looked up, for the emergency-groups check. */
  readonly env?: NodeJS.ProcessEnv;
  /** Whether an active breakglass lease accounts for a member of an emergency group (none when absent). */
  readonly leased?: LeaseLookup;
}

export async function evaluatePosture(
  config: BreakglassConfig,
  plan: CheckPlan,
  options: EvaluationOptions,
): Promise<PostureEvaluation> {
  const findings: Finding[] = [];
  const needsIdp = [...plan.runnable].some((check) => checkReadsFrom(check, "idp"));
  const read = needsIdp ? await readIdpMetadata(config, options, findings) : undefined;
  const idp = read?.inspection;

  let facts: PostureFacts | undefined;
  if (plan.scope) {
    facts = await gatherPosture(plan.scope, {
      clients: new AwsClients({
        ...DEFAULT_AWS_SETTINGS,
        region: config.aws?.region,
        ...(options.onAwsCallFailed ? { onCallFailed: options.onAwsCallFailed } : {}),
      }),
      latestAttestation: options.latestAttestation,
      ...(options.onAccountProgress ? { onAccountProgress: options.onAccountProgress } : {}),
    });
  }
  const emergencyGroups = [...plan.runnable].some((check) => checkReadsFrom(check, "idp-directory"))
    ? await readEmergencyGroups(config, options)
    : undefined;
  findings.push(
    ...judgeChecks(plan.runnable, {
      emergencyGroups,
      facts,
      idp,
      samlProviderArns: plan.scope?.emergencyAccount.samlProviders ?? [],
      emergencyRoleArns: plan.scope?.emergencyAccount.emergencyRoles ?? [],
      identityCenterInstanceArn: plan.scope?.identityCenter?.instanceArn,
      now: options.now,
      warnDays: config.idp.warnDays,
    }),
  );
  return { findings, facts, idp, document: read?.document, emergencyGroups };
}

/** The emergency groups as the IdP's group API shows them; without the API (no token), each is unreadable, saying why. */
async function readEmergencyGroups(
  config: BreakglassConfig,
  options: EvaluationOptions,
): Promise<EmergencyGroupFacts[] | undefined> {
  const names = config.idp.directory?.emergencyGroups;
  if (names === undefined) return undefined;
  const env = options.env ?? {};
  const directory = openGroupDirectory(config.idp.directory, env);
  if (directory === undefined) {
    const error = missingGroupApi(config.idp.directory, env);
    return names.map((name) => ({ name, status: "error", error }));
  }
  return gatherEmergencyGroups(directory, names, options.leased ?? (() => false));
}

/** An IdP whose metadata cannot be fetched is a finding (it is how FM1 begins), not a reason to stop checking AWS. */
async function readIdpMetadata(
  config: BreakglassConfig,
  options: EvaluationOptions,
  findings: Finding[],
): Promise<{ inspection: MetadataInspection; document?: Buffer } | undefined> {
  const source = options.metadataOverride ?? config.idp.metadata;
  try {
    const signer = config.idp.metadataSigner ? await loadMetadataSigner(config.idp.metadataSigner) : undefined;
    const fetch = { ...DEFAULT_FETCH_OPTIONS, allowInsecureHttp: config.idp.insecure };
    if (options.keepDocument) {
      const document = isUrl(source)
        ? await fetchDocument(source, fetch)
        : await readMetadataFile(source, fetch.maxBytes);
      return { inspection: inspectMetadataBytes(document, redactUrl(source), { signer }), document };
    }
    const { inspection } = await inspectMetadataSource(source, { signer, cache: options.cache, fetch });
    return { inspection };
  } catch (error) {
    if (!isBreakglassError(error) || error.code === "SIGNER_UNREADABLE") throw error;
    findings.push(
      createFinding("METADATA_UNREACHABLE", `Could not read the metadata of ${config.idp.name}: ${error.message}.`),
    );
    return undefined;
  }
}

async function fetchDocument(url: string, options: typeof DEFAULT_FETCH_OPTIONS): Promise<Buffer> {
  const result = await fetchMetadata(url, options);
  // Without validators the server cannot answer 304, so this is always the document.
  if (result.kind !== "document")
    throw new BreakglassError("FETCH_FAILED", redactUrl(url), "the server answered 304 to an unconditional request");
  return result.bytes;
}
