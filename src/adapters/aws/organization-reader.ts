// Reads AWS Organizations: the member accounts, and the SCPs attached on each account's path from the root.
import {
  DescribeOrganizationCommand,
  DescribePolicyCommand,
  ListAccountsCommand,
  ListParentsCommand,
  ListPoliciesForTargetCommand,
  type Account,
  type OrganizationsClient,
  type PolicySummary,
} from "@aws-sdk/client-organizations";
import type { ServiceControlPolicyFacts } from "../../domain/checks/posture-facts.js";
import type { AwsClients } from "./aws-clients.js";

export interface MemberAccount {
  readonly accountId: string;
  readonly name: string | null;
}

export class OrganizationReader {
  /** Parents and policies are shared by many accounts: each is read once per sweep. */
  private readonly parents = new Map<string, Promise<string | null>>();
  private readonly attached = new Map<string, Promise<PolicySummary[]>>();
  private readonly documents = new Map<string, Promise<string>>();

  constructor(
    private readonly clients: AwsClients,
    private readonly organizations: OrganizationsClient,
  ) {}

  /** The management account: SCPs never apply to it, and it is not a workload account. */
  async managementAccountId(): Promise<string | null> {
    const { Organization: organization } = await this.clients.call("organizations", () =>
      this.organizations.send(new DescribeOrganizationCommand({})),
    );
    return organization?.MasterAccountId ?? null;
  }

  async listActiveAccounts(): Promise<MemberAccount[]> {
    const accounts: Account[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.clients.call("organizations", () =>
        this.organizations.send(new ListAccountsCommand({ NextToken: nextToken })),
      );
      accounts.push(...(page.Accounts ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    return accounts
      .filter((account) => (account.State ?? account.Status) === "ACTIVE" && account.Id)
      .map((account) => ({ accountId: account.Id as string, name: account.Name ?? null }));
  }

  /** The SCPs attached to the account, its OUs and the root. */
  async serviceControlPoliciesOnPath(accountId: string): Promise<ServiceControlPolicyFacts[]> {
    const targets = [accountId];
    for (let target: string | null = accountId; target !== null;) {
      target = await this.parentOf(target);
      if (target) targets.push(target);
    }
    const policies: ServiceControlPolicyFacts[] = [];
    for (const targetId of targets) {
      for (const summary of await this.policiesAttachedTo(targetId)) {
        if (!summary.Id) continue;
        policies.push({
          id: summary.Id,
          name: summary.Name ?? summary.Id,
          targetId,
          document: await this.policyDocument(summary.Id),
        });
      }
    }
    return policies;
  }

  private parentOf(childId: string): Promise<string | null> {
    let parent = this.parents.get(childId);
    if (!parent) {
      // Roots have no parent: ListParents is only asked of accounts and OUs.
      parent = childId.startsWith("r-")
        ? Promise.resolve(null)
        : this.clients
            .call("organizations", () => this.organizations.send(new ListParentsCommand({ ChildId: childId })))
            .then((page) => page.Parents?.[0]?.Id ?? null);
      this.parents.set(childId, parent);
    }
    return parent;
  }

  private policiesAttachedTo(targetId: string): Promise<PolicySummary[]> {
    let attached = this.attached.get(targetId);
    if (!attached) {
      attached = (async () => {
        const policies: PolicySummary[] = [];
        let nextToken: string | undefined;
        do {
          const page = await this.clients.call("organizations", () =>
            this.organizations.send(
              new ListPoliciesForTargetCommand({
                TargetId: targetId,
                Filter: "SERVICE_CONTROL_POLICY",
                NextToken: nextToken,
              }),
            ),
          );
          policies.push(...(page.Policies ?? []));
          nextToken = page.NextToken;
        } while (nextToken);
        return policies;
      })();
      this.attached.set(targetId, attached);
    }
    return attached;
  }

  private policyDocument(policyId: string): Promise<string> {
    let document = this.documents.get(policyId);
    if (!document) {
      document = this.clients
        .call("organizations", () => this.organizations.send(new DescribePolicyCommand({ PolicyId: policyId })))
        .then((response) => response.Policy?.Content ?? "{}");
      this.documents.set(policyId, document);
    }
    return document;
  }
}
