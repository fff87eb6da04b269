// Drives runbook runs from Slack: each run is one message, updated in place as the run moves, with a thread reply for
// every step that finishes or starts waiting; button presses and modal answers move the run.
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { describeError } from "../domain/errors.js";
import type { RunView } from "../domain/runbooks/run-engine.js";
import type { RetryWaitEvent, RunProgressEvent } from "../domain/runbooks/run-progress.js";
import type { Artefact, Runbook } from "../domain/runbooks/runbook-schema.js";
import type { RunRecord, RunStatus, RunStepRecord, StepStatus } from "../domain/runbooks/run-store.js";
import { errorReply } from "./error-reply.js";
import {
  artefactFallbackReply,
  artefactShareComment,
  runMessage,
  shortRunId,
  stepOutcomeReply,
  manualInstructionsReplies,
  refusedUpdateReply,
} from "./run-message.js";
import type { SlackContext } from "./slack-context.js";
import type { PostedMessage, SlackMessage } from "./slack-message.js";

/** Step states worth a line in the thread: where a step ended, or where the run waits for someone. */
const REPORTED: readonly StepStatus[] = ["succeeded", "failed", "skipped", "waiting"];
/** Runs that have ended for good: their message never changes again. */
const ENDED: readonly RunStatus[] = ["succeeded", "aborted"];
/** After a restart, how many of the latest runs are watched for changes made outside Slack. */
const WATCHED_AFTER_RESTART = 50;
/** While a run advances, its message is refreshed this often (only when something changed). */
const LIVE_REFRESH_MS = 1_000;

/** The service_state entry that keeps, per run, the step states its thread has told (so a restart misses none). */
const SHOWN_STATE = (runId: string) => `run-thread:${runId}`;
/** The service_state entry that records an artefact shared in a run's thread (or its path shown instead): once a run. */
const INSTRUCTIONS_STATE = (runId: string, stepId: string) => `run-instructions:${runId}:${stepId}`;
const SHARED_STATE = (runId: string, artefact: Artefact) => `run-file:${runId}:${artefact}`;

export class RunDriver {
  /** Per run: the step states last shown, so that each change gets one thread reply. */
  private readonly shown = new Map<string, Map<string, StepStatus>>();
  private readonly rendered = new Map<string, string>();
  /** Per run: why Slack last refused its message, so a refusal is told in the thread once, not on every change. */
  private readonly refused = new Map<string, string>();
  /** Per run: the refresh in progress; refreshes of one run never overlap, so updates arrive in order. */
  private readonly queues = new Map<string, Promise<void>>();
  /** Per run: a refresh queued behind the one in progress; asking again joins it, as it reads the run when it starts. */
  private readonly queued = new Map<string, Promise<void>>();
  /** The audit head at the last look for changes: it moves with every change to a run, from any process. */
  private lookedAtHead: number | undefined;
  /** Runs with a message that can still change, with their stored state when their message was last checked. */
  private readonly watched = new Map<string, string>();
  /** Runs being moved in the background by this process, with how many drives of each are in flight. */
  private readonly driving = new Map<string, number>();
  /** Per run: the wait its running step is in (a check's retry), shown on its message until the step ends. */
  private readonly waits = new Map<string, RetryWaitEvent>();
  private stopped = false;

  constructor(private readonly context: SlackContext) {}

  async runbook(runbookId: string): Promise<Runbook> {
    return this.context.services.runs.runbook(runbookId);
  }

  /** Posts the run's message in `channel` (where the command was typed) and remembers it. */
  async post(view: RunView, channel: string): Promise<PostedMessage> {
    const runbook = await this.runbook(view.runbookId);
    const posted = await this.context.announcer.post(channel, runMessage(view, runbook));
    // What the thread starts from, stored before the message: the leader goes on with a run only once its message is
    // remembered, so its replies always build on this, and this never overwrites what the leader's thread told since.
    this.remember(view.id, statuses(view));
    this.context.state.rememberMessage(`run:${view.id}`, posted, this.context.clock.now());
    this.rendered.set(view.id, fingerprintOf(view, undefined));
    this.watched.set(view.id, "");
    return posted;
  }

  /**
   * Runs `work` (a runbook use case: advance, approve, confirm, skip, abort…) in the background, refreshing the run's
   * message while it goes and once at the end. Errors are told to `tell` (the person who pressed) in one line, with the
   * error itself, so that the teller can offer what fits it (Take over, for a run another process holds).
   */
  drive(
    runId: string,
    work: () => Promise<RunView>,
    tell: (reply: SlackMessage, error: unknown) => Promise<void>,
  ): void {
    this.context.work.run(`run ${runId}`, async () => {
      const ticker = setInterval(() => void this.refresh(runId), LIVE_REFRESH_MS);
      ticker.unref();
      this.driving.set(runId, (this.driving.get(runId) ?? 0) + 1);
      try {
        await work();
      } catch (error) {
        await tell(errorReply(error), error);
      } finally {
        clearInterval(ticker);
        const left = (this.driving.get(runId) ?? 1) - 1;
        if (left === 0) this.driving.delete(runId);
        else this.driving.set(runId, left);
        if (!this.stopped) await this.refresh(runId);
      }
    });
  }

