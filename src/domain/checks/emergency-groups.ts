// FM3's emergency groups at rest: each must exist, be readable, hold nobody outside an incident's leases, and be a group
// whose members the IdP's API can change, so that the first time anyone learns otherwise is not during an outage.
import { createFinding, type Finding } from "./finding.js";

/** What the IdP's group API said of one group named in idp.directory.emergencyGroups. */
export type EmergencyGroupFacts =
  | {
      readonly name: string;
      readonly status: "found";
      readonly id: string;
      readonly displayName: string;
      /** Why the API cannot change its members (its type), when it cannot. */
      readonly unmodifiable?: string;
      /** Members no active breakglass lease accounts for: login (id). */
      readonly unleasedMembers: readonly string[];
      /** Members an active lease accounts for (an incident under way). */
      readonly leasedMembers: number;
    }
  | { readonly name: string; readonly status: "missing" }
  | { readonly name: string; readonly status: "error"; readonly error: string };

const SHOWN_MEMBERS = 5;

export function checkEmergencyGroups(groups: readonly EmergencyGroupFacts[]): Finding[] {
  return groups.flatMap((group): Finding[] => {
    if (group.status === "missing")
      return [
        createFinding(
          "IDP_GROUP_UNREADABLE",
          `The emergency group ${group.name} (idp.directory.emergencyGroups) does not exist in the IdP, or breakglass's token cannot see it.`,
          { resource: group.name },
        ),
      ];
    if (group.status === "error")
      return [
        createFinding("IDP_GROUP_UNREADABLE", `Could not read the emergency group ${group.name}: ${group.error}`, {
          resource: group.name,
        }),
      ];
    const named = `${group.displayName} (${group.id})`;
    const findings: Finding[] = [];
    if (group.unmodifiable !== undefined)
      findings.push(
        createFinding(
          "IDP_GROUP_UNMODIFIABLE",
          `The emergency group ${named} cannot be changed through the IdP's API: ${group.unmodifiable}.`,
          { resource: group.name },
        ),
      );
    const count = group.unleasedMembers.length;
    if (count > 0) {
      const shown = group.unleasedMembers.slice(0, SHOWN_MEMBERS).join(", ");
      const more = count > SHOWN_MEMBERS ? ` and ${count - SHOWN_MEMBERS} more` : "";
      const leased = group.leasedMembers > 0 ? ` (besides ${group.leasedMembers} on an active breakglass lease)` : "";
      findings.push(
        createFinding(
          "IDP_GROUP_NOT_EMPTY",
          `The emergency group ${named} has ${count} member${count === 1 ? "" : "s"} at rest that no breakglass lease accounts for${leased}: ${shown}${more}.`,
          { resource: group.name },
        ),
      );
    }
    return findings;
  });
}
