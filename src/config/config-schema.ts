// The one schema of breakglass.yaml: what each key may hold, its default, and the TypeScript type inferred from it.
import { z } from "zod";
import { accountOfArn } from "../domain/shared/arn.js";
import { closestName } from "../domain/shared/closest-name.js";
import { DEFAULT_WARN_DAYS } from "../domain/checks/metadata-checks.js";
import { DURATION_DESCRIPTION, parseDuration } from "../domain/shared/duration.js";

// The check names come from the check registry: a check registered there is a name this file accepts.
export { CHECK_NAMES, type CheckName } from "../domain/checks/check-registry.js";
import { CHECK_NAMES } from "../domain/checks/check-registry.js";

export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_STORE_PATH = "./breakglass.db";

/*
 * Every message says only what was expected: the loader, which knows the YAML, adds what the file actually holds
 * ("got …") and the line, so the schema stays free of YAML.
 */
function expected(description: string): { error: string } {
  return { error: `expected ${description}` };
}

// Unknown keys are errors: a misspelt key must never silently switch a check off.
function section<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.strictObject(shape, expected(`a mapping with the keys ${Object.keys(shape).join(", ")}`));
}

const PARTITION = "aws(?:-cn|-us-gov)?";
// IAM names: letters, digits and +=,.@_- (role names up to 64 characters, with an optional /path/).
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const ROLE_ARN = new RegExp(`^arn:${PARTITION}:iam::(\\d{12}):role/(?:[\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$`);
const SAML_PROVIDER_ARN = new RegExp(`^arn:${PARTITION}:iam::(\\d{12}):saml-provider/[\\w.-]{1,128}$`);
const IDENTITY_CENTER_INSTANCE_ARN = new RegExp(`^arn:${PARTITION}:sso:::instance/(?:sso)?ins-[a-zA-Z0-9.-]{16}$`);
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const INSECURE_URL = /^http:\/\//i;

const ACCOUNT_ID = "a 12-digit AWS account ID in quotes";
const accountIdSchema = z.preprocess(
  // YAML reads an unquoted 123456789012 as a number. Take it back as text only when it still has 12 digits:
  // a shorter number may have lost leading zeros, which only quoting can keep.
  (value) =>
    typeof value === "number" && Number.isInteger(value) && value >= 1e11 && value < 1e12 ? String(value) : value,
  z.string(expected(ACCOUNT_ID)).regex(/^\d{12}$/, expected(ACCOUNT_ID)),
);

const USER_NAME_DESCRIPTION = "an IAM user name (letters, digits and +=,.@_-, at most 64)";
const userNameSchema = z
  .string(expected(USER_NAME_DESCRIPTION))
  .regex(/^[\w+=,.@-]{1,64}$/, expected(USER_NAME_DESCRIPTION));
const ROLE_ARN_DESCRIPTION = "an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)";
const roleArnSchema = z.string(expected(ROLE_ARN_DESCRIPTION)).regex(ROLE_ARN, expected(ROLE_ARN_DESCRIPTION));
const SAML_PROVIDER_DESCRIPTION = "an IAM SAML provider ARN (arn:aws:iam::<12-digit account>:saml-provider/<name>)";
const samlProviderArnSchema = z
  .string(expected(SAML_PROVIDER_DESCRIPTION))
  .regex(SAML_PROVIDER_ARN, expected(SAML_PROVIDER_DESCRIPTION));
const ROLE_NAME_DESCRIPTION = "an IAM role name (letters, digits and +=,.@_-, at most 64)";
const roleNameSchema = z.string(expected(ROLE_NAME_DESCRIPTION)).regex(ROLE_NAME, expected(ROLE_NAME_DESCRIPTION));
const REGION_DESCRIPTION = "an AWS Region code such as eu-west-1";
const regionSchema = z.string(expected(REGION_DESCRIPTION)).regex(REGION, expected(REGION_DESCRIPTION));

function wholeNumber(minimum: number, maximum: number) {
  const description = `a whole number from ${minimum} to ${maximum}`;
  return z
    .number(expected(description))
    .int(expected(description))
    .min(minimum, expected(description))
    .max(maximum, expected(description));
}

