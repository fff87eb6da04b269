// Reads the emergency account for the SAML preflight through the AWS SDK; its own module, so offline preflights load no SDK.
import type { IAMClient } from "@aws-sdk/client-iam";
import { AwsClients, DEFAULT_AWS_SETTINGS, type Credentials } from "../adapters/aws/aws-clients.js";
import { readRole, readSamlProvider } from "../adapters/aws/iam-reader.js";
import type { EmergencyAccountReader } from "./saml-preflight.js";

/** IAM's view of the emergency account through the SDK: the provider and roles, read with the check's credentials. */
export function awsEmergencyAccountReader(options: {
  readonly region: string | undefined;
  /** The role to read the emergency account as (aws.emergencyAccount.roleArn); undefined: the default chain. */
  readonly roleArn?: string | undefined;
}): EmergencyAccountReader {
  const clients = new AwsClients({ ...DEFAULT_AWS_SETTINGS, region: options.region });
  const credentials: Credentials = options.roleArn ? clients.assumeRole(options.roleArn, "saml-preflight") : undefined;
  let iam: IAMClient | undefined;
  const client = () => (iam ??= clients.iam(credentials));
  return {
    readSamlProvider: (arn) => readSamlProvider(clients, client(), arn),
    readRole: (arn) => readRole(clients, client(), arn),
  };
}
