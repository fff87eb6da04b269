// idp.add-group-members and idp.remove-group-members over the GroupDirectory port, each added membership on a lease, and the reaper that ends expired leases.
import type { AuditLog } from "../../domain/audit/audit-log.js";
import type { Clock } from "../../domain/shared/clock.js";
import { BreakglassError, describeError } from "../../domain/errors.js";
import type { DirectoryUser, GroupDirectory } from "../../domain/ports/group-directory.js";
import type { MemberLease, MemberLeaseStore } from "../../domain/ports/member-lease-store.js";
import type {
  ActionExecutor,
  ActionParameters,
  ActionPlan,
  PlannedChange,
  Verification,
} from "../../domain/runbooks/engine-ports.js";
import { EVERYONE, parseDuration, type ActionName } from "../../domain/runbooks/runbook-schema.js";
import { requiredList, requiredText } from "./action-parameters.js";

export interface GroupMembershipOptions {
  readonly directory: GroupDirectory;
  readonly store: MemberLeaseStore;
}

const ADD = "idp.add-group-members";
const REMOVE = "idp.remove-group-members";

export function addGroupMembersExecutor(options: GroupMembershipOptions): ActionExecutor {
  const { directory, store } = options;

  /** Per group, the requested users who are not members yet and those without an active lease. */
  const missing = async (parameters: ActionParameters) => {
    const groups = requiredList(ADD, parameters, "groups");
    const users = await resolveUsers(directory, ADD, requiredList(ADD, parameters, "members"));
    const gaps = [];
    for (const groupId of groups) {
      const members = memberIds(await directory.listMembers(groupId));
      gaps.push({
        groupId,
        notMembers: users.filter((user) => !members.has(user.id)),
        unleased: users.filter((user) => store.activeLease(groupId, user.id) === null),
      });
    }
    return { users, gaps };
  };

  return {
    async plan(parameters, context): Promise<ActionPlan> {
      const ttl = leaseDuration(parameters);
      const { users, gaps } = await missing(parameters);
      const until = new Date(context.now.getTime() + ttl).toISOString();
      // The length first: planned before an approval, the lease starts when the step runs, not when it was planned.
      const leased = `member on a ${requiredText(ADD, parameters, "ttl")} lease, until ${until}`;
      const changes: PlannedChange[] = [];
      for (const gap of gaps) {
        for (const user of gap.notMembers) {
          changes.push({
            target: `group ${gap.groupId}: ${user.login}`,
            before: "not a member",
            after: leased,
            membership: { group: gap.groupId, member: user.login },
          });
        }
        for (const user of gap.unleased.filter((user) => !gap.notMembers.includes(user))) {
          changes.push({
            target: `group ${gap.groupId}: ${user.login}`,
            before: "member without a lease",
            after: leased,
          });
        }
      }
      const disabled = users.filter((user) => !user.active);
      const warning =
        disabled.length === 0
          ? ""
          : ` (disabled in the IdP, so unable to sign in: ${disabled.map((user) => user.login).join(", ")})`;
      const names = users.map((user) => user.login).join(", ");
      const groupNames = gaps.map((gap) => gap.groupId).join(", ");
      if (changes.length === 0)
        return { summary: `${names} already in ${groupNames}, each on a lease${warning}`, changes, alreadyDone: true };
      return { summary: `add ${names} to ${groupNames} until ${until}${warning}`, changes, alreadyDone: false };
    },

    async apply(_plan, parameters, context) {
      const ttl = leaseDuration(parameters);
      // Planned again, not taken from the plan: a resumed run must not add anyone twice.
      const { gaps } = await missing(parameters);
      const expiresAt = new Date(context.now.getTime() + ttl);
      for (const gap of gaps) {
        for (const user of gap.notMembers) await directory.addMember(gap.groupId, user.id);
        for (const user of gap.unleased)
          store.recordLease({
            runId: context.runId,
            groupId: gap.groupId,
            userId: user.id,
            login: user.login,
            addedAt: context.now,
            expiresAt,
          });
      }
      return {};
    },

    async verify(parameters): Promise<Verification> {
      const groups = requiredList(ADD, parameters, "groups");
      const users = await resolveUsers(directory, ADD, requiredList(ADD, parameters, "members"));
      const problems: string[] = [];
      for (const groupId of groups) {
        const members = memberIds(await directory.listMembers(groupId));
        const absent = users.filter((user) => !members.has(user.id));
        if (absent.length > 0)
          problems.push(`group ${groupId} does not list ${absent.map((user) => user.login).join(", ")}`);
        const unleased = users.filter((user) => store.activeLease(groupId, user.id) === null);
        if (unleased.length > 0)
          problems.push(`group ${groupId} has no active lease for ${unleased.map((user) => user.login).join(", ")}`);
      }
      if (problems.length > 0) return { ok: false, detail: problems.join("; ") };
      return {
        ok: true,
        detail: `${groups.join(", ")} list ${users.map((user) => user.login).join(", ")}, each on an active lease`,
      };
    },
  };
}

