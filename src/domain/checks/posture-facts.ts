// The facts about the AWS side of the emergency path, as src/adapters/aws gathers them. The posture checks read only these: no SDK, no I/O.

/** Why a fact could not be read: the AWS error name (AccessDenied, Throttling, ...) and its message. */
export interface FactError {
  readonly code: string;
  readonly message: string;
}

export type ReadStatus = "found" | "missing" | "error";

export interface SamlProviderFacts {
  readonly arn: string;
  readonly status: ReadStatus;
  readonly error?: FactError;
  readonly validUntil: Date | null;
  /** The metadata document IAM holds for the provider (iam:GetSAMLProvider SAMLMetadataDocument). */
  readonly metadataDocument: string | null;
}

export interface IdentityCenterFacts {
  readonly instanceArn: string;
  /** "found": sso-admin answered; "error": it did not (the instance may still exist). */
  readonly status: ReadStatus;
  readonly error?: FactError;
  /** sso-admin DescribeInstance Status: ACTIVE, CREATE_IN_PROGRESS, DELETE_IN_PROGRESS, ... */
  readonly instanceStatus: string | null;
  readonly identityStoreId: string | null;
  /** Whose credentials asked sso-admin: it lists only the instances of that account, so "missing" means something only there. */
  readonly readAs?: IdentityCenterReader;
}

export interface IdentityCenterReader {
  /** The account the credentials belong to; null when STS could not say. */
  readonly accountId: string | null;
  /** Why the account could not be told (sts:GetCallerIdentity failed). */
  readonly accountError?: FactError;
  /** The account configured as administering Identity Center (aws.identityCenter.accountId, or roleArn's); null when not configured. */
  readonly administratorAccountId: string | null;
  /** "role": through aws.identityCenter.roleArn; "default-chain": the SDK's default credentials. */
  readonly via: "role" | "default-chain";
}

/** One Region of a multi-Region Identity Center instance, as sso-admin ListRegions describes it. */
export interface IdentityCenterRegion {
  readonly name: string;
  /** ACTIVE, ADDING or REMOVING; null when sso-admin did not say. */
  readonly status: string | null;
  /** The Region where the instance was enabled: SAML configuration, SCIM and assignments stay there. */
  readonly isPrimary: boolean;
  readonly addedAt: Date | null;
}

/** The instance's Regions (sso-admin ListRegions, generally available since February 2026). */
export interface IdentityCenterRegionFacts {
  readonly instanceArn: string;
  /**
   * "found": sso-admin listed the Regions; "error": it refused or failed (AccessDenied, say); "unsupported": the
   * endpoint does not know ListRegions (an older endpoint, or a partition without multi-Region Identity Center).
   */
  readonly status: "found" | "error" | "unsupported";
  readonly error?: FactError;
  /** The sso-admin Region that was asked. */
  readonly askedRegion: string | null;
  readonly regions: readonly IdentityCenterRegion[];
}

/** What an admin declared they imported into Identity Center (no public API can read it back). */
export interface Attestation {
  readonly instanceArn: string;
  /** SHA-256 fingerprints (lowercase hex) of the signing certificates imported. */
  readonly fingerprints: readonly string[];
  readonly attestedAt: Date;
  readonly attestedBy: string;
  /** The metadata file or URL the import used. */
  readonly source: string;
  /**
   * The newest change to Identity Center's external IdP configuration CloudTrail reported for the instance (an
   * sso-directory event), if any was recorded; the identity-center check judges whether it came after the attestation.
   */
  readonly lastIdpChange?: IdpConfigurationChange;
}

/** A change to Identity Center's external IdP configuration, seen in CloudTrail: it may have replaced what was attested. */
export interface IdpConfigurationChange {
  readonly instanceArn: string;
  /** CloudTrail's eventID: the same change delivered twice is recorded once. */
  readonly eventId: string;
  /** CloudTrail's eventName, e.g. EnableExternalIdPConfigurationForDirectory. */
  readonly eventName: string;
  /** CloudTrail's eventTime: when the change was made. */
  readonly changedAt: Date;
  /** Who made it: the principal's ARN as CloudTrail names it (or its name, when the record has no ARN). */
  readonly changedBy: string;
  readonly sourceIp: string;
}

export interface RoleFacts {
  readonly arn: string;
  readonly status: ReadStatus;
  readonly error?: FactError;
  /** The trust policy exactly as IAM returns it (often URL-encoded JSON). */
  readonly trustPolicyDocument: string | null;
  /** The role's MaxSessionDuration in seconds (iam:GetRole), when IAM said; the SAML preflight judges SessionDuration by it. */
  readonly maxSessionDuration?: number | null;
}

