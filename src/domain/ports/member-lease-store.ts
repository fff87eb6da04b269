// The port for leases on emergency group memberships: at most one active lease per (group, user), ended by the reaper or a revoke.

export interface MemberLease {
  readonly id: number;
  readonly runId: string | null;
  readonly groupId: string;
  readonly userId: string;
  readonly login: string;
  /** ISO-8601 instants, as stored. */
  readonly addedAt: string;
  readonly expiresAt: string;
  readonly removedAt: string | null;
}

export interface NewMemberLease {
  readonly runId: string | null;
  readonly groupId: string;
  readonly userId: string;
  readonly login: string;
  readonly addedAt: Date;
  readonly expiresAt: Date;
}

/** What the membership actions and the reaper need from the store: at most one active lease per (group, user). */
export interface MemberLeaseStore {
  /** Records the lease unless the (group, user) already has an active one; true when recorded. */
  recordLease(lease: NewMemberLease): boolean;
  activeLease(groupId: string, userId: string): MemberLease | null;
  /** Every active lease, the soonest to expire first. */
  activeLeases(): MemberLease[];
  /** Active leases that expire at or before `now`, soonest first. */
  expiredLeases(now: Date): MemberLease[];
  /** Marks the (group, user)'s active lease removed; true when there was one. */
  endLease(groupId: string, userId: string, removedAt: Date): boolean;
}
