// The facts breakglass reads from SAML metadata: plain data that the checks, the CLI and Slack all consume.
import type { CertificateFacts } from "./certificate.js";

export type CertificateUse = "signing" | "encryption" | "both";

/** idp: IDPSSODescriptor, sp: SPSSODescriptor; everything else is "other" (attribute authorities, WS-Fed roles). */
export type RoleKind = "idp" | "sp" | "other";

export interface RoleFacts {
  readonly kind: RoleKind;
  /** As the manifest and admins name it: "IDPSSODescriptor", "RoleDescriptor[fed:SecurityTokenServiceType]". */
  readonly label: string;
  readonly validUntil: string | null;
}

export interface SsoService {
  readonly binding: string;
  readonly location: string;
}

export interface SignatureVerdict {
  readonly present: boolean;
  /** null when there is no signature to check. */
  readonly valid: boolean | null;
  /** Why the signature is invalid, or what it was checked against. */
  readonly detail: string | null;
  /** "pinned" when checked against --metadata-signer, "embedded" when against the signature's own KeyInfo. */
  readonly key: "pinned" | "embedded" | null;
  /** SHA-256 of the certificate that verified the signature, when it was a certificate. */
  readonly signerSha256: string | null;
}

export type CertificateEntry =
  | {
      readonly role: string;
      readonly roleKind: RoleKind;
      readonly use: CertificateUse;
      readonly facts: CertificateFacts;
    }
  | {
      readonly role: string;
      readonly roleKind: RoleKind;
      readonly use: CertificateUse;
      readonly facts: null;
      readonly sha256: string | null;
      readonly error: string;
    };

export interface EntityFacts {
  readonly entityID: string;
  readonly roles: readonly RoleFacts[];
  readonly validUntil: string | null;
  readonly cacheDuration: string | null;
  /** validUntil values of the EntitiesDescriptors around the entity, outermost first. */
  readonly inheritedValidUntil: readonly string[];
  readonly signature: SignatureVerdict;
  /** Which signature covers the entity: the document's (root) or its own; null when unsigned. */
  readonly signatureScope: "document" | "entity" | null;
  readonly ssoServices: readonly SsoService[];
  readonly nameIDFormats: readonly string[];
  readonly certificates: readonly CertificateEntry[];
}

export interface MetadataInspection {
  /** The file path or URL the document came from. */
  readonly input: string;
  readonly rootElement: "EntityDescriptor" | "EntitiesDescriptor";
  readonly validUntil: string | null;
  readonly cacheDuration: string | null;
  readonly signature: SignatureVerdict;
  /** True when signatures had to verify against --metadata-signer. */
  readonly signerPinned: boolean;
  readonly entities: readonly EntityFacts[];
}

export const NO_SIGNATURE: SignatureVerdict = {
  present: false,
  valid: null,
  detail: null,
  key: null,
  signerSha256: null,
};
