// Runs serve's full check on a worker thread: the IdP metadata parse and the organization sweep then never hold up the
// event loop that acknowledges Slack within its 3 s, and a check that runs out of memory fails alone, not the service.
import { getHeapStatistics } from "node:v8";
import { SHARE_ENV, Worker, type WorkerOptions } from "node:worker_threads";
import type { ServiceName } from "../adapters/aws/aws-clients.js";
import type { Attestation } from "../domain/checks/posture-facts.js";
import type { BreakglassConfig } from "../config/config-schema.js";
import { formatDuration } from "../domain/shared/duration.js";
import { BreakglassError, isBreakglassError, type ErrorCode } from "../domain/errors.js";
import type { PostureEvaluation } from "../application/evaluate-posture.js";

/** What the thread is started with. */
export interface CheckWorkerData {
  readonly config: BreakglassConfig;
}

/**
 * One full check, as of `now`; the thread looks up Identity Center attestations in `attestations`, and which emergency
 * group members an incident accounts for in `leases` (each "groupId userId" with an active lease).
 */
export interface CheckRequest {
  readonly id: number;
  readonly now: Date;
  readonly attestations: readonly Attestation[];
  readonly leases: readonly string[];
}

/** An error as it crosses the thread boundary; a BreakglassError keeps its code and input. */
export interface ThreadError {
  readonly message: string;
  readonly code?: ErrorCode;
  readonly input?: string;
  readonly hint?: string;
}

export type CheckThreadMessage =
  | { readonly kind: "aws-call-failed"; readonly service: ServiceName }
  | { readonly kind: "evaluated"; readonly id: number; readonly evaluation: PostureEvaluation }
  | { readonly kind: "failed"; readonly id: number; readonly error: ThreadError };

export interface CheckThreadOptions {
  readonly config: BreakglassConfig;
  /** Told of every AWS call that failed after its retries (the metrics). */
  readonly onAwsCallFailed?: (service: ServiceName) => void;
  /** The thread's heap limit in MB; by default the same as this process's, so a check fits where it fitted before. */
  readonly maxHeapMb?: number;
  /**
   * How long one check may run before its thread is stopped and the check fails: without a limit, one check that
   * never ended would stop every later one. By default checkTimeout(config.serve.checkInterval).
   */
  readonly timeoutMs?: number;
}

/**
 * Three check intervals, and at least 15 minutes: far beyond a sweep of thousands of accounts under throttling
 * (bench: 1,000 accounts in 2 minutes with 10% of calls throttled), yet a stuck check is noticed within the hour.
 */
export function checkTimeout(checkIntervalMs: number): number {
  return Math.max(15 * 60_000, 3 * checkIntervalMs);
}

interface Waiter {
  resolve(evaluation: PostureEvaluation): void;
  reject(error: Error): void;
}

export class CheckThread {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiter>();
  private requests = 0;
  private closed = false;

  constructor(private readonly options: CheckThreadOptions) {}

