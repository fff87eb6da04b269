// The service behind `/breakglass incident declare|close`, `/breakglass grant` and `/breakglass revoke`: the runbook actions, audited the same way.
import { randomUUID } from "node:crypto";
import type { AuditLog } from "../domain/audit/audit-log.js";
import type { Clock } from "../domain/shared/clock.js";
import { formatDuration } from "../domain/shared/duration.js";
import { BreakglassError, describeError } from "../domain/errors.js";
import type { Actor } from "../domain/identity/actor.js";
import type { DirectoryUser, GroupDirectory } from "../domain/ports/group-directory.js";
import { closeWindowExecutor, openWindowExecutor, summaryPath } from "../adapters/runbook-actions/emergency-window.js";
import { addGroupMembersExecutor, removeGroupMembersExecutor } from "../adapters/runbook-actions/group-membership.js";
import type { EmergencyWindow } from "../domain/ports/emergency-window-store.js";
import type { MemberLease } from "../domain/ports/member-lease-store.js";
import type { BreakglassStore } from "../domain/ports/store.js";
import type { RunContext } from "../domain/runbooks/engine-ports.js";
import { runAuditedAction, type ActionOutcome } from "./audited-action.js";
import { requireGroupDirectory } from "./idp-group-api.js";

/** breakglass.yaml's slack.grant, durations in milliseconds. */
export interface GrantSettings {
  readonly groups: readonly string[];
  readonly defaultTtl: number;
  readonly maxTtl: number;
}

export interface EmergencyAccessOptions {
  readonly store: BreakglassStore;
  readonly audit: AuditLog;
  readonly clock: Clock;
  /** The IdP's group API; undefined when idp.directory (or its token) is not configured. */
  readonly directory: GroupDirectory | undefined;
  readonly grant: GrantSettings | undefined;
  /** Where incident activity summaries are written (the runbook engine's artefact directory). */
  readonly summaryDirectory: string;
  /** A fresh id for each request, in its audit records' idempotency key; injected so that tests can name them. */
  readonly newRequestId?: () => string;
}

export interface DeclareResult {
  readonly incident: string;
  readonly window: EmergencyWindow;
  readonly outcome: ActionOutcome;
}

export interface GrantResult {
  readonly incident: string;
  readonly user: DirectoryUser;
  readonly groups: readonly string[];
  readonly ttl: number;
  readonly outcome: ActionOutcome;
  /** The active lease in each group. A repeated grant finds the first grant's lease, not extended. */
  readonly leases: readonly MemberLease[];
  /** The earliest of the leases' expiries (ISO-8601). */
  readonly expiresAt: string;
}

export interface RevokeResult {
  /** The open incident the revocation was audited under; null when none was open. */
  readonly incident: string | null;
  readonly user: DirectoryUser;
  readonly groups: readonly string[];
  readonly outcome: ActionOutcome;
  /** The leases that were active before and are ended now. */
  readonly endedLeases: readonly MemberLease[];
}

export interface CloseResult {
  readonly incident: string;
  /** The window as closed. */
  readonly window: EmergencyWindow;
  readonly outcome: ActionOutcome;
  /** The path of the activity summary written for the incident. */
  readonly activitySummary: string;
  /** The responders granted from Slack during the incident, removed before the window closed. */
  readonly revoked: readonly RevokeResult[];
  /** Slack grants that could not be removed: their leases stay active, so the reaper removes them when they end. */
  readonly notRevoked: readonly {
    readonly login: string;
    readonly groups: readonly string[];
    readonly error: string;
  }[];
  /** Every lease still active once the window is closed, e.g. the responders of a runbook run, which removes them itself. */
  readonly activeLeases: readonly MemberLease[];
}

const DECLARE_FIRST = "declare an incident first: /breakglass incident declare <title>";
/** As the Slack command parser bounds it; the service checks again for callers that are not Slack. */
const MAX_TITLE = 150;
const MAX_LOGIN = 256;

export class EmergencyAccess {
  /** One request at a time: a declare must not race another declare, nor a grant the close of its incident. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly newRequestId: () => string;

  constructor(private readonly options: EmergencyAccessOptions) {
    this.newRequestId = options.newRequestId ?? randomUUID;
  }

  /** Every open emergency window, newest first: Slack's incidents and those opened by runbook runs alike. */
  openIncidents(): EmergencyWindow[] {
    return this.options.store.windows.openWindows();
  }

  /** The open incident (the newest, should runbooks have opened more than one). */
  openIncident(): EmergencyWindow | null {
    return this.openIncidents()[0] ?? null;
  }

