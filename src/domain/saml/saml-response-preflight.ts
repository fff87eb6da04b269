// Judges whether AWS would accept a SAML response for direct federation: signature, wrapping, audience, times, roles.
import { createFinding, type Finding } from "../checks/finding.js";
import {
  conditionsOnKey,
  parsePolicyDocument,
  resourceMatches,
  statementAllowsAction,
} from "../checks/iam-policy-document.js";
import { BreakglassError } from "../errors.js";
import {
  assertionOf,
  parseSignedXml,
  readResponseFacts,
  type RoleValue,
  type SamlResponseFacts,
} from "./saml-response-facts.js";
import { AWS_MAX_SAML_RESPONSE_BASE64_LENGTH, type DecodedSamlResponse } from "./saml-response-input.js";
import { checkResponseSignatures, type ProviderSigner, type ResponseSignatures } from "./saml-response-signature.js";
import { DEFAULT_SIGNATURE_BOUNDS, exceededSignatureBound } from "./signature-bounds.js";
import { measureSignatureShape } from "./signature-shape.js";
import { parseXsdDateTime } from "./xml-datetime.js";
import { assertSafeXml } from "./xml-safety.js";
import { parseXmlDocument } from "./xml-document.js";

/**
 * How far the preflight lets the IdP's clock and the judging clock disagree, either way. AWS does not publish its
 * allowance; five minutes is what SAML service providers customarily allow (and what IdPs expect), so a response
 * this accepts near a boundary may still be refused by AWS by a few minutes.
 */
export const DEFAULT_CLOCK_SKEW_SECONDS = 300;

/** AWS's bounds on the SessionDuration attribute, in seconds (and on a role's MaxSessionDuration). */
export const MIN_SESSION_DURATION = 900;
export const MAX_SESSION_DURATION = 43_200;
/** A role's MaxSessionDuration when IAM reports none. */
export const DEFAULT_MAX_SESSION_DURATION = 3_600;

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const ASSUME_ROLE_WITH_SAML = "sts:AssumeRoleWithSAML";
/** The AWS sign-in endpoints (global, regional, GovCloud, China), with the per-provider /acs/<id> form. */
const SIGN_IN_ENDPOINT =
  /^https:\/\/(?:[a-z]{2}(?:-[a-z]+)+-\d+\.)?signin\.(?:aws\.amazon\.com|amazonaws-us-gov\.com|amazonaws\.cn)\/saml(?:\/acs\/[A-Za-z0-9-]+)?$/;
/** AWS's own SP entity IDs, which IdPs commonly put in the Audience. */
const AWS_ENTITY_IDS: ReadonlySet<string> = new Set(["urn:amazon:webservices", "urn:amazon:webservices:govcloud"]);
const SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success";

/** What the preflight found in the response, before judging it. */
export interface SamlResponseInspection {
  readonly signatures: ResponseSignatures;
  /** Null when the shape is refused as signature wrapping: nothing in it can be attributed to a signature. */
  readonly facts: SamlResponseFacts | null;
  /** True when the facts come from XML a valid signature of a provider certificate covers. */
  readonly factsVerified: boolean;
  readonly signedElement: "Response" | "Assertion" | "Response and Assertion" | null;
  readonly signerSha256: string | null;
  readonly base64Length: number;
  readonly form: DecodedSamlResponse["form"];
}

