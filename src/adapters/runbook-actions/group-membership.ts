// idp.add-group-members and idp.remove-group-members over the GroupDirectory port (groups named by display name or id,
// people by login or email), each added membership on a lease; their preflight; and the reaper that ends expired leases.
import { setTimeout as wait } from "node:timers/promises";
import type { AuditLog } from "../../domain/audit/audit-log.js";
import type { Clock } from "../../domain/shared/clock.js";
import { BreakglassError, describeError } from "../../domain/errors.js";
import {
  describeGroup,
  describePerson,
  type DirectoryGroup,
  type DirectoryUser,
  type GroupDirectory,
} from "../../domain/ports/group-directory.js";
import type { MemberLease, MemberLeaseStore } from "../../domain/ports/member-lease-store.js";
import type {
  ActionExecutor,
  ActionParameters,
  ActionPlan,
  ActionPreflight,
  PlannedChange,
  Verification,
} from "../../domain/runbooks/engine-ports.js";
import { EVERYONE, parseDuration, type ActionName } from "../../domain/runbooks/runbook-schema.js";
import { optionalList, requiredList, requiredText } from "./action-parameters.js";

export interface GroupMembershipOptions {
  readonly directory: GroupDirectory;
  readonly store: MemberLeaseStore;
  /** Waits between read-backs (see READ_BACK_WAITS_MS); injected so that tests do not sleep. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Graph (and other directories) may not reflect a successful write in a read made right after it. Verify and the
 * reaper read the group back, and when it does not yet show the change read again after each of these waits: at most
 * 5 reads over 10 s before a mismatch is reported. A change that really failed is reported 10 s later, not missed.
 */
export const READ_BACK_WAITS_MS = [1_000, 2_000, 3_000, 4_000] as const;

/** The group's members, read again (after READ_BACK_WAITS_MS) while `settled` says the write is not visible yet. */
async function readBack(
  directory: GroupDirectory,
  groupId: string,
  settled: (members: readonly DirectoryUser[]) => boolean,
  sleep: (ms: number) => Promise<void> = (ms) => wait(ms),
): Promise<DirectoryUser[]> {
  let members = await directory.listMembers(groupId);
  for (const delay of READ_BACK_WAITS_MS) {
    if (settled(members)) break;
    await sleep(delay);
    members = await directory.listMembers(groupId);
  }
  return members;
}

const ADD = "idp.add-group-members";
const REMOVE = "idp.remove-group-members";

export function addGroupMembersExecutor(options: GroupMembershipOptions): ActionExecutor {
  const { directory, store } = options;

  /** Per group, the requested users who are not members yet and those without an active lease. */
  const missing = async (parameters: ActionParameters) => {
    const groups = await resolveGroups(directory, ADD, requiredList(ADD, parameters, "groups"));
    const users = await resolveUsers(directory, ADD, requiredList(ADD, parameters, "members"));
    const gaps = [];
    for (const group of groups) {
      const members = memberIds(await directory.listMembers(group.id));
      gaps.push({
        group,
        notMembers: users.filter((user) => !members.has(user.id)),
        unleased: users.filter((user) => store.activeLease(group.id, user.id) === null),
      });
    }
    return { users, gaps };
  };

  return {
    preflight: (parameters) => preflightMembership(directory, ADD, parameters),

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
            target: `group ${describeGroup(gap.group)}: ${user.login}`,
            before: "not a member",
            after: leased,
            membership: { group: gap.group.id, groupName: gap.group.displayName, member: user.login },
          });
        }
        for (const user of gap.unleased.filter((user) => !gap.notMembers.includes(user))) {
          changes.push({
            target: `group ${describeGroup(gap.group)}: ${user.login}`,
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
      const names = users.map(describePerson).join(", ");
      const groupNames = gaps.map((gap) => describeGroup(gap.group)).join(", ");
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
        for (const user of gap.notMembers) await directory.addMember(gap.group.id, user.id);
        for (const user of gap.unleased)
          store.recordLease({
            runId: context.runId,
            groupId: gap.group.id,
            userId: user.id,
            login: user.login,
            addedAt: context.now,
            expiresAt,
          });
      }
      return {};
    },

    async verify(parameters): Promise<Verification> {
      const groups = await resolveGroups(directory, ADD, requiredList(ADD, parameters, "groups"));
      const users = await resolveUsers(directory, ADD, requiredList(ADD, parameters, "members"));
      const problems: string[] = [];
      for (const group of groups) {
        const listed = await readBack(
          directory,
          group.id,
          (members) => users.every((user) => members.some((member) => member.id === user.id)),
          options.sleep,
        );
        const members = memberIds(listed);
        const absent = users.filter((user) => !members.has(user.id));
        if (absent.length > 0)
          problems.push(`group ${describeGroup(group)} does not list ${absent.map((user) => user.login).join(", ")}`);
        const unleased = users.filter((user) => store.activeLease(group.id, user.id) === null);
        if (unleased.length > 0)
          problems.push(
            `group ${describeGroup(group)} has no active lease for ${unleased.map((user) => user.login).join(", ")}`,
          );
      }
      if (problems.length > 0) return { ok: false, detail: problems.join("; ") };
      return {
        ok: true,
        detail: `${groups.map(describeGroup).join(", ")} list ${users.map((user) => user.login).join(", ")}, each on an active lease`,
      };
    },
  };
}