/** One emergency IAM user of FM1 (aws.emergencyAccount.emergencyUsers), as IAM describes it. */
export interface EmergencyUserFacts {
  readonly userName: string;
  /** The user's ARN: as GetUser returns it (with its path) when found, otherwise made from the name. */
  readonly arn: string;
  readonly status: ReadStatus;
  readonly error?: FactError;
  /** MFA devices assigned to the user (iam:ListMFADevices), virtual or hardware. */
  readonly mfaDeviceCount: number;
  /** Whether the user has a console password (iam:GetLoginProfile answers). */
  readonly hasConsolePassword: boolean;
  /** The ids of its access keys whose Status is Active (iam:ListAccessKeys). */
  readonly activeAccessKeyIds: readonly string[];
}

/** The emergency account's root user, from iam:GetAccountSummary. */
export interface RootMfaFacts {
  readonly status: "found" | "error";
  readonly error?: FactError;
  /** SummaryMap.AccountMFAEnabled: 1 when the root user has an MFA device. */
  readonly mfaEnabled: boolean;
}

export interface ServiceControlPolicyFacts {
  readonly id: string;
  readonly name: string;
  /** The root, OU or account the policy is attached to. */
  readonly targetId: string;
  readonly document: string;
}

export interface WorkloadAccountFacts {
  readonly accountId: string;
  readonly name: string | null;
  /** The cross-account emergency role in this account; null when the account could not be read. */
  readonly crossAccountRole: RoleFacts | null;
  /** Why the account could not be read at all (assuming the read role failed, say). */
  readonly error?: FactError;
  /** SCPs attached on the path root → OUs → account; null when Organizations could not be read. */
  readonly serviceControlPolicies: readonly ServiceControlPolicyFacts[] | null;
  readonly scpError?: FactError;
}

export interface TrailFacts {
  readonly name: string;
  readonly arn: string;
  readonly homeRegion: string;
  readonly isMultiRegionTrail: boolean;
  readonly isOrganizationTrail: boolean;
  readonly isLogging: boolean;
}

export interface CloudTrailFacts {
  readonly status: "found" | "error";
  readonly error?: FactError;
  readonly trails: readonly TrailFacts[];
}

export interface EventRuleFacts {
  readonly name: string;
  readonly arn: string;
  readonly eventBusName: string;
  readonly state: string;
  /** The rule's event pattern (JSON text); null for scheduled rules. */
  readonly eventPattern: string | null;
}

export interface EventBridgeFacts {
  readonly status: "found" | "error";
  readonly error?: FactError;
  readonly rules: readonly EventRuleFacts[];
}

/** The queue `breakglass watch` consumes (watch.queueUrl) and the EventBridge rules that deliver to it. */
export interface WatchQueueFacts {
  readonly queueUrl: string;
  /** "found": sqs GetQueueAttributes answered; "error": it did not (no such queue, access denied, ...). */
  readonly status: "found" | "error";
  readonly error?: FactError;
  readonly queueArn: string | null;
  /** Its RedrivePolicy's deadLetterTargetArn: where messages breakglass cannot handle go; null when there is none. */
  readonly deadLetterTargetArn: string | null;
  /** The rules read in each Region that matters, the queue's own first; empty when the queue could not be read. */
  readonly regions: readonly WatchRegionRules[];
}

/** In one Region: the rules on the default bus that deliver to the queue (or, outside its Region, to its Region's bus). */
export interface WatchRegionRules {
  readonly region: string;
  readonly status: "found" | "error";
  readonly error?: FactError;
  /** What the rules target here: the queue's ARN in its own Region, the default event bus of its Region elsewhere. */
  readonly targetArn: string;
  readonly rules: readonly EventRuleFacts[];
}

/** Everything gathered for one `breakglass check`; a section absent from the config is absent here. */
export interface PostureFacts {
  readonly emergencyAccountId: string;
  readonly samlProviders?: readonly SamlProviderFacts[];
  readonly emergencyRoles?: readonly RoleFacts[];
  readonly emergencyUsers?: readonly EmergencyUserFacts[];
  readonly rootMfa?: RootMfaFacts;
  readonly identityCenter?: IdentityCenterFacts;
  readonly identityCenterRegions?: IdentityCenterRegionFacts;
  /** The latest attestation for the configured instance; null when there is none. */
  readonly attestation?: Attestation | null;
  readonly crossAccountRoleName?: string;
  readonly workloadAccounts?: readonly WorkloadAccountFacts[];
  readonly cloudTrail?: CloudTrailFacts;
  readonly eventBridge?: EventBridgeFacts;
  readonly watchQueue?: WatchQueueFacts;
}
