// Signs metadata with any algorithm breakglass verifies (ECDSA, SHA-1, inclusive C14N), with keys made by the test.
import { SignedXml } from "xml-crypto";
import { digestAlgorithmRegistry, signatureAlgorithmRegistry } from "../../src/domain/saml/signature-algorithms.js";

export const ALGORITHM = {
  rsaSha1: "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
  rsaSha256: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
  ecdsaSha256: "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
  ecdsaSha384: "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
  sha1: "http://www.w3.org/2000/09/xmldsig#sha1",
  sha256: "http://www.w3.org/2001/04/xmlenc#sha256",
  sha384: "http://www.w3.org/2001/04/xmldsig-more#sha384",
  sha512: "http://www.w3.org/2001/04/xmlenc#sha512",
  rsaSha512: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
  inclusiveC14n: "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
  exclusiveC14n: "http://www.w3.org/2001/10/xml-exc-c14n#",
  envelopedSignature: "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
} as const;

export interface SigningSpec {
  readonly privateKeyPem: string;
  readonly signatureAlgorithm: string;
  readonly digestAlgorithm?: string;
  /** Used for SignedInfo and as the Reference's second transform. */
  readonly canonicalization?: string;
  /** Reference URI="#id"; without it the Reference is URI="" (the whole document). */
  readonly referenceId?: string;
  readonly certificateBase64?: string;
  /** An InclusiveNamespaces PrefixList, on the Reference's exclusive C14N transform and on SignedInfo's. */
  readonly inclusiveNamespaces?: readonly string[];
}

/** Signs the document element of `xml` (enveloped), placing the Signature as its first child. */
export function signXml(xml: string, spec: SigningSpec): string {
  const canonicalization = spec.canonicalization ?? ALGORITHM.exclusiveC14n;
  const signer = new SignedXml({
    privateKey: spec.privateKeyPem,
    signatureAlgorithm: spec.signatureAlgorithm,
    canonicalizationAlgorithm: canonicalization,
    ...(spec.inclusiveNamespaces ? { inclusiveNamespacesPrefixList: [...spec.inclusiveNamespaces] } : {}),
  });
  signer.SignatureAlgorithms = signatureAlgorithmRegistry();
  signer.HashAlgorithms = digestAlgorithmRegistry();
  const certificate = spec.certificateBase64;
  signer.getKeyInfoContent = () =>
    certificate ? `<ds:X509Data><ds:X509Certificate>${certificate}</ds:X509Certificate></ds:X509Data>` : null;
  signer.addReference({
    xpath: spec.referenceId ? `//*[@ID='${spec.referenceId}']` : "/*",
    transforms: [ALGORITHM.envelopedSignature, canonicalization],
    digestAlgorithm: spec.digestAlgorithm ?? ALGORITHM.sha256,
    ...(spec.inclusiveNamespaces ? { inclusiveNamespacesPrefixList: [...spec.inclusiveNamespaces] } : {}),
    ...(spec.referenceId ? {} : { isEmptyUri: true }),
  });
  signer.computeSignature(xml, { prefix: "ds", location: { reference: "/*/*[1]", action: "before" } });
  return signer.getSignedXml();
}
