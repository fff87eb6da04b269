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

/** What an admin declared they imported into Identity Center (no public API can read it back). */
export interface Attestation {
  readonly instanceArn: string;
  /** SHA-256 fingerprints (lowercase hex) of the signing certificates imported. */
  readonly fingerprints: readonly string[];
  readonly attestedAt: Date;
  readonly attestedBy: string;
  /** The metadata file or URL the import used. */
  readonly source: string;
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

/** Everything gathered for one `breakglass check`; a section absent from the config is absent here. */
export interface PostureFacts {
  readonly emergencyAccountId: string;
  readonly samlProviders?: readonly SamlProviderFacts[];
  readonly emergencyRoles?: readonly RoleFacts[];
  readonly emergencyUsers?: readonly EmergencyUserFacts[];
  readonly rootMfa?: RootMfaFacts;
  readonly identityCenter?: IdentityCenterFacts;
  /** The latest attestation for the configured instance; null when there is none. */
  readonly attestation?: Attestation | null;
  readonly crossAccountRoleName?: string;
  readonly workloadAccounts?: readonly WorkloadAccountFacts[];
  readonly cloudTrail?: CloudTrailFacts;
  readonly eventBridge?: EventBridgeFacts;
}
