// The watcher's sink for Identity Center IdP changes: an sso-directory event that changes the external IdP configuration
// invalidates the last attestation, so `check` reports IDENTITY_CENTER_IDP_CHANGED until someone attests again.
import type { AuditLog } from "../domain/audit/audit-log.js";
import type { IdpConfigurationChange } from "../domain/checks/posture-facts.js";
import type { AttestationStore } from "../domain/ports/attestation-store.js";

/** The fields of a CloudTrail record this sink reads (the record as CloudTrail writes it, or an EventBridge event's detail). */
export interface CloudTrailRecord {
  readonly eventID: string;
  readonly eventTime: string;
  readonly eventSource: string;
  readonly eventName: string;
  readonly userIdentity: {
    readonly type: string;
    readonly arn?: string | undefined;
    readonly principalId?: string | undefined;
    readonly userName?: string | undefined;
  };
  readonly sourceIPAddress: string | null;
  readonly awsRegion: string;
  readonly recipientAccountId?: string | undefined;
  /** Set when the call failed: nothing was changed. */
  readonly errorCode?: string | undefined;
}

/**
 * The calls that replace what Identity Center trusts to sign its users in: the SigmaHQ rule aws_sso_idp_change
 * (AssociateDirectory, DisassociateDirectory, Enable/DisableExternalIdPConfigurationForDirectory), and the
 * sso-directory calls that create, update or delete the external IdP configuration or import or delete its certificate.
 */
export const IDP_CHANGE_EVENTS: Readonly<Record<string, readonly string[]>> = {
  "sso-directory.amazonaws.com": [
    "EnableExternalIdPConfigurationForDirectory",
    "DisableExternalIdPConfigurationForDirectory",
    "CreateExternalIdPConfigurationForDirectory",
    "UpdateExternalIdPConfigurationForDirectory",
    "DeleteExternalIdPConfigurationForDirectory",
    "ImportExternalIdPCertificate",
    "DeleteExternalIdPCertificate",
  ],
  "sso.amazonaws.com": ["AssociateDirectory", "DisassociateDirectory"],
};

export function isIdpChangeEvent(eventSource: string, eventName: string): boolean {
  return IDP_CHANGE_EVENTS[eventSource]?.includes(eventName) ?? false;
}

export type IdpChangeOutcome =
  /** A new change: the attestation is invalidated, and the change audited. */
  | { readonly kind: "recorded"; readonly change: IdpConfigurationChange }
  /** The same CloudTrail event again: already recorded, nothing done. */
  | { readonly kind: "duplicate"; readonly change: IdpConfigurationChange }
  /** Not a change of the IdP configuration this instance trusts; `reason` says why. */
  | { readonly kind: "ignored"; readonly reason: string };

export interface IdentityCenterIdpChangesOptions {
  /** aws.identityCenter.instanceArn: the one instance breakglass keeps attestations for. */
  readonly instanceArn: string;
  /** aws.identityCenter.accountId (or roleArn's account): events from any other account are not about this instance. */
  readonly administratorAccountId?: string | undefined;
  readonly attestations: AttestationStore;
  readonly audit: AuditLog;
}

/** Sees every classified CloudTrail record; acts on the few that change Identity Center's external IdP. */
export class IdentityCenterIdpChanges {
  constructor(private readonly options: IdentityCenterIdpChangesOptions) {}

  /**
   * Records the change (once per CloudTrail event id) and audits it. Idempotent: a redelivered event is "duplicate".
   * Throws (AUDIT_FAILED, STORE_FAILED) when it cannot be recorded, so the watcher keeps the event to try again.
   */
  handle(record: CloudTrailRecord): IdpChangeOutcome {
    if (!isIdpChangeEvent(record.eventSource, record.eventName))
      return { kind: "ignored", reason: `${record.eventSource} ${record.eventName} does not change the IdP` };
    if (record.errorCode !== undefined && record.errorCode !== "")
      return { kind: "ignored", reason: `${record.eventName} failed (${record.errorCode}): nothing changed` };
    const { administratorAccountId, instanceArn } = this.options;
    if (administratorAccountId !== undefined && record.recipientAccountId !== administratorAccountId) {
      return {
        kind: "ignored",
        reason: `account ${record.recipientAccountId} does not administer ${instanceArn} (${administratorAccountId} does)`,
      };
    }
    const changedAt = new Date(record.eventTime);
    if (Number.isNaN(changedAt.getTime()))
      return { kind: "ignored", reason: `eventTime ${JSON.stringify(record.eventTime)} is not a time` };
    const change: IdpConfigurationChange = {
      instanceArn,
      eventId: record.eventID,
      eventName: record.eventName,
      changedAt,
      changedBy: describePrincipal(record.userIdentity),
      sourceIp: record.sourceIPAddress ?? "unknown",
    };
    if (!this.options.attestations.recordIdpChange(change)) return { kind: "duplicate", change };
    // Recorded, then audited: the record is what makes the attestation untrue, and it must not wait on the audit log. A
    // crash in between leaves the invalidation in force (the safe side), without its audit record.
    this.options.audit.record({
      actor: `cloudtrail:${change.changedBy}`,
      action: "identity-center.idp-changed",
      runId: null,
      subject: instanceArn,
      detail: {
        eventId: change.eventId,
        eventName: change.eventName,
        changedAt: change.changedAt.toISOString(),
        sourceIp: change.sourceIp,
        region: record.awsRegion,
        accountId: record.recipientAccountId,
      },
    });
    return { kind: "recorded", change };
  }
}

/** The principal as a responder recognises it: its ARN, else its name, else CloudTrail's principal id and type. */
function describePrincipal(identity: CloudTrailRecord["userIdentity"]): string {
  if (identity.arn) return identity.arn;
  if (identity.userName) return identity.userName;
  return identity.principalId ? `${identity.type} ${identity.principalId}` : identity.type;
}
