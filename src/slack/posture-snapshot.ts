// Gathers what /breakglass status and the App Home show, from this process and its store: no AWS or IdP call.
import { describeError } from "../domain/errors.js";
import type { RunView } from "../domain/runbooks/run-engine.js";
import type { PostureSnapshot } from "./posture-view.js";
import type { SlackContext } from "./slack-context.js";

const SHOWN_RUNS = 10;

export async function postureSnapshot(context: SlackContext): Promise<PostureSnapshot> {
  const latest = context.scheduler.latest();
  const openRuns: RunView[] = [];
  for (const runId of context.services.store.runs.unfinishedRunIds(SHOWN_RUNS)) {
    try {
      openRuns.push(await context.services.engine.status(runId));
    } catch (error) {
      context.log.warn(`run ${runId} left out of the status: ${describeError(error)}`);
    }
  }
  return {
    evaluation: latest?.evaluation,
    completedAt: latest?.completedAt ?? context.scheduler.lastCompletedAt() ?? undefined,
    openRuns,
    leases: context.services.store.leases.activeLeases(),
    now: context.clock.now(),
  };
}
