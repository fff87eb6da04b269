// Multi-Region Identity Center readiness from sso-admin ListRegions, against the loopback sso-admin (moto lacks the
// operation): a replica still ADDING, an ACTIVE one, a single-Region instance, and the answers of a principal without
// sso:ListRegions and of an endpoint that predates the operation.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AwsClients, DEFAULT_AWS_SETTINGS } from "../../src/adapters/aws/aws-clients.js";
import { readIdentityCenterRegions } from "../../src/adapters/aws/identity-center-reader.js";
import { checkIdentityCenterRegions } from "../../src/domain/checks/identity-center-regions.js";
import { startSsoAdmin, type RegionEntry, type SsoAdminServer } from "../support/runbook-sso-admin.js";

const INSTANCE = "arn:aws:sso:::instance/ssoins-7223a2f5d3b4c6e8";
const PRIMARY: RegionEntry = { RegionName: "eu-west-1", Status: "ACTIVE", AddedDate: 1.7e9, IsPrimaryRegion: true };
const ADDED = new Date("2026-12-01T09:00:00Z");
const replica = (status: RegionEntry["Status"]): RegionEntry => ({
  RegionName: "eu-central-1",
  Status: status,
  AddedDate: ADDED.getTime() / 1000,
  IsPrimaryRegion: false,
});

let ssoAdmin: SsoAdminServer;

beforeAll(async () => {
  ssoAdmin = await startSsoAdmin(INSTANCE, "ACTIVE");
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SSO_ADMIN: ssoAdmin.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
  });
});

afterAll(() => ssoAdmin.close());

beforeEach(() => {
  ssoAdmin.regionsAnswer = "regions";
  ssoAdmin.targets.length = 0;
});

async function judge() {
  const clients = new AwsClients({ ...DEFAULT_AWS_SETTINGS, maxAttempts: 1 });
  const facts = await readIdentityCenterRegions(clients, { instanceArn: INSTANCE, region: "eu-west-1" });
  return { facts, findings: checkIdentityCenterRegions(facts) };
}

describe("multi-Region Identity Center readiness", () => {
  it("reports a replica Region still being added: it will not serve sign-in if the primary is disrupted", async () => {
    ssoAdmin.regions = [PRIMARY, replica("ADDING")];
    const { facts, findings } = await judge();
    // One page per Region: the reader followed NextToken.
    expect(ssoAdmin.targets).toEqual(["SWBExternalService.ListRegions", "SWBExternalService.ListRegions"]);
    expect(facts.regions.map((region) => [region.name, region.status, region.isPrimary])).toEqual([
      ["eu-west-1", "ACTIVE", true],
      ["eu-central-1", "ADDING", false],
    ]);
    expect(findings.map((finding) => [finding.code, finding.severity, finding.entityID, finding.message])).toEqual([
      [
        "IDENTITY_CENTER_REGION_NOT_ACTIVE",
        "high",
        "eu-central-1",
        `The replica Region eu-central-1 of IAM Identity Center ${INSTANCE} is ADDING, not ACTIVE ` +
          `(added ${ADDED.toISOString()}): until it is ACTIVE it does not serve portal sign-in if the primary Region is disrupted.`,
      ],
    ]);
  });

  it("passes once the replica is ACTIVE", async () => {
    ssoAdmin.regions = [PRIMARY, replica("ACTIVE")];
    expect((await judge()).findings).toEqual([]);
  });

  it("says, as information, that a single-Region instance leaves FM3 as the only way in during a Region outage", async () => {
    ssoAdmin.regions = [PRIMARY];
    expect((await judge()).findings.map((finding) => [finding.code, finding.severity, finding.message])).toEqual([
      [
        "IDENTITY_CENTER_NO_REPLICA_REGION",
        "info",
        `IAM Identity Center ${INSTANCE} runs only in eu-west-1: if eu-west-1 is disrupted, nobody signs in through ` +
          "Identity Center, and FM3 direct federation is the only way in.",
      ],
    ]);
  });

  it("says it cannot read the Regions, and which permission is missing, when sso-admin denies ListRegions", async () => {
    ssoAdmin.regionsAnswer = "access-denied";
    const { facts, findings } = await judge();
    expect(facts.status).toBe("error");
    expect(findings.map((finding) => [finding.code, finding.message])).toEqual([
      [
        "AWS_READ_FAILED",
        `Cannot read the Regions of IAM Identity Center ${INSTANCE} (sso-admin in eu-west-1 ListRegions: ` +
          "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/BreakglassRead/check is not " +
          "authorized to perform: sso:ListRegions); it needs sso:ListRegions.",
      ],
    ]);
  });

  it("says it cannot tell, rather than failing, when the endpoint does not know ListRegions", async () => {
    ssoAdmin.regionsAnswer = "unknown-operation";
    const { facts, findings } = await judge();
    expect(facts.status).toBe("unsupported");
    expect(findings).toHaveLength(1);
    expect(findings[0]?.code).toBe("AWS_READ_FAILED");
    expect(findings[0]?.message).toMatch(
      new RegExp(
        `^Cannot read the Regions of IAM Identity Center ${INSTANCE}: sso-admin in eu-west-1 does not know ` +
          "ListRegions \\(UnknownOperationException: .*\\), so breakglass cannot tell whether a replica Region would " +
          "keep sign-in going; where multi-Region Identity Center does not exist, leave identity-center-regions out " +
          "of checks.enabled.$",
      ),
    );
  });
});
