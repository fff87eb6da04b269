// Benchmark: failover among `breakglass serve` replicas on one SQLite store — the leader killed (SIGKILL) or cut off
// (SIGSTOP) until another replica is elected and acting (its "elected leader" log line, after which it checks at once).
import { startSlackApiStub } from "../test/support/slack-api-stub.js";
import { replicaDirectory, startReplica, type Replica } from "../test/support/serve-replicas.js";

const TTL_SECONDS = Number(process.env["BENCH_FAILOVER_TTL"] ?? 2);
const TRIALS = Number(process.env["BENCH_FAILOVER_TRIALS"] ?? 20);

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    await pause(20);
  }
}

function electionsIn(replica: Replica): number {
  return (replica.log().match(/ elected leader \(token /g) ?? []).length;
}

/** The replica that says it leads, asked of every one that answers. */
async function currentLeader(replicas: readonly Replica[]): Promise<Replica> {
  return waitFor(async () => {
    for (const replica of replicas) if ((await replica.status())?.role === "leader") return replica;
    return undefined;
  });
}

/** Milliseconds from `act` until a replica other than `leader` logs its election. */
async function failover(replicas: readonly Replica[], leader: Replica, act: () => void): Promise<number> {
  const others = replicas.filter((replica) => replica !== leader);
  const before = others.map(electionsIn);
  const started = performance.now();
  act();
  await waitFor(() =>
    others.some((replica, index) => electionsIn(replica) > (before[index] ?? 0)) ? true : undefined,
  );
  return performance.now() - started;
}

function summary(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const p50 = sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
  const max = sorted.at(-1) ?? 0;
  return `  ${label.padEnd(58)} p50 ${(p50 / 1000).toFixed(2).padStart(6)} s   max ${(max / 1000).toFixed(2).padStart(6)} s   (${samples.length} trials)`;
}

export async function benchFailover(): Promise<void> {
  console.log(
    `  lease (serve.leadership.ttlSeconds): ${TTL_SECONDS} s, renewed every ${(TTL_SECONDS / 3).toFixed(2)} s; 3 replicas, one SQLite file`,
  );
  const stub = await startSlackApiStub();
  const directory = replicaDirectory(TTL_SECONDS);
  let names = 0;
  const start = () => startReplica(`r${++names}`, directory, stub);
  const replicas: Replica[] = [start(), start(), start()];
  try {
    await waitFor(() => (replicas.every((replica) => replica.port() !== undefined) ? true : undefined));
    const killed: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const leader = await currentLeader(replicas);
      killed.push(await failover(replicas, leader, () => leader.kill()));
      await leader.exited;
      const replacement = start();
      replicas.splice(replicas.indexOf(leader), 1, replacement);
      await waitFor(() => replacement.port());
    }
    console.log(summary("leader killed (dead process on this host: taken at once)", killed));
    const paused: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const leader = await currentLeader(replicas);
      paused.push(await failover(replicas, leader, () => leader.pause()));
      leader.resume();
      await waitFor(async () => ((await leader.status())?.role === "follower" ? true : undefined));
    }
    console.log(summary("leader paused (alive but silent: its lease must expire)", paused));
  } finally {
    for (const replica of replicas) {
      replica.resume();
      replica.kill();
    }
    await Promise.all(replicas.map((replica) => replica.exited));
    await stub.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchFailover();
