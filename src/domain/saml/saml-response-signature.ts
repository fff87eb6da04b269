// Verifies a SAML response's signatures against the IAM SAML provider's certificates and refuses signature wrapping.
//
// The discipline is metadata-signature.ts's: a Signature counts only as a direct child of the element its one
// Reference names by ID (the Response, or its one Assertion); the facts are re-read from the canonical XML the valid
// signature covers, never from the document around it. Anything that could smuggle a second, unsigned set of facts
// (another Assertion, a Signature elsewhere, a repeated ID) is refused before any fact is read.
import type { KeyObject } from "node:crypto";
import { DOMParser } from "@xmldom/xmldom";
import { BreakglassError } from "../errors.js";
import {
  createVerifier,
  elementChildren,
  embeddedCertificate,
  explainVerificationError,
  firstUnsupportedAlgorithm,
  readAlgorithms,
  type DomElement,
} from "./metadata-signature.js";
import { familyOfKey, keyFamilyOf } from "./signature-algorithms.js";
import { NS } from "./xml-document.js";

export const SAML_NS = {
  assertion: "urn:oasis:names:tc:SAML:2.0:assertion",
  protocol: "urn:oasis:names:tc:SAML:2.0:protocol",
} as const;

/** A signing certificate the IAM SAML provider holds. */
export interface ProviderSigner {
  readonly key: KeyObject;
  readonly sha256: string;
}

export type ElementSignature =
  | { readonly state: "absent" }
  | { readonly state: "valid"; readonly signedXml: string; readonly signerSha256: string }
  /** Verifies against the certificate it carries, which the provider does not hold (the IdP changed its key). */
  | { readonly state: "unknown-signer"; readonly signerSha256: string }
  | { readonly state: "invalid"; readonly detail: string };

export interface ResponseSignatures {
  /** Why the document's shape is refused as a possible signature-wrapping attack; empty when it is not. */
  readonly wrapping: readonly string[];
  readonly response: ElementSignature;
  readonly assertion: ElementSignature;
}

const ABSENT: ElementSignature = { state: "absent" };

/** Checks `xml` (already through assertSafeXml); `input` names it in errors. */
export function checkResponseSignatures(
  xml: string,
  input: string,
  signers: readonly ProviderSigner[],
): ResponseSignatures {
  const document = new DOMParser({
    errorHandler: { warning: () => undefined, error: () => undefined, fatalError: () => undefined },
  }).parseFromString(xml, "text/xml");
  const root = document.documentElement;
  if (!root || root.namespaceURI !== SAML_NS.protocol || root.localName !== "Response") {
    const name = root ? `{${root.namespaceURI ?? ""}}${root.localName ?? root.nodeName}` : "nothing";
    throw new BreakglassError(
      "SAML_RESPONSE_UNUSABLE",
      input,
      `not a SAML response: the root element is ${name}, not samlp:Response (urn:oasis:names:tc:SAML:2.0:protocol)`,
    );
  }
  if (root.getElementsByTagNameNS(SAML_NS.assertion, "EncryptedAssertion").length > 0) {
    throw new BreakglassError(
      "SAML_RESPONSE_UNUSABLE",
      input,
      "the response carries an EncryptedAssertion, which the preflight does not support (it holds no decryption key); " +
        "preflight a response captured with assertion encryption turned off for a test, or test the sign-in in a browser",
    );
  }
  const wrapping: string[] = [];
  const assertions = Array.from(root.getElementsByTagNameNS(SAML_NS.assertion, "Assertion"));
  if (assertions.length !== 1) {
    wrapping.push(
      assertions.length === 0
        ? "the response carries no Assertion"
        : `the response carries ${assertions.length} Assertions; AWS takes exactly one, and a second is how signature wrapping hides forged facts`,
    );
  }
  const assertion = assertions.length === 1 ? assertions[0] : undefined;
  if (assertion && assertion.parentNode !== root)
    wrapping.push(
      `the Assertion sits inside ${pathOf(assertion.parentNode as DomElement)}, not directly in the Response`,
    );
  for (const signature of Array.from(root.getElementsByTagNameNS(NS.xmldsig, "Signature"))) {
    const parent = signature.parentNode;
    if (parent !== root && (assertion === undefined || parent !== assertion))
      wrapping.push(`a Signature sits in ${pathOf(parent as DomElement)}, where it signs nothing AWS reads`);
  }
  const repeated = repeatedIds(root);
  if (repeated.length > 0)
    wrapping.push(`the ID ${repeated.map((id) => JSON.stringify(id)).join(", ")} is on more than one element`);
  if (wrapping.length > 0) return { wrapping, response: ABSENT, assertion: ABSENT };
  return {
    wrapping,
    response: verifyElement(root, xml, signers),
    assertion: assertion ? verifyElement(assertion, xml, signers) : ABSENT,
  };
}

