// Work the service carries on after answering Slack (a runbook advancing, a check): tracked so that shutdown can wait for
// it, and so that a failure is logged instead of becoming an unhandled rejection.
import { describeError } from "../domain/errors.js";
import type { BackgroundTasks } from "../slack/slack-context.js";
import type { ServiceLog } from "./service-log.js";

export class BackgroundWork implements BackgroundTasks {
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly log: ServiceLog) {}

  /** Runs `work` in the background; refused (and logged) once shutdown has begun. */
  run(name: string, work: () => Promise<void>): boolean {
    if (this.closed) {
      this.log.warn(`not started, shutting down: ${name}`);
      return false;
    }
    const task = (async () => {
      try {
        await work();
      } catch (error) {
        this.log.error(`${name} failed: ${describeError(error)}`);
      }
    })();
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
    return true;
  }

  get size(): number {
    return this.inFlight.size;
  }

  /** Takes no new work, then waits for what is running, at most `timeoutMs`; true when everything finished. */
  async close(timeoutMs: number): Promise<boolean> {
    this.closed = true;
    if (this.inFlight.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = Promise.all([...this.inFlight]).then(() => true as const);
    const result = await Promise.race([finished, timeout]);
    clearTimeout(timer);
    return result;
  }
}
