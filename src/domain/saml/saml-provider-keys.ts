// The signing certificates and entityIDs of the metadata an IAM SAML provider holds: what a SAML response must match.
import { BreakglassError } from "../errors.js";
import { keyOfCertificateText } from "./embedded-certificate.js";
import { extractMetadata } from "./metadata-extract.js";
import type { ProviderSigner } from "./saml-response-signature.js";
import { assertSafeXml } from "./xml-safety.js";
import { parseXmlDocument } from "./xml-document.js";

export interface ProviderKeys {
  readonly entityIds: readonly string[];
  /** The IdP signing certificates (use "signing" or unspecified) of the metadata, each once. */
  readonly signers: readonly ProviderSigner[];
}

/** Reads `text` (metadata XML); `input` names it (the provider ARN or the --provider-metadata file) in errors. */
export function readProviderKeys(text: string, input: string): ProviderKeys {
  const xml = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  assertSafeXml(xml, input);
  const metadata = extractMetadata(parseXmlDocument(xml, input), input);
  const signers = new Map<string, ProviderSigner>();
  for (const entity of metadata.entities) {
    for (const certificate of entity.certificates) {
      if (certificate.roleKind !== "idp" || certificate.use === "encryption") continue;
      const key = keyOfCertificateText(certificate.base64);
      if (key && !signers.has(key.sha256)) signers.set(key.sha256, key);
    }
  }
  if (signers.size === 0) {
    throw new BreakglassError(
      "METADATA_NO_SIGNING_CERTIFICATE",
      input,
      "the provider's metadata has no readable IdP signing certificate, so no response can verify against it",
    );
  }
  return { entityIds: metadata.entities.map((entity) => entity.entityID), signers: [...signers.values()] };
}
