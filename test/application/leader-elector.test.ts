// The leader elector on a real SQLite store with a stepped clock and hand-stepped heartbeats: renewal, loss, step-down,
// take-over after expiry, and a token that only grows.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LeaderElector, type LeadershipStatus } from "../../src/application/leader-elector.js";
import { SqliteStore } from "../../src/adapters/store/sqlite/sqlite-store.js";
import type { Fence } from "../../src/domain/ports/leadership-store.js";
import type { BreakglassStore } from "../../src/domain/ports/store.js";
import { SteppingClock } from "../support/stepping-clock.js";

const TTL = 30_000;
const BEAT = TTL / 3;
const opened: BreakglassStore[] = [];
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

/** One store file; each replica opens its own handle on it, as a separate serve process would. */
function storeFile(): () => BreakglassStore {
  const path = join(mkdtempSync(join(tmpdir(), "breakglass-elector-")), "store.db");
  return () => {
    const store = SqliteStore.open(path);
    opened.push(store);
    return store;
  };
}

interface Replica {
  readonly elector: LeaderElector;
  readonly store: BreakglassStore;
  readonly events: string[];
  readonly logs: string[];
  /** The heartbeat period the elector asked for, and its beat, stepped by the test. */
  readonly heartbeat: { period?: number; beat?: () => void; stopped: boolean };
  fence(): Fence | undefined;
  status(): LeadershipStatus;
}

function replica(open: () => BreakglassStore, holder: string, clock: SteppingClock): Replica {
  const store = open();
  const events: string[] = [];
  const logs: string[] = [];
  const heartbeat: Replica["heartbeat"] = { stopped: false };
  const elector = new LeaderElector({
    store: store.leadership,
    holder,
    ttlMilliseconds: TTL,
    clock,
    log: { info: (message) => logs.push(message), warn: (message) => logs.push(message) },
    onElected: (fence) => events.push(`elected ${fence.token}`),
    onDeposed: (reason) => events.push(`deposed: ${reason}`),
    heartbeat: (period, beat) => {
      heartbeat.period = period;
      heartbeat.beat = beat;
      return () => (heartbeat.stopped = true);
    },
  });
  return {
    elector,
    store,
    events,
    logs,
    heartbeat,
    fence: () => elector.currentFence(),
    status: () => elector.status(),
  };
}

