// Gathers every AWS fact the enabled checks need, tolerating partial failure: an unreadable account becomes a fact, never an abort.
import pLimit from "p-limit";
import type { Attestation, FactError, PostureFacts, RoleFacts, ServiceControlPolicyFacts, WorkloadAccountFacts } from "../../domain/checks/posture-facts.js";
import type { AwsClients, Credentials } from "./aws-clients.js";
import { toFactError } from "./aws-error.js";
import { readIdentityCenter } from "./identity-center-reader.js";
import { readRole, readSamlProvider } from "./iam-reader.js";
import { readCloudTrail, readEventBridge } from "./logging-reader.js";
import { OrganizationReader, type MemberAccount } from "./organization-reader.js";

export type PostureCheck = "saml-providers" | "emergency-roles" | "identity-center" | "cross-account-roles" | "scp-protection" | "cloudtrail" | "eventbridge";

/** What to read, derived from the config: a section that is absent is simply not here. */
export interface PostureScope {
  readonly checks: ReadonlySet<PostureCheck>;
  readonly partition: string;
  readonly emergencyAccount: {
    readonly accountId: string;
    readonly roleArn?: string | undefined;
    readonly samlProviders: readonly string[];
    readonly emergencyRoles: readonly string[];
  };
  readonly identityCenter?: { readonly instanceArn: string; readonly region?: string | undefined } | undefined;
  readonly organization?:
    | {
        readonly managementRoleArn?: string | undefined;
        readonly crossAccountRoleName: string;
        readonly readRoleName: string;
        readonly accounts: "all" | readonly string[];
      }
    | undefined;
  /** Workload accounts read in parallel. */
  readonly concurrency: number;
}

export interface GatherDependencies {
  readonly clients: AwsClients;
  readonly latestAttestation: (instanceArn: string) => Attestation | null;
  readonly onAccountProgress?: (done: number, total: number) => void;
}

export async function gatherPosture(scope: PostureScope, dependencies: GatherDependencies): Promise<PostureFacts> {
  const { clients } = dependencies;
  const { checks, emergencyAccount } = scope;
  const emergencyCredentials: Credentials = emergencyAccount.roleArn ? clients.assumeRole(emergencyAccount.roleArn, "check-emergency") : undefined;
  const iam = clients.iam(emergencyCredentials);

  const [samlProviders, emergencyRoles, identityCenter, cloudTrail, eventBridge, workloadAccounts] = await Promise.all([
    checks.has("saml-providers") ? Promise.all(emergencyAccount.samlProviders.map((arn) => readSamlProvider(clients, iam, arn))) : undefined,
    checks.has("emergency-roles") ? Promise.all(emergencyAccount.emergencyRoles.map((arn) => readRole(clients, iam, arn))) : undefined,
    checks.has("identity-center") && scope.identityCenter
      ? readIdentityCenter(clients, clients.ssoAdmin(undefined, scope.identityCenter.region), scope.identityCenter.instanceArn)
      : undefined,
    checks.has("cloudtrail") ? readCloudTrail(clients, clients.cloudTrail(emergencyCredentials)) : undefined,
    checks.has("eventbridge") ? readEventBridge(clients, clients.eventBridge(emergencyCredentials)) : undefined,
    (checks.has("cross-account-roles") || checks.has("scp-protection")) && scope.organization ? sweepAccounts(scope, dependencies) : undefined,
  ]);

  return {
    emergencyAccountId: emergencyAccount.accountId,
    ...(samlProviders ? { samlProviders } : {}),
    ...(emergencyRoles ? { emergencyRoles } : {}),
    ...(identityCenter ? { identityCenter, attestation: dependencies.latestAttestation(identityCenter.instanceArn) } : {}),
    ...(cloudTrail ? { cloudTrail } : {}),
    ...(eventBridge ? { eventBridge } : {}),
    ...(workloadAccounts && scope.organization ? { workloadAccounts, crossAccountRoleName: scope.organization.crossAccountRoleName } : {}),
  };
}

async function sweepAccounts(scope: PostureScope, { clients, onAccountProgress }: GatherDependencies): Promise<WorkloadAccountFacts[]> {
  const organization = scope.organization!;
  const managementCredentials: Credentials = organization.managementRoleArn ? clients.assumeRole(organization.managementRoleArn, "check-organization") : undefined;
  const reader = new OrganizationReader(clients, clients.organizations(managementCredentials));

  let accounts: MemberAccount[];
  if (organization.accounts === "all") {
    try {
      const [members, managementAccountId] = await Promise.all([reader.listActiveAccounts(), reader.managementAccountId()]);
      // "all" means the workload accounts: not the emergency account, and not the management account, which SCPs never cover.
      accounts = members.filter((account) => account.accountId !== scope.emergencyAccount.accountId && account.accountId !== managementAccountId);
    } catch (error) {
      // Without the account list there is nothing to sweep; say so as a fact about the organization.
      const failure = toFactError(error);
      return [{ accountId: "organization", name: null, crossAccountRole: null, error: failure, serviceControlPolicies: null, scpError: failure }];
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
        const facts = await readAccount(scope, clients, reader, account);
        onAccountProgress?.(++done, accounts.length);
        return facts;
      }),
    ),
  );
}

async function readAccount(scope: PostureScope, clients: AwsClients, reader: OrganizationReader, account: MemberAccount): Promise<WorkloadAccountFacts> {
  const organization = scope.organization!;
  let crossAccountRole: RoleFacts | null = null;
  let error: FactError | undefined;
  if (scope.checks.has("cross-account-roles")) {
    const readRoleArn = `arn:${scope.partition}:iam::${account.accountId}:role/${organization.readRoleName}`;
    const roleArn = `arn:${scope.partition}:iam::${account.accountId}:role/${organization.crossAccountRoleName}`;
    const credentials = clients.assumeRole(readRoleArn, `check-${account.accountId}`);
    try {
      await credentials();
      const iam = clients.iam(credentials);
      try {
        crossAccountRole = await readRole(clients, iam, roleArn);
      } finally {
        iam.destroy(); // one client per account: release its sockets before the next thousand
      }
    } catch (caught) {
      // Not being able to assume the read role is a fact about the account, not about the role.
      error = toFactError(caught);
    }
  }
  let serviceControlPolicies: ServiceControlPolicyFacts[] | null = null;
  let scpError: FactError | undefined;
  if (scope.checks.has("scp-protection")) {
    try {
      serviceControlPolicies = await reader.serviceControlPoliciesOnPath(account.accountId);
    } catch (caught) {
      scpError = toFactError(caught);
    }
  }
  return {
    accountId: account.accountId,
    name: account.name,
    crossAccountRole,
    ...(error ? { error } : {}),
    serviceControlPolicies,
    ...(scpError ? { scpError } : {}),
  };
}
