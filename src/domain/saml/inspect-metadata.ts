// Inspects one metadata document: safety checks, parse, signatures, certificates — facts out, no findings, no I/O.
import { createHash } from "node:crypto";
import { BreakglassError, describeError, isBreakglassError } from "../errors.js";
import { parseCertificate, type CertificateFacts } from "./certificate.js";
import { formatBytes } from "../shared/format-bytes.js";
import { extractMetadata, type RawCertificate, type RawEntity, type RawMetadata } from "./metadata-extract.js";
import { extractMetadataFromText } from "./metadata-text-extract.js";
import {
  NO_SIGNATURE,
  type CertificateEntry,
  type EntityFacts,
  type MetadataInspection,
  type SignatureVerdict,
  type UnverifiedReason,
} from "./metadata-model.js";
import {
  checkMetadataSignatures,
  type DocumentSignatureChecks,
  type MetadataSigner,
  type SignatureCheck,
} from "./metadata-signature.js";
import { DEFAULT_MAX_SIGNED_BYTES, DEFAULT_MAX_SIGNED_ELEMENTS } from "./inspect-defaults.js";
import { DEFAULT_SIGNATURE_BOUNDS, exceededSignatureBound } from "./signature-bounds.js";
import { checkProfileSignatures } from "./signature-fast-path.js";
import { readSignatureLayout } from "./signature-shape.js";
import { assertSafeXml, DEFAULT_XML_LIMITS, type XmlLimits } from "./xml-safety.js";
import { decodeXmlBytes } from "./xml-text.js";
import { parseXmlDocument } from "./xml-document.js";

export interface InspectOptions {
  /** Signatures must verify against this key instead of the certificate they carry. */
  readonly signer?: MetadataSigner | undefined;
  readonly limits?: XmlLimits;
  /**
   * Signatures of larger documents are reported as present but not verified: xml-crypto's XPath
   * lookups grow faster than linearly with document size (about 15 s for 12 MB here).
   */
  readonly maxSignedBytes?: number;
  /**
   * Signatures are reported present but not verified when checking them would walk more elements
   * than this (the document's elements once per signature): verification cost follows elements,
   * not bytes. The other shape bounds are in signature-bounds.ts.
   */
  readonly maxSignedElements?: number;
}

export { DEFAULT_MAX_SIGNED_BYTES, DEFAULT_MAX_SIGNED_ELEMENTS };

export function inspectMetadataBytes(
  bytes: Uint8Array,
  input: string,
  options: InspectOptions = {},
): MetadataInspection {
  return guard(input, () => inspectText(decodeXmlBytes(bytes, input), input, options));
}

export function inspectMetadataText(text: string, input: string, options: InspectOptions = {}): MetadataInspection {
  return guard(input, () => inspectText(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, input, options));
}

/** Whatever a library throws on hostile input becomes a BreakglassError naming the input. */
function guard<T>(input: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (isBreakglassError(error)) throw error;
    if (error instanceof RangeError) {
      throw new BreakglassError(
        "XML_TOO_DEEP",
        input,
        `refused: the document is too complex to inspect (${describeError(error)})`,
        { cause: error },
      );
    }
    throw new BreakglassError("XML_MALFORMED", input, `could not be inspected: ${describeError(error)}`, {
      cause: error,
    });
  }
}

