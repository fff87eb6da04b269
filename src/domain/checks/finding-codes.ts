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
    remedy:
      "Get the IdP's current metadata with a valid signing certificate and re-import it into IAM Identity Center and the emergency IAM SAML provider.",
    runbook: "fm2-reimport-metadata",
  },
  CERT_NOT_YET_VALID: {
    severity: "high",
    remedy:
      "Check the IdP's clock and the certificate's notBefore; do not switch the IdP to this certificate before it is valid.",
    runbook: null,
  },
  CERT_EXPIRING: {
    severity: "high",
    remedy:
      "Roll the IdP signing certificate over now and re-import the new metadata into Identity Center and the emergency IAM SAML provider before it expires.",
    runbook: "fm2-reimport-metadata",
  },
  CERT_WEAK_KEY: {
    severity: "high",
    remedy:
      "Replace the signing key with RSA 2048 bits or more (or EC P-256 or more) at the IdP, then re-import the metadata.",
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
    remedy:
      "Export the IdP metadata again: it must carry the IdP's signing certificate in a KeyDescriptor of the IDPSSODescriptor.",
    runbook: null,
  },
  NO_VALID_SIGNING_CERT: {
    severity: "critical",
    remedy:
      "Federation is broken or about to break: activate a valid signing certificate at the IdP and " +
      "re-import its metadata now, or use the emergency access path.",
    runbook: "fm2-reimport-metadata",
  },
  ROLLOVER_IN_PROGRESS: {
    severity: "info",
    remedy:
      "The IdP publishes the successor of its signing certificate: make sure the emergency IAM SAML provider and " +
      "Identity Center carry the new one before the IdP switches.",
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
    remedy:
      "Verify the signature another way (xmlsec1) or raise --max-signed-bytes and inspect again; until then nothing vouches for this document.",
    runbook: null,
  },
  METADATA_SIGNATURE_TOO_COMPLEX: {
    severity: "high",
    remedy:
      "Get the metadata from the IdP itself (real metadata is far inside the bounds) or, if this document " +
      "is genuine, raise --max-signed-elements and inspect again; until then nothing vouches for it.",
    runbook: null,
  },
  METADATA_SIGNATURE_UNSUPPORTED: {
    severity: "high",
    remedy:
      "Verify the signature with xmlsec1, or have the IdP sign with RSA-SHA256 or ECDSA-SHA256 and " +
      "SHA-256 digests; until then nothing vouches for this document.",
    runbook: null,
  },
  METADATA_SIGNATURE_WEAK: {
    severity: "medium",
    remedy:
      "Have the IdP sign its metadata with RSA-SHA256 or ECDSA-SHA256 and SHA-256 digests: SHA-1 " +
      "collisions are practical, so a SHA-1 signature no longer proves what it covers.",
    runbook: null,
  },
  METADATA_SIGNATURE_STRAY: {
    severity: "high",
    remedy:
      "A signed element hidden where no verified signature reaches (an EntityDescriptor inside " +
      "Extensions) is the shape of signature wrapping: get the metadata from the IdP itself and import " +
      "nothing from this copy.",
    runbook: null,
  },
  METADATA_UNSIGNED_DUPLICATE: {
    severity: "critical",
    remedy:
      "Treat the unsigned copy as forged: import only the signed entity, find out who added the copy, and pin the signer with --metadata-signer.",
    runbook: null,
  },
  METADATA_DUPLICATE_ENTITY_ID: {
    severity: "high",
    remedy:
      "Which of two entities with one entityID a consumer uses is undefined: get the metadata from the IdP itself and find out where the second one came from.",
    runbook: null,
  },
  METADATA_MIXED_SIGNING: {
    severity: "medium",
    remedy:
      "Pin the signer with --metadata-signer so every IdP entity must be covered by its signature, or find out why some IdP entities are unsigned.",
    runbook: null,
  },
  NOT_AN_IDP: {
    severity: "high",
    remedy:
      "Point breakglass at the identity provider's metadata (with an IDPSSODescriptor), not a service provider's.",
    runbook: null,
  },
  NO_SSO_SERVICE: {
    severity: "high",
    remedy:
      "Export the IdP metadata again: it must list a SingleSignOnService (HTTP-POST or HTTP-Redirect) for sign-in to work.",
    runbook: null,
  },
  SAML_PROVIDER_MISSING: {
    severity: "critical",
    remedy:
      "Create the emergency IAM SAML provider from the IdP's current metadata (iam:CreateSAMLProvider) or fix the ARN in the config.",
    runbook: "fm2-reimport-metadata",
  },
  SAML_PROVIDER_LACKS_CURRENT_CERT: {
    severity: "critical",
    remedy:
      "Re-import the IdP's current metadata into the emergency IAM SAML provider (iam:UpdateSAMLProvider) now: " +
      "direct federation (FM3) through it fails until it holds the certificate the IdP signs with.",
    runbook: "fm2-reimport-metadata",
  },
  SAML_PROVIDER_DRIFT: {
    severity: "high",
    remedy:
      "Re-import the IdP's current metadata into the emergency IAM SAML provider (iam:UpdateSAMLProvider) so both carry the same signing certificates.",
    runbook: "fm2-reimport-metadata",
  },
  SAML_PROVIDER_EXPIRED: {
    severity: "critical",
    remedy:
      "Re-import current metadata into the IAM SAML provider; IAM rejects assertions once the provider's ValidUntil has passed.",
    runbook: "fm2-reimport-metadata",
  },
  SAML_PROVIDER_CERT_EXPIRING: {
    severity: "high",
    remedy:
      "Roll the IdP certificate and re-import the new metadata into the IAM SAML provider before the one it holds expires.",
    runbook: "fm2-reimport-metadata",
  },
  IDENTITY_CENTER_UNREACHABLE: {
    severity: "high",
    remedy:
      "Check sso-admin access and the Identity Center Region; if Identity Center itself is disrupted, prepare direct federation (FM3).",
    runbook: "fm3-direct-federation",
  },
  IDENTITY_CENTER_NOT_ACTIVE: {
    severity: "critical",
    remedy:
      "Identity Center is not active: workforce sign-in is down, use direct federation through the emergency IdP groups (FM3).",
    runbook: "fm3-direct-federation",
  },
  IDENTITY_CENTER_IMPORT_UNATTESTED: {
    severity: "medium",
    remedy:
      "After importing the IdP metadata in the Identity Center console, record it with `breakglass identity-center attest --metadata <file|url> --by <name>`.",
    runbook: null,
  },
  IDENTITY_CENTER_IMPORT_STALE: {
    severity: "high",
    remedy:
      "Import the IdP's current metadata in the Identity Center console, then record it with `breakglass identity-center attest`.",
    runbook: "fm2-reimport-metadata",
  },
  IDENTITY_CENTER_IDP_CHANGED: {
    severity: "high",
    remedy:
      "If nobody meant to change it, treat it as an incident (whoever controls the IdP signs in to every account). " +
      "Otherwise check what Identity Center now trusts, re-import the IdP's metadata if needed, and record it with " +
      "`breakglass identity-center attest --metadata <file|url> --by <name>` (from Slack: " +
      "`/breakglass runbook start fm2-reimport-metadata`, whose attest step records it).",
    runbook: "fm2-reimport-metadata",
  },
  IDENTITY_CENTER_REGION_NOT_ACTIVE: {
    severity: "high",
    remedy:
      "Wait for a Region being added to become ACTIVE, or see why it is stuck (sso-admin DescribeRegion); until then " +
      "it does not serve sign-in if the primary Region is disrupted, and FM3 direct federation is the way in.",
    runbook: "fm3-direct-federation",
  },
  IDENTITY_CENTER_NO_REPLICA_REGION: {
    severity: "info",
    remedy:
      "Identity Center runs in one Region: if that Region is disrupted, FM3 direct federation is the only way in. " +
      "Consider adding a Region (sso-admin AddRegion), and keep the FM3 path ready either way.",
    runbook: "fm3-direct-federation",
  },
  EMERGENCY_ROLE_MISSING: {
    severity: "critical",
    remedy:
      "Recreate the emergency role in the emergency account (it is part of every failure mode's path) or fix its ARN in the config.",
    runbook: null,
  },
  EMERGENCY_ROLE_TRUST_INVALID: {
    severity: "critical",
    remedy:
      "Set the role's trust policy to allow sts:AssumeRoleWithSAML from the emergency SAML provider with SAML:aud set to the AWS sign-in endpoint.",
    runbook: null,
  },
  CROSS_ACCOUNT_ROLE_MISSING: {
    severity: "high",
    remedy: "Deploy the cross-account emergency role to this account (a StackSet keeps every account in line).",
    runbook: null,
  },
  CROSS_ACCOUNT_ROLE_TRUST_INVALID: {
    severity: "high",
    remedy: "Make the role trust only the emergency account's emergency roles, and nothing else.",
    runbook: null,
  },
  SCP_PROTECTION_MISSING: {
    severity: "medium",
    remedy: "Attach an SCP that denies modifying and deleting the cross-account emergency role on this account's path.",
    runbook: null,
  },
  CLOUDTRAIL_NOT_LOGGING: {
    severity: "high",
    remedy:
      "Turn on a multi-Region trail in the emergency account (or an organization trail) that delivers to the log archive.",
    runbook: null,
  },
  EVENTBRIDGE_RULE_MISSING: {
    severity: "medium",
    remedy:
      "Add enabled EventBridge rules in the emergency account for console sign-in and for the emergency roles' use, targeting the security team's alerts.",
    runbook: null,
  },
  WATCH_QUEUE_UNREADABLE: {
    severity: "high",
    remedy:
      "Check watch.queueUrl (and watch.region), that the queue exists, and that breakglass may call sqs:GetQueueAttributes, " +
      "sqs:ReceiveMessage and sqs:DeleteMessage on it; until then misuse of the emergency account is not seen as it happens.",
    runbook: null,
  },
  WATCH_QUEUE_NO_DEAD_LETTER: {
    severity: "medium",
    remedy:
      "Give the watch queue a redrive policy to a dead-letter queue (maxReceiveCount 5, say), so that an event breakglass " +
      "cannot parse is set aside instead of blocking nothing and being retried forever.",
    runbook: null,
  },
  WATCH_RULE_MISSING: {
    severity: "high",
    remedy:
      "Add or fix an EventBridge rule on the default bus of that Region whose pattern matches these CloudTrail events " +
      "and whose target is the watch queue (or, outside the queue's Region, the default event bus of the queue's Region).",
    runbook: null,
  },
  EMERGENCY_USER_MISSING: {
    severity: "critical",
    remedy:
      "Create the emergency IAM user in the emergency account with a console password and an MFA device kept in " +
      "the safe, or remove it from aws.emergencyAccount.emergencyUsers.",
    runbook: null,
  },
  EMERGENCY_USER_NO_MFA: {
    severity: "critical",
    remedy:
      "Assign an MFA device to the emergency IAM user (a hardware key kept in the safe) and test a sign-in with it.",
    runbook: null,
  },
  EMERGENCY_USER_NO_PASSWORD: {
    severity: "critical",
    remedy:
      "Give the emergency IAM user a console password (iam create-login-profile) and seal it in the safe with the MFA device.",
    runbook: null,
  },
  EMERGENCY_USER_ACCESS_KEY: {
    severity: "high",
    remedy:
      "Delete the emergency IAM user's access keys: it signs in to the console with its password and MFA, never with long-lived keys.",
    runbook: null,
  },
  EMERGENCY_USER_ROLE_UNREACHABLE: {
    severity: "critical",
    remedy:
      "Let the emergency IAM user assume an emergency role: add it (or its account) to the role's trust policy " +
      "for sts:AssumeRole with aws:MultiFactorAuthPresent true.",
    runbook: null,
  },
  EMERGENCY_USER_TRUST_WITHOUT_MFA: {
    severity: "high",
    remedy:
      'Require MFA in the emergency role\'s trust for the emergency IAM user: a Condition of "Bool": {"aws:MultiFactorAuthPresent": "true"}.',
    runbook: null,
  },
  ROOT_MFA_DISABLED: {
    severity: "high",
    remedy:
      "Enable MFA on the emergency account's root user (a hardware key kept in the safe): it is the last way in when every other one fails.",
    runbook: null,
  },
  METADATA_UNREACHABLE: {
    severity: "critical",
    remedy:
      "Check the IdP (this is how FM1 starts) and the metadata URL; until it answers, drift and expiry cannot be judged against it.",
    runbook: "fm1-idp-unavailable",
  },
  IDP_GROUP_NOT_EMPTY: {
    severity: "high",
    remedy:
      "Remove the members the emergency group holds at rest, and find out who added them: breakglass adds " +
      "responders only during an incident, on a lease it ends.",
    runbook: null,
  },
  IDP_GROUP_UNMODIFIABLE: {
    severity: "high",
    remedy:
      "Use an emergency group whose members the API can change (an Okta group of type OKTA_GROUP; a Graph assigned, " +
      "cloud-only security group that is not role-assignable), and name it in idp.directory.emergencyGroups and the FM3 runbook.",
    runbook: null,
  },
  IDP_GROUP_UNREADABLE: {
    severity: "high",
    remedy:
      "Make the emergency group and its members readable with breakglass's token (see iam/ for the IdP's " +
      "permissions), or fix its name in idp.directory.emergencyGroups: FM3 cannot verify a group it cannot read.",
    runbook: null,
  },
  SAML_RESPONSE_UNSIGNED: {
    severity: "critical",
    remedy:
      "Make the IdP sign the SAML response or its assertion (AWS rejects unsigned ones) and capture a new response.",
    runbook: null,
  },
  SAML_RESPONSE_SIGNATURE_INVALID: {
    severity: "critical",
    remedy:
      "Capture a fresh response straight from the IdP without editing it; if it still fails, compare the IdP's signing certificate with the provider's.",
    runbook: null,
  },
  SAML_RESPONSE_SIGNER_UNKNOWN: {
    severity: "critical",
    remedy:
      "Re-import the IdP's current metadata into the emergency IAM SAML provider (iam:UpdateSAMLProvider) so it holds the certificate the IdP signs with.",
    runbook: "fm2-reimport-metadata",
  },
  SAML_RESPONSE_WRAPPED: {
    severity: "critical",
    remedy:
      "Do not use this response: its shape is that of a signature-wrapping attack; capture a new one straight from the IdP and tell security if it repeats.",
    runbook: null,
  },
  SAML_RESPONSE_TOO_LARGE: {
    severity: "critical",
    remedy: "Send fewer attributes or groups in the response: AWS takes at most 100,000 characters of base64.",
    runbook: null,
  },
  SAML_RESPONSE_STATUS_FAILED: {
    severity: "critical",
    remedy: "Sign in at the IdP again: the IdP answered with an error status instead of a successful sign-in.",
    runbook: null,
  },
  SAML_RESPONSE_ISSUER_MISMATCH: {
    severity: "critical",
    remedy:
      "Use the IdP application whose metadata the emergency provider holds, or re-import that IdP's metadata into the provider.",
    runbook: "fm2-reimport-metadata",
  },
  SAML_RESPONSE_EXPIRED: {
    severity: "critical",
    remedy: "Sign in again for a fresh response (they last minutes) and check that the IdP's clock is right.",
    runbook: null,
  },
  SAML_RESPONSE_NOT_YET_VALID: {
    severity: "critical",
    remedy: "Check the IdP's clock (NTP): it is ahead of the time the preflight judged by.",
    runbook: null,
  },
  SAML_RESPONSE_AUDIENCE_WRONG: {
    severity: "critical",
    remedy:
      "Set the IdP application's audience (SP entity ID) to https://signin.aws.amazon.com/saml or urn:amazon:webservices.",
    runbook: null,
  },
  SAML_RESPONSE_RECIPIENT_WRONG: {
    severity: "critical",
    remedy:
      "Set the IdP application's ACS URL (Recipient, Destination) to https://signin.aws.amazon.com/saml " +
      "or a regional https://<region>.signin.aws.amazon.com/saml.",
    runbook: null,
  },
  SAML_RESPONSE_ROLE_MISSING: {
    severity: "critical",
    remedy:
      'Map the https://aws.amazon.com/SAML/Attributes/Role attribute at the IdP to "<role ARN>,<provider ARN>" for the emergency role.',
    runbook: null,
  },
  SAML_RESPONSE_ROLE_INVALID: {
    severity: "critical",
    remedy:
      "Fix the Role attribute at the IdP: each value must be a role ARN and the emergency SAML provider's ARN, separated by a comma.",
    runbook: null,
  },
  SAML_RESPONSE_ROLE_NOT_FOUND: {
    severity: "critical",
    remedy:
      "Create the role the Role attribute names in the emergency account, or fix its ARN in the IdP's attribute mapping.",
    runbook: null,
  },
  SAML_RESPONSE_ROLE_UNTRUSTED: {
    severity: "critical",
    remedy:
      "Let the role trust the emergency provider: allow sts:AssumeRoleWithSAML for Federated <provider ARN> with SAML:aud set to the response's Recipient.",
    runbook: null,
  },
  SAML_RESPONSE_SESSION_NAME_INVALID: {
    severity: "critical",
    remedy:
      "Map https://aws.amazon.com/SAML/Attributes/RoleSessionName at the IdP to one value of 2 to 64 characters " +
      "of letters, digits and +=,.@_- (the user's email works).",
    runbook: null,
  },
  SAML_RESPONSE_DURATION_INVALID: {
    severity: "critical",
    remedy:
      "Set https://aws.amazon.com/SAML/Attributes/SessionDuration at the IdP to a whole number of seconds " +
      "from 900 up to the role's MaxSessionDuration, or raise the role's maximum.",
    runbook: null,
  },
  AWS_READ_FAILED: {
    severity: "high",
    remedy:
      "Grant breakglass the read permissions in iam/ (or fix the role or Region) so this part of the emergency path can be checked.",
    runbook: null,
  },
} as const satisfies Record<string, FindingCodeEntry>;

export type FindingCode = keyof typeof FINDING_CODES;
