// Reads IAM Identity Center's instance status through sso-admin ListInstances, in Identity Center's own Region and as the
// principal configured for it (aws.identityCenter.roleArn), never as whatever credentials happen to be at hand.
import {
  ListInstancesCommand,
  ListRegionsCommand,
  type InstanceMetadata,
  type RegionMetadata,
  type SSOAdminClient,
} from "@aws-sdk/client-sso-admin";
import type {
  IdentityCenterFacts,
  IdentityCenterReader,
  IdentityCenterRegionFacts,
} from "../../domain/checks/posture-facts.js";
import { accountOfArn } from "../../domain/shared/arn.js";
import type { AwsClients, Credentials } from "./aws-clients.js";
import { hasErrorName, toFactError } from "./aws-error.js";

/** aws.identityCenter of breakglass.yaml. */
export interface IdentityCenterSource {
  readonly instanceArn: string;
  readonly region?: string | undefined;
  /** The management or delegated-administrator account. */
  readonly accountId?: string | undefined;
  /** A read role in that account; without it, the default credential chain reads. */
  readonly roleArn?: string | undefined;
}

/**
 * sso-admin answers only about the instances of the account that asks, so an instance it does not list is gone only
 * when the asking account administers Identity Center. The facts therefore say who asked (readAs); the account behind
 * the default chain is asked of STS only when the instance was not listed, the one case where it matters.
 */
export async function readIdentityCenter(
  clients: AwsClients,
  source: IdentityCenterSource,
): Promise<IdentityCenterFacts> {
  const credentials: Credentials = source.roleArn
    ? clients.assumeRole(source.roleArn, "check-identity-center")
    : undefined;
  const ssoAdmin = clients.ssoAdmin(credentials, source.region);
  try {
    const facts = await listInstance(clients, ssoAdmin, source.instanceArn);
    if (facts.status !== "missing") return facts;
    return { ...facts, readAs: await readerOf(clients, source) };
  } finally {
    ssoAdmin.destroy();
  }
}

async function readerOf(clients: AwsClients, source: IdentityCenterSource): Promise<IdentityCenterReader> {
  const administratorAccountId =
    source.accountId ?? (source.roleArn ? accountOfArn(source.roleArn) : undefined) ?? null;
  if (source.roleArn) return { accountId: accountOfArn(source.roleArn) ?? null, administratorAccountId, via: "role" };
  try {
    return { accountId: await clients.callerAccountId(), administratorAccountId, via: "default-chain" };
  } catch (error) {
    return { accountId: null, accountError: toFactError(error), administratorAccountId, via: "default-chain" };
  }
}

/**
 * ListInstances rather than DescribeInstance: it returns the same Status, needs only
 * sso:ListInstances, and is what emulators (moto 5.2) implement.
 */
export async function listInstance(
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

/** What an endpoint that predates an operation answers (awsJson's UnknownOperationException; InvalidAction elsewhere). */
const UNKNOWN_OPERATION_NAMES = ["UnknownOperationException", "InvalidAction", "InvalidActionException"];

/**
 * The instance's Regions through sso-admin ListRegions (multi-Region Identity Center, February 2026), as the same
 * principal and in the same Region as readIdentityCenter. ListRegions already carries each Region's Status and
 * IsPrimaryRegion, so DescribeRegion (one call per Region) adds nothing. An endpoint that does not know the operation is
 * "unsupported", not an error: there the feature does not exist, and the check says it cannot tell.
 */
export async function readIdentityCenterRegions(
  clients: AwsClients,
  source: IdentityCenterSource,
): Promise<IdentityCenterRegionFacts> {
  const credentials: Credentials = source.roleArn
    ? clients.assumeRole(source.roleArn, "check-identity-center")
    : undefined;
  const ssoAdmin = clients.ssoAdmin(credentials, source.region);
  const instanceArn = source.instanceArn;
  let askedRegion: string | null = source.region ?? null;
  try {
    askedRegion = await ssoAdmin.config.region();
    const regions: RegionMetadata[] = [];
    let nextToken: string | undefined;
    do {
      const page = await clients.call("sso-admin", () =>
        ssoAdmin.send(new ListRegionsCommand({ InstanceArn: instanceArn, NextToken: nextToken })),
      );
      regions.push(...(page.Regions ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    return {
      instanceArn,
      status: "found",
      askedRegion,
      regions: regions.map((region) => ({
        name: region.RegionName ?? "?",
        status: region.Status ?? null,
        isPrimary: region.IsPrimaryRegion === true,
        addedAt: region.AddedDate ?? null,
      })),
    };
  } catch (error) {
    const status = hasErrorName(error, ...UNKNOWN_OPERATION_NAMES) ? "unsupported" : "error";
    return { instanceArn, status, error: toFactError(error), askedRegion, regions: [] };
  } finally {
    ssoAdmin.destroy();
  }
}