  /** True while this process moves the run in the background (a press, a modal, or the leader picking it up). */
  isDriving(runId: string): boolean {
    return this.driving.has(runId);
  }

  /**
   * For shutdown, once the grace period is over: the runs still moving give up their lease, so that the next process
   * resumes them at once (their step is re-run from its start). Returns their ids.
   */
  relinquishAll(): string[] {
    this.stopped = true;
    const runs = [...this.driving.keys()];
    for (const runId of runs) this.context.services.engine.relinquish(runId);
    return runs;
  }

  /**
   * The engine's progress listener: the run's message shows the wait (attempt n of m, next try at, what it waits for)
   * from one refresh per attempt, and drops it once the step has ended. Never throws, never waits.
   */
  showProgress(event: RunProgressEvent): void {
    if (event.event === "retry-wait") this.waits.set(event.runId, event);
    else if (this.waits.get(event.runId)?.stepId === event.stepId) this.waits.delete(event.runId);
    void this.refresh(event.runId);
  }

  /** Brings the run's message up to date, and replies in its thread for each step that changed. Never throws. */
  refresh(runId: string): Promise<void> {
    const waiting = this.queued.get(runId);
    if (waiting !== undefined) return waiting;
    const previous = this.queues.get(runId) ?? Promise.resolve();
    const next = previous.then(() => {
      this.queued.delete(runId);
      return this.refreshNow(runId);
    });
    this.queued.set(runId, next);
    this.queues.set(runId, next);
    void next.finally(() => {
      if (this.queues.get(runId) === next) this.queues.delete(runId);
    });
    return next;
  }

  /**
   * Brings up to date the message of every run changed in the store since the last look, by this process or another
   * (the CLI). Cheap when nothing changed (the audit head, one indexed read), and otherwise two indexed reads per run
   * still open in Slack: its record and its steps, compared as stored (so no clock is trusted).
   */
  async refreshChangedRuns(): Promise<void> {
    const { audit, runs } = this.context.services.store;
    const head = audit.auditHead();
    if (this.lookedAtHead === head) return;
    const first = this.lookedAtHead === undefined;
    this.lookedAtHead = head;
    if (first) {
      // The runs a restart left open: from now on a change to any of them refreshes its message.
      for (const run of runs.recentRuns(WATCHED_AFTER_RESTART))
        if (!ENDED.includes(run.status)) this.watched.set(run.id, storedState(run, runs.runSteps(run.id)));
      return;
    }
    const changed: string[] = [];
    for (const [runId, seen] of this.watched) {
      const run = runs.findRun(runId);
      if (run === null) {
        this.watched.delete(runId);
        continue;
      }
      const now = storedState(run, runs.runSteps(runId));
      if (now === seen) continue;
      changed.push(runId);
      if (ENDED.includes(run.status)) this.watched.delete(runId);
      else this.watched.set(runId, now);
    }
    await Promise.all(changed.map((runId) => this.refresh(runId)));
  }