  /** Opens an emergency window under a new reference, INC-<yyyymmdd>-<hhmm> (UTC), with a suffix when that is taken. */
  async declareIncident(title: string, who: Actor): Promise<DeclareResult> {
    const actor = requireActor(who, "incident declare");
    const reason = title.replace(/\s+/g, " ").trim();
    if (reason === "")
      throw new BreakglassError(
        "USAGE",
        "incident declare",
        "give the incident a title: /breakglass incident declare <title>",
      );
    if (reason.length > MAX_TITLE)
      throw new BreakglassError(
        "USAGE",
        "incident declare",
        `the title has ${reason.length} characters; keep it to ${MAX_TITLE}`,
      );
    return this.serially(async () => {
      const open = this.openIncidents();
      if (open.length > 0) {
        throw new BreakglassError(
          "INCIDENT_ALREADY_OPEN",
          "incident declare",
          `${describeOpen(open)} already open; close it first: /breakglass incident close`,
        );
      }
      const incident = this.newReference();
      const outcome = await this.run(
        {
          action: "emergency.open-window",
          executor: openWindowExecutor({ store: this.options.store.windows }),
          parameters: { incident, reason },
        },
        incident,
        incident,
        "slack-incident-declare",
        `incident declare ${incident}`,
        actor,
      );
      return { incident, window: this.requireWindow(incident), outcome };
    });
  }

  /**
   * Removes everyone granted from Slack during the incident (their leases carry its reference), then closes its window and
   * writes the activity summary. A removal that fails does not keep the window open: an open window would hide misuse,
   * while the failed lease stays active for the reaper. Leases of runbook runs are left to their runs, and reported.
   */
  async closeIncident(who: Actor, incident?: string): Promise<CloseResult> {
    const actor = requireActor(who, "incident close");
    return this.serially(async () => {
      const window = this.windowToClose(incident);
      const { store, directory } = this.options;
      const granted = groupByUser(store.leases.activeLeases().filter((lease) => lease.runId === window.incident));
      const revoked: RevokeResult[] = [];
      const notRevoked: { login: string; groups: readonly string[]; error: string }[] = [];
      for (const { login, userId, groups } of granted) {
        try {
          const groupApi = requireGroupDirectory(directory, `revoke ${login}`);
          const user = await this.findUser(groupApi, `revoke ${login}`, login);
          if (user.id !== userId)
            throw new BreakglassError(
              "IDP_FAILED",
              `revoke ${login}`,
              `the login now belongs to another IdP user (${user.id}, not ${userId}); remove ${userId} by hand`,
            );
          revoked.push(
            await this.removeFromGroups(groupApi, user, login, groups, actor, window.incident, "slack-incident-close"),
          );
        } catch (error) {
          notRevoked.push({ login, groups, error: describeError(error) });
        }
      }
      const executor = closeWindowExecutor({
        store: store.windows,
        audit: store.audit,
        events: store.watchedEvents,
        summaryDirectory: this.options.summaryDirectory,
      });
      const outcome = await this.run(
        { action: "emergency.close-window", executor, parameters: { incident: window.incident } },
        window.incident,
        window.incident,
        "slack-incident-close",
        `incident close ${window.incident}`,
        actor,
      );
      const activitySummary =
        outcome.artefacts["activity-summary"] ?? summaryPath(this.options.summaryDirectory, window.incident);
      return {
        incident: window.incident,
        window: this.requireWindow(window.incident),
        outcome,
        activitySummary,
        revoked,
        notRevoked,
        activeLeases: store.leases.activeLeases(),
      };
    });
  }

