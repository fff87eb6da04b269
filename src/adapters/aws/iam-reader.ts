// Reads IAM facts: SAML providers and roles, answering "missing" for NoSuchEntity and "error" for anything else.
import { GetRoleCommand, GetSAMLProviderCommand, type IAMClient } from "@aws-sdk/client-iam";
import type { RoleFacts, SamlProviderFacts } from "../../domain/checks/posture-facts.js";
import type { AwsClients } from "./aws-clients.js";
import { hasErrorName, toFactError } from "./aws-error.js";

export async function readSamlProvider(clients: AwsClients, iam: IAMClient, arn: string): Promise<SamlProviderFacts> {
  try {
    const response = await clients.call("iam", () => iam.send(new GetSAMLProviderCommand({ SAMLProviderArn: arn })));
    return {
      arn,
      status: "found",
      validUntil: response.ValidUntil ?? null,
      metadataDocument: response.SAMLMetadataDocument ?? null,
    };
  } catch (error) {
    if (hasErrorName(error, "NoSuchEntityException", "NoSuchEntity"))
      return { arn, status: "missing", validUntil: null, metadataDocument: null };
    return { arn, status: "error", error: toFactError(error), validUntil: null, metadataDocument: null };
  }
}

export async function readRole(clients: AwsClients, iam: IAMClient, arn: string): Promise<RoleFacts> {
  try {
    const response = await clients.call("iam", () => iam.send(new GetRoleCommand({ RoleName: roleNameOf(arn) })));
    return { arn, status: "found", trustPolicyDocument: response.Role?.AssumeRolePolicyDocument ?? null };
  } catch (error) {
    if (hasErrorName(error, "NoSuchEntityException", "NoSuchEntity"))
      return { arn, status: "missing", trustPolicyDocument: null };
    return { arn, status: "error", error: toFactError(error), trustPolicyDocument: null };
  }
}

/** "arn:aws:iam::111111111111:role/path/Name" → "Name" (GetRole takes the name, never the path). */
export function roleNameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf("/") + 1);
}
