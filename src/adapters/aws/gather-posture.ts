// Gathers every AWS fact the enabled checks read, tolerating partial failure: an unreadable account becomes a fact, never an abort.
import pLimit from "p-limit";
import { factKindsReadBy, type CheckName } from "../../domain/checks/check-registry.js";
import {
  isFactReadFrom,
  type AwsFactKind,
  type FactKind,
  type WorkloadAccountFactKind,
} from "../../domain/checks/fact-kinds.js";
import type { Attestation, PostureFacts, WorkloadAccountFacts } from "../../domain/checks/posture-facts.js";
import type { AwsClients, Credentials } from "./aws-clients.js";
import { toFactError } from "./aws-error.js";
import { readIdentityCenter, readIdentityCenterRegions, type IdentityCenterSource } from "./identity-center-reader.js";
import { readEmergencyUser, readRole, readRootMfa, readSamlProvider } from "./iam-reader.js";
import { readCloudTrail, readEventBridge } from "./logging-reader.js";
import { OrganizationReader, type MemberAccount } from "./organization-reader.js";
import { readWatchQueue, type WatchSource } from "./watch-reader.js";

/** What to read, derived from the config: a section that is absent is simply not here. */
export interface PostureScope {
  /** The checks to gather for: the check registry says which facts each reads. */
  readonly checks: ReadonlySet<CheckName>;
  readonly partition: string;
  readonly emergencyAccount: {
    readonly accountId: string;
    readonly roleArn?: string | undefined;
    readonly samlProviders: readonly string[];
    readonly emergencyRoles: readonly string[];
    /** FM1's emergency IAM users, by name. */
    readonly emergencyUsers: readonly string[];
  };
  readonly identityCenter?: IdentityCenterSource | undefined;
  readonly organization?:
    | {
        readonly managementRoleArn?: string | undefined;
        readonly crossAccountRoleName: string;
        readonly readRoleName: string;
        readonly accounts: "all" | readonly string[];
      }
    | undefined;
  /** watch: the queue `breakglass watch` consumes. */
  readonly watch?: WatchSource | undefined;
  /** Workload accounts read in parallel. */
  readonly concurrency: number;
}

export interface GatherDependencies {
  readonly clients: AwsClients;
  readonly latestAttestation: (instanceArn: string) => Attestation | null;
  readonly onAccountProgress?: (done: number, total: number) => void;
}

interface GatherContext {
  readonly scope: PostureScope;
  readonly dependencies: GatherDependencies;
  /** Credentials in the emergency account, where the SAML providers, emergency roles, trails and rules live. */
  readonly emergencyCredentials: Credentials;
  readonly iam: ReturnType<AwsClients["iam"]>;
}

/** Reads one kind of fact once per check run, returning its part of the posture facts. */
type AwsFactReader = (context: GatherContext) => Promise<Partial<PostureFacts>>;

/** One reader per fact kind the registry says is read from AWS: a new kind does not compile until it has one here. */
const AWS_READERS: { readonly [Kind in AwsFactKind]: AwsFactReader } = {
  "saml-providers": async ({ scope, dependencies: { clients }, iam }) => ({
    samlProviders: await Promise.all(
      scope.emergencyAccount.samlProviders.map((arn) => readSamlProvider(clients, iam, arn)),
    ),
  }),
  "emergency-roles": async ({ scope, dependencies: { clients }, iam }) => ({
    emergencyRoles: await Promise.all(scope.emergencyAccount.emergencyRoles.map((arn) => readRole(clients, iam, arn))),
  }),
  "emergency-users": async ({ scope, dependencies: { clients }, iam }) => {
    const { accountId, emergencyUsers } = scope.emergencyAccount;
    const [users, rootMfa] = await Promise.all([
      Promise.all(
        emergencyUsers.map((userName) =>
          readEmergencyUser(clients, iam, userName, `arn:${scope.partition}:iam::${accountId}:user/${userName}`),
        ),
      ),
      readRootMfa(clients, iam),
    ]);
    return { emergencyUsers: users, rootMfa };
  },
  "identity-center": async ({ scope, dependencies: { clients, latestAttestation } }) => {
    if (!scope.identityCenter) return {};
    const identityCenter = await readIdentityCenter(clients, scope.identityCenter);
    return { identityCenter, attestation: latestAttestation(identityCenter.instanceArn) };
  },
  "identity-center-regions": async ({ scope, dependencies: { clients } }) =>
    scope.identityCenter
      ? { identityCenterRegions: await readIdentityCenterRegions(clients, scope.identityCenter) }
      : {},
  cloudtrail: async ({ dependencies: { clients }, emergencyCredentials }) => ({
    cloudTrail: await readCloudTrail(clients, clients.cloudTrail(emergencyCredentials)),
  }),
  eventbridge: async ({ dependencies: { clients }, emergencyCredentials }) => ({
    eventBridge: await readEventBridge(clients, clients.eventBridge(emergencyCredentials)),
  }),
  "watch-queue": async ({ scope, dependencies: { clients }, emergencyCredentials }) =>
    scope.watch ? { watchQueue: await readWatchQueue(clients, scope.watch, emergencyCredentials) } : {},
};

interface WorkloadAccountContext {
  readonly scope: PostureScope;
  readonly clients: AwsClients;
  readonly reader: OrganizationReader;
  readonly account: MemberAccount;
  readonly organization: NonNullable<PostureScope["organization"]>;
}

/** Reads one kind of fact in one workload account, returning its part of that account's facts. */
type WorkloadAccountFactReader = (context: WorkloadAccountContext) => Promise<Partial<WorkloadAccountFacts>>;

