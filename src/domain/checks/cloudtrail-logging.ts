// Judges whether CloudTrail records the emergency account's activity in every Region, so emergency access leaves a trail in the log archive.
import { createFinding, type Finding } from "./finding.js";
import type { CloudTrailFacts, TrailFacts } from "./posture-facts.js";
import { describeFactError } from "./fact-error.js";

export function checkCloudTrail(facts: CloudTrailFacts, emergencyAccountId: string): Finding[] {
  const subject = { accountId: emergencyAccountId };
  const account = `the emergency account ${emergencyAccountId}`;
  if (facts.status === "error") {
    const error = describeFactError(facts.error);
    return [createFinding("AWS_READ_FAILED", `Could not read the CloudTrail trails of ${account}: ${error}.`, subject)];
  }
  // An emergency can be worked from any Region, so a trail that records only its home Region can miss it.
  if (facts.trails.some((trail) => trail.isLogging && (trail.isMultiRegionTrail || trail.isOrganizationTrail)))
    return [];

  if (facts.trails.length === 0)
    return [createFinding("CLOUDTRAIL_NOT_LOGGING", `No CloudTrail trail records ${account}.`, subject)];
  const regional = facts.trails.filter((trail) => trail.isLogging);
  const stopped = facts.trails.filter((trail) => !trail.isLogging);
  const reasons = [
    ...(regional.length > 0
      ? [
          `${describeTrails(regional)} ${regional.length === 1 ? "logs" : "log"} only ${regional.length === 1 ? "its home Region" : "their home Regions"}`,
        ]
      : []),
    ...(stopped.length > 0
      ? [`${describeTrails(stopped)} ${stopped.length === 1 ? "exists but is" : "exist but are"} not logging`]
      : []),
  ];
  return [
    createFinding(
      "CLOUDTRAIL_NOT_LOGGING",
      `No multi-Region or organization trail is logging in ${account}: ${reasons.join("; ")}.`,
      subject,
    ),
  ];
}

function describeTrails(trails: readonly TrailFacts[]): string {
  const names = trails.map((trail) => `${trail.name} (${trail.homeRegion})`);
  const list =
    names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1] ?? ""}`;
  return `${trails.length === 1 ? "trail" : "trails"} ${list}`;
}