/** Parses and verifies `response` against `signers`; throws a BreakglassError naming `input` for input it cannot judge. */
export function inspectSamlResponse(
  response: DecodedSamlResponse,
  input: string,
  signers: readonly ProviderSigner[],
): SamlResponseInspection {
  assertSafeXml(response.xml, input, { maxDepth: DEFAULT_SIGNATURE_BOUNDS.maxDepth });
  const tooComplex = exceededSignatureBound(measureSignatureShape(response.xml), 2, {
    ...DEFAULT_SIGNATURE_BOUNDS,
    maxSignedElements: 20_000,
  });
  if (tooComplex !== undefined)
    throw new BreakglassError("SAML_RESPONSE_UNUSABLE", input, `not a plausible SAML response: ${tooComplex}`);
  const signatures = checkResponseSignatures(response.xml, input, signers);
  const common = { signatures, base64Length: response.base64.length, form: response.form };
  if (signatures.wrapping.length > 0)
    return { ...common, facts: null, factsVerified: false, signedElement: null, signerSha256: null };

  const { response: onResponse, assertion: onAssertion } = signatures;
  const verified = onResponse.state === "valid" || onAssertion.state === "valid";
  const broken = [onResponse, onAssertion].some((each) => each.state === "invalid" || each.state === "unknown-signer");
  let facts: SamlResponseFacts;
  if (onResponse.state === "valid") {
    const signedResponse = parseSignedXml(onResponse.signedXml, input);
    const signedAssertion = assertionOf(signedResponse, input);
    facts = readResponseFacts(
      onAssertion.state === "valid" ? parseSignedXml(onAssertion.signedXml, input) : signedAssertion,
      signedResponse,
      input,
    );
  } else {
    const document = parseXmlDocument(response.xml, input);
    const assertion =
      onAssertion.state === "valid" ? parseSignedXml(onAssertion.signedXml, input) : assertionOf(document, input);
    facts = readResponseFacts(assertion, document, input);
  }
  const signedElement =
    onResponse.state === "valid" && onAssertion.state === "valid"
      ? "Response and Assertion"
      : onResponse.state === "valid"
        ? "Response"
        : onAssertion.state === "valid"
          ? "Assertion"
          : null;
  const signer = onAssertion.state === "valid" ? onAssertion : onResponse.state === "valid" ? onResponse : undefined;
  return {
    ...common,
    facts,
    factsVerified: verified && !broken,
    signedElement,
    signerSha256: signer?.signerSha256 ?? null,
  };
}

/** A role as IAM describes it; null fields when IAM did not say. */
export type RoleRead =
  | {
      readonly status: "found";
      readonly trustPolicyDocument: string | null;
      readonly maxSessionDuration: number | null;
    }
  | { readonly status: "missing" }
  | { readonly status: "error"; readonly detail: string };

export interface PreflightContext {
  readonly now: Date;
  readonly clockSkewSeconds: number;
  /** The emergency provider's ARN, when known (read from AWS); null when checking against a metadata file. */
  readonly providerArn: string | null;
  /** The entityIDs of the provider's metadata: the Issuer must be one of them. */
  readonly providerEntityIds: readonly string[];
  /** Each role the response names, as IAM describes it; null when AWS is not read (the role checks are skipped). */
  readonly roles: ReadonlyMap<string, RoleRead> | null;
  /** Judge only this role (--role). */
  readonly selectedRole?: string | undefined;
}

export interface RoleVerdict {
  readonly value: string;
  readonly roleArn: string | null;
  readonly providerArn: string | null;
  readonly accepted: boolean;
  readonly findings: readonly Finding[];
}

export interface SamlResponseVerdict {
  readonly accepted: boolean;
  /** Why it would be refused: the response's own problems, plus the roles' when no role would work. */
  readonly findings: readonly Finding[];
  readonly roles: readonly RoleVerdict[];
  /** Checks not made, each saying why. */
  readonly skipped: readonly string[];
}

/** The roles of the response AWS would consider: the --role one alone, or every one. */
export function rolesToJudge(facts: SamlResponseFacts | null, selectedRole: string | undefined): RoleValue[] {
  if (!facts) return [];
  return selectedRole === undefined ? [...facts.roles] : facts.roles.filter((role) => role.roleArn === selectedRole);
}

