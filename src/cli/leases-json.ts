// The JSON of `breakglass leases list --json`: every active lease, and whether it has ended but is not yet removed.
import type { MemberLease } from "../domain/ports/member-lease-store.js";

export function leasesJson(leases: readonly MemberLease[], now: Date): unknown {
  return {
    leases: leases.map((lease) => ({
      login: lease.login,
      userId: lease.userId,
      groupId: lease.groupId,
      runId: lease.runId,
      addedAt: lease.addedAt,
      expiresAt: lease.expiresAt,
      // The text report's "ENDED, not yet removed": the reaper (or `leases reap`) has yet to take the member out.
      ended: Date.parse(lease.expiresAt) <= now.getTime(),
    })),
  };
}