describe("the leader elector", () => {
  it("makes the first replica leader with token 1 and keeps it leader by renewing every third of the lease", () => {
    const clock = new SteppingClock(Date.UTC(2026, 11, 5, 3));
    const open = storeFile();
    const a = replica(open, "host:1:a", clock);
    const b = replica(open, "host:2:b", clock);
    a.elector.start();
    b.elector.start();
    expect(a.heartbeat.period).toBe(BEAT);
    expect(a.events).toEqual(["elected 1"]);
    expect(b.status()).toMatchObject({ role: "follower", leader: "host:1:a", token: 1 });
    for (let beat = 0; beat < 30; beat++) {
      clock.advance(BEAT);
      a.heartbeat.beat?.();
      b.heartbeat.beat?.();
    }
    expect(a.events).toEqual(["elected 1"]);
    expect(b.events).toEqual([]);
    expect(a.status()).toEqual({
      role: "leader",
      holder: "host:1:a",
      leader: "host:1:a",
      token: 1,
      leaseAgeSeconds: 0,
    });
    expect(b.store.leadership.read("serve")).toMatchObject({ holder: "host:1:a", token: 1, version: 31 });
  });

  it("lets a follower take over only once a silent leader's lease has expired, with the next token", () => {
    const clock = new SteppingClock(Date.UTC(2026, 11, 5, 3));
    const open = storeFile();
    const a = replica(open, "host:1:a", clock);
    const b = replica(open, "host:2:b", clock);
    a.elector.start();
    b.elector.start();
    // a stops renewing (paused): b waits the whole lease out.
    clock.advance(BEAT);
    b.heartbeat.beat?.();
    clock.advance(BEAT);
    b.heartbeat.beat?.();
    expect(b.status()).toMatchObject({ role: "follower", leaseAgeSeconds: 20 });
    clock.advance(BEAT - 1);
    b.heartbeat.beat?.();
    expect(b.events).toEqual([]);
    clock.advance(1);
    b.heartbeat.beat?.();
    expect(b.events).toEqual(["elected 2"]);
    expect(b.status()).toMatchObject({ role: "leader", token: 2 });
  });

  it("steps a paused leader down at its next beat, as a follower that knows who leads now", () => {
    const clock = new SteppingClock(Date.UTC(2026, 11, 5, 3));
    const open = storeFile();
    const a = replica(open, "host:1:a", clock);
    const b = replica(open, "host:2:b", clock);
    a.elector.start();
    b.elector.start();
    clock.advance(TTL);
    b.heartbeat.beat?.();
    a.heartbeat.beat?.();
    expect(a.events).toEqual(["elected 1", "deposed: another replica took the lease"]);
    expect(a.logs).toContain(
      "stepped down as leader (token 1): another replica took the lease; answering as a follower",
    );
    expect(a.status()).toMatchObject({ role: "follower", leader: "host:2:b", token: 2 });
    expect(a.fence()).toBeUndefined();
  });

  it("steps down at once when a fenced write is refused, and does not take the lease back while it runs", () => {
    const clock = new SteppingClock(Date.UTC(2026, 11, 5, 3));
    const open = storeFile();
    const a = replica(open, "host:1:a", clock);
    const b = replica(open, "host:2:b", clock);
    a.elector.start();
    const paused = a.fence() as Fence;
    clock.advance(TTL);
    b.elector.start();
    let refused: unknown;
    try {
      a.store.fenced(paused).serveState.setState("last-check-completed-at", clock.now().toISOString());
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ code: "LEADERSHIP_LOST" });
    a.elector.stepDown("a write was refused");
    expect(a.events).toEqual(["elected 1", "deposed: a write was refused"]);
    a.heartbeat.beat?.();
    expect(a.events).toHaveLength(2);
    expect(b.status()).toMatchObject({ role: "leader", token: 2 });
  });

  it("keeps leading through a store failure while the lease surely runs, and steps down before it could expire", () => {
    const clock = new SteppingClock(Date.UTC(2026, 11, 5, 3));
    const open = storeFile();
    const a = replica(open, "host:1:a", clock);
    a.elector.start();
    a.store.close();
    clock.advance(BEAT);
    a.heartbeat.beat?.();
    expect(a.status().role).toBe("leader");
    expect(a.logs.at(-1)).toMatch(/^could not renew the leader lease, will retry: /);
    clock.advance(BEAT);
    a.heartbeat.beat?.();
    expect(a.status().role).toBe("follower");
    expect(a.events.at(-1)).toMatch(/^deposed: the lease could not be renewed before it runs out: /);
    opened.splice(opened.indexOf(a.store), 1);
  });

  it("takes over at once from a leader that was a process of this host and no longer runs", () => {
    const clock = new SteppingClock(Date.UTC(2026, 11, 5, 3));
    const open = storeFile();
    const a = replica(open, "build-host:101:a", clock);
    a.elector.start();
    const alive = new Set([102]);
    const store = open();
    const b = new LeaderElector({
      store: store.leadership,
      holder: "build-host:102:b",
      ttlMilliseconds: TTL,
      clock,
      log: { info: () => undefined, warn: () => undefined },
      onElected: () => undefined,
      onDeposed: () => undefined,
      heartbeat: () => () => undefined,
      host: { hostname: "build-host", pid: 102, isProcessAlive: (pid) => alive.has(pid) },
    });
    b.start();
    expect(b.status()).toMatchObject({ role: "leader", token: 2 });
    b.stop();
  });

  it("waits out the lease of a leader on another host, or alive on this one", () => {
    const clock = new SteppingClock(Date.UTC(2026, 11, 5, 3));
    const open = storeFile();
    const a = replica(open, "other-host:101:a", clock);
    a.elector.start();
    const store = open();
    const b = new LeaderElector({
      store: store.leadership,
      holder: "build-host:102:b",
      ttlMilliseconds: TTL,
      clock,
      log: { info: () => undefined, warn: () => undefined },
      onElected: () => undefined,
      onDeposed: () => undefined,
      heartbeat: () => () => undefined,
      host: { hostname: "build-host", pid: 102, isProcessAlive: () => false },
    });
    b.start();
    expect(b.status()).toMatchObject({ role: "follower", leader: "other-host:101:a" });
  });

  it("hands over at once on stop: the lease is released and the next replica gets a higher token", () => {
    const clock = new SteppingClock(Date.UTC(2026, 11, 5, 3));
    const open = storeFile();
    const a = replica(open, "host:1:a", clock);
    const b = replica(open, "host:2:b", clock);
    a.elector.start();
    b.elector.start();
    a.elector.stop();
    expect(a.heartbeat.stopped).toBe(true);
    expect(a.events).toEqual(["elected 1", "deposed: shutting down"]);
    b.heartbeat.beat?.();
    expect(b.events).toEqual(["elected 2"]);
  });

  it("never gives two replicas the same token, and never a lower one, over many random pauses", () => {
    const clock = new SteppingClock(Date.UTC(2026, 11, 5, 3));
    const open = storeFile();
    const replicas = ["a", "b", "c"].map((name, index) => replica(open, `host:${index + 1}:${name}`, clock));
    for (const each of replicas) each.elector.start();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const paused = new Set<Replica>();
    const seen: { token: number; holder: string }[] = [];
    for (let step = 0; step < 600; step++) {
      clock.advance(Math.round(random() * BEAT));
      const each = replicas[Math.floor(random() * replicas.length)] as Replica;
      if (random() < 0.05) {
        if (paused.has(each)) paused.delete(each);
        else paused.add(each);
      }
      if (!paused.has(each)) each.heartbeat.beat?.();
      const leaders = replicas.filter((candidate) => candidate.fence() !== undefined);
      // Two replicas may each believe it leads (one paused past its lease), never with the same token.
      expect(new Set(leaders.map((leader) => leader.fence()?.token)).size).toBe(leaders.length);
      for (const leader of leaders)
        seen.push({ token: leader.fence()?.token ?? 0, holder: leader.elector.status().holder });
    }
    const holders = new Map<number, Set<string>>();
    for (const { token, holder } of seen) holders.set(token, (holders.get(token) ?? new Set()).add(holder));
    expect([...holders.values()].every((set) => set.size === 1)).toBe(true);
    expect(holders.size).toBeGreaterThan(3);
    const tokens = replicas.flatMap((each) => each.events.filter((event) => event.startsWith("elected")));
    const numbers = tokens.map((event) => Number(event.split(" ")[1]));
    expect(numbers.sort((x, y) => x - y)).toEqual([...new Set(numbers)].sort((x, y) => x - y));
  });
});
