// The composition root of `breakglass serve`: the store, the runbook engine, the scheduler, the Slack app (when Slack's
// credentials are in the environment) and the HTTP listener, started together and stopped in order.
import type { BreakglassConfig } from "../config/config-schema.js";
import { systemClock, type Clock } from "../domain/shared/clock.js";
import { describeError } from "../domain/errors.js";
import { reapExpiredLeases } from "../adapters/runbook-actions/group-membership.js";
import { loadRunbooks } from "../adapters/runbook-files/runbook-files.js";
import type { Channel } from "../domain/runbooks/runbook-schema.js";
import { runbookNotification } from "../slack/command-replies.js";
import {
  openRunbookServices,
  type RunbookServiceOptions,
  type RunbookServices,
} from "../application/runbook-runtime.js";
import type { RunProgressListener } from "../domain/runbooks/run-progress.js";
import { LoggingAnnouncer } from "../slack/slack-announcer.js";
import type { Announcer, ChannelRole } from "../slack/slack-message.js";
import { slackSettings, type SlackSettings } from "../slack/slack-settings.js";
import { startSlackSurface, type SlackSurface } from "../slack/slack-surface.js";
import type { BreakglassStore } from "../domain/ports/store.js";
import { misuseAlertMessage } from "../slack/misuse-alerts.js";
import {
  watchContinuously,
  type ContinuousWatch,
  type MisuseAlertPoster,
} from "../application/watch-emergency-account.js";
import { SqsEventSource } from "../adapters/watch/sqs-event-source.js";
import {
  openWatch,
  watchSettings,
  type WatchRuntimeOptions,
  type WatchSettings,
} from "../application/watch-runtime.js";
import { BackgroundWork } from "./background-work.js";
import { CheckThread } from "./check-thread.js";
import { CheckScheduler } from "./check-scheduler.js";
import { DrillSchedule } from "./drill-schedule.js";
import { formatDuration } from "../domain/shared/duration.js";
import { preflightAgainstEmergencyProviders, readSamlResponse, runLiveDrill } from "../application/live-drill.js";
import { RequestGuard } from "../slack/request-guard.js";
import { ServiceHttp, type Readiness, type ServiceHttpOptions } from "./service-http.js";
import { ServiceMetrics } from "./service-metrics.js";
import type { ServiceLog } from "./service-log.js";
import {
  isLeadershipLost,
  LeaderElector,
  RENEWALS_PER_LEASE,
  type LeadershipStatus,
} from "../application/leader-elector.js";
import type { Fence } from "../domain/ports/leadership-store.js";
import {
  holderIsDeadHere,
  holderName,
  intervalHeartbeat,
  localLeaseHost,
  type Heartbeat,
  type LeaseHost,
} from "../domain/runbooks/run-lease.js";
import type { Actor } from "../domain/identity/actor.js";
import { isBreakglassError } from "../domain/errors.js";
import { randomUUID } from "node:crypto";

export const DEFAULT_PORT = 3000;
/** What the operations listener's errors name. */
export const OPERATIONS_LISTENER_OPTIONS = {
  port: "--ops-port",
  portVariable: "BREAKGLASS_OPS_PORT",
  host: "--ops-host",
} as const;
/** How long shutdown waits for a runbook step or a check in flight before closing the store anyway. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 20_000;
/** Between two LookupEvents polls (the fallback source; its events arrive about 15 minutes late anyway). */
export const LOOKUP_EVENTS_POLL_MS = 60_000;
/** After a failed poll of the watcher's source. */
const WATCH_RETRY_MS = 5_000;
/** A run moved from the CLI shows in its Slack message within this long (or the check interval, when shorter). */
export const RUN_WATCH_INTERVAL_MS = 15_000;
/** How many of the newest unfinished runs the leader looks at for one ready to go on. */
const READY_RUNS_LOOKED_AT = 50;
/** Who runs serve.drill's scheduled drill, on the audit record and in its evidence report. */
const DRILL_ACTOR: Actor = {
  person: "breakglass",
  label: "breakglass (scheduled drill)",
  verification: "serve.drill, run by the serve replica holding the leader lease",
  verified: true,
};
/** Who moves a run the leader picked up, on the audit record. */
const LEADER_ACTOR: Actor = {
  person: "breakglass",
  label: "breakglass (serve leader)",
  verification: "the serve replica holding the leader lease",
  verified: true,
};

