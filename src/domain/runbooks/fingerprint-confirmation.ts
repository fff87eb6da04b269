// What an approval needs besides a second person: when an action it unlocks is a full key change nothing vouches for,
// the approver's typed fingerprint of a new certificate; and the check, before that action applies, that it was given.
import {
  describeIncomingCertificate,
  requiresFingerprintConfirmation,
  type IncomingCertificate,
} from "../saml/key-continuity.js";
import type { ActionPlan } from "./engine-ports.js";
import type { UnlockedAction } from "./run-store.js";

/** The certificates one of which the approver must confirm, and the steps that ask for it. */
export interface FingerprintRequirement {
  readonly certificates: readonly IncomingCertificate[];
  readonly stepIds: readonly string[];
}

/** The fingerprint an approver confirmed, as the approval outcome and its audit record keep it. */
export interface ConfirmedFingerprint {
  readonly sha256: string;
  readonly subject: string;
  readonly notAfter: string;
  /** What the approver typed, without spaces and colons, lowercased. */
  readonly typed: string;
}

/** The requirement of the plans an approval unlocks, or undefined when none asks for a confirmation. */
export function fingerprintRequirement(
  unlocks: readonly UnlockedAction[] | undefined,
): FingerprintRequirement | undefined {
  const certificates = new Map<string, IncomingCertificate>();
  const stepIds: string[] = [];
  for (const unlocked of unlocks ?? []) {
    const confirmable = confirmableCertificates(unlocked.plan);
    if (confirmable.length === 0) continue;
    stepIds.push(unlocked.stepId);
    for (const certificate of confirmable) certificates.set(certificate.sha256, certificate);
  }
  return stepIds.length === 0 ? undefined : { certificates: [...certificates.values()], stepIds };
}

/** The new certificates a plan asks the approver to confirm one of (all of the document's when none is new); none when it asks nothing. */
export function confirmableCertificates(plan: ActionPlan | undefined): IncomingCertificate[] {
  const continuity = plan?.keyContinuity;
  if (plan === undefined || plan.alreadyDone || !requiresFingerprintConfirmation(continuity)) return [];
  const certificates = continuity?.certificates ?? [];
  const fresh = certificates.filter((certificate) => certificate.isNew);
  return fresh.length > 0 ? fresh : [...certificates];
}

/**
 * Why a plan may not apply with the fingerprint its approval confirmed (none, or one of another certificate: the provider
 * changed after the approval was planned), or undefined when it may.
 */
export function unconfirmedKeyChange(
  plan: ActionPlan,
  confirmed: ConfirmedFingerprint | undefined,
): string | undefined {
  const confirmable = confirmableCertificates(plan);
  if (confirmable.length === 0) return undefined;
  if (confirmed !== undefined && confirmable.some((certificate) => certificate.sha256 === confirmed.sha256))
    return undefined;
  const which = confirmable.map((certificate) => describeIncomingCertificate(certificate)).join("; or ");
  return (
    "not applied: this is a full key change not signed by the pinned metadata signer, and its approval confirmed no " +
    `fingerprint of the new signing certificate ${which}; roll back or start the runbook again to approve it anew`
  );
}
