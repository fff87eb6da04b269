// Verifies the enveloped XML-DSig signatures of a metadata document and returns only the XML each valid signature covers.
import type { KeyObject } from "node:crypto";
import type { SignedXml } from "xml-crypto";
import { describeError } from "../errors.js";
import { keyOfCertificateText } from "./embedded-certificate.js";
import { NO_SIGNATURE, type SignatureVerdict } from "./metadata-model.js";
import {
  describeSignatureAlgorithm,
  digestAlgorithmRegistry,
  familyOfKey,
  isSupportedCanonicalization,
  isSupportedDigestAlgorithm,
  isSupportedSignatureAlgorithm,
  isSupportedTransform,
  isWeakAlgorithm,
  keyFamilyOf,
  signatureAlgorithmRegistry,
} from "./signature-algorithms.js";
import { NS } from "./xml-document.js";
import type { RawMetadata } from "./metadata-extract.js";
import { xmlCrypto, xmldom } from "./xml-signature-libraries.js";

/** The key a signature must verify against: pinned by the operator, or else the one in the signature itself. */
export interface MetadataSigner {
  readonly key: KeyObject;
  readonly sha256: string | null;
}

export interface SignatureCheck {
  readonly verdict: SignatureVerdict;
  /** The canonical XML the signature covers (enveloped signature removed); only when valid. */
  readonly signedXml: string | null;
  /**
   * The facts of that canonical XML, read while its digest was computed (the one-pass verifier, when its reader could
   * read them): the caller then never needs signedXml, which is only made when asked for.
   */
  readonly signedFacts?: RawMetadata | undefined;
}

export interface DocumentSignatureChecks {
  readonly root: SignatureCheck;
  /** One per EntityDescriptor, in the order metadata-extract lists them. */
  readonly entities: readonly SignatureCheck[];
}

/** xmldom 0.8 types its nodes with the DOM lib's interfaces. */
export type DomElement = Element;

const UNSIGNED: SignatureCheck = { verdict: NO_SIGNATURE, signedXml: null };

/**
 * Checks every signature that is a direct child of the root or of an EntityDescriptor. A signature
 * elsewhere covers nothing breakglass reports, so it is ignored rather than trusted.
 */
export function checkMetadataSignatures(text: string, signer: MetadataSigner | undefined): DocumentSignatureChecks {
  const { DOMParser } = xmldom();
  const document = new DOMParser({
    errorHandler: { warning: () => undefined, error: () => undefined, fatalError: () => undefined },
  }).parseFromString(text, "text/xml");
  const root = document.documentElement;
  if (!root) return { root: UNSIGNED, entities: [] };
  const entityElements: DomElement[] = [];
  if (isMetadata(root, "EntityDescriptor")) entityElements.push(root);
  else collectEntities(root, entityElements);
  const rootCheck = checkSignatureOf(root, text, signer, true);
  return {
    root: rootCheck,
    entities: entityElements.map((entity) =>
      entity === root ? rootCheck : checkSignatureOf(entity, text, signer, false),
    ),
  };
}

function collectEntities(aggregate: DomElement, into: DomElement[]): void {
  for (const child of elementChildren(aggregate)) {
    if (isMetadata(child, "EntityDescriptor")) into.push(child);
    else if (isMetadata(child, "EntitiesDescriptor")) collectEntities(child, into);
  }
}

