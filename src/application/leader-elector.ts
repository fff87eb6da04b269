// Leadership among `breakglass serve` replicas: takes the leader lease when it is free or expired, renews it every third
// of its duration, and steps down at once when a renewal or a fenced write shows another replica leads.
import { BreakglassError, describeError } from "../domain/errors.js";
import type { Fence, LeaderLease, LeadershipStore } from "../domain/ports/leadership-store.js";
import type { Clock } from "../domain/shared/clock.js";
import { holderIsDeadHere, intervalHeartbeat, type Heartbeat, type LeaseHost } from "../domain/runbooks/run-lease.js";

/** The lease every serve replica of one installation contends for. */
export const SERVE_LEADER_LEASE = "serve";
/** The default lease: a dead leader is replaced within about this long. */
export const DEFAULT_LEADER_TTL_MILLISECONDS = 30_000;
/** Renewals per lease, as amazon-dynamodb-lock-client's heartbeat period is a fraction of its lease duration. */
export const RENEWALS_PER_LEASE = 3;

export type LeaderRole = "leader" | "follower";

/** What /readyz and /metrics show. */
export interface LeadershipStatus {
  readonly role: LeaderRole;
  /** This replica's holder name. */
  readonly holder: string;
  /** Who leads, as last read (this replica when it leads); null when no one does. */
  readonly leader: string | null;
  /** The current fencing token as last read; null before any replica led. */
  readonly token: number | null;
  /**
   * Seconds since the lease was last renewed, on this replica's clock: its own renewal when it leads, else since it saw
   * the lease's version change (the lock client's record version number); null before any replica led.
   */
  readonly leaseAgeSeconds: number | null;
}

export interface LeaderElectorLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface LeaderElectorOptions {
  readonly store: LeadershipStore;
  readonly holder: string;
  readonly ttlMilliseconds: number;
  readonly clock: Clock;
  readonly log: LeaderElectorLog;
  /** This replica now leads with `fence`: start the leader's work, every write of it through `store.fenced(fence)`. */
  readonly onElected: (fence: Fence) => void;
  /** This replica no longer leads: stop the leader's work at once (its writes would be refused anyway). */
  readonly onDeposed: (reason: string) => void;
  /** The timer that beats every ttl / RENEWALS_PER_LEASE; a test injects one it steps by hand. */
  readonly heartbeat?: Heartbeat;
  /**
   * This host and its process table: a leader that was a process of this host and no longer runs (killed, crashed) is
   * taken over at once, at the version read, instead of after its lease. Without it, only expiry frees the lease.
   */
  readonly host?: LeaseHost;
  readonly name?: string;
}

