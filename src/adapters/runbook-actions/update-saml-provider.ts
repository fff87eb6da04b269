// iam.update-saml-provider: re-imports the run's metadata-file (or a saved earlier document) into each emergency IAM
// SAML provider, compared and verified by signing-certificate fingerprints.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, isAbsolute } from "node:path";
import { SimulatePrincipalPolicyCommand, UpdateSAMLProviderCommand, type IAMClient } from "@aws-sdk/client-iam";
import type { ActingPrincipal } from "../aws/action-principal.js";
import type { AwsClients, Credentials } from "../aws/aws-clients.js";
import { readSamlProvider } from "../aws/iam-reader.js";
import { awsErrorCode } from "../aws/aws-error.js";
import { describeFactError } from "../../domain/checks/fact-error.js";
import { documentSigningCertificates, isIdentityProvider } from "../../domain/checks/signing-certificates.js";
import type { CertificateFacts } from "../../domain/saml/certificate.js";
import { judgeKeyContinuity } from "../../domain/saml/key-continuity.js";
import type { MetadataSigner } from "../../domain/saml/metadata-signature.js";
import { loadMetadataSigner } from "../metadata/metadata-signer.js";
import { BreakglassError, describeError, kindOf } from "../../domain/errors.js";
import type { SavedDocuments } from "../../domain/ports/artefact-store.js";
import { inspectMetadataText } from "../../domain/saml/inspect-metadata.js";
import type {
  ActionExecutor,
  ActionParameters,
  ActionPreflight,
  ActionPlan,
  PlannedChange,
  RunContext,
  Verification,
} from "../../domain/runbooks/engine-ports.js";
import { optionalList, optionalText } from "./action-parameters.js";

export interface UpdateSamlProviderOptions {
  readonly clients: AwsClients;
  /**
   * Who the providers are read and updated as (aws.emergencyAccount.actionRoleArn, or the default chain), checked to be
   * in the emergency account each time; every message about AWS names it.
   */
  readonly principal: () => Promise<ActingPrincipal>;
  /** The configured emergency providers (aws.emergencyAccount.samlProviders): the default, and the only ones a step may name. */
  readonly providerArns: readonly string[];
  /**
   * Where each provider's document is saved before it is replaced (`<directory>/<run>/<step>-previous-<provider>.xml`),
   * so that a rollback can put it back; the only place a step's `document` parameter may name a file in.
   */
  readonly savedDirectory?: string;
  /**
   * The store each saved document is kept in too, before the provider is changed; a step's `document` is read through
   * it, so that a rollback executed on another host (bob's laptop, another serve replica) puts back the same bytes.
   */
  readonly savedDocuments?: SavedDocuments;
  /**
   * The pinned metadata signer (idp.metadataSigner, a PEM file): a full key change in a document it signed needs no typed
   * fingerprint from the approver.
   */
  readonly metadataSignerPath?: string;
}

const ACTION = "iam.update-saml-provider";
/** A denied or failed simulation is a fact, not a wait: one retry at most. */
const SIMULATE_ATTEMPTS = 2;

interface MetadataArtefact {
  readonly path: string;
  readonly text: string;
  /** Sorted SHA-256 fingerprints of the document's signing certificates. */
  readonly fingerprints: readonly string[];
  readonly certificates: readonly CertificateFacts[];
  /** Every IdP entity's signature verified against the pinned metadata signer. */
  readonly signedByPinnedSigner: boolean;
  /** A document breakglass saved from a provider (a rollback's), not the IdP's: its keys were trusted before. */
  readonly saved: boolean;
}

interface ProviderState {
  readonly arn: string;
  /** Sorted fingerprints of what IAM holds; null when IAM's document cannot be inspected. */
  readonly fingerprints: readonly string[] | null;
  /** The document IAM holds, as it returned it. */
  readonly document: string | null;
}

interface Actor {
  readonly principal: ActingPrincipal;
  readonly iam: IAMClient;
}