function inspectText(text: string, input: string, options: InspectOptions): MetadataInspection {
  assertSafeXml(text, input, options.limits ?? DEFAULT_XML_LIMITS);
  const maxSignedBytes = options.maxSignedBytes ?? DEFAULT_MAX_SIGNED_BYTES;
  // One linear pass over the text, for its shape and the structure the one-pass verifier reads; xmldom and xml-crypto
  // see the document only if its shape is within bounds.
  const layout = readSignatureLayout(text);
  const shape = layout.shape;
  const bounds = {
    ...DEFAULT_SIGNATURE_BOUNDS,
    maxSignedElements: options.maxSignedElements ?? DEFAULT_MAX_SIGNED_ELEMENTS,
  };
  // The profile IdPs and federations sign with is verified in one linear pass, so the element bound (xml-crypto's walks)
  // does not apply to it; the other shape bounds do. Any other profile goes to xml-crypto within every bound.
  const profileChecks =
    shape.signatures > 0 &&
    text.length <= maxSignedBytes &&
    exceededSignatureBound(shape, 1, { ...bounds, maxSignedElements: Infinity }) === undefined
      ? checkProfileSignatures(text, options.signer, layout)
      : undefined;
  if (profileChecks && isCovered(profileChecks.root)) {
    const inspection = inspectSignedRoot(profileChecks, shape.straySignatures, input, options);
    if (inspection) return inspection;
  }

  const metadata = readMetadata(text, input);
  const needsSignatureCheck = metadata.hasRootSignature || metadata.entities.some((entity) => entity.hasOwnSignature);
  const overBound = needsSignatureCheck
    ? exceededSignatureBound(shape, signaturesToCheck(metadata), bounds)
    : undefined;
  const checks = !needsSignatureCheck
    ? undefined
    : text.length > maxSignedBytes
      ? unverifiedChecks(
          metadata,
          `not verified: the document is ${formatBytes(text.length)}, over the ${formatBytes(maxSignedBytes)} limit for signature verification`,
          "too-large",
        )
      : (profileChecks ??
        (overBound !== undefined
          ? unverifiedChecks(metadata, `not verified: ${overBound}`, "too-complex")
          : checkMetadataSignatures(text, options.signer)));
  const certificates = new CertificateReader();

  let rootVerdict = checks?.root.verdict ?? unsignedVerdict(options.signer);
  let entities: ScopedEntity[];
  if (checks && checks.entities.length !== metadata.entities.length) {
    // The DOM used for signatures and the parser used for facts disagree: trust neither signature.
    const verdict = disagreement(rootVerdict);
    rootVerdict = verdict;
    entities = metadata.entities.map((raw) => ({ raw, signature: verdict, scope: scopeOf(verdict, "document") }));
  } else if (checks && isCovered(checks.root)) {
    // Report only what the signature covers, read from the signed bytes themselves (defeats signature wrapping).
    const signed = signedFactsOf(checks.root, input);
    entities = signed.entities.map((raw) => ({ raw, signature: rootVerdict, scope: "document" }));
  } else {
    entities = metadata.entities.map((raw, index) =>
      entityFromChecks(raw, checks?.entities[index], rootVerdict, input),
    );
  }

  return {
    input,
    rootElement: metadata.rootElement,
    validUntil: metadata.validUntil,
    cacheDuration: metadata.cacheDuration,
    signature: rootVerdict,
    signerPinned: options.signer !== undefined,
    entities: entities.map((entity) => toEntityFacts(entity, certificates)),
    straySignatures: shape.straySignatures,
  };
}

/**
 * The raw facts of well-formed text: read in one pass, or from fast-xml-parser's tree for what that pass hands back
 * (the two agree wherever both read a document: test/domain/saml/metadata-text-extract.test.ts).
 */
function readMetadata(text: string, input: string): RawMetadata {
  return extractMetadataFromText(text) ?? extractMetadata(parseXmlDocument(text, input), input);
}

/** Whether the signature verified and what it covers can be read (its facts, or its canonical XML). */
function isCovered(check: SignatureCheck): boolean {
  return check.signedFacts !== undefined || Boolean(check.signedXml);
}

/** The facts of what a verified signature covers: read while it was verified, or else from its canonical XML. */
function signedFactsOf(check: SignatureCheck, input: string): RawMetadata {
  return check.signedFacts ?? readMetadata(check.signedXml ?? "", input);
}

/** How many signatures checkMetadataSignatures would verify: the root's, and each entity's own (a single-entity root counts once). */
function signaturesToCheck(metadata: RawMetadata): number {
  const root = metadata.hasRootSignature ? 1 : 0;
  if (metadata.rootElement === "EntityDescriptor") return root;
  return root + metadata.entities.filter((entity) => entity.hasOwnSignature).length;
}

/**
 * A document whose root signature verified in one pass: everything is read from the canonical bytes it covers, and
 * the document itself is never parsed. Undefined when the parser of those bytes and the one pass disagree about the
 * entities, so that the full path reports the disagreement.
 */
function inspectSignedRoot(
  checks: DocumentSignatureChecks,
  straySignatures: MetadataInspection["straySignatures"],
  input: string,
  options: InspectOptions,
): MetadataInspection | undefined {
  if (!isCovered(checks.root)) return undefined;
  const signed = signedFactsOf(checks.root, input);
  if (signed.entities.length !== checks.entities.length) return undefined;
  const verdict = checks.root.verdict;
  const certificates = new CertificateReader();
  return {
    input,
    rootElement: signed.rootElement,
    validUntil: signed.validUntil,
    cacheDuration: signed.cacheDuration,
    signature: verdict,
    signerPinned: options.signer !== undefined,
    entities: signed.entities.map((raw) => toEntityFacts({ raw, signature: verdict, scope: "document" }, certificates)),
    straySignatures,
  };
}

interface ScopedEntity {
  readonly raw: RawEntity;
  readonly signature: SignatureVerdict;
  readonly scope: "document" | "entity" | null;
}