  /**
   * Looks at the store every `intervalMs` for runs changed without Slack (from the CLI), so their messages never stay
   * stale longer than that. Each look is background work, so shutdown waits for it. Returns the function that stops.
   */
  watchStore(intervalMs: number): () => void {
    void this.refreshChangedRuns().catch((error: unknown) => this.cannotWatch(error));
    const timer = setInterval(() => {
      this.context.work.run("looking for runs changed outside Slack", () =>
        this.refreshChangedRuns().catch((error: unknown) => this.cannotWatch(error)),
      );
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  private cannotWatch(error: unknown): void {
    this.context.log.warn(`could not look for runs changed outside Slack: ${describeError(error)}`);
  }

  private async refreshNow(runId: string): Promise<void> {
    const { state, services, announcer, log } = this.context;
    try {
      const message = state.message(`run:${runId}`);
      if (message === null) return;
      const view = await services.engine.status(runId);
      const wait = this.currentWait(view);
      const fingerprint = fingerprintOf(view, wait);
      if (this.rendered.get(runId) === fingerprint) return;
      const runbook = await this.runbook(view.runbookId);
      try {
        await announcer.update(message, runMessage(view, runbook, wait));
      } catch (error) {
        // The channel would keep a stale message, showing a step already done or buttons that no longer apply.
        log.warn(`Slack refused the message of run ${runId}: ${describeError(error)}`);
        // Once per refused reason, not on every later change that Slack refuses for the same reason.
        if (this.refused.get(runId) !== describeError(error)) {
          this.refused.set(runId, describeError(error));
          await announcer.post(message.channel, refusedUpdateReply(runId, describeError(error)), message.ts);
        }
        return;
      }
      this.rendered.set(runId, fingerprint);
      this.refused.delete(runId);
      // The thread's replies are the leader's to post (once, across replicas); a follower only updates the message.
      if (this.context.leads?.() === false) return;
      // What the thread has told, as the store has it: by this process, the one before a restart, or the leader before
      // this one took over (this process's own memory of a run it posted as a follower is stale by then). A step that
      // finished while no process was running still gets its reply.
      const before = this.remembered(runId) ?? this.shown.get(runId);
      const now = statuses(view);
      // Written before the replies go out, so that nothing is posted twice: a leader killed while posting them leaves
      // the rest untold (the run's message still shows every step), instead of its successor posting them again.
      this.remember(runId, now);
      if (before !== undefined) {
        for (const step of view.steps) {
          if (before.get(step.id) === step.status || !REPORTED.includes(step.status)) continue;
          const reply = stepOutcomeReply(view, step.id);
          if (reply !== null) await announcer.post(message.channel, reply, message.ts);
        }
      }
      await this.shareInstructions(view, runbook, message);
      await this.shareArtefact(view, runbook, message);
    } catch (error) {
      log.warn(`could not update the Slack message of run ${runId}: ${describeError(error)}`);
    }
  }

  /** The wait to show: only while the run is still at the step that waits; a stale one is forgotten. */
  private currentWait(view: RunView): RetryWaitEvent | undefined {
    const wait = this.waits.get(view.id);
    if (wait === undefined) return undefined;
    const step = view.steps.find((candidate) => candidate.id === wait.stepId);
    if (view.status === "running" && step?.status === "running") return wait;
    this.waits.delete(view.id);
    return undefined;
  }

  /** A manual step's instructions too long for the run message, whole in its thread: once per run and step. */
  private async shareInstructions(view: RunView, runbook: Runbook, message: PostedMessage): Promise<void> {
    const replies = manualInstructionsReplies(view, runbook);
    const key = INSTRUCTIONS_STATE(view.id, view.waitingFor?.stepId ?? "");
    if (replies === null || this.context.state.state(key) !== null) return;
    for (const reply of replies) await this.context.announcer.post(message.channel, reply, message.ts);
    this.context.state.setState(key, "posted");
  }

  /**
   * When the run waits on a manual step that needs an artefact (fm2's metadata file to upload by hand, the activity
   * summary to review), shares that file in the run's thread, once a run; when Slack refuses it (the app lacks
   * files:write) or the upload fails, replies with where the file is on the server instead, and why. The bytes are the
   * store's copy (a file another replica wrote is not on this one), the file's where the store has none.
   */
  private async shareArtefact(view: RunView, runbook: Runbook, message: PostedMessage): Promise<void> {
    const { state, announcer, log } = this.context;
    const stepId = view.waitingFor?.kind === "manual" ? view.waitingFor.stepId : undefined;
    const step = runbook.steps.find((candidate) => candidate.id === stepId);
    if (step?.kind !== "manual" || step.artefact === undefined) return;
    const artefact = step.artefact;
    const path = view.artefacts[artefact];
    if (path === undefined || state.state(SHARED_STATE(view.id, artefact)) !== null) return;
    const index = view.steps.findIndex((candidate) => candidate.id === step.id);
    let outcome: string;
    try {
      // The store's copy: the leader posting this may not be the host whose step wrote the file.
      const stored = this.context.services.store.artefacts.artefactContent(view.id, artefact);
      const bytes = stored === null ? await readFile(path) : Buffer.from(stored.content);
      await announcer.attach(message, {
        bytes,
        filename: basename(path),
        title: `${artefact} of run ${shortRunId(view.id)}`,
        comment: artefactShareComment(artefact, index, step.title),
      });
      outcome = "uploaded";
    } catch (error) {
      const reason = describeError(error);
      log.warn(`could not share ${path} in the thread of run ${view.id}: ${reason}`);
      await announcer.post(message.channel, artefactFallbackReply(artefact, path, reason), message.ts);
      outcome = `path shown: ${reason}`;
    }
    state.setState(SHARED_STATE(view.id, artefact), outcome);
  }

  private remember(runId: string, shown: Map<string, StepStatus>): void {
    this.shown.set(runId, shown);
    this.context.state.setState(SHOWN_STATE(runId), JSON.stringify(Object.fromEntries(shown)));
  }

  /** The step states the thread had told when the last process stopped; undefined for a run it never showed. */
  private remembered(runId: string): Map<string, StepStatus> | undefined {
    const stored = this.context.state.state(SHOWN_STATE(runId));
    if (stored === null) return undefined;
    try {
      return new Map(Object.entries(JSON.parse(stored) as Record<string, StepStatus>));
    } catch {
      return undefined;
    }
  }
}

/** What the message shows: a wait changes it once per attempt (Slack's date token shows the time, nothing here ticks). */
function fingerprintOf(view: RunView, wait: RetryWaitEvent | undefined): string {
  return JSON.stringify({ view, wait: wait === undefined ? null : [wait.stepId, wait.attempt] });
}

/** What the store holds of a run that its message shows: any change to the run changes this. */
function storedState(run: RunRecord, steps: readonly RunStepRecord[]): string {
  const stepStates = steps.map((step) => `${step.stepId}:${step.status}:${step.attempts}:${step.updatedAt}`);
  return [run.status, run.updatedAt, ...stepStates].join("|");
}

function statuses(view: RunView): Map<string, StepStatus> {
  return new Map(view.steps.map((step) => [step.id, step.status]));
}