export function judgeSamlResponse(inspection: SamlResponseInspection, context: PreflightContext): SamlResponseVerdict {
  const findings: Finding[] = [...judgeSignatures(inspection)];
  const skipped: string[] = [];
  if (inspection.base64Length > AWS_MAX_SAML_RESPONSE_BASE64_LENGTH) {
    findings.push(
      createFinding(
        "SAML_RESPONSE_TOO_LARGE",
        `The response is ${inspection.base64Length} characters of base64, over the ${AWS_MAX_SAML_RESPONSE_BASE64_LENGTH} AWS accepts.`,
      ),
    );
  }
  const facts = inspection.facts;
  if (!facts)
    return { accepted: false, findings, roles: [], skipped: ["every other check: the response's shape is refused"] };

  if (facts.status !== null && facts.status !== SUCCESS)
    findings.push(createFinding("SAML_RESPONSE_STATUS_FAILED", `The IdP answered with status ${facts.status}.`));
  if (facts.issuer === null || !context.providerEntityIds.includes(facts.issuer)) {
    findings.push(
      createFinding(
        "SAML_RESPONSE_ISSUER_MISMATCH",
        `The assertion's Issuer is ${describe(facts.issuer)}, but the provider's metadata is for ` +
          `${context.providerEntityIds.map(quote).join(", ") || "no entity"}.`,
      ),
    );
  }
  findings.push(...judgeTimes(facts, context), ...judgeAddressing(facts), ...judgeSessionName(facts));
  const durationFindings = judgeDurationBounds(facts);
  findings.push(...durationFindings);

  if (context.roles === null) {
    skipped.push(
      "role trust (the role exists and trusts this provider and audience): needs iam:GetRole, not read with --provider-metadata",
      "SessionDuration against the role's MaxSessionDuration: needs iam:GetRole, not read with --provider-metadata",
      "the provider ARN in the Role attribute: the provider's ARN is not known with --provider-metadata",
    );
  }
  const candidates = rolesToJudge(facts, context.selectedRole);
  if (facts.roles.length === 0) {
    findings.push(
      createFinding(
        "SAML_RESPONSE_ROLE_MISSING",
        "The assertion has no https://aws.amazon.com/SAML/Attributes/Role value.",
      ),
    );
  } else if (candidates.length === 0) {
    findings.push(
      createFinding(
        "SAML_RESPONSE_ROLE_MISSING",
        `No Role value names ${context.selectedRole ?? ""}; the response offers ${facts.roles.map((role) => quote(role.value)).join(", ")}.`,
        { resource: context.selectedRole ?? "" },
      ),
    );
  }
  const roles = candidates.map((role) => judgeRole(role, facts, context, durationFindings.length === 0));
  const someRoleWorks = roles.some((role) => role.accepted);
  if (!someRoleWorks) findings.push(...roles.flatMap((role) => role.findings));
  return { accepted: findings.length === 0 && someRoleWorks, findings, roles, skipped };
}

function judgeSignatures(inspection: SamlResponseInspection): Finding[] {
  const { wrapping, response, assertion } = inspection.signatures;
  if (wrapping.length > 0)
    return [
      createFinding("SAML_RESPONSE_WRAPPED", `The response is refused as signature wrapping: ${wrapping.join("; ")}.`),
    ];
  const findings: Finding[] = [];
  for (const [element, signature] of [
    ["Response", response],
    ["Assertion", assertion],
  ] as const) {
    if (signature.state === "invalid")
      findings.push(
        createFinding(
          "SAML_RESPONSE_SIGNATURE_INVALID",
          `The signature on the ${element} is invalid: ${signature.detail}.`,
        ),
      );
    if (signature.state === "unknown-signer")
      findings.push(
        createFinding(
          "SAML_RESPONSE_SIGNER_UNKNOWN",
          `The ${element} is signed by the certificate ${signature.signerSha256.slice(0, 16)}…, which the provider does not hold.`,
          { sha256: signature.signerSha256 },
        ),
      );
  }
  if (response.state === "absent" && assertion.state === "absent")
    findings.push(createFinding("SAML_RESPONSE_UNSIGNED", "Neither the Response nor its Assertion is signed."));
  return findings;
}

