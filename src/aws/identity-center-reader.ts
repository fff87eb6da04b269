// Reads IAM Identity Center's instance status through sso-admin, in Identity Center's own Region.
import { DescribeInstanceCommand, type SSOAdminClient } from "@aws-sdk/client-sso-admin";
import type { IdentityCenterFacts } from "../checks/posture-facts.js";
import type { AwsClients } from "./aws-clients.js";
import { hasErrorName, toFactError } from "./aws-error.js";

export async function readIdentityCenter(clients: AwsClients, ssoAdmin: SSOAdminClient, instanceArn: string): Promise<IdentityCenterFacts> {
  try {
    const response = await clients.call("sso-admin", () => ssoAdmin.send(new DescribeInstanceCommand({ InstanceArn: instanceArn })));
    return { instanceArn, status: "found", instanceStatus: response.Status ?? null, identityStoreId: response.IdentityStoreId ?? null };
  } catch (error) {
    const status = hasErrorName(error, "ResourceNotFoundException") ? "missing" : "error";
    return { instanceArn, status, error: toFactError(error), instanceStatus: null, identityStoreId: null };
  }
}
