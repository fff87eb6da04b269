// The AWS emulator harness itself: moto answers real SDK calls on loopback, and the fault proxy's errors are ones the SDK retries.
import { readFileSync } from "node:fs";
import {
  CreateRoleCommand,
  CreateSAMLProviderCommand,
  GetRoleCommand,
  GetSAMLProviderCommand,
  IAMClient,
  ListRolesCommand,
  ListSAMLProvidersCommand,
} from "@aws-sdk/client-iam";
import { CreateOrganizationCommand, ListRootsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { quickAdaptiveRetries } from "../support/quick-retries.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { awsClientConfig, MOTO_DEFAULT_ACCOUNT_ID, startMoto, type MotoServer } from "../support/moto.js";

const IDP_METADATA = readFileSync(new URL("../../examples/google-workspace-idp-metadata.xml", import.meta.url), "utf8");
const PROBE_ROLE = "breakglass-probe";
const CALLS_PER_SERVICE = 20;

let moto: MotoServer;
let proxy: FaultProxy;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint, { seed: 20_261_125, throttleRate: 0, serverErrorRate: 0 });
});

afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});

beforeEach(() => moto.reset());
afterEach(() => proxy.setRates(0, 0));

/** What the retried calls read: one role and an organization, made straight on moto so no fault gets in the way. */
async function seedProbeResources(): Promise<void> {
  await new IAMClient(awsClientConfig(moto.endpoint)).send(
    new CreateRoleCommand({ RoleName: PROBE_ROLE, AssumeRolePolicyDocument: "{}" }),
  );
  await new OrganizationsClient(awsClientConfig(moto.endpoint)).send(
    new CreateOrganizationCommand({ FeatureSet: "ALL" }),
  );
}

async function callSequentially<T>(count: number, call: () => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let index = 0; index < count; index += 1) results.push(await call());
  return results;
}

describe("moto", () => {
  it("keeps an IAM SAML provider's metadata document as it was uploaded", async () => {
    const iam = new IAMClient(awsClientConfig(moto.endpoint));
    const { SAMLProviderArn } = await iam.send(
      new CreateSAMLProviderCommand({ Name: "breakglass-idp", SAMLMetadataDocument: IDP_METADATA }),
    );
    expect(SAMLProviderArn).toBe(`arn:aws:iam::${MOTO_DEFAULT_ACCOUNT_ID}:saml-provider/breakglass-idp`);

    const provider = await iam.send(new GetSAMLProviderCommand({ SAMLProviderArn }));
    expect(provider.SAMLMetadataDocument).toBe(IDP_METADATA);
    expect(provider.CreateDate).toBeInstanceOf(Date);
  });

  it("forgets every resource on reset", async () => {
    const iam = new IAMClient(awsClientConfig(moto.endpoint));
    await iam.send(new CreateSAMLProviderCommand({ Name: "breakglass-idp", SAMLMetadataDocument: IDP_METADATA }));
    await iam.send(new CreateRoleCommand({ RoleName: PROBE_ROLE, AssumeRolePolicyDocument: "{}" }));

    await moto.reset();

    expect((await iam.send(new ListSAMLProvidersCommand({}))).SAMLProviderList ?? []).toEqual([]);
    expect((await iam.send(new ListRolesCommand({}))).Roles ?? []).toEqual([]);
  });
});

describe("fault proxy", () => {
  it("answers with the error names AWS uses, by protocol", async () => {
    await seedProbeResources();
    const once = { ...awsClientConfig(proxy.endpoint), maxAttempts: 1 };
    const iam = new IAMClient(once);
    const organizations = new OrganizationsClient(once);

    proxy.setRates(1, 0);
    await expect(iam.send(new GetRoleCommand({ RoleName: PROBE_ROLE }))).rejects.toMatchObject({
      name: "Throttling",
      $metadata: { httpStatusCode: 400 },
    });
    await expect(organizations.send(new ListRootsCommand({}))).rejects.toMatchObject({
      name: "ThrottlingException",
      $metadata: { httpStatusCode: 400 },
    });
    proxy.setRates(0, 1);
    await expect(iam.send(new GetRoleCommand({ RoleName: PROBE_ROLE }))).rejects.toMatchObject({
      name: "ServiceUnavailable",
      $fault: "server",
      $metadata: { httpStatusCode: 503 },
    });
    await expect(organizations.send(new ListRootsCommand({}))).rejects.toMatchObject({
      name: "ServiceUnavailableException",
      $fault: "server",
    });
  });

  it("lets every IAM and Organizations call succeed through 30 % throttling, with the SDK's adaptive retries", async () => {
    await seedProbeResources();
    proxy.setRates(0.3, 0);
    const before = proxy.stats();
    const iam = new IAMClient({ ...awsClientConfig(proxy.endpoint), retryStrategy: quickAdaptiveRetries() });
    const organizations = new OrganizationsClient({
      ...awsClientConfig(proxy.endpoint),
      retryStrategy: quickAdaptiveRetries(),
    });

    const roles = await callSequentially(CALLS_PER_SERVICE, () =>
      iam.send(new GetRoleCommand({ RoleName: PROBE_ROLE })),
    );
    const roots = await callSequentially(CALLS_PER_SERVICE, () => organizations.send(new ListRootsCommand({})));

    expect(roles.map((response) => response.Role?.RoleName)).toEqual(Array(CALLS_PER_SERVICE).fill(PROBE_ROLE));
    expect(roots.every((response) => response.Roots?.length === 1)).toBe(true);
    const after = proxy.stats();
    expect(after.throttled - before.throttled).toBeGreaterThan(0);
    expect(after.serverErrors).toBe(before.serverErrors);
    expect([...roles, ...roots].some((response) => (response.$metadata.attempts ?? 1) > 1)).toBe(true);
  });

  it("lets every IAM and Organizations call succeed through 30 % HTTP 503s, with the SDK's default adaptive mode", async () => {
    await seedProbeResources();
    proxy.setRates(0, 0.3);
    const before = proxy.stats();
    // Transient errors back off from 50 ms and leave the rate limiter alone, so the SDK's real timing is quick enough here.
    const config = { ...awsClientConfig(proxy.endpoint), retryMode: "adaptive", maxAttempts: 10 };
    const iam = new IAMClient(config);
    const organizations = new OrganizationsClient(config);

    const roles = await callSequentially(CALLS_PER_SERVICE, () =>
      iam.send(new GetRoleCommand({ RoleName: PROBE_ROLE })),
    );
    const roots = await callSequentially(CALLS_PER_SERVICE, () => organizations.send(new ListRootsCommand({})));

    expect(roles.map((response) => response.Role?.RoleName)).toEqual(Array(CALLS_PER_SERVICE).fill(PROBE_ROLE));
    expect(roots.every((response) => response.Roots?.length === 1)).toBe(true);
    const after = proxy.stats();
    expect(after.serverErrors - before.serverErrors).toBeGreaterThan(0);
    expect(after.throttled).toBe(before.throttled);
  });
});