function checkSignatureOf(
  container: DomElement,
  text: string,
  signer: MetadataSigner | undefined,
  isRoot: boolean,
): SignatureCheck {
  const signatures = elementChildren(container).filter((child) => isSignatureElement(child, "Signature"));
  if (signatures.length === 0) return UNSIGNED;
  const keySource = signer ? "pinned" : "embedded";
  const signature = signatures[0] as DomElement;
  const algorithms = readAlgorithms(signature);
  const weakAlgorithms = [...new Set(algorithms.all.filter(isWeakAlgorithm))];
  const verdict = (valid: boolean | null, detail: string, signerSha256: string | null): SignatureVerdict => ({
    present: true,
    valid,
    detail,
    key: keySource,
    signerSha256,
    unverifiedReason: valid === null ? "unsupported-algorithm" : null,
    weakAlgorithms,
  });
  const invalid = (detail: string, signerSha256: string | null = signer?.sha256 ?? null): SignatureCheck => ({
    verdict: verdict(false, detail, signerSha256),
    signedXml: null,
  });
  if (signatures.length > 1) return invalid("more than one Signature element on the same element");

  const references = descendants(signature, NS.xmldsig, "Reference");
  if (references.length !== 1)
    return invalid(`the signature has ${references.length} References; metadata signatures have exactly one`);
  const uri = (references[0] as DomElement).getAttribute("URI") ?? "";
  const id = container.getAttribute("ID");
  const coversContainer = uri === "" ? isRoot : uri.startsWith("#") && id !== null && id !== "" && uri.slice(1) === id;
  if (!coversContainer) {
    // Signature wrapping: a valid signature over some other element must not vouch for this one.
    return invalid(`the signature references "${uri}", not the element that contains it`);
  }
  if (!algorithms.signedInfo) return invalid("the signature has no single SignedInfo element");
  if (algorithms.signatureMethod === "") return invalid("the signature names no SignatureMethod algorithm");
  // Not knowing an algorithm says nothing about the document: report it as unverifiable, never as tampered.
  const unsupported = firstUnsupportedAlgorithm(algorithms);
  if (unsupported !== undefined)
    return { verdict: verdict(null, `cannot verify: ${unsupported}`, signer?.sha256 ?? null), signedXml: null };

  let key: KeyObject;
  let signerSha256: string | null;
  if (signer) {
    key = signer.key;
    signerSha256 = signer.sha256;
  } else {
    const embedded = embeddedCertificate(signature);
    if (!embedded)
      return invalid(
        "the signature carries no X509Certificate to check it with; pin the signer with --metadata-signer",
        null,
      );
    key = embedded.key;
    signerSha256 = embedded.sha256;
  }
  const keyFamily = familyOfKey(key);
  if (keyFamily !== keyFamilyOf(algorithms.signatureMethod)) {
    return invalid(
      `the signature uses ${describeSignatureAlgorithm(algorithms.signatureMethod)} but the signer's key ` +
        `is ${keyFamily ?? key.asymmetricKeyType ?? "not a public key"}`,
      signerSha256,
    );
  }

  const verifier = createVerifier(key, algorithms.signedInfo, algorithms.canonicalization);
  try {
    verifier.loadSignature(signature);
    const valid = verifier.checkSignature(text);
    if (!valid) return invalid("the signed content was changed after signing (digest mismatch)", signerSha256);
  } catch (error) {
    return invalid(explainVerificationError(error), signerSha256);
  }
  const [signedXml] = verifier.getSignedReferences();
  if (signedXml === undefined) return invalid("the signature verified but covers no content", signerSha256);
  const how = signer
    ? "verified against the pinned signer"
    : "verified against the certificate in the signature (integrity only; pin the signer with --metadata-signer)";
  return { verdict: verdict(true, how, signerSha256), signedXml };
}

export interface SignatureAlgorithms {
  /** The Signature's one SignedInfo child, or undefined when it has none or several. */
  readonly signedInfo: DomElement | undefined;
  readonly canonicalization: string;
  readonly signatureMethod: string;
  readonly digests: readonly string[];
  readonly transforms: readonly string[];
  /** Every algorithm URI above, for the weak-algorithm list. */
  readonly all: readonly string[];
}

export function readAlgorithms(signature: DomElement): SignatureAlgorithms {
  const signedInfos = elementChildren(signature).filter((child) => isSignatureElement(child, "SignedInfo"));
  const signedInfo = signedInfos.length === 1 ? signedInfos[0] : undefined;
  const algorithmOf = (element: DomElement | undefined): string => element?.getAttribute("Algorithm") ?? "";
  const parts = signedInfo ? elementChildren(signedInfo) : [];
  const canonicalization = algorithmOf(parts.find((child) => isSignatureElement(child, "CanonicalizationMethod")));
  const signatureMethod = algorithmOf(parts.find((child) => isSignatureElement(child, "SignatureMethod")));
  const references = parts.filter((child) => isSignatureElement(child, "Reference"));
  const digests = references.map((reference) =>
    algorithmOf(elementChildren(reference).find((child) => isSignatureElement(child, "DigestMethod"))),
  );
  const transforms = references.flatMap((reference) =>
    elementChildren(reference)
      .filter((child) => isSignatureElement(child, "Transforms"))
      .flatMap((list) =>
        elementChildren(list)
          .filter((child) => isSignatureElement(child, "Transform"))
          .map(algorithmOf),
      ),
  );
  return { signedInfo, canonicalization, signatureMethod, digests, transforms, all: [signatureMethod, ...digests] };
}

