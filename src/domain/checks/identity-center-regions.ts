// Judges a multi-Region Identity Center: a replica Region that is not ACTIVE does not serve sign-in when the primary is
// disrupted, and with no replica at all FM3 direct federation is the only way in during a primary-Region outage.
import { describeFactError } from "./fact-error.js";
import { createFinding, type Finding } from "./finding.js";
import type { IdentityCenterRegion, IdentityCenterRegionFacts } from "./posture-facts.js";

export function checkIdentityCenterRegions(facts: IdentityCenterRegionFacts): Finding[] {
  const subject = { resource: facts.instanceArn };
  const asked = facts.askedRegion ? ` in ${facts.askedRegion}` : "";
  if (facts.status === "unsupported") {
    return [
      createFinding(
        "AWS_READ_FAILED",
        `Cannot read the Regions of IAM Identity Center ${facts.instanceArn}: sso-admin${asked} does not know ` +
          `ListRegions (${describeFactError(facts.error)}), so breakglass cannot tell whether a replica Region would ` +
          `keep sign-in going; where multi-Region Identity Center does not exist, leave identity-center-regions out of checks.enabled.`,
        subject,
      ),
    ];
  }
  if (facts.status === "error") {
    return [
      createFinding(
        "AWS_READ_FAILED",
        `Cannot read the Regions of IAM Identity Center ${facts.instanceArn} (sso-admin${asked} ListRegions: ` +
          `${describeFactError(facts.error)})${/AccessDenied/.test(facts.error?.code ?? "") ? "; it needs sso:ListRegions" : ""}.`,
        subject,
      ),
    ];
  }
  const findings = facts.regions
    .filter((region) => region.status !== "ACTIVE")
    .map((region) =>
      createFinding("IDENTITY_CENTER_REGION_NOT_ACTIVE", describeInactive(facts.instanceArn, region), {
        resource: facts.instanceArn,
        // One alert per Region: the entity is the Region's name.
        entityID: region.name,
      }),
    );
  const replicas = facts.regions.filter((region) => !region.isPrimary);
  if (replicas.length === 0) {
    const primary = facts.regions.find((region) => region.isPrimary)?.name ?? facts.askedRegion ?? "its Region";
    findings.push(
      createFinding(
        "IDENTITY_CENTER_NO_REPLICA_REGION",
        `IAM Identity Center ${facts.instanceArn} runs only in ${primary}: if ${primary} is disrupted, nobody signs ` +
          `in through Identity Center, and FM3 direct federation is the only way in.`,
        subject,
      ),
    );
  }
  return findings;
}

function describeInactive(instanceArn: string, region: IdentityCenterRegion): string {
  const role = region.isPrimary ? "primary Region" : "replica Region";
  const since = region.addedAt ? ` (added ${region.addedAt.toISOString()})` : "";
  const status = region.status ?? "in an unknown state";
  const consequence = region.isPrimary
    ? "SAML configuration, SCIM provisioning and assignments live there"
    : "until it is ACTIVE it does not serve portal sign-in if the primary Region is disrupted";
  return `The ${role} ${region.name} of IAM Identity Center ${instanceArn} is ${status}, not ACTIVE${since}: ${consequence}.`;
}
