// The org sweep under AWS throttling and 5xx, injected by a proxy in front of the emulator: it completes, with the same results.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsClients, DEFAULT_AWS_SETTINGS } from "../../src/adapters/aws/aws-clients.js";
import { gatherPosture, type PostureScope } from "../../src/adapters/aws/gather-posture.js";
import { checkPosture } from "../../src/domain/checks/posture-checks.js";
import { inspectMetadataText } from "../../src/domain/saml/inspect-metadata.js";
import {
  buildOrganization,
  CROSS_ACCOUNT_ROLE,
  READ_ROLE,
  REGION,
  type TestOrganization,
} from "../support/aws-organization.js";
import { makeCertificate } from "../support/certificates.js";
import { quickAdaptiveRetries } from "../support/quick-retries.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { entityXml } from "../support/metadata-builder.js";
import { startMoto, type MotoServer } from "../support/moto.js";

const metadata = entityXml({ keys: [{ base64: makeCertificate().base64, use: "signing" }] });
let moto: MotoServer;
let proxy: FaultProxy;
let organization: TestOrganization;

function scope(): PostureScope {
  return {
    checks: new Set([
      "saml-providers",
      "emergency-roles",
      "identity-center",
      "cross-account-roles",
      "scp-protection",
      "cloudtrail",
      "eventbridge",
    ]),
    partition: "aws",
    emergencyAccount: {
      accountId: organization.emergencyAccountId,
      roleArn: `arn:aws:iam::${organization.emergencyAccountId}:role/OrganizationAccountAccessRole`,
      samlProviders: [organization.samlProviderArn],
      emergencyRoles: [organization.emergencyRoleArn],
      emergencyUsers: [],
    },
    identityCenter: { instanceArn: organization.instanceArn, region: REGION },
    organization: { crossAccountRoleName: CROSS_ACCOUNT_ROLE, readRoleName: READ_ROLE, accounts: "all" },
    concurrency: 4,
  };
}

async function sweep(): Promise<string[]> {
  const clients = new AwsClients({
    ...DEFAULT_AWS_SETTINGS,
    region: REGION,
    maxAttempts: 10,
    retryStrategy: () => quickAdaptiveRetries(),
  });
  const facts = await gatherPosture(scope(), { clients, latestAttestation: () => null });
  const findings = checkPosture({
    facts,
    enabled: scope().checks,
    idp: inspectMetadataText(metadata, "idp.xml"),
    samlProviderArns: [organization.samlProviderArn],
    emergencyRoleArns: [organization.emergencyRoleArn],
    now: new Date(),
    warnDays: 30,
  });
  return findings.map((finding) => `${finding.code} ${finding.accountId ?? ""}`.trim());
}

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint, { seed: 42, throttleRate: 0, serverErrorRate: 0 });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: REGION,
  });
  organization = await buildOrganization(moto.endpoint, { workloadAccounts: 6, idpMetadata: metadata });
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});

describe("the sweep under faults", () => {
  it("gives the same findings with 20% of calls throttled and 10% answered 503 as with none", async () => {
    const calm = await sweep();
    expect(calm).toEqual(["IDENTITY_CENTER_IMPORT_UNATTESTED"]);
    proxy.setRates(0.2, 0.1);
    const before = proxy.stats();
    const stormy = await sweep();
    const after = proxy.stats();
    proxy.setRates(0, 0);
    expect(stormy).toEqual(calm);
    expect(after.throttled - before.throttled).toBeGreaterThan(5);
    expect(after.serverErrors - before.serverErrors).toBeGreaterThan(2);
  });

  it("turns an account that stays throttled past every retry into a finding about that account, not an abort", async () => {
    proxy.setRates(1, 0);
    try {
      const clients = new AwsClients({
        ...DEFAULT_AWS_SETTINGS,
        region: REGION,
        maxAttempts: 2,
        retryStrategy: () => quickAdaptiveRetries(2),
      });
      const facts = await gatherPosture(scope(), { clients, latestAttestation: () => null });
      expect(facts.workloadAccounts?.[0]).toMatchObject({
        accountId: "organization",
        error: { code: "ThrottlingException" },
      });
      expect(facts.samlProviders?.[0]).toMatchObject({ status: "error", error: { code: "Throttling" } });
    } finally {
      proxy.setRates(0, 0);
    }
  });
});
