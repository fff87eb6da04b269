// Benchmark: the organization sweep of `breakglass check` over N workload accounts in the AWS emulator, calm and with 10% of calls throttled.
import { AwsClients, DEFAULT_AWS_SETTINGS } from "../src/adapters/aws/aws-clients.js";
import { gatherPosture, type PostureScope } from "../src/adapters/aws/gather-posture.js";
import { buildOrganization, CROSS_ACCOUNT_ROLE, READ_ROLE, REGION } from "../test/support/aws-organization.js";
import { makeCertificate } from "../test/support/certificates.js";
import { startFaultProxy } from "../test/support/fault-proxy.js";
import { entityXml } from "../test/support/metadata-builder.js";
import { startMoto } from "../test/support/moto.js";

export async function benchOrgSweep(accounts: number): Promise<void> {
  const moto = await startMoto();
  const proxy = await startFaultProxy(moto.endpoint, { seed: 1, throttleRate: 0, serverErrorRate: 0 });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: REGION,
  });
  try {
    const started = performance.now();
    const metadata = entityXml({ keys: [{ base64: makeCertificate().base64, use: "signing" }] });
    const organization = await buildOrganization(moto.endpoint, { workloadAccounts: accounts, idpMetadata: metadata });
    console.log(
      `  organization of ${accounts} workload accounts built in the emulator in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const scope: PostureScope = {
      checks: new Set(["cross-account-roles", "scp-protection"]),
      partition: "aws",
      emergencyAccount: {
        accountId: organization.emergencyAccountId,
        samlProviders: [],
        emergencyRoles: [organization.emergencyRoleArn],
        emergencyUsers: [],
      },
      organization: { crossAccountRoleName: CROSS_ACCOUNT_ROLE, readRoleName: READ_ROLE, accounts: "all" },
      concurrency: 8,
    };
    for (const throttleRate of [0, 0.1]) {
      proxy.setRates(throttleRate, 0);
      const before = proxy.stats();
      const sweepStarted = performance.now();
      const facts = await gatherPosture(scope, {
        clients: new AwsClients({ ...DEFAULT_AWS_SETTINGS, region: REGION }),
        latestAttestation: () => null,
      });
      const seconds = (performance.now() - sweepStarted) / 1000;
      const after = proxy.stats();
      const calls = after.forwarded - before.forwarded + (after.throttled - before.throttled);
      const swept = facts.workloadAccounts ?? [];
      const failed = swept.filter(
        (account) => account.error || account.scpError || account.crossAccountRole?.status !== "found",
      ).length;
      console.log(
        `  ${throttleRate === 0 ? "no faults       " : "10% throttled   "} ${swept.length} accounts ` +
          `in ${seconds.toFixed(1)} s: ${(swept.length / seconds).toFixed(1)} ` +
          `accounts/s, ${(calls / swept.length).toFixed(2)} AWS calls per account ` +
          `(${after.throttled - before.throttled} throttled answers), ${failed} accounts unread`,
      );
    }
  } finally {
    await proxy.stop();
    await moto.stop();
  }
}
