// The SAML assertion preflight: would AWS accept this SAML response for direct federation into the emergency account?
//
// One use case for every front end (`breakglass saml preflight`, fm3's confirm-sign-in step, Slack, the drill):
//
//   const report = await preflightSamlResponse({ bytes, input }, provider, { now, role });
//   report.accepted  // true: AWS would accept it (exit 0); false: report.findings say why (exit 1)
//
// It throws a BreakglassError (kind "usage", exit 2) for input it cannot judge at all: not a SAML response, hostile
// XML (a DTD, entities, runaway nesting), an encrypted assertion, or provider metadata without a signing certificate.
import type { Finding } from "../domain/checks/finding.js";
import { describeFactError } from "../domain/checks/fact-error.js";
import type { RoleFacts, SamlProviderFacts } from "../domain/checks/posture-facts.js";
import { BreakglassError } from "../domain/errors.js";
import { readProviderKeys, type ProviderKeys } from "../domain/saml/saml-provider-keys.js";
import { assertionOf, readResponseFacts } from "../domain/saml/saml-response-facts.js";
import { decodeSamlResponseInput } from "../domain/saml/saml-response-input.js";
import {
  DEFAULT_CLOCK_SKEW_SECONDS,
  inspectSamlResponse,
  judgeSamlResponse,
  rolesToJudge,
  type RoleRead,
  type RoleVerdict,
} from "../domain/saml/saml-response-preflight.js";
import { decodeXmlBytes } from "../domain/saml/xml-text.js";
import { parseXmlDocument } from "../domain/saml/xml-document.js";
import { assertSafeXml } from "../domain/saml/xml-safety.js";

/** The response as given: its bytes (XML, base64 or URL-encoded base64) and what to call it in errors. */
export interface SamlResponseSource {
  readonly bytes: Uint8Array;
  /** A file path, "-" for standard input, or a description such as "the pasted response". */
  readonly input: string;
}

/** What IAM says about the emergency account: the provider's metadata and the roles a response names. */
export interface EmergencyAccountReader {
  readSamlProvider(arn: string): Promise<SamlProviderFacts>;
  readRole(arn: string): Promise<RoleFacts>;
}

/** Where the trusted signing certificates come from. */
export type ProviderSource =
  /** The emergency IAM SAML provider(s) in AWS: the one the response's Role attribute names, else the first. */
  | { readonly kind: "aws"; readonly providerArns: readonly string[]; readonly reader: EmergencyAccountReader }
  /** A metadata document (--provider-metadata): offline; the checks that need AWS are skipped. */
  | { readonly kind: "metadata"; readonly document: Uint8Array; readonly input: string };

export interface PreflightOptions {
  readonly now: Date;
  /** Judge only this role of the Role attribute (--role); otherwise each one is judged. */
  readonly role?: string | undefined;
  readonly clockSkewSeconds?: number;
}

export interface SamlPreflightReport {
  readonly accepted: boolean;
  /** Why AWS would refuse it; empty when accepted. */
  readonly findings: readonly Finding[];
  /** Checks not made, each with its reason (with --provider-metadata: the ones that need AWS). */
  readonly skipped: readonly string[];
  readonly facts: SamlPreflightFacts;
}

export interface SamlPreflightFacts {
  readonly input: string;
  readonly form: "xml" | "base64" | "url-encoded-base64";
  /** The provider ARN, or the --provider-metadata file. */
  readonly provider: string;
  readonly providerCertificates: readonly string[];
  /** Which element the valid signature covers; null when none does. */
  readonly signedElement: string | null;
  /** SHA-256 of the provider certificate that verified the signature. */
  readonly signingCertificateSha256: string | null;
  /** False when the facts below were read from unsigned or refused XML (shown to help, not trusted). */
  readonly verified: boolean;
  readonly issuer: string | null;
  readonly nameId: string | null;
  readonly nameIdFormat: string | null;
  readonly audiences: readonly string[];
  readonly recipient: string | null;
  readonly destination: string | null;
  readonly times: {
    readonly notBefore: string | null;
    readonly notOnOrAfter: string | null;
    readonly subjectNotOnOrAfter: string | null;
  };
  readonly roles: readonly RoleVerdict[];
  readonly sessionName: string | null;
  readonly sessionDuration: string | null;
  readonly clockSkewSeconds: number;
}

