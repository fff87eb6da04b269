// The kinds of fact a check can read, and where each is read: the registry names them; the adapters implement a reader for each.

/**
 * Where a fact is read from, which decides who reads it:
 * "idp" — the IdP's metadata, read by the application from the configured source before any AWS call;
 * "aws" — once per check, by the AWS gatherer (src/adapters/aws/gather-posture.ts);
 * "each-workload-account" — once per workload account, by the gatherer's organization sweep;
 * "idp-directory" — the IdP's group API (idp.directory), by src/adapters/idp/gather-emergency-groups.ts.
 */
export type FactSource = "idp" | "aws" | "each-workload-account" | "idp-directory";

export const FACT_KINDS = {
  "idp-metadata": { readFrom: "idp", description: "the IdP's current SAML metadata" },
  "saml-providers": {
    readFrom: "aws",
    description: "the emergency IAM SAML providers and the metadata IAM holds for each",
  },
  "emergency-roles": { readFrom: "aws", description: "the emergency roles and their trust policies" },
  "emergency-users": {
    readFrom: "aws",
    description: "the emergency IAM users (MFA devices, console password, access keys) and the root user's MFA",
  },
  "identity-center": {
    readFrom: "aws",
    description: "the Identity Center instance, and the latest attestation of what was imported into it",
  },
  "identity-center-regions": {
    readFrom: "aws",
    description: "the Regions of the Identity Center instance (sso-admin ListRegions), primary and replicas",
  },
  cloudtrail: { readFrom: "aws", description: "the trails that log the emergency account" },
  eventbridge: { readFrom: "aws", description: "the EventBridge rules in the emergency account" },
  "watch-queue": {
    readFrom: "aws",
    description:
      "the watch queue (sqs GetQueueAttributes) and the EventBridge rules that deliver to it, in each Region that matters",
  },
  "cross-account-role": {
    readFrom: "each-workload-account",
    description: "the cross-account emergency role and its trust policy",
  },
  "emergency-groups": {
    readFrom: "idp-directory",
    description: "the IdP's emergency groups: their type and their members at rest",
  },
  "service-control-policies": {
    readFrom: "each-workload-account",
    description: "the SCPs attached on the path from the root to the account",
  },
} as const satisfies Record<string, { readonly readFrom: FactSource; readonly description: string }>;

export type FactKind = keyof typeof FACT_KINDS;

/** The fact kinds read from one place: a reader table keyed by this type must have a reader for every one. */
export type FactKindReadFrom<Source extends FactSource> = {
  [Kind in FactKind]: (typeof FACT_KINDS)[Kind]["readFrom"] extends Source ? Kind : never;
}[FactKind];

export type AwsFactKind = FactKindReadFrom<"aws">;
export type WorkloadAccountFactKind = FactKindReadFrom<"each-workload-account">;

export function isFactReadFrom<Source extends FactSource>(
  kind: FactKind,
  source: Source,
): kind is FactKindReadFrom<Source> {
  return FACT_KINDS[kind].readFrom === source;
}
