// Test-only fault injection: kills this process at a named point so tests can prove a run survives a crash anywhere.
// Installed by test/support/faulty-cli.ts through openRunbookServices' seams; production never reads
// BREAKGLASS_FAULT_*.
import type { RunbookServiceOptions } from "../../src/application/runbook-runtime.js";
import type { ActionExecutor } from "../../src/domain/runbooks/engine-ports.js";
import type { RunStore } from "../../src/domain/runbooks/run-store.js";

/**
 * BREAKGLASS_FAULT_KILL_AFTER_TRANSITION=n: SIGKILL right after the n-th run-state transition is written.
 * BREAKGLASS_FAULT_KILL_AFTER_APPLY=<action>: SIGKILL right after that action's side effect, before it is recorded.
 * SIGKILL, not an exception: nothing may run after it, exactly as when the machine dies.
 */
export interface FaultPlan {
  readonly killAfterTransition: number | undefined;
  readonly killAfterApply: string | undefined;
}

export function faultPlan(env: NodeJS.ProcessEnv): FaultPlan {
  const transition = Number(env["BREAKGLASS_FAULT_KILL_AFTER_TRANSITION"]);
  return {
    killAfterTransition: Number.isInteger(transition) && transition > 0 ? transition : undefined,
    killAfterApply: env["BREAKGLASS_FAULT_KILL_AFTER_APPLY"] || undefined,
  };
}

/** The seams of openRunbookServices that carry out the plan: a store that dies after a transition, actions that die after applying. */
export function faultSeams(plan: FaultPlan): Pick<RunbookServiceOptions, "wrapStore" | "wrapAction"> {
  return {
    wrapStore: (store) => withTransitionFault(store, plan),
    wrapAction: (action, executor) => withApplyFault(action, executor, plan),
  };
}

export function withTransitionFault(store: RunStore, plan: FaultPlan): RunStore {
  if (plan.killAfterTransition === undefined) return store;
  let transitions = 0;
  const limit = plan.killAfterTransition;
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      if (property !== "recordTransition") return method;
      return (...args: unknown[]) => {
        const result = method(...args);
        if (++transitions === limit) process.kill(process.pid, "SIGKILL");
        return result;
      };
    },
  });
}

export function withApplyFault(action: string, executor: ActionExecutor, plan: FaultPlan): ActionExecutor {
  if (plan.killAfterApply !== action) return executor;
  return {
    plan: (parameters, context) => executor.plan(parameters, context),
    verify: (parameters, context) => executor.verify(parameters, context),
    apply: async (actionPlan, parameters, context) => {
      const result = await executor.apply(actionPlan, parameters, context);
      process.kill(process.pid, "SIGKILL");
      return result;
    },
  };
}
