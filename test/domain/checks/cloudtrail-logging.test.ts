// The CloudTrail check on the trails of the emergency account: whether emergency access would leave a record, and which trail is at fault.
import { describe, expect, it } from "vitest";
import { checkCloudTrail } from "../../../src/domain/checks/cloudtrail-logging.js";
import type { CloudTrailFacts, TrailFacts } from "../../../src/domain/checks/posture-facts.js";

const emergencyAccountId = "111111111111";

function trail(name: string, changes: Partial<TrailFacts> = {}): TrailFacts {
  return {
    name,
    arn: `arn:aws:cloudtrail:${changes.homeRegion ?? "us-east-1"}:${emergencyAccountId}:trail/${name}`,
    homeRegion: "us-east-1",
    isMultiRegionTrail: true,
    isOrganizationTrail: false,
    isLogging: true,
    ...changes,
  };
}

const found = (...trails: TrailFacts[]): CloudTrailFacts => ({ status: "found", trails });
const messagesFor = (facts: CloudTrailFacts) =>
  checkCloudTrail(facts, emergencyAccountId).map((finding) => [finding.code, finding.message]);
const notLogging = (detail: string) => [
  "CLOUDTRAIL_NOT_LOGGING",
  `No multi-Region or organization trail is logging in the emergency account 111111111111: ${detail}.`,
];

describe("trails that record the emergency account", () => {
  it("passes a logging multi-Region trail", () => {
    expect(checkCloudTrail(found(trail("emergency-audit")), emergencyAccountId)).toEqual([]);
  });

  it("passes a logging organization trail, as Control Tower sets up", () => {
    expect(
      checkCloudTrail(
        found(trail("aws-controltower-BaselineCloudTrail", { isOrganizationTrail: true, isMultiRegionTrail: false })),
        emergencyAccountId,
      ),
    ).toEqual([]);
  });

  it("passes when one good trail sits beside stopped ones", () => {
    expect(
      checkCloudTrail(found(trail("old", { isLogging: false }), trail("emergency-audit")), emergencyAccountId),
    ).toEqual([]);
  });
});

describe("trails that would miss emergency access", () => {
  it("reports an account without any trail", () => {
    const findings = checkCloudTrail(found(), emergencyAccountId);
    expect(findings).toEqual([
      expect.objectContaining({
        code: "CLOUDTRAIL_NOT_LOGGING",
        severity: "high",
        accountId: emergencyAccountId,
        message: "No CloudTrail trail records the emergency account 111111111111.",
      }),
    ]);
  });

  it("reports a logging trail that covers only its home Region", () => {
    expect(messagesFor(found(trail("regional", { isMultiRegionTrail: false, homeRegion: "eu-west-1" })))).toEqual([
      notLogging("trail regional (eu-west-1) logs only its home Region"),
    ]);
  });

  it("names the trails that exist but are not logging", () => {
    expect(
      messagesFor(
        found(
          trail("emergency-audit", { isLogging: false }),
          trail("org", { isOrganizationTrail: true, isLogging: false }),
        ),
      ),
    ).toEqual([notLogging("trails emergency-audit (us-east-1) and org (us-east-1) exist but are not logging")]);
  });

  it("says both what is regional and what is stopped", () => {
    const facts = found(
      trail("regional-a", { isMultiRegionTrail: false }),
      trail("regional-b", { isMultiRegionTrail: false, homeRegion: "eu-west-1" }),
      trail("emergency-audit", { isLogging: false }),
    );
    expect(messagesFor(facts)).toEqual([
      notLogging(
        "trails regional-a (us-east-1) and regional-b (eu-west-1) log only their home Regions; trail emergency-audit (us-east-1) exists but is not logging",
      ),
    ]);
  });
});

describe("trails that cannot be read", () => {
  it("reports the CloudTrail error instead of a missing trail", () => {
    const facts: CloudTrailFacts = {
      status: "error",
      error: { code: "AccessDeniedException", message: "User is not authorized to perform: cloudtrail:DescribeTrails" },
      trails: [],
    };
    expect(messagesFor(facts)).toEqual([
      [
        "AWS_READ_FAILED",
        "Could not read the CloudTrail trails of the emergency account 111111111111: AccessDeniedException: " +
          "User is not authorized to perform: cloudtrail:DescribeTrails.",
      ],
    ]);
  });
});