function verifyElement(container: DomElement, xml: string, signers: readonly ProviderSigner[]): ElementSignature {
  const signatures = elementChildren(container).filter(
    (child) => child.namespaceURI === NS.xmldsig && child.localName === "Signature",
  );
  if (signatures.length === 0) return ABSENT;
  const invalid = (detail: string): ElementSignature => ({ state: "invalid", detail });
  if (signatures.length > 1) return invalid(`the ${container.localName} carries more than one Signature`);
  const signature = signatures[0] as DomElement;
  const references = Array.from(signature.getElementsByTagNameNS(NS.xmldsig, "Reference"));
  if (references.length !== 1) return invalid(`the signature has ${references.length} References, not one`);
  const uri = (references[0] as DomElement).getAttribute("URI") ?? "";
  const id = container.getAttribute("ID") ?? "";
  if (id === "" || uri !== `#${id}`)
    return invalid(`the signature on the ${container.localName} references "${uri}", not the ${container.localName}`);
  const algorithms = readAlgorithms(signature);
  if (!algorithms.signedInfo) return invalid("the signature has no single SignedInfo element");
  const unsupported = firstUnsupportedAlgorithm(algorithms);
  if (unsupported !== undefined) return invalid(`the signature uses ${unsupported}, which breakglass cannot verify`);

  const attempt = (key: KeyObject): { valid: true; signedXml: string } | { valid: false; detail: string } => {
    if (familyOfKey(key) !== keyFamilyOf(algorithms.signatureMethod))
      return { valid: false, detail: "the signature algorithm does not fit the key" };
    const verifier = createVerifier(key, algorithms.signedInfo as DomElement, algorithms.canonicalization);
    try {
      verifier.loadSignature(signature);
      if (!verifier.checkSignature(xml))
        return { valid: false, detail: "the signed content was changed after signing (digest mismatch)" };
    } catch (error) {
      return { valid: false, detail: explainVerificationError(error) };
    }
    const [signedXml] = verifier.getSignedReferences();
    return signedXml === undefined
      ? { valid: false, detail: "the signature verified but covers no content" }
      : { valid: true, signedXml };
  };

  let detail = "the provider holds no signing certificate";
  for (const signer of signers) {
    const result = attempt(signer.key);
    if (result.valid) return { state: "valid", signedXml: result.signedXml, signerSha256: signer.sha256 };
    detail = result.detail;
    // Changed content fails whatever the key: no other certificate can make it valid.
    if (/digest mismatch/.test(detail)) return invalid(detail);
  }
  const embedded = embeddedCertificate(signature);
  if (embedded && !signers.some((signer) => signer.sha256 === embedded.sha256) && attempt(embedded.key).valid)
    return { state: "unknown-signer", signerSha256: embedded.sha256 };
  return invalid(
    /does not match the signer's key/.test(detail)
      ? "the signature value does not match any signing certificate the provider holds"
      : detail,
  );
}

function repeatedIds(root: DomElement): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  const visit = (element: DomElement): void => {
    for (const name of ["ID", "Id", "id"]) {
      const value = element.getAttribute(name);
      if (value === null || value === "") continue;
      if (seen.has(value)) repeated.add(value);
      seen.add(value);
    }
    for (const child of elementChildren(element)) visit(child);
  };
  visit(root);
  return [...repeated];
}

function pathOf(element: DomElement | null): string {
  const names: string[] = [];
  for (let node: DomElement | null = element; node && node.nodeType === 1; node = node.parentNode as DomElement | null)
    names.unshift(node.nodeName);
  return names.join("/") || "(document)";
}