export function updateSamlProviderExecutor(options: UpdateSamlProviderOptions): ActionExecutor {
  const { clients, principal, providerArns, savedDirectory, savedDocuments, metadataSignerPath } = options;
  let signer: Promise<MetadataSigner> | undefined;
  const pinnedSigner = () => {
    if (metadataSignerPath === undefined) return Promise.resolve(undefined);
    signer ??= loadMetadataSigner(metadataSignerPath);
    return signer;
  };
  const iamClients = new Map<Credentials, IAMClient>();
  const actor = async (): Promise<Actor> => {
    const resolved = await principal();
    let iam = iamClients.get(resolved.credentials);
    if (iam === undefined) {
      iam = clients.iam(resolved.credentials);
      iamClients.set(resolved.credentials, iam);
    }
    return { principal: resolved, iam };
  };

  const readProvider = async ({ principal: acting, iam }: Actor, arn: string): Promise<ProviderState> => {
    const facts = await readSamlProvider(clients, iam, arn);
    if (facts.status === "missing")
      throw new BreakglassError(
        "AWS_NOT_FOUND",
        arn,
        `no such IAM SAML provider in account ${acting.accountId} ` +
          `(iam:GetSAMLProvider as ${acting.description} answered NoSuchEntity)`,
      );
    if (facts.status === "error")
      throw new BreakglassError(
        awsErrorCode(facts.error),
        arn,
        `cannot read the IAM SAML provider as ${acting.description}: ${describeFactError(facts.error)}`,
      );
    return {
      arn,
      fingerprints: facts.metadataDocument === null ? null : heldFingerprints(facts.metadataDocument, arn),
      document: facts.metadataDocument,
    };
  };
  const readWanted = async (parameters: ActionParameters, context: RunContext) =>
    readDocument(parameters, context, options, await pinnedSigner());
  const savedPath = (arn: string, context: RunContext) =>
    savedDirectory === undefined ? undefined : previousDocumentPath(savedDirectory, context, arn);

  return {
    async preflight(parameters): Promise<ActionPreflight> {
      let providers: string[];
      let acting: Actor;
      try {
        providers = selectProviders(parameters, providerArns);
        acting = await actor();
      } catch (error) {
        return { facts: [], problems: [problemOf(error)] };
      }
      const facts = [`applied as ${acting.principal.description}`];
      const problems: string[] = [];
      for (const arn of providers) {
        try {
          await readProvider(acting, arn);
        } catch (error) {
          problems.push(problemOf(error));
        }
      }
      const simulated = await simulateUpdate(clients, acting.principal, providers);
      facts.push(...simulated.facts);
      problems.push(...simulated.problems);
      return { facts, problems };
    },

    async plan(parameters, context): Promise<ActionPlan> {
      const artefact = await readWanted(parameters, context);
      const acting = await actor();
      const states = await Promise.all(
        selectProviders(parameters, providerArns).map((arn) => readProvider(acting, arn)),
      );
      const changes: PlannedChange[] = states
        .filter((state) => !sameFingerprints(state.fingerprints, artefact.fingerprints))
        .map((state) => {
          const change = {
            target: state.arn,
            before: describeFingerprints(state.fingerprints),
            after: describeFingerprints(artefact.fingerprints),
          };
          // Recorded in the plan, so that a rollback finds the file apply saves just before it replaces the document.
          const saved = state.document === null ? undefined : savedPath(state.arn, context);
          return saved === undefined ? change : { ...change, savedBefore: saved };
        });
      if (changes.length === 0) {
        return {
          summary:
            `every provider already holds the signing certificates of ${artefact.path} ` +
            `(${describeFingerprints(artefact.fingerprints)}), read as ${acting.principal.description}`,
          changes,
          alreadyDone: true,
        };
      }
      const changing = states.filter((state) => changes.some((change) => change.target === state.arn));
      const summary =
        `import ${artefact.path} into ${changes.map((change) => change.target).join(", ")}, ` +
        `applied as ${acting.principal.description}`;
      // A rollback puts back a document a provider held: its keys were trusted before, so no continuity is asked of it.
      if (artefact.saved) return { summary, changes, alreadyDone: false };
      const keyContinuity = judgeKeyContinuity({
        providers: changing.map((state) => ({ arn: state.arn, fingerprints: state.fingerprints })),
        incoming: artefact.certificates,
        signedByPinnedSigner: artefact.signedByPinnedSigner,
      });
      return { summary, changes, alreadyDone: false, keyContinuity };
    },

    async apply(_plan, parameters, context) {
      const artefact = await readWanted(parameters, context);
      const acting = await actor();
      for (const arn of selectProviders(parameters, providerArns)) {
        // Read again rather than trust the plan: a resumed run updates only the providers that still differ.
        const state = await readProvider(acting, arn);
        if (sameFingerprints(state.fingerprints, artefact.fingerprints)) continue;
        const saved = savedPath(arn, context);
        if (saved !== undefined && state.document !== null) {
          await saveDocument(saved, state.document);
          savedDocuments?.keep(saved);
        }
        try {
          await clients.call("iam", () =>
            acting.iam.send(
              new UpdateSAMLProviderCommand({ SAMLProviderArn: arn, SAMLMetadataDocument: artefact.text }),
            ),
          );
        } catch (error) {
          throw new BreakglassError(
            awsErrorCode(error),
            arn,
            `iam:UpdateSAMLProvider as ${acting.principal.description} failed: ${describeError(error)}`,
            { cause: error },
          );
        }
      }
      return {};
    },

    async verify(parameters, context): Promise<Verification> {
      const artefact = await readWanted(parameters, context);
      const acting = await actor();
      const states = await Promise.all(
        selectProviders(parameters, providerArns).map((arn) => readProvider(acting, arn)),
      );
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
        detail:
          `${states.map((state) => state.arn).join(", ")} hold the signing certificates of ${artefact.path} ` +
          `(${describeFingerprints(artefact.fingerprints)})`,
      };
    },
  };
}

