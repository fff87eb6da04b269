// Key continuity of a metadata re-import: whether the new document shares a signing key with what a provider holds,
// and when it does not, what the approver must confirm (the first 8 hex of a new certificate's SHA-256) before it applies.
import type { CertificateFacts } from "./certificate.js";

/** How many hex characters of a new certificate's SHA-256 the approver types, as read from the IdP's admin console. */
export const CONFIRM_HEX_LENGTH = 8;

/**
 * shares-key: every provider that changes keeps at least one of its signing certificates;
 * full-change-signed: some provider keeps none, but the document verified against the pinned metadata signer;
 * full-change-unsigned: some provider keeps none and nothing vouches for the document: the approver confirms a fingerprint.
 */
export type KeyContinuityVerdict = "shares-key" | "full-change-signed" | "full-change-unsigned";

/** A signing certificate of the new document, as the approver compares it with the IdP's admin console. */
export interface IncomingCertificate {
  /** Lowercase hex, no separators. */
  readonly sha256: string;
  readonly subject: string;
  /** ISO-8601. */
  readonly notAfter: string;
  /** No provider that changes holds it yet: a confirmation must name one of these. */
  readonly isNew: boolean;
}

/** Kept in the action's plan (JSON), so the approval shows it and the engine can demand the confirmation. */
export interface KeyContinuity {
  readonly verdict: KeyContinuityVerdict;
  /** The providers that would hold none of the signing certificates they hold now. */
  readonly providersWithoutSharedKey: readonly string[];
  readonly certificates: readonly IncomingCertificate[];
  /** One line for the approver: what the verdict means and what they must do. */
  readonly note: string;
}

export interface ProviderKeys {
  readonly arn: string;
  /** The SHA-256 of each signing certificate the provider holds; null when its document cannot be read. */
  readonly fingerprints: readonly string[] | null;
}

export interface KeyContinuityInput {
  /** The providers the import changes (those already holding the document's certificates are left out by the caller). */
  readonly providers: readonly ProviderKeys[];
  readonly incoming: readonly CertificateFacts[];
  /** The document's signature verified against the pinned metadata signer (idp.metadataSigner). */
  readonly signedByPinnedSigner: boolean;
}

/** Judges the import: a provider whose document cannot be read shares no key with anything. */
export function judgeKeyContinuity(input: KeyContinuityInput): KeyContinuity {
  const held = new Set(input.providers.flatMap((provider) => provider.fingerprints ?? []));
  const incoming = new Set(input.incoming.map((certificate) => certificate.sha256));
  const without = input.providers
    .filter((provider) => !(provider.fingerprints ?? []).some((fingerprint) => incoming.has(fingerprint)))
    .map((provider) => provider.arn);
  const certificates = [...input.incoming]
    .sort((a, b) => a.sha256.localeCompare(b.sha256))
    .map((certificate) => ({
      sha256: certificate.sha256,
      subject: certificate.subject,
      notAfter: certificate.notAfter.toISOString(),
      isNew: !held.has(certificate.sha256),
    }));
  if (without.length === 0) {
    return {
      verdict: "shares-key",
      providersWithoutSharedKey: [],
      certificates,
      note: "the new metadata keeps a signing key each provider already trusts (a rollover, not a full key change)",
    };
  }
  if (input.signedByPinnedSigner) {
    return {
      verdict: "full-change-signed",
      providersWithoutSharedKey: without,
      certificates,
      note:
        `full key change: ${without.join(", ")} would trust none of the keys it trusts now; the document is signed ` +
        "by the pinned metadata signer (idp.metadataSigner), so no fingerprint confirmation is asked",
    };
  }
  const newOnes = certificates.filter((certificate) => certificate.isNew);
  const which =
    newOnes.length === 1
      ? "the new signing certificate's"
      : `any one of the ${newOnes.length} new signing certificates' (the one typed is recorded)`;
  return {
    verdict: "full-change-unsigned",
    providersWithoutSharedKey: without,
    certificates,
    note:
      `FULL KEY CHANGE, NOT SIGNED BY THE PINNED METADATA SIGNER: ${without.join(", ")} would trust none of the keys ` +
      `it trusts now. To approve, type the first ${CONFIRM_HEX_LENGTH} hex characters of ${which} SHA-256 ` +
      "as the IdP's own admin console shows it",
  };
}

export function requiresFingerprintConfirmation(continuity: KeyContinuity | undefined): boolean {
  return continuity?.verdict === "full-change-unsigned";
}

/** `AB:CD:…`: the SHA-256 in colon-separated pairs, as IdP consoles and `openssl x509 -fingerprint -sha256` show it. */
export function groupedFingerprint(sha256: string): string {
  return (sha256.toUpperCase().match(/.{1,2}/g) ?? []).join(":");
}

/** A certificate as the approver reads it: subject, expiry and grouped SHA-256. */
export function describeIncomingCertificate(certificate: Pick<IncomingCertificate, "subject" | "notAfter">): string {
  return `${certificate.subject || "(no subject)"}, expires ${certificate.notAfter.slice(0, 10)}`;
}

export type FingerprintMatch =
  | { readonly ok: true; readonly certificate: IncomingCertificate; readonly given: string }
  | { readonly ok: false; readonly problem: string };

/**
 * Checks what the approver typed against the new certificates: spaces, colons and case do not matter; at least the first
 * 8 hex characters (more is fine, as long as they all match). The problem names the certificate(s) it should match,
 * never their fingerprint: the approver must read it from the IdP, not from breakglass.
 */
export function matchConfirmedFingerprint(
  given: string,
  certificates: readonly IncomingCertificate[],
): FingerprintMatch {
  const typed = given.replace(/[\s:]+/g, "").toLowerCase();
  const expected = certificates.map((certificate) => describeIncomingCertificate(certificate)).join("; or ");
  if (!/^[0-9a-f]+$/.test(typed) || typed.length < CONFIRM_HEX_LENGTH || typed.length > 64) {
    return {
      ok: false,
      problem:
        `expected the first ${CONFIRM_HEX_LENGTH} hex characters (0-9, A-F) of the SHA-256 of ${expected}, ` +
        `got "${given.trim().slice(0, 80)}"`,
    };
  }
  const certificate = certificates.find((candidate) => candidate.sha256.startsWith(typed));
  if (certificate === undefined) {
    return {
      ok: false,
      problem:
        `"${given.trim().slice(0, 80)}" is not the start of the SHA-256 of the new signing certificate ${expected}; ` +
        "read it again in the IdP's admin console: if it differs there too, this metadata is not the IdP's",
    };
  }
  return { ok: true, certificate, given: typed };
}
