// The progress port: what the engine tells a front end before each wait it makes (a check step's retry) and when that
// step ends, so that a responder sees a run working, not hung. Pure: listeners render; the engine never waits on them.

/** Before each wait: the attempt that just failed, when the next one starts, and what it waits for. */
export interface RetryWaitEvent {
  readonly event: "retry-wait";
  readonly runId: string;
  readonly runbookId: string;
  readonly stepId: string;
  readonly stepTitle: string;
  /** The attempt that failed (from 1) and how many the step makes in all. */
  readonly attempt: number;
  readonly attempts: number;
  readonly intervalMilliseconds: number;
  /** When the next attempt starts: now + the interval, by the engine's clock. */
  readonly nextAttemptAt: Date;
  readonly waitingFor: WaitReason;
}

/** Why the attempt failed: the verdict or error as the step's outcome shows it, and the finding codes that made it fail. */
export interface WaitReason {
  readonly summary: string;
  /** The findings that made the attempt fail (blocking ones for `expect: clean`); empty when no finding is to blame. */
  readonly codes: readonly string[];
}

/** The step that waited has ended (however): a live line about it is stale from here on. */
export interface WaitsEndedEvent {
  readonly event: "waits-ended";
  readonly runId: string;
  readonly runbookId: string;
  readonly stepId: string;
  readonly stepTitle: string;
  /** How the step ended: succeeded after a later attempt, or failed after its last one (or its lease was lost). */
  readonly status: "succeeded" | "failed" | "interrupted";
}

export type RunProgressEvent = RetryWaitEvent | WaitsEndedEvent;

/**
 * Told of every event, synchronously, in order. It must not throw (the engine ignores it if it does: progress never
 * fails a run) and must not block: a front end that renders slowly queues its own work.
 */
export type RunProgressListener = (event: RunProgressEvent) => void;

/** "SAML_PROVIDER_DRIFT, METADATA_UNREACHABLE", or the summary without its "failed: " when no finding is to blame. */
export function describeWaitReason(reason: WaitReason, maxLength = 100): string {
  const text = reason.codes.length > 0 ? reason.codes.join(", ") : reason.summary.replace(/^failed: /, "");
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

/** "attempt 3 of 10 failed (SAML_PROVIDER_DRIFT)": the part of a progress line every front end shows the same way. */
export function describeFailedAttempt(wait: RetryWaitEvent): string {
  return `attempt ${wait.attempt} of ${wait.attempts} failed (${describeWaitReason(wait.waitingFor)})`;
}

/** Whole seconds left until the next attempt, never below 0, rounded up so that "in 0 s" means it is starting. */
export function secondsUntilNextAttempt(wait: RetryWaitEvent, now: Date): number {
  return Math.max(0, Math.ceil((wait.nextAttemptAt.getTime() - now.getTime()) / 1000));
}
