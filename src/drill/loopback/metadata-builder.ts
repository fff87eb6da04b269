// Builds IdP metadata documents from parts, so each test states exactly what its document contains.
import { SignedXml } from "xml-crypto";

export interface KeySpec {
  readonly base64: string;
  readonly use?: "signing" | "encryption";
}

export interface EntitySpec {
  readonly entityID?: string;
  readonly id?: string;
  readonly validUntil?: string;
  readonly role?: "idp" | "sp";
  readonly keys?: readonly KeySpec[];
  readonly ssoLocations?: readonly string[];
}

const MD = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS = "http://www.w3.org/2000/09/xmldsig#";

export function entityXml(spec: EntitySpec = {}, declareNamespaces = true): string {
  const role = spec.role ?? "idp";
  const keys = (spec.keys ?? [])
    .map(
      (key) =>
        `<md:KeyDescriptor${key.use ? ` use="${key.use}"` : ""}><ds:KeyInfo><ds:X509Data>` +
        `<ds:X509Certificate>${key.base64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
    )
    .join("");
  const services =
    role === "idp"
      ? (spec.ssoLocations ?? ["https://idp.example.test/sso"])
          .map(
            (location) =>
              `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${location}"/>`,
          )
          .join("")
      : `<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.test/acs" index="0"/>`;
  const descriptor = role === "idp" ? "md:IDPSSODescriptor" : "md:SPSSODescriptor";
  const namespaces = declareNamespaces ? ` xmlns:md="${MD}" xmlns:ds="${DS}"` : "";
  return (
    `<md:EntityDescriptor${namespaces} entityID="${spec.entityID ?? "https://idp.example.test/metadata"}"` +
    `${spec.id ? ` ID="${spec.id}"` : ""}${spec.validUntil ? ` validUntil="${spec.validUntil}"` : ""}>` +
    `<${descriptor} protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${keys}` +
    `<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>${services}</${descriptor}>` +
    `</md:EntityDescriptor>`
  );
}

export function aggregateXml(entities: readonly string[], attributes = ""): string {
  return `<md:EntitiesDescriptor xmlns:md="${MD}" xmlns:ds="${DS}"${attributes}>${entities.join("")}</md:EntitiesDescriptor>`;
}

/** Signs the document element (enveloped, exclusive C14N unless told otherwise, RSA-SHA256) the way IdPs sign metadata. */
export function signDocument(
  xml: string,
  privateKeyPem: string,
  certificateBase64: string,
  referenceId?: string,
  canonicalization = "http://www.w3.org/2001/10/xml-exc-c14n#",
): string {
  const signer = new SignedXml({
    privateKey: privateKeyPem,
    publicCert: certificateBase64,
    signatureAlgorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    canonicalizationAlgorithm: canonicalization,
  });
  signer.getKeyInfoContent = () =>
    `<ds:X509Data><ds:X509Certificate>${certificateBase64}</ds:X509Certificate></ds:X509Data>`;
  const rootName = /<([A-Za-z_][\w.-]*:)?(EntityDescriptor|EntitiesDescriptor)\b/.exec(xml)?.[2] ?? "EntityDescriptor";
  signer.addReference({
    xpath: referenceId ? `//*[@ID='${referenceId}']` : `/*[local-name()='${rootName}']`,
    transforms: ["http://www.w3.org/2000/09/xmldsig#enveloped-signature", canonicalization],
    digestAlgorithm: "http://www.w3.org/2001/04/xmlenc#sha256",
    ...(referenceId ? {} : { isEmptyUri: true }),
  });
  signer.computeSignature(xml, {
    prefix: "ds",
    location: { reference: referenceId ? `//*[@ID='${referenceId}']/*[1]` : `/*/*[1]`, action: "before" },
  });
  return signer.getSignedXml();
}