  /** The full check on the thread, started on first use and again after a crash. */
  evaluate(
    now: Date,
    attestations: readonly Attestation[],
    leases: readonly string[] = [],
  ): Promise<PostureEvaluation> {
    if (this.closed)
      return Promise.reject(new BreakglassError("INTERNAL", "check thread", "the service is stopping; no new checks"));
    const worker = this.worker ?? this.start();
    const request: CheckRequest = { id: ++this.requests, now, attestations, leases };
    const timeoutMs = this.options.timeoutMs ?? checkTimeout(this.options.config.serve.checkInterval);
    return new Promise<PostureEvaluation>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.discard(
          worker,
          new BreakglassError(
            "INTERNAL",
            "check thread",
            `the check did not finish within ${formatDuration(timeoutMs)}; its thread was stopped and the next check starts a new one`,
          ),
        );
      }, timeoutMs);
      timer.unref();
      const settle = () => clearTimeout(timer);
      this.waiting.set(request.id, {
        resolve: (evaluation) => {
          settle();
          resolve(evaluation);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      // Only a check in flight keeps the process alive; an idle thread never holds up its exit.
      worker.ref();
      worker.postMessage(request);
    });
  }

  /** Ends the thread; a check in flight fails with "stopping". */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new BreakglassError("INTERNAL", "check thread", "the service stopped during the check"));
    await worker?.terminate();
  }

  private start(): Worker {
    const limit = this.options.maxHeapMb ?? Math.ceil(getHeapStatistics().heap_size_limit / 1024 / 1024);
    const worker = createWorker({ config: this.options.config } satisfies CheckWorkerData, limit);
    worker.unref();
    worker.on("message", (message: CheckThreadMessage) => this.receive(message));
    worker.on("error", (error: Error & { code?: string }) => {
      const reason =
        error.code === "ERR_WORKER_OUT_OF_MEMORY"
          ? `the check ran out of memory (the check thread's heap is limited to ${limit} MB); the service goes on and the next check starts a new thread`
          : `the check thread failed: ${error.message}`;
      this.discard(worker, new BreakglassError("INTERNAL", "check thread", reason));
    });
    worker.on("messageerror", (error) =>
      this.discard(
        worker,
        new BreakglassError("INTERNAL", "check thread", `a check result could not be read: ${error.message}`),
      ),
    );
    worker.on("exit", (code) =>
      this.discard(worker, new BreakglassError("INTERNAL", "check thread", `the check thread exited (code ${code})`)),
    );
    this.worker = worker;
    return worker;
  }

  private receive(message: CheckThreadMessage): void {
    if (message.kind === "aws-call-failed") {
      this.options.onAwsCallFailed?.(message.service);
      return;
    }
    const waiter = this.waiting.get(message.id);
    this.waiting.delete(message.id);
    if (this.waiting.size === 0) this.worker?.unref();
    if (message.kind === "evaluated") waiter?.resolve(message.evaluation);
    else waiter?.reject(errorOf(message.error));
  }

  /**
   * A thread that failed is dropped (the next check starts another); what it was doing fails with `error`. A thread
   * dropped before (its 'exit' after its 'error', or after close) has nothing left here: a newer thread's check must
   * not fail with the old thread's exit.
   */
  private discard(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.failAll(error);
    void worker.terminate();
  }

  private failAll(error: Error): void {
    const waiters = [...this.waiting.values()];
    this.waiting.clear();
    for (const waiter of waiters) waiter.reject(error);
  }
}

/** How the thread reports an error: a BreakglassError keeps its code, input and hint. */
export function threadError(error: unknown): ThreadError {
  if (isBreakglassError(error)) {
    const reason = error.message.startsWith(`${error.input}: `)
      ? error.message.slice(error.input.length + 2)
      : error.message;
    return {
      message: reason,
      code: error.code,
      input: error.input,
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    };
  }
  return { message: error instanceof Error ? error.message || error.name : String(error) };
}

function errorOf(error: ThreadError): Error {
  if (error.code !== undefined && error.input !== undefined)
    return new BreakglassError(
      error.code,
      error.input,
      error.message,
      error.hint === undefined ? {} : { hint: error.hint },
    );
  return new BreakglassError("INTERNAL", "check thread", error.message);
}

/**
 * The compiled worker (dist/serve/check-worker.js) runs as it is; from the TypeScript sources (`npm run breakglass`,
 * the tests) the thread first registers tsx, which those always have installed.
 */
function createWorker(data: CheckWorkerData, maxHeapMb: number): Worker {
  const fromSource = import.meta.url.endsWith(".ts");
  const entry = new URL(fromSource ? "./check-worker.ts" : "./check-worker.js", import.meta.url);
  const options: WorkerOptions = {
    workerData: data,
    env: SHARE_ENV,
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
  };
  if (!fromSource) return new Worker(entry, options);
  const tsx = import.meta.resolve("tsx/esm/api");
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { ...options, eval: true });
}