export interface ServiceOptions {
  readonly config: BreakglassConfig;
  /** Where `config` was read from, as the scheduled drill's evidence report names it. */
  readonly configPath?: string;
  readonly port: number;
  readonly host?: string;
  /**
   * A second listener for /healthz, /readyz and /metrics, which then leave the main one: the main port is the one Slack
   * (so the internet) must reach, and the figures describe the emergency path's weaknesses.
   */
  readonly operationsPort?: number;
  /** Where the operations listener listens; the main listener's host by default. */
  readonly operationsHost?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly runbookDirectory: string;
  readonly log: ServiceLog;
  /** The domain clock (certificate ages, the ladder, leases); Slack signatures are always judged by the system clock. */
  readonly clock?: Clock;
  /** Off in tests that drive cycles themselves through `scheduler.runOnce()`. */
  readonly schedule?: boolean;
  readonly shutdownGraceMs?: number;
  /** Test seam, undefined in production: the wait between a check step's attempts (a test gates it). */
  readonly runbookSeams?: Pick<RunbookServiceOptions, "sleep">;
  /** How often Slack's run messages catch up with changes made from the CLI; RUN_WATCH_INTERVAL_MS at most. */
  readonly runWatchIntervalMs?: number;
  /** Test seam, undefined in production: the leader lease's heartbeat (a unit test steps it by hand). */
  readonly leaderHeartbeat?: Heartbeat;
  /** Test seam, undefined in production: this host and its process table, as the leader election judges a dead leader. */
  readonly leaseHost?: LeaseHost;
  /** Test seam, undefined in production: a shorter SQS long poll, quicker AWS retries, the pause between LookupEvents polls. */
  readonly watchSeams?: Pick<WatchRuntimeOptions, "waitSeconds" | "awsSettings" | "sleep"> & {
    readonly pauseMs?: number;
  };
}

export interface RunningService {
  readonly port: number;
  /** The operations listener's port, when there is one. */
  readonly operationsPort: number | undefined;
  readonly scheduler: CheckScheduler;
  /** serve.drill's schedule, when configured. */
  readonly drills: DrillSchedule | undefined;
  readonly services: RunbookServices;
  readonly metrics: ServiceMetrics;
  /** This replica's role among the serve processes sharing the store. */
  readonly leadership: () => LeadershipStatus;
  readonly slack: SlackSettings | undefined;
  /** Settles once Slack's Socket Mode connection is up or has failed (at once otherwise). */
  readonly slackConnected: Promise<void>;
  /** Stops taking commands, lets work in flight finish (or leaves it checkpointed in the store), closes the store. */
  stop(): Promise<void>;
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const { config, log } = options;
  const clock = options.clock ?? systemClock;
  const metrics = new ServiceMetrics();
  const slack = slackSettings(config, options.env);
  const work = new BackgroundWork(log);
  // Resolved before anything starts: a watch section without the emergency account is refused at once.
  const watch = config.watch === undefined ? undefined : watchSettings(config);

  // The announcer exists before the engine (its notify steps post through it); the Slack client comes with the surface.
  let announcer: Announcer = new LoggingAnnouncer(log, (outcome) => metrics.slackPosted(outcome));
  // Likewise the progress listener: a run's waits are shown on its Slack message once the surface exists.
  let showProgress: RunProgressListener = () => undefined;
  const services = openRunbookServices(config, {
    ...options.runbookSeams,
    onProgress: (event) => showProgress(event),
    runbookDirectory: options.runbookDirectory,
    clock,
    env: options.env,
    onAwsCallFailed: (service) => metrics.awsCallFailed(service),
    // Only the leader executes runs; a follower records decisions and leaves the steps to it (advanceReadyRuns).
    executesRuns: () => leading !== undefined,
    // The steps the leader executes carry its fencing token, read at each write from the elector's current term.
    leaderFence: () => elector.currentFence(),
    notify: async (channel, message, run) => {
      await announcer.announce(channelRole(channel), runbookNotification(message, run.initiator));
    },
  });
  const state = services.store.serveState;
  const checkThread = new CheckThread({ config, onAwsCallFailed: (service) => metrics.awsCallFailed(service) });