export class LeaderElector {
  private readonly name: string;
  private fence: Fence | undefined;
  /** When this replica's lease runs out, by its own clock (leader only). */
  private expiresAt = 0;
  private renewedAt = 0;
  /** The lease as last read, and when (on this clock) its version was first seen. */
  private seen: { readonly lease: LeaderLease; readonly since: number } | undefined;
  private stopHeartbeat: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly options: LeaderElectorOptions) {
    this.name = options.name ?? SERVE_LEADER_LEASE;
  }

  /** Contends now, then every ttl / RENEWALS_PER_LEASE until stop(). */
  start(): void {
    if (this.stopHeartbeat || this.stopped) return;
    this.beat();
    const period = this.options.ttlMilliseconds / RENEWALS_PER_LEASE;
    this.stopHeartbeat = (this.options.heartbeat ?? intervalHeartbeat)(period, () => this.beat());
  }

  /** One round: the leader renews; a follower takes the lease when it is free or expired. Never throws. */
  beat(): void {
    if (this.stopped) return;
    const { store, holder, ttlMilliseconds, clock, log } = this.options;
    const now = clock.now();
    if (this.fence) {
      let lease: LeaderLease | null;
      try {
        lease = store.acquireOrRenew(this.name, holder, now, ttlMilliseconds);
      } catch (error) {
        // Unsure whether it still leads: keep leading only while the lease surely runs, with one beat to spare.
        const spare = ttlMilliseconds / RENEWALS_PER_LEASE;
        if (now.getTime() + spare >= this.expiresAt)
          this.stepDown(`the lease could not be renewed before it runs out: ${describeError(error)}`);
        else log.warn(`could not renew the leader lease, will retry: ${describeError(error)}`);
        return;
      }
      if (lease === null) {
        this.stepDown("another replica took the lease");
        this.observe(store.read(this.name), now);
        return;
      }
      this.observe(lease, now);
      if (lease.token !== this.fence.token) {
        // Lost and regained between two beats: what was done under the old token may have been overwritten.
        this.stepDown(`the lease came back with token ${lease.token} instead of ${this.fence.token}`);
        this.elect(lease, now);
        return;
      }
      this.expiresAt = now.getTime() + ttlMilliseconds;
      this.renewedAt = now.getTime();
      return;
    }
    try {
      const current = store.read(this.name);
      this.observe(current, now);
      const free = current === null || current.holder === null || current.holder === holder;
      const dead =
        !free && this.options.host !== undefined && holderIsDeadHere(current.holder ?? "", this.options.host);
      if (!free && !dead && new Date(current.expiresAt).getTime() > now.getTime()) return;
      const lease = store.acquireOrRenew(this.name, holder, now, ttlMilliseconds, dead ? current?.version : undefined);
      if (lease === null) return;
      if (dead) log.info(`the leader ${current?.holder ?? ""} is a process of this host that no longer runs`);
      this.observe(lease, now);
      this.elect(lease, now);
    } catch (error) {
      log.warn(`could not read or take the leader lease, will retry: ${describeError(error)}`);
    }
  }

  /**
   * Called when a fenced write was refused (LEADERSHIP_LOST), or the lease could not be kept: stops leading at once,
   * logs one line, and goes on as a follower. Nothing happens when this replica does not lead.
   */
  stepDown(reason: string): void {
    if (!this.fence) return;
    const token = this.fence.token;
    this.fence = undefined;
    this.options.log.warn(`stepped down as leader (token ${token}): ${reason}; answering as a follower`);
    this.options.onDeposed(reason);
  }

  /** Stops contending; a leader gives the lease up so that another replica takes over at its next beat. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopHeartbeat?.();
    const fence = this.fence;
    if (!fence) return;
    this.fence = undefined;
    this.options.onDeposed("shutting down");
    try {
      this.options.store.release(this.name, this.options.holder);
      this.options.log.info(`released the leader lease (token ${fence.token})`);
    } catch (error) {
      this.options.log.warn(`could not release the leader lease, it expires on its own: ${describeError(error)}`);
    }
  }

  /**
   * Asked right before an act that cannot carry the fencing token (a Slack post, an IdP call): renews the lease now, so
   * that it runs a whole lease from here, and answers whether this replica still leads (stepping down when it does not).
   */
  confirm(): boolean {
    if (!this.fence || this.stopped) return false;
    this.beat();
    return this.fence !== undefined;
  }

  /** The fence of this replica's writes as leader, or undefined when it does not lead. */
  currentFence(): Fence | undefined {
    return this.fence;
  }

  isLeader(): boolean {
    return this.fence !== undefined;
  }

  status(): LeadershipStatus {
    const now = this.options.clock.now().getTime();
    const seconds = (since: number) => Math.max(0, Math.round((now - since) / 100) / 10);
    if (this.fence)
      return {
        role: "leader",
        holder: this.options.holder,
        leader: this.options.holder,
        token: this.fence.token,
        leaseAgeSeconds: seconds(this.renewedAt),
      };
    const lease = this.seen?.lease;
    return {
      role: "follower",
      holder: this.options.holder,
      leader: lease?.holder ?? null,
      token: lease?.token ?? null,
      leaseAgeSeconds: this.seen && lease?.holder ? seconds(this.seen.since) : null,
    };
  }

  private elect(lease: LeaderLease, now: Date): void {
    this.fence = { name: this.name, holder: this.options.holder, token: lease.token };
    this.expiresAt = now.getTime() + this.options.ttlMilliseconds;
    this.renewedAt = now.getTime();
    this.options.log.info(
      `${this.options.holder} elected leader (token ${lease.token}, lease ${this.options.ttlMilliseconds / 1000} s)`,
    );
    this.options.onElected(this.fence);
  }

  private observe(lease: LeaderLease | null, now: Date): void {
    if (lease === null) return;
    if (this.seen?.lease.version === lease.version && this.seen.lease.token === lease.token) return;
    this.seen = { lease, since: now.getTime() };
  }
}

/** True for the error a fenced write raises when another replica leads now. */
export function isLeadershipLost(error: unknown): error is BreakglassError {
  return error instanceof BreakglassError && error.code === "LEADERSHIP_LOST";
}
