// The expiry-warning ladder: which step a certificate is on (60d, 30d, … 1d, then expired+N daily), and which certificates it watches.
import { documentSigningCertificates } from "./signing-certificates.js";
import type { PostureFacts } from "./posture-facts.js";
import { inspectMetadataText } from "../saml/inspect-metadata.js";
import type { MetadataInspection } from "../saml/metadata-model.js";

const DAY_MS = 86_400_000;

/** "60d" … "1d" while the certificate is valid, "expired+0", "expired+1", … once it has expired; what the store records. */
export type ExpiryStep = string;

/**
 * The step a certificate with this notAfter is on at `now`: null while it has more whole days left than the ladder's
 * first rung, then the smallest rung at or above its whole days left, then one step per whole day since it expired
 * (the daily reminder). Only the current step is returned, so a certificate seen at 40 days and next at 5 (the service
 * was down) gets the 7-day warning and not the 30- and 14-day ones it missed.
 */
export function expiryStep(notAfter: Date, now: Date, ladder: readonly number[]): ExpiryStep | null {
  const remaining = notAfter.getTime() - now.getTime();
  if (remaining <= 0) return `expired+${Math.floor(-remaining / DAY_MS)}`;
  const daysLeft = Math.floor(remaining / DAY_MS);
  // The config sorts the ladder, but a caller's ladder is not trusted to be sorted or free of repeats.
  const rung = Math.min(...ladder.filter((days) => daysLeft <= days));
  return Number.isFinite(rung) ? `${rung}d` : null;
}

/**
 * How pressing a step is: larger is more urgent. Used so that a step less urgent than one already posted is never
 * posted (a clock set back, say), which would read as the danger receding when it has not.
 */
export function stepUrgency(step: ExpiryStep): number {
  const expired = /^expired\+(\d+)$/.exec(step);
  if (expired) return 1_000_000 + Number(expired[1]);
  const before = /^(\d+)d$/.exec(step);
  return before ? -Number(before[1]) : Number.NEGATIVE_INFINITY;
}

/** A certificate the ladder watches, with everywhere AWS or the IdP holds it. */
export interface WatchedCertificate {
  /** SHA-256 of the DER, lowercase hex: the certificate's identity in the store. */
  readonly sha256: string;
  readonly subject: string;
  readonly notAfter: Date;
  /** True when the IdP's metadata publishes it as a signing certificate. */
  readonly publishedByIdp: boolean;
  /** The ARNs of the emergency IAM SAML providers whose metadata holds it. */
  readonly samlProviders: readonly string[];
}

/**
 * The IdP's signing certificates and the ones the IAM SAML providers hold, one entry per fingerprint. A provider that
 * could not be read, or holds metadata that cannot be parsed, adds nothing: its findings say so.
 */
export function watchedCertificates(
  idp: MetadataInspection | undefined,
  facts: PostureFacts | undefined,
): WatchedCertificate[] {
  const watched = new Map<
    string,
    { sha256: string; subject: string; notAfter: Date; publishedByIdp: boolean; samlProviders: string[] }
  >();
  const entry = (certificate: { sha256: string; subject: string; notAfter: Date }) => {
    let found = watched.get(certificate.sha256);
    if (!found) {
      found = {
        sha256: certificate.sha256,
        subject: certificate.subject,
        notAfter: certificate.notAfter,
        publishedByIdp: false,
        samlProviders: [],
      };
      watched.set(certificate.sha256, found);
    }
    return found;
  };
  if (idp) for (const certificate of documentSigningCertificates(idp)) entry(certificate).publishedByIdp = true;
  for (const provider of facts?.samlProviders ?? []) {
    if (provider.status !== "found" || provider.metadataDocument === null) continue;
    let held: MetadataInspection;
    try {
      held = inspectMetadataText(provider.metadataDocument, provider.arn);
    } catch {
      continue;
    }
    for (const certificate of documentSigningCertificates(held)) {
      const found = entry(certificate);
      if (!found.samlProviders.includes(provider.arn)) found.samlProviders.push(provider.arn);
    }
  }
  return [...watched.values()].sort(
    (a, b) => a.notAfter.getTime() - b.notAfter.getTime() || a.sha256.localeCompare(b.sha256),
  );
}