  const runbooks = await loadRunbooks(options.runbookDirectory).catch((error: unknown) => {
    log.warn(
      `runbooks not loaded from ${options.runbookDirectory} (alerts will not list their inputs): ${describeError(error)}`,
    );
    return [];
  });
  const scheduler = new CheckScheduler({
    config,
    runbooks: runbooks.map((loaded) => loaded.runbook),
    clock,
    state,
    announcer: {
      announce: (role, message, threadTs) => announcer.announce(role, message, threadTs),
      update: (posted, content) => announcer.update(posted, content),
    },
    evaluate: (now) =>
      checkThread.evaluate(
        now,
        services.store.attestations.latestAttestations(),
        services.store.leases.activeLeases().map((lease) => `${lease.groupId} ${lease.userId}`),
      ),
    logger: log,
    onCycle: (cycle) => {
      metrics.checkCompleted(
        (cycle.completedAt.getTime() - cycle.startedAt.getTime()) / 1000,
        cycle.evaluation.findings,
        cycle.completedAt,
      );
      const leader = leading;
      if (services.directory && leader)
        work.run("reaping expired leases", () => reapLeases(services, leader.store, clock, log, stillLeading));
    },
    onCycleFailed: () => metrics.checkFailed(),
    awaitLeadership: true,
    stillLeading: () => stillLeading(),
    onLeadershipLost: (error) => elector.stepDown(describeError(error)),
  });

  const drillSettings = config.serve.drill;
  const drills =
    drillSettings === undefined
      ? undefined
      : new DrillSchedule({
          everyMs: drillSettings.every,
          clock,
          announcer: {
            announce: (role, message, threadTs) => announcer.announce(role, message, threadTs),
            update: (posted, content) => announcer.update(posted, content),
          },
          logger: log,
          stillLeading: () => stillLeading(),
          run: async () => {
            const { response, assume, reportDirectory } = drillSettings;
            const outcome = await runLiveDrill(
              {
                config,
                configPath: options.configPath ?? "(serve's configuration)",
                actor: DRILL_ACTOR,
                ...(response === undefined ? {} : { response: readSamlResponse(response, () => "") }),
                assume,
                reportDirectory,
              },
              {
                clock,
                defaultRegion: options.env["AWS_REGION"] ?? "us-east-1",
                services,
                evaluate: (now) =>
                  checkThread.evaluate(
                    now,
                    services.store.attestations.latestAttestations(),
                    services.store.leases.activeLeases().map((lease) => `${lease.groupId} ${lease.userId}`),
                  ),
                preflight: (responseXml) => preflightAgainstEmergencyProviders(config, responseXml, clock.now()),
                say: (line) => log.info(`drill: ${line}`),
              },
            );
            return outcome;
          },
        });

  // Leadership among the replicas that share the store: only the leader checks on schedule, posts, reaps and executes.
  const host = options.leaseHost ?? localLeaseHost();
  const holder = holderName(host, randomUUID().slice(0, 8));
  let leading: { readonly fence: Fence; readonly store: BreakglassStore } | undefined;
  const ttlMilliseconds = config.serve.leadership.ttlSeconds * 1000;
  /** Right before an act that cannot carry the token (a Slack post, an IdP call): renews the lease, true if still leader. */
  const stillLeading = (): boolean => leading !== undefined && elector.confirm();
  /** The runs being moved by this leader: each is picked up once, until its advance ends. */
  const advancing = new Set<string>();
  /**
   * The leader goes on with every run Slack shows that is ready: running, its lease free, expired, or held by a dead
   * process of this host (a replica killed mid-step: the step is re-run from its start, as `resume` does). A run moved
   * from the CLI has no Slack message and is left to its CLI.
   */
  const advanceReadyRuns = (): void => {
    if (leading === undefined) return;
    try {
      const { runs } = services.store;
      for (const runId of runs.unfinishedRunIds(READY_RUNS_LOOKED_AT)) {
        if (advancing.has(runId) || surface?.driver.isDriving(runId) === true) continue;
        const run = runs.findRun(runId);
        if (run?.status !== "running" || state.message(`run:${runId}`) === null) continue;
        const held =
          run.leaseHolder !== null &&
          new Date(run.leaseExpiresAt ?? 0).getTime() > clock.now().getTime() &&
          !holderIsDeadHere(run.leaseHolder, host);
        if (held) continue;
        advancing.add(runId);
        const advance = () => services.runs.advance(runId, LEADER_ACTOR).finally(() => advancing.delete(runId));
        const tell = (error: unknown) => {
          // Another replica or a person's press took it first: that one moves it.
          if (isBreakglassError(error) && error.code === "RUN_BUSY") return;
          log.warn(`the leader could not go on with run ${runId}: ${describeError(error)}`);
          // A step's write was refused for its fencing token: another replica leads now and resumes the run.
          if (isLeadershipLost(error)) elector.stepDown(describeError(error));
        };
        if (surface) surface.driver.drive(runId, advance, (_reply, error) => Promise.resolve(tell(error)));
        else work.run(`run ${runId}`, () => advance().then(() => undefined, tell));
      }
    } catch (error) {
      log.warn(`could not look for runs ready to go on: ${describeError(error)}`);
    }
  };
  const elector = new LeaderElector({
    store: services.store.leadership,
    holder,
    ttlMilliseconds,
    clock,
    log,
    host,
    ...(options.leaderHeartbeat ? { heartbeat: options.leaderHeartbeat } : {}),
    onElected: (fence) => {
      const store = services.store.fenced(fence);
      leading = { fence, store };
      metrics.leadershipChanged("elected");
      scheduler.lead(store.serveState, options.schedule !== false);
      drills?.lead(store.serveState, options.schedule !== false);
      advanceReadyRuns();
    },
    onDeposed: () => {
      leading = undefined;
      metrics.leadershipChanged("stepped-down");
      scheduler.follow();
      drills?.follow();
    },
  });