  /** Adds `login` (the person as the IdP knows them) to every slack.grant group on a lease, under the open incident; no ttl: slack.grant.defaultTtl. */
  async grant(login: string, ttlMilliseconds: number | null | undefined, who: Actor): Promise<GrantResult> {
    const name = requireLogin("grant", login);
    const subject = `grant ${name}`;
    const actor = requireActor(who, subject);
    const directory = this.requireDirectory(subject);
    const settings = this.options.grant;
    if (settings === undefined)
      throw new BreakglassError(
        "USAGE",
        subject,
        "needs slack.grant in breakglass.yaml: set slack.grant.groups to the IdP's emergency groups (names or ids)",
      );
    const ttl = ttlMilliseconds ?? settings.defaultTtl;
    if (!Number.isSafeInteger(ttl) || ttl < 1000 || ttl % 1000 !== 0)
      throw new BreakglassError("USAGE", subject, `expected a lease of whole seconds such as 30m or 4h, got ${ttl} ms`);
    if (ttl > settings.maxTtl) {
      throw new BreakglassError(
        "USAGE",
        subject,
        `${formatDuration(ttl)} is longer than the longest grant ` +
          `allowed, ${formatDuration(settings.maxTtl)} (slack.grant.maxTtl); ask ` +
          `for ${formatDuration(settings.maxTtl)} or less`,
      );
    }
    return this.serially(async () => {
      const window = this.openIncident();
      if (window === null)
        throw new BreakglassError("NO_OPEN_INCIDENT", subject, `no incident is open; ${DECLARE_FIRST}`);
      const user = await this.findUser(directory, subject, name);
      const parameters = { groups: settings.groups, members: [name], ttl: formatDuration(ttl) };
      const executor = addGroupMembersExecutor({ directory, store: this.options.store.leases });
      const outcome = await this.run(
        { action: "idp.add-group-members", executor, parameters },
        window.incident,
        window.incident,
        "slack-grant",
        subject,
        actor,
      );
      // The groups are configured by name or id; leases are kept by id.
      const groupIds = (await Promise.all(settings.groups.map((group) => directory.findGroup(group)))).flatMap(
        (group) => (group === null ? [] : [group.id]),
      );
      const leases = groupIds
        .map((groupId) => this.options.store.leases.activeLease(groupId, user.id))
        .filter((lease): lease is MemberLease => lease !== null);
      const expiresAt = leases.map((lease) => lease.expiresAt).sort()[0] ?? "";
      return { incident: window.incident, user, groups: settings.groups, ttl, outcome, leases, expiresAt };
    });
  }

  /** Removes `login` from the slack.grant groups and any group they hold a lease in, and ends those leases. Needs no open incident. */
  async revoke(login: string, who: Actor): Promise<RevokeResult> {
    const name = requireLogin("revoke", login);
    const subject = `revoke ${name}`;
    const actor = requireActor(who, subject);
    const directory = this.requireDirectory(subject);
    return this.serially(async () => {
      const user = await this.findUser(directory, subject, name);
      const leased = this.options.store.leases.activeLeases().filter((lease) => lease.userId === user.id);
      const groups = [...new Set([...(this.options.grant?.groups ?? []), ...leased.map((lease) => lease.groupId)])];
      if (groups.length === 0) {
        throw new BreakglassError(
          "USAGE",
          subject,
          `${name} holds no lease and slack.grant.groups is not set in breakglass.yaml, so there is no group to remove them from`,
        );
      }
      return this.removeFromGroups(
        directory,
        user,
        name,
        groups,
        actor,
        this.openIncident()?.incident ?? null,
        "slack-revoke",
      );
    });
  }

  private async removeFromGroups(
    directory: GroupDirectory,
    user: DirectoryUser,
    name: string,
    groups: readonly string[],
    actor: string,
    incident: string | null,
    stepId: string,
  ): Promise<RevokeResult> {
    const { store } = this.options;
    const held = () =>
      store.leases.activeLeases().filter((lease) => lease.userId === user.id && groups.includes(lease.groupId));
    const before = held();
    const subject = `revoke ${name}`;
    const executor = removeGroupMembersExecutor({ directory, store: store.leases });
    // Outside an incident the context still needs a run id; the audit records then belong to no run (null).
    const outcome = await this.run(
      { action: "idp.remove-group-members", executor, parameters: { groups, members: [name] } },
      incident ?? "slack",
      incident,
      stepId,
      subject,
      actor,
    );
    const still = held();
    if (still.length > 0)
      throw new BreakglassError(
        "ACTION_UNVERIFIED",
        subject,
        `removed from the groups, but the store still holds active leases in ${still.map((lease) => lease.groupId).join(", ")}`,
      );
    return { incident, user, groups, outcome, endedLeases: before };
  }

  private run(
    action: Pick<Parameters<typeof runAuditedAction>[0], "action" | "executor" | "parameters">,
    runId: string,
    auditRunId: string | null,
    stepId: string,
    subject: string,
    actor: string,
  ): Promise<ActionOutcome> {
    const context: RunContext = {
      runId,
      // No runbook: the executors never read it, and the audit records say where the request came from through the actor.
      runbookId: "slack",
      stepId,
      initiator: actor,
      dryRun: false,
      now: this.options.clock.now(),
      idempotencyKey: `${runId}:${stepId}:${this.newRequestId()}`,
      artefacts: {},
    };
    return runAuditedAction({ ...action, context, subject, auditRunId }, this.options.audit, this.options.clock);
  }

