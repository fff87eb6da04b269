// The one registry of finding codes: severity, the remedy in one sentence, and the runbook that fixes it. Slack, the CLI and docs read it.
import type { Severity } from "./finding.js";

export interface FindingCodeEntry {
  readonly severity: Severity;
  readonly remedy: string;
  /** The runbook in runbooks/ that fixes it, once runbooks exist. */
  readonly runbook: string | null;
}

export const FINDING_CODES = {
  CERT_EXPIRED: {
    severity: "critical",
    remedy: "Get the IdP's current metadata with a valid signing certificate and re-import it into IAM Identity Center and the emergency IAM SAML provider.",
    runbook: "fm2-reimport-metadata",
  },
  CERT_NOT_YET_VALID: {
    severity: "high",
    remedy: "Check the IdP's clock and the certificate's notBefore; do not switch the IdP to this certificate before it is valid.",
    runbook: null,
  },
  CERT_EXPIRING: {
    severity: "high",
    remedy: "Roll the IdP signing certificate over now and re-import the new metadata into Identity Center and the emergency IAM SAML provider before it expires.",
    runbook: "fm2-reimport-metadata",
  },
  CERT_WEAK_KEY: {
    severity: "high",
    remedy: "Replace the signing key with RSA 2048 bits or more (or EC P-256 or more) at the IdP, then re-import the metadata.",
    runbook: "fm2-reimport-metadata",
  },
  CERT_WEAK_SIGNATURE: {
    severity: "medium",
    remedy: "Reissue the certificate with a SHA-256 (or stronger) signature at the IdP, then re-import the metadata.",
    runbook: null,
  },
  CERT_UNPARSEABLE: {
    severity: "high",
    remedy: "Download the metadata again from the IdP; a certificate that cannot be read will be rejected by AWS too.",
    runbook: null,
  },
  NO_SIGNING_CERT: {
    severity: "critical",
    remedy: "Export the IdP metadata again: it must carry the IdP's signing certificate in a KeyDescriptor of the IDPSSODescriptor.",
    runbook: null,
  },
  NO_VALID_SIGNING_CERT: {
    severity: "critical",
    remedy: "Federation is broken or about to break: activate a valid signing certificate at the IdP and re-import its metadata now, or use the emergency access path.",
    runbook: "fm2-reimport-metadata",
  },
  ROLLOVER_IN_PROGRESS: {
    severity: "info",
    remedy: "The IdP publishes more than one signing certificate: make sure the emergency IAM SAML provider and Identity Center carry the new one before the IdP switches.",
    runbook: "fm2-reimport-metadata",
  },
  METADATA_EXPIRED: {
    severity: "critical",
    remedy: "Fetch fresh metadata from the IdP; consumers must reject metadata past its validUntil.",
    runbook: "fm2-reimport-metadata",
  },
  METADATA_MALFORMED: {
    severity: "high",
    remedy: "Export the metadata again from the IdP; a field breakglass needs could not be read.",
    runbook: null,
  },
  METADATA_SIGNATURE_INVALID: {
    severity: "critical",
    remedy: "Do not import this document: download it again over HTTPS from the IdP and check who changed it.",
    runbook: null,
  },
  METADATA_SIGNATURE_UNVERIFIED: {
    severity: "high",
    remedy: "Verify the signature another way (xmlsec1) or raise --max-signed-bytes and inspect again; until then nothing vouches for this document.",
    runbook: null,
  },
  NOT_AN_IDP: {
    severity: "high",
    remedy: "Point breakglass at the identity provider's metadata (with an IDPSSODescriptor), not a service provider's.",
    runbook: null,
  },
  NO_SSO_SERVICE: {
    severity: "high",
    remedy: "Export the IdP metadata again: it must list a SingleSignOnService (HTTP-POST or HTTP-Redirect) for sign-in to work.",
    runbook: null,
  },
} as const satisfies Record<string, FindingCodeEntry>;

export type FindingCode = keyof typeof FINDING_CODES;