export function removeGroupMembersExecutor(options: GroupMembershipOptions): ActionExecutor {
  const { directory, store } = options;

  /** Per group, who of the named (or everyone) is still a member, and which active leases are still to end. */
  const remaining = async (parameters: ActionParameters) => {
    const groups = requiredList(REMOVE, parameters, "groups");
    const named = await namedMembers(directory, parameters);
    const leases = store.activeLeases();
    const rest = [];
    for (const groupId of groups) {
      const members = await directory.listMembers(groupId);
      const wanted = named === null ? null : memberIds(named);
      rest.push({
        groupId,
        members: members.filter((member) => wanted === null || wanted.has(member.id)),
        leases: leases.filter((lease) => lease.groupId === groupId && (wanted === null || wanted.has(lease.userId))),
      });
    }
    return { named, rest };
  };

  return {
    async plan(parameters): Promise<ActionPlan> {
      const { named, rest } = await remaining(parameters);
      const changes: PlannedChange[] = [];
      for (const group of rest) {
        for (const member of group.members) {
          // The lease it had, so that a rollback adds the member back for as long (a member without one is put back by hand).
          const lease = group.leases.find((lease) => lease.userId === member.id);
          const leaseMilliseconds =
            lease === undefined ? undefined : Date.parse(lease.expiresAt) - Date.parse(lease.addedAt);
          const membership = {
            group: group.groupId,
            member: member.login,
            ...(leaseMilliseconds === undefined || leaseMilliseconds <= 0 ? {} : { leaseMilliseconds }),
          };
          changes.push({
            target: `group ${group.groupId}: ${member.login}`,
            before: "member",
            after: "not a member",
            membership,
          });
        }
        const listed = memberIds(group.members);
        for (const lease of group.leases.filter((lease) => !listed.has(lease.userId))) {
          changes.push({
            target: `group ${group.groupId}: ${lease.login}`,
            before: `not a member, lease until ${lease.expiresAt} still active`,
            after: "lease ended",
          });
        }
      }
      const who = named === null ? "everyone" : named.map((user) => user.login).join(", ");
      const groupNames = rest.map((group) => group.groupId).join(", ");
      if (changes.length === 0)
        return {
          summary: named === null ? `${groupNames} already empty` : `${who} already out of ${groupNames}`,
          changes,
          alreadyDone: true,
        };
      return { summary: `remove ${who} from ${groupNames}`, changes, alreadyDone: false };
    },

    async apply(_plan, parameters, context) {
      const { rest } = await remaining(parameters);
      for (const group of rest) {
        for (const member of group.members) await directory.removeMember(group.groupId, member.id);
        for (const member of group.members) store.endLease(group.groupId, member.id, context.now);
        for (const lease of group.leases) store.endLease(group.groupId, lease.userId, context.now);
      }
      return {};
    },

    async verify(parameters): Promise<Verification> {
      const groups = requiredList(REMOVE, parameters, "groups");
      const named = await namedMembers(directory, parameters);
      const problems: string[] = [];
      for (const groupId of groups) {
        const members = await directory.listMembers(groupId);
        const wanted = named === null ? null : memberIds(named);
        const still = members.filter((member) => wanted === null || wanted.has(member.id));
        if (still.length > 0)
          problems.push(`group ${groupId} still lists ${still.map((member) => member.login).join(", ")}`);
      }
      if (problems.length > 0) return { ok: false, detail: problems.join("; ") };
      return {
        ok: true,
        detail:
          named === null
            ? `${groups.join(", ")} are empty`
            : `${groups.join(", ")} no longer list ${named.map((user) => user.login).join(", ")}`,
      };
    },
  };
}