function judgeTimes(facts: SamlResponseFacts, context: PreflightContext): Finding[] {
  const findings: Finding[] = [];
  const skew = context.clockSkewSeconds * 1000;
  const now = context.now.getTime();
  const at = context.now.toISOString();
  const check = (value: string | null, what: string, kind: "start" | "end", required: boolean) => {
    if (value === null) {
      if (required) findings.push(createFinding("SAML_RESPONSE_EXPIRED", `The ${what} is missing; AWS requires it.`));
      return;
    }
    const instant = parseXsdDateTime(value);
    if (!instant) {
      findings.push(createFinding("SAML_RESPONSE_EXPIRED", `The ${what} ${quote(value)} is not a date.`));
    } else if (kind === "start" && instant.getTime() - skew > now) {
      findings.push(
        createFinding(
          "SAML_RESPONSE_NOT_YET_VALID",
          `The ${what} is ${instant.toISOString()}, more than ${context.clockSkewSeconds} s after ${at}.`,
        ),
      );
    } else if (kind === "end" && instant.getTime() + skew <= now) {
      findings.push(
        createFinding(
          "SAML_RESPONSE_EXPIRED",
          `The ${what} was ${instant.toISOString()}, more than ${context.clockSkewSeconds} s before ${at}.`,
        ),
      );
    }
  };
  check(facts.conditionsNotBefore, "Conditions NotBefore", "start", false);
  check(facts.conditionsNotOnOrAfter, "Conditions NotOnOrAfter", "end", false);
  check(facts.subjectNotBefore, "SubjectConfirmationData NotBefore", "start", false);
  check(facts.subjectNotOnOrAfter, "SubjectConfirmationData NotOnOrAfter", "end", true);
  return findings;
}

function judgeAddressing(facts: SamlResponseFacts): Finding[] {
  const findings: Finding[] = [];
  if (facts.audiences.length === 0) {
    findings.push(createFinding("SAML_RESPONSE_AUDIENCE_WRONG", "The assertion has no AudienceRestriction Audience."));
  } else if (!facts.audiences.some(isAwsAudience)) {
    findings.push(
      createFinding(
        "SAML_RESPONSE_AUDIENCE_WRONG",
        `The assertion is for ${facts.audiences.map(quote).join(", ")}, not AWS.`,
      ),
    );
  }
  if (facts.subjectConfirmations !== 1) {
    findings.push(
      createFinding(
        "SAML_RESPONSE_RECIPIENT_WRONG",
        `The Subject has ${facts.subjectConfirmations} bearer SubjectConfirmations; AWS takes exactly one.`,
      ),
    );
  } else if (facts.recipient === null || !SIGN_IN_ENDPOINT.test(facts.recipient)) {
    findings.push(
      createFinding(
        "SAML_RESPONSE_RECIPIENT_WRONG",
        `The SubjectConfirmationData Recipient is ${describe(facts.recipient)}, not an AWS sign-in endpoint.`,
      ),
    );
  }
  if (facts.destination !== null && !SIGN_IN_ENDPOINT.test(facts.destination)) {
    findings.push(
      createFinding(
        "SAML_RESPONSE_RECIPIENT_WRONG",
        `The Response's Destination is ${quote(facts.destination)}, not an AWS sign-in endpoint.`,
      ),
    );
  }
  return findings;
}

function judgeSessionName(facts: SamlResponseFacts): Finding[] {
  const names = facts.sessionNames;
  if (names.length === 0)
    return [
      createFinding(
        "SAML_RESPONSE_SESSION_NAME_INVALID",
        "The assertion has no https://aws.amazon.com/SAML/Attributes/RoleSessionName value.",
      ),
    ];
  if (names.length > 1)
    return [
      createFinding(
        "SAML_RESPONSE_SESSION_NAME_INVALID",
        `The assertion has ${names.length} RoleSessionName values; AWS takes exactly one.`,
      ),
    ];
  const name = names[0] ?? "";
  if (SESSION_NAME.test(name)) return [];
  return [
    createFinding(
      "SAML_RESPONSE_SESSION_NAME_INVALID",
      `The RoleSessionName ${quote(name)} is not 2 to 64 characters of letters, digits and +=,.@_-.`,
    ),
  ];
}

function judgeDurationBounds(facts: SamlResponseFacts): Finding[] {
  const values = facts.sessionDurations;
  if (values.length === 0) return [];
  if (values.length > 1)
    return [
      createFinding(
        "SAML_RESPONSE_DURATION_INVALID",
        `The assertion has ${values.length} SessionDuration values; AWS takes one.`,
      ),
    ];
  const value = values[0] ?? "";
  const seconds = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isNaN(seconds) || seconds < MIN_SESSION_DURATION || seconds > MAX_SESSION_DURATION)
    return [
      createFinding(
        "SAML_RESPONSE_DURATION_INVALID",
        `The SessionDuration ${quote(value)} is not a whole number of seconds from ${MIN_SESSION_DURATION} to ${MAX_SESSION_DURATION}.`,
      ),
    ];
  return [];
}

