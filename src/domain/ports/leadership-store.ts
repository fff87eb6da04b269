// The port for leadership among `breakglass serve` replicas: one lease item per name (holder, expiry, fencing token),
// taken and renewed by one conditional write, and the fence every write of the leader carries.
//
// Modelled on amazon-dynamodb-lock-client: a lease duration (ttlMilliseconds), a heartbeat period (the elector renews
// every third of it) and a record version number (`version`, changed by every write of the item). As in the lock client,
// the version lets a replica judge the leader without comparing clocks: a follower's "lease age" is how long, on its own
// clock, it has seen the same version. Taking over is conditional on the lease having expired by the contender's clock
// (so the hosts' clocks must agree to well within a lease, as NTP keeps them). Unlike the lock client, the item also
// carries a fencing token that grows by one each time the holder changes, and the store refuses a fenced write whose
// token is not the current one, checked in the same transaction as the write: a leader paused past its lease (GC,
// SIGSTOP, a VM migration) and then woken cannot overwrite what its successor did.
import { BreakglassError } from "../errors.js";

/** A lease item as stored. `holder` is null once released: the next holder, even the same one, gets a new token. */
export interface LeaderLease {
  readonly name: string;
  readonly holder: string | null;
  /** The fencing token: 1 for the first holder, one more each time the holder changes; never decreases. */
  readonly token: number;
  /** The record version number: one more on every acquire, renewal and release. */
  readonly version: number;
  /** ISO-8601 instants, as written by the holder's clock. */
  readonly acquiredAt: string;
  readonly renewedAt: string;
  readonly expiresAt: string;
}

/** What a leader's writes carry: the lease's name, its holder and the token it was given. */
export interface Fence {
  readonly name: string;
  readonly holder: string;
  readonly token: number;
}

/**
 * The fence a view of the store checks: a fixed one (a term's), or a getter read at each write (the elector's current
 * term, undefined while this replica does not lead), so that one view serves every term of one replica.
 */
export type FenceSource = Fence | (() => Fence | undefined);

/**
 * The fence a write carries now; LEADERSHIP_LOST naming the store when the getter says this replica does not lead, and
 * nothing is written.
 */
export function currentFence(source: FenceSource, store: string): Fence {
  const fence = typeof source === "function" ? source() : source;
  if (fence !== undefined) return fence;
  throw new BreakglassError(
    "LEADERSHIP_LOST",
    store,
    "write refused: this replica does not lead (it holds no fencing token); the leader makes this write",
  );
}

/** LEADERSHIP_LOST for a write whose token is not the lease's, naming the store, the token written and the lease now. */
export function fenceRefusal(
  store: string,
  fence: Fence,
  lease: { readonly holder: string | null; readonly token: number } | null,
): BreakglassError {
  const now =
    lease === null
      ? "no one holds it"
      : lease.holder === null
        ? `it was released (token ${lease.token})`
        : `${lease.holder} holds it with token ${lease.token}`;
  return new BreakglassError(
    "LEADERSHIP_LOST",
    store,
    `write refused: this replica (${fence.holder}) wrote with token ${fence.token} of leader lease ${fence.name}, ` +
      `but ${now}`,
  );
}

export interface LeadershipStore {
  /**
   * Takes or renews the lease `name` for `holder` until now + ttl, in one conditional write that succeeds only when the
   * item does not exist, is released (no holder), has expired (expiresAt <= now), is already `holder`'s, or still has
   * version `takeOverVersion` (the caller judged that holder dead, as the lock client does once it has watched one
   * version for a whole lease; breakglass does it for a holder process of this host that no longer runs): conditional on
   * that exact version, so a holder that renewed in between keeps the lease. The token is incremented when the holder
   * changes (a new item starts at 1) and kept on a renewal; `acquiredAt` is kept on a renewal too. Returns the lease as
   * written, or null (writing nothing) when another holder's lease still runs.
   */
  acquireOrRenew(
    name: string,
    holder: string,
    now: Date,
    ttlMilliseconds: number,
    takeOverVersion?: number,
  ): LeaderLease | null;
  /** Gives the lease up if `holder` still has it (holder becomes null, token kept); true when it did. */
  release(name: string, holder: string): boolean;
  /** The lease item, or null when no one ever took it. */
  read(name: string): LeaderLease | null;
}