export interface ReapOptions {
  readonly store: MemberLeaseStore;
  readonly directory: GroupDirectory;
  readonly clock: Clock;
  readonly audit: AuditLog;
}

export interface ReapResult {
  /** Leases whose membership was removed, read back as gone, audited and marked removed. */
  readonly reaped: readonly MemberLease[];
  /** Leases left active because a step failed; the next reap tries them again. */
  readonly failed: readonly { readonly lease: MemberLease; readonly error: string }[];
}

/**
 * Ends every expired lease: removes the membership, reads the group back, audits `lease.reaped`, then marks the lease
 * removed. A lease is marked only after the audit record, so a failure anywhere leaves it for the next reap, and
 * removing again is harmless.
 */
export async function reapExpiredLeases(options: ReapOptions): Promise<ReapResult> {
  const { store, directory, clock, audit } = options;
  const reaped: MemberLease[] = [];
  const failed: { lease: MemberLease; error: string }[] = [];
  for (const lease of store.expiredLeases(clock.now())) {
    try {
      await directory.removeMember(lease.groupId, lease.userId);
      const members = memberIds(await directory.listMembers(lease.groupId));
      if (members.has(lease.userId))
        throw new BreakglassError(
          "IDP_FAILED",
          `group ${lease.groupId}`,
          `still lists ${lease.login} (${lease.userId}) after removing them`,
        );
      const now = clock.now();
      audit.record({
        actor: "breakglass",
        action: "lease.reaped",
        runId: lease.runId,
        subject: `group ${lease.groupId}`,
        detail: { userId: lease.userId, login: lease.login, addedAt: lease.addedAt, expiresAt: lease.expiresAt },
      });
      store.endLease(lease.groupId, lease.userId, now);
      reaped.push(lease);
    } catch (error) {
      failed.push({ lease, error: describeError(error) });
    }
  }
  return { reaped, failed };
}

/**
 * Every named responder as the IdP knows them. All are looked up before anything changes, and one unknown name fails
 * the whole step: adding the wrong person (or a group by mistake) to an emergency group is the failure that matters most.
 */
async function resolveUsers(
  directory: GroupDirectory,
  action: ActionName,
  names: readonly string[],
): Promise<DirectoryUser[]> {
  const found = new Map<string, DirectoryUser>();
  const unknown: string[] = [];
  for (const name of names) {
    const user = await directory.findUser(name);
    if (user === null) unknown.push(name);
    else found.set(user.id, user);
  }
  if (unknown.length > 0) {
    throw new BreakglassError(
      "IDP_NOT_FOUND",
      `${action} members`,
      `no user in the IdP (${directory.kind}) has the login or email ${unknown.join(", ")}; nothing was changed`,
      {
        hint: "check the spelling, or use the responder's exact login or email address in the IdP",
      },
    );
  }
  return [...found.values()];
}

/** The named members of a removal, or null for `members: everyone`. */
async function namedMembers(directory: GroupDirectory, parameters: ActionParameters): Promise<DirectoryUser[] | null> {
  if (parameters["members"] === EVERYONE) return null;
  return resolveUsers(directory, REMOVE, requiredList(REMOVE, parameters, "members"));
}

function leaseDuration(parameters: ActionParameters): number {
  const text = requiredText(ADD, parameters, "ttl");
  const milliseconds = parseDuration(text);
  if (milliseconds === undefined)
    throw new BreakglassError(
      "USAGE",
      `${ADD} parameter "ttl"`,
      `expected a duration such as 30m, 4h or 1h30m, got ${JSON.stringify(text)}`,
    );
  return milliseconds;
}

function memberIds(users: readonly DirectoryUser[]): Set<string> {
  return new Set(users.map((user) => user.id));
}
