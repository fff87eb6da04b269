// Shows a run's waits on stderr while a command advances it: a live countdown line on a terminal, one plain line per
// failed attempt otherwise, and one JSON object per event (JSON Lines) with --json, so stdout keeps its one document.
import type { RetryWaitEvent, RunProgressEvent, RunProgressListener } from "../domain/runbooks/run-progress.js";
import { describeFailedAttempt, secondsUntilNextAttempt } from "../domain/runbooks/run-progress.js";
import type { CliIo } from "./io.js";

/** Calls `tick` every `everyMilliseconds` until the returned function is called. */
export type Ticker = (everyMilliseconds: number, tick: () => void) => () => void;

/** A timer that never keeps the process alive: a command that has finished exits even if a countdown was left running. */
export const unrefTicker: Ticker = (everyMilliseconds, tick) => {
  const timer = setInterval(tick, everyMilliseconds);
  timer.unref();
  return () => clearInterval(timer);
};

/** Back to the start of the line, and the line erased (ANSI "erase in line", whole line). */
const CLEAR_LINE = "\r\x1b[2K";
const COUNTDOWN_MS = 1_000;

export interface RunProgressOutput {
  readonly listener: RunProgressListener;
  /** Clears a live line and stops its countdown: called when the command ends, however it ends. */
  stop(): void;
}

/** How the command shows progress: JSON Lines with --json, a live line on a terminal, plain lines otherwise. */
export function runProgressOutput(io: CliIo, json: boolean, ticker: Ticker = unrefTicker): RunProgressOutput {
  if (json)
    return { listener: (event) => io.stderr(`${JSON.stringify(runProgressJson(event))}\n`), stop: () => undefined };
  if (io.stderrIsTty !== true) {
    return {
      listener: (event) => {
        if (event.event === "retry-wait") io.stderr(`${plainWaitLine(event)}\n`);
      },
      stop: () => undefined,
    };
  }
  return liveLine(io, ticker);
}

/** One line rewritten in place every second with the countdown, erased once the step that waits has ended. */
function liveLine(io: CliIo, ticker: Ticker): RunProgressOutput {
  let shown: { readonly wait: RetryWaitEvent; readonly stopTicking: () => void } | undefined;
  const draw = (wait: RetryWaitEvent) => io.stderr(`${CLEAR_LINE}${liveWaitLine(wait, io.clock.now())}`);
  const clear = () => {
    if (shown === undefined) return;
    shown.stopTicking();
    shown = undefined;
    io.stderr(CLEAR_LINE);
  };
  return {
    listener: (event) => {
      clear();
      if (event.event !== "retry-wait") return;
      draw(event);
      shown = { wait: event, stopTicking: ticker(COUNTDOWN_MS, () => draw(event)) };
    },
    stop: clear,
  };
}

/** `verify-clean: attempt 3 of 10 failed (SAML_PROVIDER_DRIFT); next try in 24 s`, then `…; trying again now`. */
export function liveWaitLine(wait: RetryWaitEvent, now: Date): string {
  const seconds = secondsUntilNextAttempt(wait, now);
  return `${wait.stepId}: ${describeFailedAttempt(wait)}; ${seconds === 0 ? "trying again now" : `next try in ${seconds} s`}`;
}

/** As the live line, with the instant instead of a countdown: a log read later still says when. */
export function plainWaitLine(wait: RetryWaitEvent): string {
  const at = wait.nextAttemptAt.toISOString().slice(11, 19);
  return `${wait.stepId}: ${describeFailedAttempt(wait)}; next try in ${Math.round(wait.intervalMilliseconds / 1000)} s (at ${at} UTC)`;
}

/** The JSON Lines shape of a progress event, as README documents it. */
export function runProgressJson(event: RunProgressEvent): Record<string, unknown> {
  const step = {
    runId: event.runId,
    runbookId: event.runbookId,
    stepId: event.stepId,
    stepTitle: event.stepTitle,
  };
  if (event.event === "waits-ended") return { event: event.event, ...step, status: event.status };
  return {
    event: event.event,
    ...step,
    attempt: event.attempt,
    attempts: event.attempts,
    intervalSeconds: event.intervalMilliseconds / 1000,
    nextAttemptAt: event.nextAttemptAt.toISOString(),
    waitingFor: { summary: event.waitingFor.summary, codes: event.waitingFor.codes },
  };
}