function entityFromChecks(
  raw: RawEntity,
  own: SignatureCheck | undefined,
  rootVerdict: SignatureVerdict,
  input: string,
): ScopedEntity {
  // A single-entity document's root signature is the entity's own; report it as the document's.
  const ownScope = own?.verdict === rootVerdict ? "document" : "entity";
  if (own && isCovered(own)) {
    const [signed] = signedFactsOf(own, input).entities;
    // The signed bytes stop at the entity; the validity of the aggregates around it still applies.
    if (signed)
      return {
        raw: { ...signed, inheritedValidUntil: raw.inheritedValidUntil },
        signature: own.verdict,
        scope: ownScope,
      };
  }
  if (own?.verdict.present) return { raw, signature: own.verdict, scope: ownScope };
  // An entity inside a signed aggregate is covered by (and only as good as) the aggregate's signature.
  return { raw, signature: rootVerdict, scope: scopeOf(rootVerdict, "document") };
}

function scopeOf(verdict: SignatureVerdict, scope: "document" | "entity"): "document" | "entity" | null {
  return verdict.present ? scope : null;
}

function unverifiedChecks(metadata: RawMetadata, detail: string, reason: UnverifiedReason): DocumentSignatureChecks {
  const unverified: SignatureCheck = {
    verdict: {
      present: true,
      valid: null,
      detail,
      key: null,
      signerSha256: null,
      unverifiedReason: reason,
      weakAlgorithms: [],
    },
    signedXml: null,
  };
  const unsigned: SignatureCheck = { verdict: NO_SIGNATURE, signedXml: null };
  const root = metadata.hasRootSignature ? unverified : unsigned;
  return {
    root,
    entities: metadata.entities.map((entity) =>
      metadata.rootElement === "EntityDescriptor" ? root : entity.hasOwnSignature ? unverified : unsigned,
    ),
  };
}

function unsignedVerdict(signer: MetadataSigner | undefined): SignatureVerdict {
  return { ...NO_SIGNATURE, detail: signer ? "the document is not signed, but a signer is pinned" : null };
}

function disagreement(verdict: SignatureVerdict): SignatureVerdict {
  return verdict.present
    ? {
        ...verdict,
        valid: false,
        detail: "the XML parsers disagree about the document's structure; no signature is trusted",
        unverifiedReason: null,
      }
    : verdict;
}

function toEntityFacts({ raw, signature, scope }: ScopedEntity, certificates: CertificateReader): EntityFacts {
  return {
    entityID: raw.entityID,
    roles: raw.roles,
    validUntil: raw.validUntil,
    cacheDuration: raw.cacheDuration,
    inheritedValidUntil: raw.inheritedValidUntil,
    signature,
    signatureScope: scope,
    ssoServices: raw.ssoServices,
    nameIDFormats: raw.nameIDFormats,
    certificates: raw.certificates.map((certificate) => certificates.read(certificate)),
  };
}

/** Parses each distinct certificate once per document: real metadata repeats the same certificate across roles. */
class CertificateReader {
  private readonly cache = new Map<string, CertificateFacts | { error: string; sha256: string | null }>();

  read(raw: RawCertificate): CertificateEntry {
    let parsed = this.cache.get(raw.base64);
    if (!parsed) {
      parsed = parse(raw.base64);
      this.cache.set(raw.base64, parsed);
    }
    const base = { role: raw.role, roleKind: raw.roleKind, use: raw.use };
    return "error" in parsed
      ? { ...base, facts: null, sha256: parsed.sha256, error: parsed.error }
      : { ...base, facts: parsed };
  }
}

/** A character base64 text never holds. */
const NOT_BASE64 = /[^A-Za-z0-9+/=]/;

/**
 * Base64 text: at least one of A-Z a-z 0-9 + /, then at most two "=". One search for a character outside the
 * alphabet, which V8 runs as native code from the first certificate on and three times as fast as matching the whole
 * text against /^[A-Za-z0-9+/]+={0,2}$/ (1,410 certificates of a 4 MB aggregate: 1.5 ms against 5); then where the
 * "=" are.
 */
export function isBase64(text: string): boolean {
  const padding = text.indexOf("=");
  if (padding === -1) return text.length > 0 && !NOT_BASE64.test(text);
  const last = text.length - 1;
  return padding > 0 && padding >= last - 1 && text.charCodeAt(last) === 0x3d && !NOT_BASE64.test(text);
}

function parse(base64: string): CertificateFacts | { error: string; sha256: string | null } {
  if (base64 === "") return { error: "the X509Certificate element is empty", sha256: null };
  if (!isBase64(base64) || base64.length % 4 !== 0)
    return { error: "the X509Certificate text is not valid base64", sha256: null };
  const der = Buffer.from(base64, "base64");
  try {
    return parseCertificate(der);
  } catch (error) {
    return {
      error: `the X509Certificate is not a valid DER certificate (${describeError(error)})`,
      sha256: createHash("sha256").update(der).digest("hex"),
    };
  }
}
