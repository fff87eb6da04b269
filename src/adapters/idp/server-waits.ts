// Tells whoever runs an IdP call (a runbook step) that breakglass waits before retrying, so that the wait shows as the
// run's progress instead of a silent pause: the HTTP client reports, an action executor wrapped here listens.
import { AsyncLocalStorage } from "node:async_hooks";
import type { ActionExecutor, RunContext } from "../../domain/runbooks/engine-ports.js";

/** One wait of the IdP HTTP client before its next attempt. */
export interface IdpWait {
  /** The attempt that failed (from 1), and how many the client makes in all. */
  readonly attempt: number;
  readonly attempts: number;
  readonly waitMilliseconds: number;
  /** Why: "Okta answered HTTP 429 Too Many Requests (listing members of group 00g1)". */
  readonly reason: string;
}

export type IdpWaitListener = (wait: IdpWait) => void;

const listeners = new AsyncLocalStorage<IdpWaitListener>();

/** Runs `work` with `listener` told of every wait the IdP HTTP client makes inside it (however deep the call). */
export function reportingIdpWaits<T>(listener: IdpWaitListener | undefined, work: () => Promise<T>): Promise<T> {
  return listener === undefined ? work() : listeners.run(listener, work);
}

/** Called by the HTTP client before it waits; a listener that throws is ignored: progress never fails a call. */
export function tellIdpWait(wait: IdpWait): void {
  try {
    listeners.getStore()?.(wait);
  } catch {
    // Showing progress is best effort.
  }
}

/** The executor with every IdP wait of its calls reported as the run step's progress (RunContext.reportWait). */
export function withIdpWaitsReported(executor: ActionExecutor): ActionExecutor {
  const listenerOf = (context: RunContext): IdpWaitListener | undefined => {
    const report = context.reportWait;
    if (report === undefined) return undefined;
    return (wait) =>
      report({
        attempt: wait.attempt,
        attempts: wait.attempts,
        intervalMilliseconds: wait.waitMilliseconds,
        waitingFor: { summary: wait.reason, codes: [] },
      });
  };
  return {
    ...(executor.preflight === undefined
      ? {}
      : {
          preflight: (parameters, context) =>
            reportingIdpWaits(listenerOf(context), () => executor.preflight!(parameters, context)),
        }),
    plan: (parameters, context) => reportingIdpWaits(listenerOf(context), () => executor.plan(parameters, context)),
    apply: (plan, parameters, context) =>
      reportingIdpWaits(listenerOf(context), () => executor.apply(plan, parameters, context)),
    verify: (parameters, context) => reportingIdpWaits(listenerOf(context), () => executor.verify(parameters, context)),
  };
}