export function removeGroupMembersExecutor(options: GroupMembershipOptions): ActionExecutor {
  const { directory, store } = options;

  /** Per group, who of the named (or everyone) is still a member, and which active leases are still to end. */
  const remaining = async (parameters: ActionParameters) => {
    const groups = await resolveGroups(directory, REMOVE, requiredList(REMOVE, parameters, "groups"));
    const named = await namedMembers(directory, parameters);
    const leases = store.activeLeases();
    const rest = [];
    for (const group of groups) {
      const members = await directory.listMembers(group.id);
      const wanted = named === null ? null : memberIds(named);
      rest.push({
        group,
        members: members.filter((member) => wanted === null || wanted.has(member.id)),
        leases: leases.filter((lease) => lease.groupId === group.id && (wanted === null || wanted.has(lease.userId))),
      });
    }
    return { named, rest };
  };

  return {
    preflight: (parameters) => preflightMembership(directory, REMOVE, parameters),

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
            group: group.group.id,
            groupName: group.group.displayName,
            member: member.login,
            ...(leaseMilliseconds === undefined || leaseMilliseconds <= 0 ? {} : { leaseMilliseconds }),
          };
          changes.push({
            target: `group ${describeGroup(group.group)}: ${member.login}`,
            before: "member",
            after: "not a member",
            membership,
          });
        }
        const listed = memberIds(group.members);
        for (const lease of group.leases.filter((lease) => !listed.has(lease.userId))) {
          changes.push({
            target: `group ${describeGroup(group.group)}: ${lease.login}`,
            before: `not a member, lease until ${lease.expiresAt} still active`,
            after: "lease ended",
          });
        }
      }
      const who = named === null ? "everyone" : named.map(describePerson).join(", ");
      const groupNames = rest.map((group) => describeGroup(group.group)).join(", ");
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
        for (const member of group.members) await directory.removeMember(group.group.id, member.id);
        for (const member of group.members) store.endLease(group.group.id, member.id, context.now);
        for (const lease of group.leases) store.endLease(group.group.id, lease.userId, context.now);
      }
      return {};
    },

    async verify(parameters): Promise<Verification> {
      const groups = await resolveGroups(directory, REMOVE, requiredList(REMOVE, parameters, "groups"));
      const named = await namedMembers(directory, parameters);
      const problems: string[] = [];
      const wanted = named === null ? null : memberIds(named);
      const lingering = (members: readonly DirectoryUser[]) =>
        members.filter((member) => wanted === null || wanted.has(member.id));
      for (const group of groups) {
        const members = await readBack(directory, group.id, (listed) => lingering(listed).length === 0, options.sleep);
        const still = lingering(members);
        if (still.length > 0)
          problems.push(`group ${describeGroup(group)} still lists ${still.map((member) => member.login).join(", ")}`);
      }
      if (problems.length > 0) return { ok: false, detail: problems.join("; ") };
      const groupNames = groups.map(describeGroup).join(", ");
      return {
        ok: true,
        detail:
          named === null
            ? `${groupNames} ${groups.length === 1 ? "is" : "are"} empty`
            : `${groupNames} no longer list ${named.map((user) => user.login).join(", ")}`,
      };
    },
  };
}

