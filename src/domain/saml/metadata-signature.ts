// Verifies the enveloped XML-DSig signatures of a metadata document and returns only the XML each valid signature covers.
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { DOMParser } from "@xmldom/xmldom";
import { SignedXml } from "xml-crypto";
import { describeError } from "../errors.js";
import { NO_SIGNATURE, type SignatureVerdict } from "./metadata-model.js";
import { NS } from "./xml-document.js";

/** The key a signature must verify against: pinned by the operator, or else the one in the signature itself. */
export interface MetadataSigner {
  readonly key: KeyObject;
  readonly sha256: string | null;
}

export interface SignatureCheck {
  readonly verdict: SignatureVerdict;
  /** The canonical XML the signature covers (enveloped signature removed); only when valid. */
  readonly signedXml: string | null;
}

export interface DocumentSignatureChecks {
  readonly root: SignatureCheck;
  /** One per EntityDescriptor, in the order metadata-extract lists them. */
  readonly entities: readonly SignatureCheck[];
}

/** xmldom 0.8 types its nodes with the DOM lib's interfaces. */
type DomElement = Element;

const UNSIGNED: SignatureCheck = { verdict: NO_SIGNATURE, signedXml: null };

/**
 * Checks every signature that is a direct child of the root or of an EntityDescriptor. A signature
 * elsewhere covers nothing breakglass reports, so it is ignored rather than trusted.
 */
export function checkMetadataSignatures(text: string, signer: MetadataSigner | undefined): DocumentSignatureChecks {
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
  const signatures = elementChildren(container).filter(
    (child) => child.namespaceURI === NS.xmldsig && child.localName === "Signature",
  );
  if (signatures.length === 0) return UNSIGNED;
  const keySource = signer ? "pinned" : "embedded";
  const invalid = (detail: string, signerSha256: string | null = signer?.sha256 ?? null): SignatureCheck => ({
    verdict: { present: true, valid: false, detail, key: keySource, signerSha256 },
    signedXml: null,
  });
  if (signatures.length > 1) return invalid("more than one Signature element on the same element");
  const signature = signatures[0] as DomElement;

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

  const verifier = new SignedXml({ publicCert: key });
  try {
    verifier.loadSignature(signature);
    const valid = verifier.checkSignature(text);
    if (!valid) return invalid("the signed content was changed after signing (digest mismatch)", signerSha256);
  } catch (error) {
    return invalid(explainVerificationError(error), signerSha256);
  }
  const [signedXml] = verifier.getSignedReferences();
  if (signedXml === undefined) return invalid("the signature verified but covers no content", signerSha256);
  return {
    verdict: {
      present: true,
      valid: true,
      detail: signer
        ? "verified against the pinned signer"
        : "verified against the certificate in the signature (integrity only; pin the signer with --metadata-signer)",
      key: keySource,
      signerSha256,
    },
    signedXml,
  };
}

function explainVerificationError(error: unknown): string {
  // Classify on the full text: xml-crypto puts the (long) signature value in the middle of its message.
  const raw = error instanceof Error ? error.message : String(error);
  if (/signature value[\s\S]* is incorrect/i.test(raw)) return "the signature value does not match the signer's key";
  if (/calculated digest/i.test(raw)) return "the signed content was changed after signing (digest mismatch)";
  return describeError(error);
}

function embeddedCertificate(signature: DomElement): { key: KeyObject; sha256: string } | undefined {
  const keyInfo = elementChildren(signature).find(
    (child) => child.namespaceURI === NS.xmldsig && child.localName === "KeyInfo",
  );
  if (!keyInfo) return undefined;
  const [certificate] = descendants(keyInfo, NS.xmldsig, "X509Certificate");
  const base64 = certificate?.textContent?.replace(/\s+/g, "");
  if (!base64) return undefined;
  try {
    const der = Buffer.from(base64, "base64");
    const key = createPublicKey({ key: toPem(der), format: "pem" });
    return { key, sha256: sha256Hex(der) };
  } catch {
    return undefined;
  }
}

export function toPem(der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

function sha256Hex(der: Buffer): string {
  return createHash("sha256").update(der).digest("hex");
}

function isMetadata(element: DomElement, localName: string): boolean {
  return element.namespaceURI === NS.metadata && element.localName === localName;
}

function elementChildren(element: DomElement): DomElement[] {
  const children: DomElement[] = [];
  for (let node = element.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1) children.push(node as DomElement);
  }
  return children;
}

function descendants(element: DomElement, namespace: string, localName: string): DomElement[] {
  return Array.from(element.getElementsByTagNameNS(namespace, localName));
}