/** A preflight problem from an error: what a person reads; an unreachable AWS stops the start instead (retry later). */
function problemOf(error: unknown): string {
  if (!(error instanceof BreakglassError) || kindOf(error) === "unavailable" || kindOf(error) === "internal")
    throw error;
  return error.message;
}

/**
 * Proves with iam:SimulatePrincipalPolicy that the acting principal's policies allow iam:UpdateSAMLProvider on each
 * provider. A simulation that cannot be made (the principal may not call it, root, an unreachable IAM) is said as a
 * fact, never a pass: the permission is then proven only when the change applies.
 */
async function simulateUpdate(
  clients: AwsClients,
  acting: ActingPrincipal,
  providers: readonly string[],
): Promise<{ facts: string[]; problems: string[] }> {
  const couldNot = (why: string) => ({
    facts: [`could not simulate: ${why}; the permission is proven only when the change applies`],
    problems: [],
  });
  if (acting.policySourceArn === undefined)
    return couldNot(`${acting.callerArn} is not an IAM user or role whose policies the simulator can judge`);
  const iam = clients.iamWithAttempts(acting.credentials, SIMULATE_ATTEMPTS);
  const decisions = new Map<string, string>();
  try {
    let marker: string | undefined;
    do {
      const page = await clients.call("iam", () =>
        iam.send(
          new SimulatePrincipalPolicyCommand({
            PolicySourceArn: acting.policySourceArn,
            ActionNames: ["iam:UpdateSAMLProvider"],
            ResourceArns: [...providers],
            ...(marker === undefined ? {} : { Marker: marker }),
          }),
        ),
      );
      for (const result of page.EvaluationResults ?? []) {
        // One result per action, each resource's decision in ResourceSpecificResults (older answers: one per resource).
        const specific = result.ResourceSpecificResults ?? [];
        if (specific.length > 0) {
          for (const each of specific)
            if (each.EvalResourceName && each.EvalResourceDecision)
              decisions.set(each.EvalResourceName, each.EvalResourceDecision);
        } else if (result.EvalResourceName && result.EvalDecision) {
          decisions.set(result.EvalResourceName, result.EvalDecision);
        }
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker !== undefined);
  } catch (error) {
    return couldNot(`iam:SimulatePrincipalPolicy as ${acting.description} failed: ${describeError(error)}`);
  } finally {
    iam.destroy();
  }
  const facts: string[] = [];
  const problems: string[] = [];
  for (const arn of providers) {
    const decision = decisions.get(arn) ?? decisions.get("*");
    if (decision === "allowed") facts.push(`can update ${arn} (simulated)`);
    else
      problems.push(
        `${acting.description} may not iam:UpdateSAMLProvider on ${arn} (simulated: ${decision ?? "no answer"}); ` +
          "grant it with iam/action-role-policy.json",
      );
  }
  return { facts, problems };
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

/** `<directory>/<run>/<step>-previous-<provider name>-<hash of the ARN>.xml`: one file per provider and step, stable across retries. */
export function previousDocumentPath(
  directory: string,
  context: Pick<RunContext, "runId" | "stepId">,
  arn: string,
): string {
  const name = (arn.split("/").pop() ?? "provider").replace(/[^A-Za-z0-9_.-]+/g, "-").slice(0, 40);
  const digest = createHash("sha256").update(arn, "utf8").digest("hex").slice(0, 8);
  return join(directory, context.runId, `${context.stepId}-previous-${name}-${digest}.xml`);
}

/**
 * Keeps the document a provider held, mode 0600, unless an earlier attempt of the same step already did: after a crash
 * in the middle of apply the provider may already hold the new document, and the first copy is the one from before.
 */
async function saveDocument(path: string, document: string): Promise<void> {
  if (existsSync(path)) return;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(path, document, { encoding: "utf8", mode: 0o600, flag: "wx" });
  } catch (error) {
    if (existsSync(path)) return;
    throw new BreakglassError(
      "STORE_FAILED",
      path,
      `cannot save the provider's metadata document before replacing it: ${describeError(error)}; nothing was changed`,
      { cause: error },
    );
  }
}

/** A file name previousDocumentPath makes: `<step>-previous-<provider name>-<8 hex digits of the ARN's hash>.xml`. */
const PREVIOUS_DOCUMENT_NAME = /^.+-previous-.+-[0-9a-f]{8}\.xml$/;

/**
 * The step's `document` when it names one, else the run's metadata-file. Only a document breakglass saved is read: a
 * file under this host's artefact folder, or (with a store) one recorded on any host as `<folder>/<run>/<saved name>`,
 * read from the store's copy of it.
 */
async function readDocument(
  parameters: ActionParameters,
  context: RunContext,
  saving: Pick<UpdateSamlProviderOptions, "savedDirectory" | "savedDocuments">,
  signer: MetadataSigner | undefined,
): Promise<MetadataArtefact> {
  const document = optionalText(ACTION, parameters, "document");
  if (document === undefined) return readArtefact(context, signer);
  const { savedDirectory, savedDocuments } = saving;
  const inside = savedDirectory === undefined ? undefined : relative(resolve(savedDirectory), resolve(document));
  const onThisHost = inside !== undefined && inside !== "" && !inside.startsWith("..") && !isAbsolute(inside);
  const savedOnAnyHost = savedDocuments !== undefined && PREVIOUS_DOCUMENT_NAME.test(basename(document));
  if (!onThisHost && !savedOnAnyHost) {
    throw new BreakglassError(
      "USAGE",
      `${ACTION} parameter "document"`,
      `${document} is not a document breakglass saved (only files under ${savedDirectory ?? "its artefact directory"} are imported)`,
    );
  }
  const local = savedDocuments === undefined ? document : savedDocuments.resolve(document);
  return { ...(await readMetadataFile(local, "the saved metadata document", undefined)), saved: true };
}

async function readArtefact(context: RunContext, signer: MetadataSigner | undefined): Promise<MetadataArtefact> {
  const path = context.artefacts["metadata-file"];
  if (path === undefined) {
    throw new BreakglassError(
      "RUNBOOK_INVALID",
      `${ACTION} artefact "metadata-file"`,
      "the run has no metadata-file: a check step with produces: metadata-file must come first and succeed",
    );
  }
  return readMetadataFile(path, "the run's metadata-file", signer);
}

async function readMetadataFile(
  path: string,
  what: string,
  signer: MetadataSigner | undefined,
): Promise<MetadataArtefact> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new BreakglassError("INPUT_UNREADABLE", path, `cannot read ${what}: ${describeError(error)}`, {
      cause: error,
    });
  }
  const inspection = inspectMetadataText(text, path, { signer });
  const certificates = documentSigningCertificates(inspection);
  const fingerprints = certificates.map((certificate) => certificate.sha256).sort();
  if (fingerprints.length === 0)
    throw new BreakglassError(
      "METADATA_NO_SIGNING_CERTIFICATE",
      path,
      `${what} has no readable IdP signing certificate; importing it would break every sign-in`,
    );
  const identityProviders = inspection.entities.filter(isIdentityProvider);
  const signedByPinnedSigner =
    inspection.signerPinned &&
    identityProviders.length > 0 &&
    identityProviders.every((entity) => entity.signature.valid === true && entity.signature.key === "pinned");
  return { path, text, fingerprints, certificates, signedByPinnedSigner, saved: false };
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