function judgeRole(
  role: RoleValue,
  facts: SamlResponseFacts,
  context: PreflightContext,
  durationInBounds: boolean,
): RoleVerdict {
  const findings: Finding[] = [];
  const verdict = (): RoleVerdict => ({ ...role, accepted: findings.length === 0, findings });
  if (role.roleArn === null || role.providerArn === null) {
    findings.push(
      createFinding(
        "SAML_RESPONSE_ROLE_INVALID",
        `The Role value ${quote(role.value)} is not a role ARN and a SAML provider ARN separated by a comma.`,
      ),
    );
    return verdict();
  }
  const subject = { resource: role.roleArn };
  if (context.providerArn !== null && role.providerArn !== context.providerArn) {
    findings.push(
      createFinding(
        "SAML_RESPONSE_ROLE_INVALID",
        `The Role value for ${role.roleArn} names the provider ${role.providerArn}, not the emergency provider ${context.providerArn}.`,
        subject,
      ),
    );
  }
  if (context.roles === null) return verdict();
  const read = context.roles.get(role.roleArn);
  if (!read || read.status === "missing") {
    findings.push(createFinding("SAML_RESPONSE_ROLE_NOT_FOUND", `The role ${role.roleArn} does not exist.`, subject));
    return verdict();
  }
  if (read.status === "error") {
    findings.push(
      createFinding("AWS_READ_FAILED", `Could not read the role ${role.roleArn}: ${read.detail}.`, subject),
    );
    return verdict();
  }
  const trustProblem = judgeTrust(read.trustPolicyDocument, role.providerArn, facts.recipient);
  if (trustProblem)
    findings.push(
      createFinding("SAML_RESPONSE_ROLE_UNTRUSTED", `The trust policy of ${role.roleArn} ${trustProblem}.`, subject),
    );
  const [duration] = facts.sessionDurations;
  const maximum = read.maxSessionDuration ?? DEFAULT_MAX_SESSION_DURATION;
  if (durationInBounds && duration !== undefined && Number(duration) > maximum) {
    findings.push(
      createFinding(
        "SAML_RESPONSE_DURATION_INVALID",
        `The SessionDuration ${duration} s is over the MaxSessionDuration of ${role.roleArn} (${maximum} s).`,
        subject,
      ),
    );
  }
  return verdict();
}

/** Null when some Allow statement lets `providerArn` call AssumeRoleWithSAML for an assertion sent to `recipient`. */
function judgeTrust(document: string | null, providerArn: string, recipient: string | null): string | null {
  if (document === null) return "was not returned by IAM";
  const parsed = parsePolicyDocument(document);
  if (!parsed.ok) return `cannot be read: ${parsed.reason}`;
  const allows = parsed.statements.filter(
    (statement) => statement.principals !== null && statementAllowsAction(statement, ASSUME_ROLE_WITH_SAML),
  );
  const fromProvider = allows.filter((statement) => statement.principals?.federated.includes(providerArn));
  if (fromProvider.length === 0) return `does not allow ${ASSUME_ROLE_WITH_SAML} from ${providerArn}`;
  let problem: string | null = null;
  for (const statement of fromProvider) {
    const audiences = conditionsOnKey(statement, "SAML:aud");
    const admitted = audiences.every((condition) => {
      const operator = condition.operator.toLowerCase().replace(/^foranyvalue:/, "");
      if (recipient === null) return false;
      if (operator === "stringequals") return condition.values.includes(recipient);
      if (operator === "stringlike") return condition.values.some((value) => resourceMatches(value, recipient));
      return false;
    });
    if (admitted) return null;
    problem ??= `admits SAML:aud ${audiences
      .flatMap((condition) => condition.values)
      .map(quote)
      .join(", ")}, not this response's Recipient ${describe(recipient)}`;
  }
  return problem;
}

function isAwsAudience(audience: string): boolean {
  return SIGN_IN_ENDPOINT.test(audience) || AWS_ENTITY_IDS.has(audience);
}

function quote(value: string): string {
  return JSON.stringify(value.length > 120 ? `${value.slice(0, 120)}…` : value);
}

function describe(value: string | null): string {
  return value === null ? "missing" : quote(value);
}