  let surface: SlackSurface | undefined;
  if (slack !== undefined) {
    try {
      surface = startSlackSurface({
        settings: slack,
        services,
        state,
        scheduler,
        metrics,
        work,
        clock,
        log,
        runbookDirectory: options.runbookDirectory,
        leads: () => leading !== undefined,
        runWatchIntervalMs: options.runWatchIntervalMs ?? Math.min(RUN_WATCH_INTERVAL_MS, config.serve.checkInterval),
      });
    } catch (error) {
      await checkThread.close();
      services.close();
      throw error;
    }
    announcer = surface.announcer;
    const { driver } = surface;
    showProgress = (event) => driver.showProgress(event);
  } else {
    log.warn(
      "Slack is not configured (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, or SLACK_APP_TOKEN with " +
        "slack.socketMode, are not set): checks run and what would be posted is logged",
    );
  }

  const operationsRoutes: ServiceHttpOptions = {
    metrics,
    log,
    readiness: () => ({
      ...readiness(services.store, scheduler, config.serve.checkInterval, clock, startedAt),
      leadership: elector.status(),
    }),
    beforeScrape: () => {
      metrics.setRuns(services.store.runs.runCounts());
      metrics.setLeadership(elector.status());
    },
  };
  const slackRoute =
    surface?.listener && slack
      ? {
          slack: {
            guard: new RequestGuard(slack.signingSecret ?? "", systemClock),
            listener: surface.listener,
            responseHosts: new Set([new URL(slack.apiUrl).host]),
          },
        }
      : {};
  const separate = options.operationsPort !== undefined;
  const http = new ServiceHttp({ ...operationsRoutes, ...slackRoute, role: separate ? "slack" : "all" });
  const operationsHttp = separate
    ? new ServiceHttp({ ...operationsRoutes, role: "operations", optionNames: OPERATIONS_LISTENER_OPTIONS })
    : undefined;
  const listeners = [http, ...(operationsHttp ? [operationsHttp] : [])];
  const operationsHost = options.operationsHost ?? options.host;
  const startedAt = clock.now();
  let port: number;
  let operationsPort: number | undefined;
  try {
    port = await http.listen(options.port, options.host);
    if (operationsHttp) operationsPort = await operationsHttp.listen(options.operationsPort ?? 0, operationsHost);
  } catch (error) {
    await Promise.all(listeners.map((listener) => listener.close()));
    await surface?.stop();
    await checkThread.close();
    services.close();
    throw error;
  }
  elector.start();
  const stopAdvancing = (options.leaderHeartbeat ?? intervalHeartbeat)(ttlMilliseconds / RENEWALS_PER_LEASE, () =>
    advanceReadyRuns(),
  );
  // Every replica takes events off the queue (each is recorded once, whoever receives it); only the leader posts.
  const watching = startWatching(watch, services, clock, log, options.watchSeams, stillLeading, (alert, event) =>
    announcer.announce("security", misuseAlertMessage(alert, event)).then(() => undefined),
  );
  const operations =
    operationsPort === undefined
      ? ""
      : `; /healthz, /readyz and /metrics on ${operationsHost ?? "all interfaces"} port ${operationsPort} only`;
  log.info(
    `breakglass serve listening on ${options.host ?? "all interfaces"} port ${port}${operations}; full ` +
      `check every ${Math.round(config.serve.checkInterval / 1000)} s` +
      (drillSettings === undefined ? "" : `; live drill (serve.drill) every ${formatDuration(drillSettings.every)}`),
  );

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      const grace = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
      log.info("shutting down: no new Slack commands; waiting for work in flight");
      for (const listener of listeners) listener.drain();
      await surface?.stop();
      const finished = await Promise.race([
        Promise.all([scheduler.stop(), drills?.stop(), work.close(grace)]).then(([, , done]) => done),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), grace).unref()),
      ]);
      if (!finished) {
        const runs = surface?.driver.relinquishAll() ?? [];
        const which =
          runs.length === 0
            ? ""
            : ` (runs ${runs.join(", ")}: resume them with the Run button or \`breakglass runbook resume\`; the step in flight is re-run from its start)`;
        log.warn(`work still in flight after ${grace / 1000} s is left where the store has it${which}`);
      }
      await watching?.stop();
      // Given up once this replica's work has ended, so that its successor never acts beside it.
      stopAdvancing();
      elector.stop();
      await Promise.all(listeners.map((listener) => listener.close()));
      await checkThread.close();
      services.close();
      log.info("stopped");
    })();
    return stopping;
  };
  return {
    port,
    operationsPort,
    scheduler,
    drills,
    services,
    metrics,
    leadership: () => elector.status(),
    slack,
    slackConnected: surface?.connected ?? Promise.resolve(),
    stop,
  };
}

