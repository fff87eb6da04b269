// Reads IAM Identity Center's instance status through sso-admin ListInstances, in Identity Center's own Region.
import { ListInstancesCommand, type InstanceMetadata, type SSOAdminClient } from "@aws-sdk/client-sso-admin";
import type { IdentityCenterFacts } from "../../domain/checks/posture-facts.js";
import type { AwsClients } from "./aws-clients.js";
import { toFactError } from "./aws-error.js";

/**
 * ListInstances rather than DescribeInstance: it returns the same Status, needs only
 * sso:ListInstances, and is what emulators (moto 5.2) implement.
 */
export async function readIdentityCenter(
  clients: AwsClients,
  ssoAdmin: SSOAdminClient,
  instanceArn: string,
): Promise<IdentityCenterFacts> {
  try {
    const instances: InstanceMetadata[] = [];
    let nextToken: string | undefined;
    do {
      const page = await clients.call("sso-admin", () =>
        ssoAdmin.send(new ListInstancesCommand({ NextToken: nextToken })),
      );
      instances.push(...(page.Instances ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    const instance = instances.find((candidate) => candidate.InstanceArn === instanceArn);
    if (!instance) return { instanceArn, status: "missing", instanceStatus: null, identityStoreId: null };
    return {
      instanceArn,
      status: "found",
      instanceStatus: instance.Status ?? null,
      identityStoreId: instance.IdentityStoreId ?? null,
    };
  } catch (error) {
    return { instanceArn, status: "error", error: toFactError(error), instanceStatus: null, identityStoreId: null };
  }
}
