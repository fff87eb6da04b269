// Scripted faults for the loopback IdP servers: the next requests are throttled, fail with a status, or are never answered.

/** What the server does instead of answering one request; each vendor's server words it in its own documented shape. */
export type RequestFault =
  | { readonly kind: "throttle"; readonly seconds: number }
  | { readonly kind: "fail"; readonly status: number }
  | { readonly kind: "hang" };

/** A queue of faults, one per request, taken in order; requests beyond it are answered normally. */
export class RequestFaults {
  private readonly queue: RequestFault[] = [];

  /** The next `count` requests get a 429 asking the client to wait `seconds`. */
  throttleNext(count: number, seconds: number): void {
    this.repeat(count, { kind: "throttle", seconds });
  }

  /** The next `count` requests get `status` (a 5xx, say) with the vendor's error body. */
  failNext(count: number, status: number): void {
    this.repeat(count, { kind: "fail", status });
  }

  /** The next `count` requests are taken and never answered (closing the server ends them). */
  hangNext(count: number): void {
    this.repeat(count, { kind: "hang" });
  }

  /** The fault scripted for the request that just arrived, if any. */
  take(): RequestFault | undefined {
    return this.queue.shift();
  }

  /** Forgets faults a test scripted but did not use up, so that they cannot leak into the next test. */
  clear(): void {
    this.queue.length = 0;
  }

  private repeat(count: number, fault: RequestFault): void {
    for (let index = 0; index < count; index++) this.queue.push(fault);
  }
}
