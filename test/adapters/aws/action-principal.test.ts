// The principal runbook actions apply as, against moto: the configured role assumed into the emergency account, or the
// default chain refused when it is in another account, naming both accounts and the config key.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionPrincipal, policySourceOf } from "../../../src/adapters/aws/action-principal.js";
import { AwsClients, DEFAULT_AWS_SETTINGS } from "../../../src/adapters/aws/aws-clients.js";
import { asPrincipal, iamUserPrincipal, type TestPrincipal } from "../../support/aws-principals.js";
import { MOTO_DEFAULT_ACCOUNT_ID, startMoto, type MotoServer } from "../../support/moto.js";
import { quickAdaptiveRetries } from "../../support/quick-retries.js";

const EMERGENCY = "210987654321";
let moto: MotoServer;
let alice: TestPrincipal;
const clients = () =>
  new AwsClients({
    ...DEFAULT_AWS_SETTINGS,
    region: "us-east-1",
    maxAttempts: 2,
    retryStrategy: () => quickAdaptiveRetries(2),
  });

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: "us-east-1" });
  alice = await iamUserPrincipal(moto.endpoint, "alice");
});

afterAll(async () => {
  await moto.stop();
});

describe("the acting principal", () => {
  it("is the configured role, assumed into the emergency account, named with its account", async () => {
    const roleArn = `arn:aws:iam::${EMERGENCY}:role/breakglass-action`;
    const principal = await asPrincipal(alice, () =>
      actionPrincipal(clients(), { emergencyAccountId: EMERGENCY, actionRoleArn: roleArn })(),
    );
    expect(principal).toMatchObject({
      callerArn: `arn:aws:sts::${EMERGENCY}:assumed-role/breakglass-action/breakglass-runbook-action`,
      policySourceArn: roleArn,
      accountId: EMERGENCY,
      description: `${roleArn} in account ${EMERGENCY}`,
    });
  });

  it("is the default chain when it is in the emergency account", async () => {
    const principal = await asPrincipal(alice, () =>
      actionPrincipal(clients(), { emergencyAccountId: MOTO_DEFAULT_ACCOUNT_ID, actionRoleArn: undefined })(),
    );
    expect(principal.description).toBe(`${alice.arn} in account ${MOTO_DEFAULT_ACCOUNT_ID}`);
    expect(principal.credentials).toBeUndefined();
  });

  it("refuses the default chain of another account, naming both accounts and the config key", async () => {
    await expect(
      asPrincipal(alice, () =>
        actionPrincipal(clients(), { emergencyAccountId: EMERGENCY, actionRoleArn: undefined })(),
      ),
    ).rejects.toThrow(
      `the default AWS credentials: are ${alice.arn} in account ${MOTO_DEFAULT_ACCOUNT_ID}, not in the emergency ` +
        `account ${EMERGENCY} (aws.emergencyAccount.accountId); set aws.emergencyAccount.actionRoleArn to a role ` +
        "there for breakglass to assume, or use that account's credentials",
    );
  });

  it("says when there are no credentials at all", async () => {
    await expect(
      asPrincipal("none", () =>
        actionPrincipal(clients(), { emergencyAccountId: EMERGENCY, actionRoleArn: undefined })(),
      ),
    ).rejects.toThrow(/^the default AWS credentials: cannot tell whose they are \(sts:GetCallerIdentity\): /);
  });
});

describe("whose policies the simulator judges", () => {
  it.each([
    ["an IAM user", "arn:aws:iam::111122223333:user/ops/alice", "arn:aws:iam::111122223333:user/ops/alice"],
    [
      "an assumed-role session",
      "arn:aws:sts::111122223333:assumed-role/EmergencyAdmin/alice",
      "arn:aws:iam::111122223333:role/EmergencyAdmin",
    ],
    ["the root user", "arn:aws:iam::111122223333:root", undefined],
    ["a federated user", "arn:aws:sts::111122223333:federated-user/alice", undefined],
  ])("%s", (_name, callerArn, expected) => {
    expect(policySourceOf(callerArn)).toBe(expected);
  });
});