function nonEmptyString(description: string) {
  return z.string(expected(description)).min(1, expected(description));
}

/** A metadata source: an http(s) URL with a host, or anything else that is not a URL, which is a file path. */
function isMetadataSource(value: string): boolean {
  if (!URL_SCHEME.test(value)) return true;
  if (!/^https?:\/\//i.test(value) || !URL.canParse(value)) return false;
  return new URL(value).hostname !== "";
}

const METADATA_DESCRIPTION = "an https URL or a file path to the IdP's SAML metadata";
const TOKEN_VARIABLE = /^[A-Z_][A-Z0-9_]*$/;
const GROUP_ID_DESCRIPTION = "the display name or id of an emergency group in the IdP";
const CREDENTIAL_KEYS = ["clientSecretVariable", "clientSecretFile", "privateKeyFile"] as const;
/** OAuth 2.0 client credentials instead of a static token: Entra ID app registrations, Okta service apps, SCIM servers. */
const directoryAuthSchema = section({
  kind: z.literal("client-credentials", expected("client-credentials")),
  tokenUrl: nonEmptyString(
    "the https token endpoint (Entra ID https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token, Okta https://<org>.okta.com/oauth2/v1/token)",
  ).refine((value) => /^https:\/\//i.test(value) && URL.canParse(value), expected("an https URL")),
  clientId: nonEmptyString("the application (client) id"),
  scope: nonEmptyString(
    "the scopes to request, space-separated (Graph https://graph.microsoft.com/.default, Okta okta.users.read okta.groups.manage)",
  ),
  // The secret itself never goes in this file: an environment variable's name, or a file only breakglass can read.
  clientSecretVariable: z
    .string(expected("the name of an environment variable"))
    .regex(TOKEN_VARIABLE, expected("an environment variable name such as BREAKGLASS_IDP_CLIENT_SECRET"))
    .optional(),
  clientSecretFile: nonEmptyString("a file path holding the client secret").optional(),
  /** private_key_jwt, which Okta requires of service apps: an RSA private key (PEM) whose public key the app holds. */
  privateKeyFile: nonEmptyString("a file path to the PEM private key of the service app").optional(),
  /** The key id (kid) Okta shows for the public key, when the app holds more than one. */
  keyId: nonEmptyString("the key id (kid) of the service app's public key").optional(),
  /** DPoP-bound tokens (RFC 9449), for Okta service apps with "Require Demonstrating Proof of Possession (DPoP)" on. */
  dpop: z.boolean(expected("true or false")).optional(),
}).superRefine((auth, context) => {
  const given = CREDENTIAL_KEYS.filter((key) => auth[key] !== undefined);
  if (given.length !== 1)
    context.addIssue({
      code: "custom",
      path: given.length === 0 ? [] : [given[1]!],
      message:
        given.length === 0
          ? `expected exactly one of ${CREDENTIAL_KEYS.join(", ")}`
          : `expected only one of ${CREDENTIAL_KEYS.join(", ")} (${given[0]} is set too)`,
    });
  if (auth.keyId !== undefined && auth.privateKeyFile === undefined)
    context.addIssue({ code: "custom", path: ["keyId"], message: "expected keyId only with privateKeyFile" });
});

const directorySchema = section({
  kind: z.enum(["scim", "okta", "graph"], expected("scim, okta or graph")),
  baseUrl: nonEmptyString(
    "the https base URL of the IdP's API (SCIM /scim/v2, Okta https://<org>.okta.com, Graph https://graph.microsoft.com/v1.0)",
  ).refine((value) => /^https:\/\//i.test(value) && URL.canParse(value), expected("an https URL")),
  // The token itself never goes in this file: only the name of the environment variable that holds it.
  tokenVariable: z
    .string(expected("the name of an environment variable"))
    .regex(TOKEN_VARIABLE, expected("an environment variable name such as BREAKGLASS_IDP_TOKEN"))
    .default("BREAKGLASS_IDP_TOKEN"),
  /** Fetch short-lived tokens with OAuth client credentials instead; tokenVariable is then unused. */
  auth: directoryAuthSchema.optional(),
  /** Extra CA certificates (PEM file) to trust for the API, e.g. a TLS-inspecting proxy's. */
  ca: nonEmptyString("a file path to PEM CA certificates").optional(),
  /** The longest single wait the IdP may ask for (Retry-After, Okta's rate-limit reset) before breakglass gives up; 120 by default. */
  maxRetryWaitSeconds: wholeNumber(1, 3600).optional(),
  /** FM3's emergency groups (display names or ids): `check` reports one that is not empty at rest or cannot be changed. */
  emergencyGroups: z
    .array(
      nonEmptyString(GROUP_ID_DESCRIPTION),
      expected("a list of the IdP's emergency groups, by display name or id"),
    )
    .min(1, expected("at least one group (or no emergencyGroups key)"))
    .optional(),
  /** The most one IdP call may spend waiting between its attempts, all waits together; 300 by default. */
  retryBudgetSeconds: wholeNumber(1, 7200).optional(),
}).superRefine((directory, context) => {
  if (directory.auth?.dpop === true && directory.kind !== "okta")
    context.addIssue({
      code: "custom",
      path: ["auth", "dpop"],
      message: `expected dpop only with kind: okta (breakglass sends DPoP proofs to Okta service apps), not ${directory.kind}`,
    });
});

const idpSchema = section({
  name: nonEmptyString("a label for the IdP, such as Okta"),
  metadata: nonEmptyString(METADATA_DESCRIPTION).refine(isMetadataSource, expected(METADATA_DESCRIPTION)),
  metadataSigner: nonEmptyString(
    "a file path to the PEM certificate the metadata signature must verify against",
  ).optional(),
  warnDays: wholeNumber(0, 3650).default(DEFAULT_WARN_DAYS),
  /** Where the emergency groups live (FM3): the IdP's SCIM, Okta or Microsoft Graph API. */
  directory: directorySchema.optional(),
}).transform((idp) => ({
  ...idp,
  /** True when the metadata is fetched over plain http: allowed, but anyone on the network path can change it. */
  insecure: INSECURE_URL.test(idp.metadata),
}));

const emergencyAccountSchema = section({
  accountId: accountIdSchema,
  roleArn: roleArnSchema.optional(),
  /** The role runbook actions are applied as (assumed); without it, the default credentials, checked to be in this account. */
  actionRoleArn: roleArnSchema.optional(),
  samlProviders: z
    .array(samlProviderArnSchema, expected("a list of IAM SAML provider ARNs"))
    .min(1, expected("at least one IAM SAML provider ARN (or no samlProviders key)"))
    .optional(),
  emergencyRoles: z
    .array(roleArnSchema, expected("a list of IAM role ARNs"))
    .min(1, expected("at least one IAM role ARN (or no emergencyRoles key)"))
    .optional(),
  /** FM1's emergency IAM users in this account (names, not ARNs): each signs in with a password and MFA. */
  emergencyUsers: z
    .array(userNameSchema, expected("a list of IAM user names"))
    .min(1, expected("at least one IAM user name (or no emergencyUsers key)"))
    .optional(),
}).superRefine((account, context) => {
  // The emergency path must not depend on another account: an ARN elsewhere is almost always a copy-paste slip.
  const inAnotherAccount = (arn: string) => accountOfArn(arn) !== account.accountId;
  const message = (what: string) =>
    `expected ${what} in the emergency account ${account.accountId} (aws.emergencyAccount.accountId)`;
  if (account.roleArn !== undefined && inAnotherAccount(account.roleArn)) {
    context.addIssue({ code: "custom", path: ["roleArn"], message: message("a role") });
  }
  if (account.actionRoleArn !== undefined && inAnotherAccount(account.actionRoleArn)) {
    context.addIssue({ code: "custom", path: ["actionRoleArn"], message: message("the action role") });
  }
  account.samlProviders?.forEach((arn, index) => {
    if (inAnotherAccount(arn))
      context.addIssue({ code: "custom", path: ["samlProviders", index], message: message("a SAML provider") });
  });
  account.emergencyRoles?.forEach((arn, index) => {
    if (inAnotherAccount(arn))
      context.addIssue({ code: "custom", path: ["emergencyRoles", index], message: message("a role") });
  });
});

const INSTANCE_ARN_DESCRIPTION = "an IAM Identity Center instance ARN (arn:aws:sso:::instance/ssoins-<16 characters>)";
const identityCenterSchema = section({
  instanceArn: z
    .string(expected(INSTANCE_ARN_DESCRIPTION))
    .regex(IDENTITY_CENTER_INSTANCE_ARN, expected(INSTANCE_ARN_DESCRIPTION)),
  region: regionSchema,
  /** The account that administers Identity Center (the management or delegated-administrator account). */
  accountId: accountIdSchema.optional(),
  /** A read role in that account, assumed to read sso-admin; without it, the default chain must be in that account. */
  roleArn: roleArnSchema.optional(),
}).superRefine((identityCenter, context) => {
  // sso-admin lists only the instances of the account it is asked in: a role elsewhere would read the wrong one.
  if (
    identityCenter.roleArn !== undefined &&
    identityCenter.accountId !== undefined &&
    accountOfArn(identityCenter.roleArn) !== identityCenter.accountId
  ) {
    context.addIssue({
      code: "custom",
      path: ["roleArn"],
      message: `expected a role in the account that administers Identity Center, ${identityCenter.accountId} (aws.identityCenter.accountId)`,
    });
  }
});

const organizationSchema = section({
  managementRoleArn: roleArnSchema.optional(),
  crossAccountRoleName: roleNameSchema,
  readRoleName: roleNameSchema,
  accounts: z.union(
    [z.literal("all"), z.array(accountIdSchema).min(1, expected(`at least one account ID (or "all")`))],
    expected(`"all" or a list of 12-digit account IDs in quotes`),
  ),
});

const awsSchema = section({
  region: regionSchema.optional(),
  // Required once there is an aws section: every AWS check starts from the emergency account.
  emergencyAccount: emergencyAccountSchema,
  identityCenter: identityCenterSchema.optional(),
  organization: organizationSchema.optional(),
});

const checksSchema = section({
  enabled: z
    .array(z.enum(CHECK_NAMES, expected(`a check name (${CHECK_NAMES.join(", ")})`)), expected("a list of check names"))
    .min(1, expected("at least one check name (or no enabled key, to run them all)"))
    .default([...CHECK_NAMES]),
  concurrency: wholeNumber(1, 64).default(DEFAULT_CONCURRENCY),
});

const DYNAMODB_TABLE_DESCRIPTION = "a DynamoDB table name (3 to 255 letters, digits, _ . -)";
const storeSchema = section({
  /** sqlite: one file on this host (the default). dynamodb: one table every host running breakglass shares. */
  kind: z.enum(["sqlite", "dynamodb"], expected("sqlite or dynamodb")).default("sqlite"),
  path: nonEmptyString("a file path for the SQLite database").default(DEFAULT_STORE_PATH),
  /** kind dynamodb: the table (made by `breakglass store init`), its Region, and another endpoint if any. */
  table: z
    .string(expected(DYNAMODB_TABLE_DESCRIPTION))
    .regex(/^[\w.-]{3,255}$/, expected(DYNAMODB_TABLE_DESCRIPTION))
    .optional(),
  region: regionSchema.optional(),
  endpoint: z
    .string(expected("an http(s) URL"))
    .regex(/^https?:\/\/\S+$/, expected("an http(s) URL"))
    .optional(),
  /** A JSONL copy of the audit log, e.g. on a volume shipped to the log archive; every record is written to both. */
  auditMirror: nonEmptyString("a file path for the JSONL copy of the audit log").optional(),
}).superRefine((store, context) => {
  if (store.kind !== "dynamodb") return;
  if (store.table === undefined)
    context.addIssue({
      code: "custom",
      path: ["table"],
      message: `expected ${DYNAMODB_TABLE_DESCRIPTION} (kind dynamodb)`,
    });
  if (store.region === undefined)
    context.addIssue({ code: "custom", path: ["region"], message: `expected ${REGION_DESCRIPTION} (kind dynamodb)` });
});

const durationSchema = (minimum: number, minimumText: string) =>
  z
    .string(expected(DURATION_DESCRIPTION))
    .refine((value) => parseDuration(value) !== undefined, expected(DURATION_DESCRIPTION))
    .refine(
      (value) => (parseDuration(value) ?? 0) >= minimum,
      expected(`${DURATION_DESCRIPTION}, at least ${minimumText}`),
    )
    .transform((value) => parseDuration(value) as number);

export const DEFAULT_CHECK_INTERVAL = "5m";
export const DEFAULT_LEADER_TTL_SECONDS = 30;
export const DEFAULT_EXPIRY_LADDER = [60, 30, 14, 7, 3, 1] as const;

const serveSchema = section({
  /** How often `breakglass serve` runs the full check (metadata polling uses conditional GET). */
  checkInterval: durationSchema(60_000, "1m").default(parseDuration(DEFAULT_CHECK_INTERVAL) as number),
  /** Days before a certificate expires on which its warning escalates, each posted once; then daily once expired. */
  expiryLadder: z
    .array(wholeNumber(1, 3650), expected("a list of whole numbers of days, such as [60, 30, 14, 7, 3, 1]"))
    .min(1, expected("at least one number of days"))
    .transform((days) => [...new Set(days)].sort((a, b) => b - a))
    .default([...DEFAULT_EXPIRY_LADDER]),
  /** Several serve replicas on one store elect one leader, which alone runs checks, posts alerts and executes runs. */
  leadership: section({
    /** The leader's lease: renewed every third of it; a dead leader is replaced within about this long. */
    ttlSeconds: wholeNumber(1, 600).default(DEFAULT_LEADER_TTL_SECONDS),
  }).prefault({}),
  /** The live drill on a schedule (the leader runs it): its evidence report written, a summary posted to alerts. */
  drill: section({
    every: durationSchema(3_600_000, "1h"),
    /** A file holding a SAML response (XML or base64) from the IdP's test app, preflighted at each drill. */
    response: nonEmptyString("a file path to a SAML response (XML or base64)").optional(),
    /** Also AssumeRoleWithSAML with that response, for 15 minutes inside a drill window. */
    assume: z.boolean(expected("true or false")).default(false),
    /** Where each drill's evidence report (Markdown and JSON) is written. */
    reportDirectory: nonEmptyString("a folder path for the drill's evidence reports"),
  })
    .refine((drill) => !drill.assume || drill.response !== undefined, {
      path: ["response"],
      message: "expected a file path to a SAML response to assume with (assume is true)",
    })
    .optional(),
});

export const DEFAULT_BURST_GAP = "1h";
const QUEUE_URL_DESCRIPTION = "the SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)";
const LOOKUP_REGIONS_DESCRIPTION = "a list of AWS Region codes, such as [us-east-1, eu-west-1]";

/** The emergency-account watcher: an SQS queue fed by EventBridge, else CloudTrail LookupEvents polled. */
const watchSchema = section({
  queueUrl: nonEmptyString(QUEUE_URL_DESCRIPTION)
    .refine((value) => /^https?:\/\//i.test(value) && URL.canParse(value), expected(QUEUE_URL_DESCRIPTION))
    .optional(),
  /** The queue's Region, when its URL does not say it (a VPC endpoint); the URL's, else aws.region. */
  region: regionSchema.optional(),
  /** Misuse by one actor with no longer than this between two events is one burst: one alert. */
  burstGap: durationSchema(60_000, "1m").default(parseDuration(DEFAULT_BURST_GAP) as number),
  /** Without a queue: the Regions whose CloudTrail LookupEvents is polled (console sign-ins arrive in us-east-1). */
  lookupEvents: section({
    regions: z
      .array(regionSchema, expected(LOOKUP_REGIONS_DESCRIPTION))
      .min(1, expected(LOOKUP_REGIONS_DESCRIPTION))
      .optional(),
    /** How far back the first poll reads, when there is no cursor yet. */
    lookback: durationSchema(60_000, "1m").default(3_600_000),
  }).optional(),
});

const CHANNEL_ID_DESCRIPTION = "a Slack channel ID such as C0123456789 (the channel's details show it at the bottom)";
const channelIdSchema = z
  .string(expected(CHANNEL_ID_DESCRIPTION))
  .regex(/^[CG][A-Z0-9]{8,}$/, expected(CHANNEL_ID_DESCRIPTION));
const PRINCIPAL_DESCRIPTION = "a Slack user ID (U0123456789) or user-group ID (S0123456789)";
const principalListSchema = z
  .array(
    z.string(expected(PRINCIPAL_DESCRIPTION)).regex(/^[UWS][A-Z0-9]{8,}$/, expected(PRINCIPAL_DESCRIPTION)),
    expected(`a list of Slack user or user-group IDs`),
  )
  .default([]);

const slackSchema = section({
  /** The Web API base URL: a proxy, GovSlack (https://slack-gov.com/api/), or a test stub. SLACK_API_URL overrides it. */
  apiUrl: nonEmptyString("an https URL such as https://slack.com/api/")
    .refine((value) => /^https?:\/\//i.test(value) && URL.canParse(value), expected("an http(s) URL"))
    .optional(),
  /** Socket Mode (SLACK_APP_TOKEN) instead of the HTTP receiver, for organisations without inbound HTTP. */
  socketMode: z.boolean(expected("true or false")).default(false),
  channels: section({
    alerts: channelIdSchema.optional(),
    incidents: channelIdSchema.optional(),
    security: channelIdSchema.optional(),
  }).prefault({}),
  /** Who may do what from Slack. Nobody is allowed anything that changes state unless listed; anyone may read. */
  access: section({
    run: principalListSchema,
    approve: principalListSchema,
    grant: principalListSchema,
  }).prefault({}),
  /** `/breakglass grant @user`: the IdP groups a responder joins, and for how long. */
  grant: section({
    groups: z
      .array(
        nonEmptyString(GROUP_ID_DESCRIPTION),
        expected("a list of the IdP's emergency groups, by display name or id"),
      )
      .min(1, expected("at least one group")),
    defaultTtl: durationSchema(60_000, "1m").default(4 * 3_600_000),
    maxTtl: durationSchema(60_000, "1m").default(12 * 3_600_000),
  }).optional(),
});

const PERSON_NAME = /^[a-z][a-z0-9._-]{0,63}$/;
const PERSON_NAME_DESCRIPTION = "a person's name in lowercase letters, digits and . _ - (such as alice), at most 64";
const SLACK_USER_DESCRIPTION = "a Slack user ID such as U0123456789";
const USER_ARN_DESCRIPTION = "an IAM user ARN (arn:aws:iam::<12-digit account>:user/<name>)";
const SESSION_NAME_DESCRIPTION =
  "the role session name the person assumes the role with (letters, digits and +=,.@_-, 2 to 64)";
const awsPrincipalSchema = z.union(
  [
    section({
      userArn: z
        .string(expected(USER_ARN_DESCRIPTION))
        .regex(
          new RegExp(`^arn:${PARTITION}:iam::\\d{12}:user/(?:[\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$`),
          expected(USER_ARN_DESCRIPTION),
        ),
    }),
    section({
      roleArn: roleArnSchema,
      sessionName: z
        .string(expected(SESSION_NAME_DESCRIPTION))
        .regex(/^[\w+=,.@-]{2,64}$/, expected(SESSION_NAME_DESCRIPTION)),
    }),
  ],
  expected("a mapping with userArn, or with roleArn and sessionName"),
);

/** One person: the verified facts that identify them on each front end. */
const personSchema = section({
  name: z.string(expected(PERSON_NAME_DESCRIPTION)).regex(PERSON_NAME, expected(PERSON_NAME_DESCRIPTION)),
  slack: z
    .array(
      z.string(expected(SLACK_USER_DESCRIPTION)).regex(/^[UW][A-Z0-9]{8,}$/, expected(SLACK_USER_DESCRIPTION)),
      expected("a list of Slack user IDs"),
    )
    .default([]),
  aws: z
    .array(awsPrincipalSchema, expected("a list of AWS principals (userArn, or roleArn and sessionName)"))
    .default([]),
});

const peopleSchema = z
  .array(personSchema, expected("a list of people, each with a name and their slack and aws identities"))
  .superRefine((people, context) => {
    // One fact, one person: a Slack id or principal listed twice would let the rules mistake one person for another.
    const seen = new Map<string, number>();
    people.forEach((person, index) => {
      // A role's path is not in a session's ARN, so two role ARNs differing only by path are one principal.
      const facts: { kind: string; value: string; path: (string | number)[] }[] = [
        { kind: "name", value: person.name, path: ["name"] },
        ...person.slack.map((id, at) => ({ kind: "Slack user", value: id, path: ["slack", at] })),
        ...person.aws.map((principal, at) => ({
          kind: "AWS principal",
          value:
            "userArn" in principal
              ? principal.userArn
              : `${principal.roleArn.replace(/:role\/(?:.*\/)?/, ":role/")} ${principal.sessionName}`,
          path: ["aws", at],
        })),
      ];
      for (const { kind, value, path } of facts) {
        const first = seen.get(`${kind} ${value}`);
        if (first === undefined || first === index) seen.set(`${kind} ${value}`, index);
        else
          context.addIssue({
            code: "custom",
            path: [index, ...path],
            message:
              `expected each name, Slack user and AWS principal to belong to one person, but people[${first}] ` +
              `(${people[first]?.name ?? "?"}) has this ${kind} too`,
          });
      }
    });
  });

const ACCESS_ENTRY_DESCRIPTION =
  "a person's name from people, a Slack user ID (U0123456789) or a user-group ID (S0123456789)";
const accessEntryListSchema = z
  .array(
    z
      .string(expected(ACCESS_ENTRY_DESCRIPTION))
      .regex(/^(?:[UWS][A-Z0-9]{8,}|[a-z][a-z0-9._-]{0,63})$/, expected(ACCESS_ENTRY_DESCRIPTION)),
    expected("a list of people's names or Slack IDs"),
  )
  .default([]);

export const configSchema = section({
  idp: idpSchema,
  aws: awsSchema.optional(),
  // prefault, not default: an absent section is parsed as {} so that its own defaults fill it.
  checks: checksSchema.prefault({}),
  store: storeSchema.prefault({}),
  serve: serveSchema.prefault({}),
  slack: slackSchema.optional(),
  /** `breakglass watch` and serve: the emergency account's CloudTrail activity, judged against declared incidents. */
  watch: watchSchema.optional(),
  /** Who is who: each person's Slack user ids and AWS principals, so that every front end knows the same people. */
  people: peopleSchema.default([]),
  /** Who may do what, on every front end: people's names, and Slack user or user-group ids (slack.access is the Slack-only form). */
  access: section({
    run: accessEntryListSchema,
    approve: accessEntryListSchema,
    grant: accessEntryListSchema,
  }).prefault({}),
  /** How the CLI knows who runs it: verified (AWS STS, the default), or lab (trusts the OS user, and says so on the record). */
  identity: section({ mode: z.enum(["verified", "lab"], expected("verified or lab")).default("verified") }).prefault(
    {},
  ),
}).superRefine((config, context) => {
  // A name in access that no person has is a typo that would silently allow nobody.
  const names = config.people.map((person) => person.name);
  for (const permission of ["run", "approve", "grant"] as const) {
    config.access[permission].forEach((entry, index) => {
      if (/^[UWS][A-Z0-9]{8,}$/.test(entry) || names.includes(entry)) return;
      const guess = closestName(entry, names);
      context.addIssue({
        code: "custom",
        path: ["access", permission, index],
        message: `expected a person listed under people${guess === undefined ? "" : ` (did you mean ${guess}?)`}`,
      });
    });
  }
});

/** breakglass.yaml after defaults; once loaded, its file paths are absolute. */
export type BreakglassConfig = z.infer<typeof configSchema>;
