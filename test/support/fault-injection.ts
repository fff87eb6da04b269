// Test-only fault injection: kills this process at a named point so tests can prove a run survives a crash anywhere. Inert unless BREAKGLASS_FAULT_* is set.
import type { ActionExecutor } from "../domain/runbooks/engine-ports.js";
import type { ActionName } from "../domain/runbooks/runbook-schema.js";
import type { RunStore } from "../domain/runbooks/run-store.js";

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

export function withApplyFault(action: ActionName, executor: ActionExecutor, plan: FaultPlan): ActionExecutor {
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
