// Reads IAM facts: SAML providers, roles, FM1's emergency users and the root user's MFA, answering "missing" for
// NoSuchEntity and "error" for anything else.
import {
  GetAccountSummaryCommand,
  GetLoginProfileCommand,
  GetRoleCommand,
  GetSAMLProviderCommand,
  GetUserCommand,
  ListAccessKeysCommand,
  ListMFADevicesCommand,
  type IAMClient,
} from "@aws-sdk/client-iam";
import type {
  EmergencyUserFacts,
  RoleFacts,
  RootMfaFacts,
  SamlProviderFacts,
} from "../../domain/checks/posture-facts.js";
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
    return {
      arn,
      status: "found",
      trustPolicyDocument: response.Role?.AssumeRolePolicyDocument ?? null,
      maxSessionDuration: response.Role?.MaxSessionDuration ?? null,
    };
  } catch (error) {
    if (hasErrorName(error, "NoSuchEntityException", "NoSuchEntity"))
      return { arn, status: "missing", trustPolicyDocument: null };
    return { arn, status: "error", error: toFactError(error), trustPolicyDocument: null };
  }
}

/** One emergency user: GetUser, then its MFA devices, login profile and access keys (each list followed to its end). */
export async function readEmergencyUser(
  clients: AwsClients,
  iam: IAMClient,
  userName: string,
  arn: string,
): Promise<EmergencyUserFacts> {
  const absent = { userName, arn, mfaDeviceCount: 0, hasConsolePassword: false, activeAccessKeyIds: [] };
  try {
    const user = await clients.call("iam", () => iam.send(new GetUserCommand({ UserName: userName })));
    const [mfaDeviceCount, hasConsolePassword, activeAccessKeyIds] = await Promise.all([
      countMfaDevices(clients, iam, userName),
      hasLoginProfile(clients, iam, userName),
      listActiveAccessKeys(clients, iam, userName),
    ]);
    return {
      userName,
      arn: user.User?.Arn ?? arn,
      status: "found",
      mfaDeviceCount,
      hasConsolePassword,
      activeAccessKeyIds,
    };
  } catch (error) {
    if (hasErrorName(error, "NoSuchEntityException", "NoSuchEntity")) return { ...absent, status: "missing" };
    return { ...absent, status: "error", error: toFactError(error) };
  }
}

async function countMfaDevices(clients: AwsClients, iam: IAMClient, userName: string): Promise<number> {
  let count = 0;
  let marker: string | undefined;
  do {
    const page = await clients.call("iam", () =>
      iam.send(new ListMFADevicesCommand({ UserName: userName, Marker: marker })),
    );
    count += page.MFADevices?.length ?? 0;
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return count;
}

/** GetLoginProfile answers NoSuchEntity for a user without a console password. */
async function hasLoginProfile(clients: AwsClients, iam: IAMClient, userName: string): Promise<boolean> {
  try {
    await clients.call("iam", () => iam.send(new GetLoginProfileCommand({ UserName: userName })));
    return true;
  } catch (error) {
    if (hasErrorName(error, "NoSuchEntityException", "NoSuchEntity")) return false;
    throw error;
  }
}

async function listActiveAccessKeys(clients: AwsClients, iam: IAMClient, userName: string): Promise<string[]> {
  const active: string[] = [];
  let marker: string | undefined;
  do {
    const page = await clients.call("iam", () =>
      iam.send(new ListAccessKeysCommand({ UserName: userName, Marker: marker })),
    );
    for (const key of page.AccessKeyMetadata ?? [])
      if (key.Status === "Active" && key.AccessKeyId) active.push(key.AccessKeyId);
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return active;
}

/** The root user's MFA, from the account summary: the only API that tells it to a principal other than root. */
export async function readRootMfa(clients: AwsClients, iam: IAMClient): Promise<RootMfaFacts> {
  try {
    const summary = await clients.call("iam", () => iam.send(new GetAccountSummaryCommand({})));
    return { status: "found", mfaEnabled: (summary.SummaryMap?.["AccountMFAEnabled"] ?? 0) > 0 };
  } catch (error) {
    return { status: "error", error: toFactError(error), mfaEnabled: false };
  }
}

/** "arn:aws:iam::111111111111:role/path/Name" → "Name" (GetRole takes the name, never the path). */
export function roleNameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf("/") + 1);
}
