// One full check as every front end sees it, and the port through which Slack (or any front end) reads the latest one
// and asks for one now: the server's scheduler implements it, so a front end never imports the server process.
import type { PostureEvaluation } from "./evaluate-posture.js";

export interface CheckCycle {
  readonly startedAt: Date;
  readonly completedAt: Date;
  readonly evaluation: PostureEvaluation;
  /** Messages delivered this cycle (alerts, resolutions, expiry warnings); logged ones count when Slack is not configured. */
  readonly posted: number;
  /** Messages that could not be delivered this cycle; each is tried again next cycle. */
  readonly failedPosts?: number;
}

/** The full checks of the running service. */
export interface CheckCycles {
  /** One full check and its announcements; a check already in flight is shared, not repeated. Null once stopping. */
  runOnce(): Promise<CheckCycle | null>;
  /** The last check completed by this process, if any. */
  latest(): CheckCycle | undefined;
  /** When the last full check ended, in this process or before a restart; null before the first. */
  lastCompletedAt(): Date | null;
}
