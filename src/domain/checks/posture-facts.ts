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
  readonly identityCenter?: IdentityCenterFacts;
  /** The latest attestation for the configured instance; null when there is none. */
  readonly attestation?: Attestation | null;
  readonly crossAccountRoleName?: string;
  readonly workloadAccounts?: readonly WorkloadAccountFacts[];
  readonly cloudTrail?: CloudTrailFacts;
  readonly eventBridge?: EventBridgeFacts;
}
