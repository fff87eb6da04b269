// Reads the facts of the emergency-groups check through the GroupDirectory port: each configured group's type and who is
// in it at rest. A group that cannot be read is a fact too (it becomes a finding), never an abort of the whole check.
import { describeError } from "../../domain/errors.js";
import type { EmergencyGroupFacts } from "../../domain/checks/emergency-groups.js";
import type { GroupDirectory } from "../../domain/ports/group-directory.js";

/** Whether breakglass holds an active lease for this member of this group (an incident under way). */
export type LeaseLookup = (groupId: string, userId: string) => boolean;

export async function gatherEmergencyGroups(
  directory: GroupDirectory,
  names: readonly string[],
  leased: LeaseLookup,
): Promise<EmergencyGroupFacts[]> {
  const facts: EmergencyGroupFacts[] = [];
  for (const name of names) {
    try {
      const group = await directory.findGroup(name);
      if (group === null) {
        facts.push({ name, status: "missing" });
        continue;
      }
      const members = await directory.listMembers(group.id);
      const unleased = members.filter((member) => !leased(group.id, member.id));
      facts.push({
        name,
        status: "found",
        id: group.id,
        displayName: group.displayName,
        ...(group.unmodifiable === undefined ? {} : { unmodifiable: group.unmodifiable }),
        unleasedMembers: unleased.map((member) => `${member.login} (${member.id})`),
        leasedMembers: members.length - unleased.length,
      });
    } catch (error) {
      facts.push({ name, status: "error", error: describeError(error) });
    }
  }
  return facts;
}
