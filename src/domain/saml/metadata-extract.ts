// Walks a parsed metadata document and collects, per EntityDescriptor, the raw facts (certificates still as base64).
import { BreakglassError } from "../errors.js";
import type { CertificateUse, RoleFacts, RoleKind, SsoService } from "./metadata-model.js";
import { NS, childElements, is, textContent, type XmlElement } from "./xml-document.js";

export interface RawCertificate {
  readonly role: string;
  readonly roleKind: RoleKind;
  readonly use: CertificateUse;
  /** The X509Certificate text with all whitespace removed. */
  readonly base64: string;
}

export interface RawEntity {
  readonly entityID: string;
  readonly validUntil: string | null;
  readonly cacheDuration: string | null;
  readonly inheritedValidUntil: readonly string[];
  readonly hasOwnSignature: boolean;
  readonly roles: readonly RoleFacts[];
  readonly ssoServices: readonly SsoService[];
  readonly nameIDFormats: readonly string[];
  readonly certificates: readonly RawCertificate[];
}

export interface RawMetadata {
  readonly rootElement: "EntityDescriptor" | "EntitiesDescriptor";
  readonly validUntil: string | null;
  readonly cacheDuration: string | null;
  readonly hasRootSignature: boolean;
  readonly entities: readonly RawEntity[];
}

/** The role descriptors of SAML metadata (saml-metadata 2.4): the only children of an entity read for its roles. */
export const ROLE_ELEMENTS: ReadonlySet<string> = new Set([
  "IDPSSODescriptor",
  "SPSSODescriptor",
  "AuthnAuthorityDescriptor",
  "AttributeAuthorityDescriptor",
  "PDPDescriptor",
  "RoleDescriptor",
]);

/** Collects the entities of a document whose root is md:EntityDescriptor or md:EntitiesDescriptor. */
export function extractMetadata(root: XmlElement, input: string): RawMetadata {
  if (
    root.namespace !== NS.metadata ||
    (root.localName !== "EntityDescriptor" && root.localName !== "EntitiesDescriptor")
  ) {
    const where = root.namespace ? `{${root.namespace}}${root.localName}` : root.localName;
    throw new BreakglassError(
      "METADATA_NOT_SAML",
      input,
      `not SAML 2.0 metadata: the root element is <${where}>, not md:EntityDescriptor or md:EntitiesDescriptor`,
    );
  }
  const entities: RawEntity[] = [];
  if (root.localName === "EntityDescriptor") {
    entities.push(extractEntity(root, [], input));
  } else {
    collectAggregate(root, [], entities, input);
  }
  return {
    rootElement: root.localName,
    validUntil: attribute(root, "validUntil"),
    cacheDuration: attribute(root, "cacheDuration"),
    hasRootSignature: hasSignatureChild(root, input),
    entities,
  };
}

/** EntityDescriptors in document order, descending through nested EntitiesDescriptors; the signature check walks the same way. */
function collectAggregate(
  aggregate: XmlElement,
  inherited: readonly string[],
  entities: RawEntity[],
  input: string,
): void {
  const validUntil = attribute(aggregate, "validUntil");
  const scope = validUntil === null ? inherited : [...inherited, validUntil];
  for (const child of childElements(aggregate, input)) {
    if (is(child, NS.metadata, "EntityDescriptor")) entities.push(extractEntity(child, scope, input));
    else if (is(child, NS.metadata, "EntitiesDescriptor")) collectAggregate(child, scope, entities, input);
  }
}

function extractEntity(entity: XmlElement, inheritedValidUntil: readonly string[], input: string): RawEntity {
  const entityID = attribute(entity, "entityID");
  if (entityID === null || entityID.trim() === "") {
    throw new BreakglassError("METADATA_NOT_SAML", input, "an EntityDescriptor has no entityID attribute");
  }
  const roles: RoleFacts[] = [];
  const ssoServices: SsoService[] = [];
  const nameIDFormats: string[] = [];
  const certificates: RawCertificate[] = [];
  let hasOwnSignature = false;
  for (const child of childElements(entity, input)) {
    if (is(child, NS.xmldsig, "Signature")) {
      hasOwnSignature = true;
      continue;
    }
    if (child.namespace !== NS.metadata || !ROLE_ELEMENTS.has(child.localName)) continue;
    const role = describeRole(child);
    roles.push(role);
    for (const part of childElements(child, input)) {
      if (part.namespace !== NS.metadata) continue;
      if (part.localName === "KeyDescriptor") {
        certificates.push(...extractKeyCertificates(part, role, input));
      } else if (role.kind === "idp" && part.localName === "SingleSignOnService") {
        ssoServices.push({ binding: attribute(part, "Binding") ?? "", location: attribute(part, "Location") ?? "" });
      } else if (role.kind === "idp" && part.localName === "NameIDFormat") {
        nameIDFormats.push(textContent(part).trim());
      }
    }
  }
  return {
    entityID,
    validUntil: attribute(entity, "validUntil"),
    cacheDuration: attribute(entity, "cacheDuration"),
    inheritedValidUntil,
    hasOwnSignature,
    roles,
    ssoServices,
    nameIDFormats,
    certificates,
  };
}

function describeRole(element: XmlElement): RoleFacts {
  const kind: RoleKind =
    element.localName === "IDPSSODescriptor" ? "idp" : element.localName === "SPSSODescriptor" ? "sp" : "other";
  let label = element.localName;
  if (element.localName === "RoleDescriptor") {
    const type = xsiType(element);
    if (type) label = `RoleDescriptor[${type}]`;
  }
  return { kind, label, validUntil: attribute(element, "validUntil") };
}

function xsiType(element: XmlElement): string | undefined {
  for (const name in element.attributes) {
    const colon = name.indexOf(":");
    if (colon !== -1 && name.slice(colon + 1) === "type" && element.scope[name.slice(0, colon)] === NS.xsi) {
      // Keep the author's prefix: "fed:SecurityTokenServiceType" is what admins see in the file.
      return element.attributes[name];
    }
  }
  return undefined;
}

function extractKeyCertificates(keyDescriptor: XmlElement, role: RoleFacts, input: string): RawCertificate[] {
  const declaredUse = attribute(keyDescriptor, "use");
  const use: CertificateUse =
    declaredUse === "signing" ? "signing" : declaredUse === "encryption" ? "encryption" : "both";
  const found: RawCertificate[] = [];
  for (const keyInfo of childElements(keyDescriptor, input)) {
    if (!is(keyInfo, NS.xmldsig, "KeyInfo")) continue;
    for (const x509Data of childElements(keyInfo, input)) {
      if (!is(x509Data, NS.xmldsig, "X509Data")) continue;
      for (const certificate of childElements(x509Data, input)) {
        if (is(certificate, NS.xmldsig, "X509Certificate")) {
          found.push({
            role: role.label,
            roleKind: role.kind,
            use,
            base64: textContent(certificate).replace(/\s+/g, ""),
          });
        }
      }
    }
  }
  return found;
}

function hasSignatureChild(element: XmlElement, input: string): boolean {
  return childElements(element, input).some((child) => is(child, NS.xmldsig, "Signature"));
}

function attribute(element: XmlElement, name: string): string | null {
  const value = element.attributes[name];
  return value === undefined ? null : String(value);
}