  private windowToClose(incident: string | undefined): EmergencyWindow {
    const open = this.openIncidents();
    if (incident !== undefined) {
      const window = open.find((candidate) => candidate.incident === incident);
      if (window !== undefined) return window;
      const known = this.options.store.windows.findWindow(incident);
      throw new BreakglassError(
        known === null ? "INCIDENT_NOT_FOUND" : "INCIDENT_CLOSED",
        `incident close ${incident}`,
        known === null
          ? "no incident has this reference"
          : `is already closed (${known.closedAt ?? "?"} by ${known.closedBy ?? "?"})`,
      );
    }
    const [only, ...others] = open;
    if (only === undefined)
      throw new BreakglassError(
        "NO_OPEN_INCIDENT",
        "incident close",
        `no incident is open, so there is nothing to close`,
      );
    if (others.length > 0)
      throw new BreakglassError(
        "USAGE",
        "incident close",
        `${describeOpen(open)} open; name the one to close: /breakglass incident close <reference>`,
      );
    return only;
  }

  private newReference(): string {
    const stamp = this.options.clock.now().toISOString();
    const base = `INC-${stamp.slice(0, 4)}${stamp.slice(5, 7)}${stamp.slice(8, 10)}-${stamp.slice(11, 13)}${stamp.slice(14, 16)}`;
    // A closed window's reference is taken too: opening it again would reopen that incident, not declare a new one.
    for (let suffix = 1; suffix < 100; suffix++) {
      const reference = suffix === 1 ? base : `${base}-${suffix}`;
      if (this.options.store.windows.findWindow(reference) === null) return reference;
    }
    throw new BreakglassError(
      "INCIDENT_REFERENCE_TAKEN",
      "incident declare",
      `99 incidents were already declared in the minute ${base}; wait a minute`,
    );
  }

  private requireWindow(incident: string): EmergencyWindow {
    const window = this.options.store.windows.findWindow(incident);
    if (window === null)
      throw new BreakglassError(
        "ACTION_UNVERIFIED",
        `incident ${incident}`,
        "the store holds no emergency window for it after the change",
      );
    return window;
  }

  private requireDirectory(subject: string): GroupDirectory {
    return requireGroupDirectory(this.options.directory, subject);
  }

  /** The person, looked up before anything is planned, so that a typo is refused naming the login. */
  private async findUser(directory: GroupDirectory, subject: string, name: string): Promise<DirectoryUser> {
    const user = await directory.findUser(name).catch((error: unknown) => {
      throw new BreakglassError(
        error instanceof BreakglassError ? error.code : "IDP_FAILED",
        subject,
        `${describeError(error)}; nothing was changed`,
        { cause: error },
      );
    });
    if (user !== null) return user;
    throw new BreakglassError(
      "IDP_NOT_FOUND",
      subject,
      `no user in the IdP (${directory.kind}) has the login or email ${name}; nothing was changed`,
      {
        hint: "check the spelling, or use the person's exact login or email address in the IdP",
      },
    );
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** The name the audit records give the actor: their person id, as every front end resolved it. */
function requireActor(actor: Actor, subject: string): string {
  if (actor.person.trim() === "")
    throw new BreakglassError(
      "USAGE",
      subject,
      "no actor: every change is audited with the person who asked for it, such as slack:U0123ABCD",
    );
  return actor.person;
}

function requireLogin(verb: "grant" | "revoke", login: string): string {
  const name = login.trim();
  if (name === "")
    throw new BreakglassError(
      "USAGE",
      verb,
      `name the person: /breakglass ${verb} @user${verb === "grant" ? " [ttl]" : ""}`,
    );
  if (name.length > MAX_LOGIN || /\s/.test(name))
    throw new BreakglassError(
      "USAGE",
      `${verb} ${JSON.stringify(name.slice(0, 60))}`,
      "expected one login or email address",
    );
  return name;
}

function describeOpen(open: readonly EmergencyWindow[]): string {
  const each = open.map(
    (window) =>
      `${window.incident} (${window.reason === null ? "" : `"${window.reason}", `}opened ${window.openedAt} by ${window.openedBy})`,
  );
  return open.length === 1 ? `incident ${each.join("")} is` : `incidents ${each.join(", ")} are`;
}

function groupByUser(leases: readonly MemberLease[]): { login: string; userId: string; groups: string[] }[] {
  const byUser = new Map<string, { login: string; userId: string; groups: string[] }>();
  for (const lease of leases) {
    const entry = byUser.get(lease.userId) ?? { login: lease.login, userId: lease.userId, groups: [] };
    entry.groups.push(lease.groupId);
    byUser.set(lease.userId, entry);
  }
  return [...byUser.values()];
}