export interface ReapOptions {
  readonly store: MemberLeaseStore;
  readonly directory: GroupDirectory;
  readonly clock: Clock;
  readonly audit: AuditLog;
  /** Waits between read-backs (see READ_BACK_WAITS_MS); injected so that tests do not sleep. */
  readonly sleep?: (ms: number) => Promise<void>;
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
      const listed = await readBack(
        directory,
        lease.groupId,
        (members) => !members.some((member) => member.id === lease.userId),
        options.sleep,
      );
      if (memberIds(listed).has(lease.userId))
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

/** Each group named, by display name or id, as the IdP holds it; one unknown name fails the whole step, naming it. */
async function resolveGroups(
  directory: GroupDirectory,
  action: ActionName,
  names: readonly string[],
): Promise<DirectoryGroup[]> {
  const found = new Map<string, DirectoryGroup>();
  const unknown: string[] = [];
  for (const name of names) {
    const group = await directory.findGroup(name);
    if (group === null) unknown.push(name);
    else found.set(group.id, group);
  }
  if (unknown.length > 0) {
    throw new BreakglassError(
      "IDP_NOT_FOUND",
      `${action} groups`,
      `no group in the IdP (${directory.kind}) has the name or id ${unknown.join(", ")}; nothing was changed`,
      { hint: "use the group's exact display name in the IdP, or its id" },
    );
  }
  return [...found.values()];
}

const API_NAMES: Readonly<Record<GroupDirectory["kind"], string>> = { scim: "SCIM", okta: "Okta", graph: "Graph" };

/**
 * The preflight of both actions: every group and every person named is looked up now, before anyone approves, so that a
 * typo or a group id mistaken for a name stops the run at its start. Facts say what each resolved to; an unknown or
 * ambiguous name, or a responder whose account is disabled (when adding), is a problem. Parameters that the run cannot
 * know yet are left alone; the IdP being unreachable is an error of its own.
 */
async function preflightMembership(
  directory: GroupDirectory,
  action: ActionName,
  parameters: ActionParameters,
): Promise<ActionPreflight> {
  const facts: string[] = [];
  const problems: string[] = [];
  const api = API_NAMES[directory.kind];
  const groups: DirectoryGroup[] = [];
  for (const name of optionalList(action, parameters, "groups") ?? []) {
    const group = await ambiguityAsProblem(() => directory.findGroup(name), problems);
    if (group === null) problems.push(`no group in the IdP (${api}) has the name or id "${name}"`);
    else if (group !== undefined) {
      groups.push(group);
      facts.push(`group ${group.displayName} = ${group.id} (${api})`);
      if (group.unmodifiable !== undefined)
        problems.push(`group ${group.displayName} (${group.id}) cannot be used: ${group.unmodifiable}`);
    }
  }
  if (parameters["members"] === EVERYONE) {
    for (const group of groups) {
      const members = await directory.listMembers(group.id);
      facts.push(
        members.length === 0
          ? `everyone in ${group.displayName}: nobody is in it now`
          : `everyone in ${group.displayName}: now ${members.map((member) => member.login).join(", ")}`,
      );
    }
  } else {
    for (const name of optionalList(action, parameters, "members") ?? []) {
      const user = await ambiguityAsProblem(() => directory.findUser(name), problems);
      if (user === null) problems.push(`no user in the IdP (${api}) has the login or email "${name}"`);
      else if (user !== undefined) {
        facts.push(`responder ${name} = ${user.displayName ?? user.login} (${user.id})`);
        if (action === ADD && !user.active)
          problems.push(`responder ${name} (${user.id}) is disabled in the IdP: they could not sign in`);
      }
    }
  }
  const ttl = parameters["ttl"];
  if (action === ADD && typeof ttl === "string" && parseDuration(ttl) === undefined)
    problems.push(`ttl: expected a duration such as 30m, 4h or 1h30m, got ${JSON.stringify(ttl)}`);
  return { facts, problems };
}

/** The lookup's answer, or undefined when it matched several (a USAGE error from the directory), noted as a problem. */
async function ambiguityAsProblem<T>(lookup: () => Promise<T>, problems: string[]): Promise<T | undefined> {
  try {
    return await lookup();
  } catch (error) {
    if (!(error instanceof BreakglassError) || error.code !== "USAGE") throw error;
    const reason = error.message.slice(error.input.length + 2);
    problems.push(error.hint === undefined ? reason : `${reason} (${error.hint})`);
    return undefined;
  }
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