function readiness(
  store: BreakglassStore,
  scheduler: CheckScheduler,
  intervalMs: number,
  clock: Clock,
  startedAt: Date,
): Readiness {
  try {
    store.ping();
  } catch (error) {
    return { ready: false, store: `unreachable: ${describeError(error)}` };
  }
  const last = scheduler.lastCompletedAt();
  const now = clock.now().getTime();
  const ageSeconds = last === null ? null : Math.round((now - last.getTime()) / 1000);
  // A check may take a while (an organization sweep); stale means two intervals went by without one completing.
  const limitSeconds = Math.round((2 * intervalMs) / 1000) + 60;
  const sinceStart = (now - startedAt.getTime()) / 1000;
  const fresh = ageSeconds === null ? sinceStart <= limitSeconds : ageSeconds <= limitSeconds;
  return {
    ready: fresh,
    store: "ok",
    lastCheckCompletedAt: last?.toISOString() ?? null,
    lastCheckAgeSeconds: ageSeconds,
    ...(fresh
      ? {}
      : {
          reason:
            last === null
              ? `no check has completed in ${Math.round(sinceStart)} s`
              : `the last check completed ${ageSeconds} s ago (limit ${limitSeconds} s)`,
        }),
  };
}

/** The emergency-account watcher, when breakglass.yaml has a watch section: misuse alerts go to the security channel. */
function startWatching(
  settings: WatchSettings | undefined,
  services: RunbookServices,
  clock: Clock,
  log: ServiceLog,
  seams: ServiceOptions["watchSeams"],
  leading: () => boolean,
  post: MisuseAlertPoster["post"],
): ContinuousWatch | undefined {
  if (settings === undefined) return undefined;
  const warn = (message: string) => log.warn(message);
  const { source, watcher } = openWatch(settings, {
    store: services.store,
    audit: services.audit,
    clock,
    warn,
    ...(seams?.waitSeconds === undefined ? {} : { waitSeconds: seams.waitSeconds }),
    ...(seams?.awsSettings === undefined ? {} : { awsSettings: seams.awsSettings }),
    ...(seams?.sleep === undefined ? {} : { sleep: seams.sleep }),
  });
  log.info(`watching the emergency account through ${source.description}`);
  const pauseMs = seams?.pauseMs ?? (source instanceof SqsEventSource ? 0 : LOOKUP_EVENTS_POLL_MS);
  return watchContinuously(watcher, source, { post }, { pauseMs, retryMs: WATCH_RETRY_MS, warn, mayPost: leading });
}

/** The leader's reaper: each lease ended through the fenced store; it stops as soon as this replica no longer leads. */
async function reapLeases(
  services: RunbookServices,
  leaderStore: BreakglassStore,
  clock: Clock,
  log: ServiceLog,
  stillLeading: () => boolean,
): Promise<void> {
  if (!services.directory || !stillLeading()) return;
  const result = await reapExpiredLeases({
    store: leaderStore.leases,
    directory: services.directory,
    clock,
    audit: services.audit,
  });
  for (const lease of result.reaped)
    log.info(`lease ended: removed ${lease.login} from group ${lease.groupId}, verified gone`);
  for (const { lease, error } of result.failed)
    log.error(`lease ended but ${lease.login} could NOT be removed from group ${lease.groupId}: ${error}`);
}

/** Runbooks' notify steps name incident, security or alerts; slack.channels names incidents. */
function channelRole(channel: Channel): ChannelRole {
  return channel === "incident" ? "incidents" : channel;
}