export async function preflightSamlResponse(
  response: SamlResponseSource,
  provider: ProviderSource,
  options: PreflightOptions,
): Promise<SamlPreflightReport> {
  const decoded = decodeSamlResponseInput(response.bytes, response.input);
  assertSafeXml(decoded.xml, response.input);
  const trusted = await readTrustedProvider(provider, decoded.xml, response.input);
  const inspection = inspectSamlResponse(decoded, response.input, trusted.keys.signers);
  const roles =
    provider.kind === "aws" ? await readRoles(provider.reader, rolesToJudge(inspection.facts, options.role)) : null;
  const clockSkewSeconds = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const verdict = judgeSamlResponse(inspection, {
    now: options.now,
    clockSkewSeconds,
    providerArn: trusted.arn,
    providerEntityIds: trusted.keys.entityIds,
    roles,
    selectedRole: options.role,
  });
  const facts = inspection.facts;
  return {
    accepted: verdict.accepted,
    findings: verdict.findings,
    skipped: verdict.skipped,
    facts: {
      input: response.input,
      form: inspection.form,
      provider: trusted.arn ?? (provider.kind === "metadata" ? provider.input : ""),
      providerCertificates: trusted.keys.signers.map((signer) => signer.sha256),
      signedElement: inspection.signedElement,
      signingCertificateSha256: inspection.signerSha256,
      verified: inspection.factsVerified,
      issuer: facts?.issuer ?? null,
      nameId: facts?.nameId ?? null,
      nameIdFormat: facts?.nameIdFormat ?? null,
      audiences: facts?.audiences ?? [],
      recipient: facts?.recipient ?? null,
      destination: facts?.destination ?? null,
      times: {
        notBefore: facts?.conditionsNotBefore ?? null,
        notOnOrAfter: facts?.conditionsNotOnOrAfter ?? null,
        subjectNotOnOrAfter: facts?.subjectNotOnOrAfter ?? null,
      },
      roles: verdict.roles,
      sessionName: facts?.sessionNames[0] ?? null,
      sessionDuration: facts?.sessionDurations[0] ?? null,
      clockSkewSeconds,
    },
  };
}

async function readTrustedProvider(
  provider: ProviderSource,
  xml: string,
  input: string,
): Promise<{ arn: string | null; keys: ProviderKeys }> {
  if (provider.kind === "metadata")
    return { arn: null, keys: readProviderKeys(decodeXmlBytes(provider.document, provider.input), provider.input) };
  if (provider.providerArns.length === 0) {
    throw new BreakglassError(
      "CONFIG_INVALID",
      "aws.emergencyAccount.samlProviders",
      "no emergency SAML provider is configured; add its ARN, or check against a metadata file with --provider-metadata",
    );
  }
  const arn = providerNamedBy(xml, input, provider.providerArns) ?? provider.providerArns[0]!;
  const facts = await provider.reader.readSamlProvider(arn);
  if (facts.status === "missing")
    throw new BreakglassError("AWS_NOT_FOUND", arn, "the emergency SAML provider does not exist (iam:GetSAMLProvider)");
  if (facts.status === "error") {
    throw new BreakglassError(
      /denied|unauthori[sz]ed|token/i.test(facts.error?.code ?? "") ? "AWS_DENIED" : "AWS_UNAVAILABLE",
      arn,
      `cannot read the emergency SAML provider: ${describeFactError(facts.error)}`,
    );
  }
  if (facts.metadataDocument === null)
    throw new BreakglassError("AWS_FAILED", arn, "iam:GetSAMLProvider returned no SAMLMetadataDocument");
  return { arn, keys: readProviderKeys(facts.metadataDocument, arn) };
}

/**
 * Which configured provider to check against: the one the response's Role attribute names. Read from the unverified
 * document only to pick a provider; the judged Role values are the signed ones, and must name the same provider.
 */
function providerNamedBy(xml: string, input: string, providerArns: readonly string[]): string | undefined {
  try {
    const document = parseXmlDocument(xml, input);
    const facts = readResponseFacts(assertionOf(document, input), document, input);
    return (
      facts.roles.map((role) => role.providerArn).find((arn) => arn !== null && providerArns.includes(arn)) ?? undefined
    );
  } catch {
    return undefined;
  }
}

async function readRoles(
  reader: EmergencyAccountReader,
  roles: readonly { roleArn: string | null }[],
): Promise<Map<string, RoleRead>> {
  const arns = [...new Set(roles.flatMap((role) => (role.roleArn === null ? [] : [role.roleArn])))];
  const reads = await Promise.all(arns.map((arn) => reader.readRole(arn)));
  return new Map(
    reads.map((facts): [string, RoleRead] => [
      facts.arn,
      facts.status === "found"
        ? {
            status: "found",
            trustPolicyDocument: facts.trustPolicyDocument,
            maxSessionDuration: facts.maxSessionDuration ?? null,
          }
        : facts.status === "missing"
          ? { status: "missing" }
          : { status: "error", detail: describeFactError(facts.error) },
    ]),
  );
}