export function firstUnsupportedAlgorithm(algorithms: SignatureAlgorithms): string | undefined {
  if (!isSupportedCanonicalization(algorithms.canonicalization))
    return algorithms.canonicalization || "(no CanonicalizationMethod algorithm)";
  if (!isSupportedSignatureAlgorithm(algorithms.signatureMethod)) return algorithms.signatureMethod;
  const digest = algorithms.digests.find((uri) => !isSupportedDigestAlgorithm(uri));
  if (digest !== undefined) return digest || "(no DigestMethod algorithm)";
  const transform = algorithms.transforms.find((uri) => !isSupportedTransform(uri));
  return transform === undefined ? undefined : transform || "(no Transform algorithm)";
}

/**
 * An xml-crypto verifier that knows exactly breakglass's algorithms (ECDSA included) and
 * canonicalizes this signature's own SignedInfo. xml-crypto takes the in-scope namespaces of the
 * FIRST SignedInfo in the document (findAncestorNs with "//*[local-name()='SignedInfo']"), so under
 * inclusive C14N the second entity signature of an aggregate was canonicalized with the first
 * one's namespaces and failed. Its method is private in the types, hence the override on the instance.
 */
export function createVerifier(key: KeyObject, signedInfo: DomElement, canonicalization: string): SignedXml {
  const verifier = new (xmlCrypto().SignedXml)({ publicCert: key });
  verifier.SignatureAlgorithms = signatureAlgorithmRegistry();
  verifier.HashAlgorithms = digestAlgorithmRegistry();
  const ancestorNamespaces = namespacesInScopeAbove(signedInfo);
  Object.assign(verifier, {
    getCanonSignedInfoXml: () => verifier.getCanonXml([canonicalization], signedInfo, { ancestorNamespaces }),
  });
  return verifier;
}

/** The namespaces an element inherits from its ancestors, nearest first, as C14N must render them on a document subset's apex. */
function namespacesInScopeAbove(element: DomElement): { prefix: string; namespaceURI: string }[] {
  const ownPrefixes = new Set<string>([element.prefix ?? ""]);
  for (const { prefix } of namespaceDeclarations(element)) ownPrefixes.add(prefix);
  const seen = new Set<string>();
  const inherited: { prefix: string; namespaceURI: string }[] = [];
  for (let node = element.parentNode; node && node.nodeType === 1; node = node.parentNode) {
    for (const declaration of namespaceDeclarations(node as DomElement)) {
      if (seen.has(declaration.prefix)) continue; // shadowed by a nearer declaration
      seen.add(declaration.prefix);
      // An undeclaration (xmlns="") only shadows; it is no namespace node.
      if (declaration.namespaceURI !== "" && !ownPrefixes.has(declaration.prefix)) inherited.push(declaration);
    }
  }
  return inherited;
}

function namespaceDeclarations(element: DomElement): { prefix: string; namespaceURI: string }[] {
  const declarations: { prefix: string; namespaceURI: string }[] = [];
  for (let index = 0; index < element.attributes.length; index++) {
    const attribute = element.attributes.item(index);
    if (!attribute) continue;
    if (attribute.name === "xmlns" || attribute.name.startsWith("xmlns:")) {
      declarations.push({
        prefix: attribute.name === "xmlns" ? "" : attribute.name.slice(6),
        namespaceURI: attribute.value,
      });
    }
  }
  return declarations;
}

function isSignatureElement(element: DomElement, localName: string): boolean {
  return element.namespaceURI === NS.xmldsig && element.localName === localName;
}

export function explainVerificationError(error: unknown): string {
  // Classify on the full text: xml-crypto puts the (long) signature value in the middle of its message.
  const raw = error instanceof Error ? error.message : String(error);
  if (/signature value[\s\S]* is incorrect/i.test(raw)) return "the signature value does not match the signer's key";
  if (/calculated digest/i.test(raw)) return "the signed content was changed after signing (digest mismatch)";
  return describeError(error);
}

export function embeddedCertificate(signature: DomElement): { key: KeyObject; sha256: string } | undefined {
  const keyInfo = elementChildren(signature).find((child) => isSignatureElement(child, "KeyInfo"));
  if (!keyInfo) return undefined;
  const [certificate] = descendants(keyInfo, NS.xmldsig, "X509Certificate");
  return keyOfCertificateText(certificate?.textContent ?? undefined);
}

function isMetadata(element: DomElement, localName: string): boolean {
  return element.namespaceURI === NS.metadata && element.localName === localName;
}

export function elementChildren(element: DomElement): DomElement[] {
  const children: DomElement[] = [];
  for (let node = element.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1) children.push(node as DomElement);
  }
  return children;
}

function descendants(element: DomElement, namespace: string, localName: string): DomElement[] {
  return Array.from(element.getElementsByTagNameNS(namespace, localName));
}