/** One reader per fact kind the registry says is read in each workload account: the compiler asks for every one. */
const WORKLOAD_ACCOUNT_READERS: { readonly [Kind in WorkloadAccountFactKind]: WorkloadAccountFactReader } = {
  "cross-account-role": async ({ scope, clients, account, organization }) => {
    const readRoleArn = `arn:${scope.partition}:iam::${account.accountId}:role/${organization.readRoleName}`;
    const roleArn = `arn:${scope.partition}:iam::${account.accountId}:role/${organization.crossAccountRoleName}`;
    const credentials = clients.assumeRole(readRoleArn, `check-${account.accountId}`);
    try {
      await credentials();
      const iam = clients.iam(credentials);
      try {
        return { crossAccountRole: await readRole(clients, iam, roleArn) };
      } finally {
        iam.destroy(); // one client per account: release its sockets before the next thousand
      }
    } catch (caught) {
      // Not being able to assume the read role is a fact about the account, not about the role.
      return { error: toFactError(caught) };
    }
  },
  "service-control-policies": async ({ reader, account }) => {
    try {
      return { serviceControlPolicies: await reader.serviceControlPoliciesOnPath(account.accountId) };
    } catch (caught) {
      return { scpError: toFactError(caught) };
    }
  },
};

/** The fact kinds the AWS gatherer has a reader for, keyed as the registry names them. */
export const GATHERED_FACT_KINDS = [
  ...Object.keys(AWS_READERS),
  ...Object.keys(WORKLOAD_ACCOUNT_READERS),
] as readonly FactKind[];

export async function gatherPosture(scope: PostureScope, dependencies: GatherDependencies): Promise<PostureFacts> {
  const { clients } = dependencies;
  const { emergencyAccount } = scope;
  const emergencyCredentials: Credentials = emergencyAccount.roleArn
    ? clients.assumeRole(emergencyAccount.roleArn, "check-emergency")
    : undefined;
  const context: GatherContext = { scope, dependencies, emergencyCredentials, iam: clients.iam(emergencyCredentials) };

  const kinds = [...factKindsReadBy(scope.checks)];
  const awsKinds = kinds.filter((kind) => isFactReadFrom(kind, "aws"));
  const accountKinds = kinds.filter((kind) => isFactReadFrom(kind, "each-workload-account"));
  const [parts, workloadAccounts] = await Promise.all([
    Promise.all(awsKinds.map((kind) => AWS_READERS[kind](context))),
    accountKinds.length > 0 && scope.organization ? sweepAccounts(scope, dependencies, accountKinds) : undefined,
  ]);

  return {
    emergencyAccountId: emergencyAccount.accountId,
    ...parts.reduce<Partial<PostureFacts>>((gathered, part) => ({ ...gathered, ...part }), {}),
    ...(workloadAccounts && scope.organization
      ? { workloadAccounts, crossAccountRoleName: scope.organization.crossAccountRoleName }
      : {}),
  };
}

async function sweepAccounts(
  scope: PostureScope,
  { clients, onAccountProgress }: GatherDependencies,
  kinds: readonly WorkloadAccountFactKind[],
): Promise<WorkloadAccountFacts[]> {
  const organization = scope.organization!;
  const managementCredentials: Credentials = organization.managementRoleArn
    ? clients.assumeRole(organization.managementRoleArn, "check-organization")
    : undefined;
  const reader = new OrganizationReader(clients, clients.organizations(managementCredentials));

  let accounts: MemberAccount[];
  if (organization.accounts === "all") {
    try {
      const [members, managementAccountId] = await Promise.all([
        reader.listActiveAccounts(),
        reader.managementAccountId(),
      ]);
      // "all" means the workload accounts: not the emergency account, and not the management account, which SCPs never cover.
      accounts = members.filter(
        (account) =>
          account.accountId !== scope.emergencyAccount.accountId && account.accountId !== managementAccountId,
      );
    } catch (error) {
      // Without the account list there is nothing to sweep; say so as a fact about the organization.
      const failure = toFactError(error);
      return [
        {
          accountId: "organization",
          name: null,
          crossAccountRole: null,
          error: failure,
          serviceControlPolicies: null,
          scpError: failure,
        },
      ];
    }
  } else {
    accounts = organization.accounts.map((accountId) => ({ accountId, name: null }));
  }

  let done = 0;
  onAccountProgress?.(0, accounts.length);
  const limit = pLimit(scope.concurrency);
  return Promise.all(
    accounts.map((account) =>
      limit(async () => {
        const facts = await readAccount({ scope, clients, reader, account, organization }, kinds);
        onAccountProgress?.(++done, accounts.length);
        return facts;
      }),
    ),
  );
}

/** One workload account's facts, each kind read in turn; a kind not read leaves its facts null. */
async function readAccount(
  context: WorkloadAccountContext,
  kinds: readonly WorkloadAccountFactKind[],
): Promise<WorkloadAccountFacts> {
  let facts: Partial<WorkloadAccountFacts> = {};
  for (const kind of kinds) facts = { ...facts, ...(await WORKLOAD_ACCOUNT_READERS[kind](context)) };
  const { account } = context;
  return {
    accountId: account.accountId,
    name: account.name,
    crossAccountRole: facts.crossAccountRole ?? null,
    ...(facts.error ? { error: facts.error } : {}),
    serviceControlPolicies: facts.serviceControlPolicies ?? null,
    ...(facts.scpError ? { scpError: facts.scpError } : {}),
  };
}
