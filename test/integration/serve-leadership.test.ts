// Real `breakglass serve` processes (three, then two) on one store, a SQLite file and then a DynamoDB table on the moto
// emulator: one leader at a time through pauses (SIGSTOP/SIGCONT) and kills of the leader, each leadership term with a
// token of its own, and nothing posted to Slack twice.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { initStore } from "../../src/adapters/store/open-store.js";
import { eventually } from "../support/eventually.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import {
  elections,
  replicaDirectory,
  startReplica,
  type Replica,
  type ReplicaStatus,
  type ReplicaStore,
} from "../support/serve-replicas.js";
import { CHANNELS } from "../support/serve-harness.js";
import { startSlackApiStub, type SlackApiStub } from "../support/slack-api-stub.js";

const TTL_SECONDS = 2;
let replicas: Replica[] = [];
let stub: SlackApiStub | undefined;

afterEach(async () => {
  for (const replica of replicas) {
    replica.resume();
    replica.kill();
  }
  await Promise.all(replicas.map((replica) => replica.exited));
  replicas = [];
  sameTokenTwice = [];
  await stub?.close();
});

/** Polls in which two replicas said they lead with the same token. */
let sameTokenTwice: string[] = [];

/** The replicas' roles, from those that answer. */
async function roles(): Promise<{ replica: Replica; status: ReplicaStatus }[]> {
  const answers = await Promise.all(replicas.map(async (replica) => ({ replica, status: await replica.status() })));
  const found = answers.filter(
    (answer): answer is { replica: Replica; status: ReplicaStatus } => answer.status !== undefined,
  );
  const tokens = found.filter((answer) => answer.status.role === "leader").map((answer) => answer.status.token);
  if (new Set(tokens).size !== tokens.length) sameTokenTwice.push(JSON.stringify(found.map((answer) => answer.status)));
  return found;
}

async function leaderOtherThan(excluded: readonly Replica[]): Promise<Replica> {
  const found = await eventually(roles, (answers) =>
    answers.some((answer) => answer.status.role === "leader" && !excluded.includes(answer.replica)),
  );
  return (
    found.find((answer) => answer.status.role === "leader" && !excluded.includes(answer.replica)) as {
      replica: Replica;
    }
  ).replica;
}

/** Posts to the alerts channel, by text: each must appear once however often the leader changed. */
function alertPosts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of stub?.callsTo("chat.postMessage") ?? []) {
    if (call.args["channel"] !== CHANNELS.alerts) continue;
    const text = String(call.args["text"]);
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  return counts;
}

/** The store every replica of a test shares, made fresh for each test, and the environment the replicas need for it. */
interface SharedStore {
  fresh(): ReplicaStore;
  env(): Record<string, string>;
}

const SQLITE: SharedStore = { fresh: () => ({ kind: "sqlite" }), env: () => ({}) };

/**
 * A table per test on one moto emulator, which answers one request at a time as DynamoDB isolates transactions (a
 * replica paused after connecting and before sending its request holds it for 5 s, until it drops the connection).
 */
function dynamoTables(): SharedStore {
  let moto: MotoServer | undefined;
  let tables = 0;
  const credentials = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" };
  beforeAll(async () => {
    moto = await startMoto({ serialized: true });
    Object.assign(process.env, credentials);
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
  });
  return {
    fresh() {
      const endpoint = (moto as MotoServer).endpoint;
      const store = { kind: "dynamodb", table: `leadership-${++tables}`, region: "us-east-1", endpoint } as const;
      initStore({ ...store, path: "" });
      return store;
    },
    env: () => credentials,
  };
}

describe.each([
  { label: "sqlite", shared: () => SQLITE },
  { label: "dynamodb", shared: dynamoTables },
])("serve replicas on $label", ({ label, shared: sharedStore }) => {
  const shared = sharedStore();
  const start = (name: string, directory: string) =>
    startReplica(name, directory, stub as SlackApiStub, { env: shared.env() });

  it("keep one leader through pauses of the leader, one holder per token, and post nothing twice", async () => {
    stub = await startSlackApiStub();
    const directory = replicaDirectory(TTL_SECONDS, "", shared.fresh());
    replicas = ["a", "b", "c"].map((name) => start(name, directory));
    // All up and answering before any pause (the stand-in cannot tell a paused replica from one still starting).
    await eventually(roles, (found) => found.length === replicas.length);
    let leader = await leaderOtherThan([]);
    // The first leader's first check posts the certificate's expiry warning.
    await eventually(alertPosts, (posts) => [...posts.keys()].some((text) => text.includes("expires in 20 days")));
    const postsBefore = alertPosts();

    let elected = 0;
    for (let round = 0; elected < 5; round++) {
      expect(round, "rounds whose paused leader held the SQLite file's write lock").toBeLessThan(25);
      leader.pause();
      // SQLite has one writer: a leader stopped inside a write transaction (a renewal, a check's sightings) holds the
      // file's lock, and no other replica can take the lease, or answer, until it is woken. Then nobody answers: wake
      // it, and pause it again once all answer (on DynamoDB the others always go on).
      const found = await eventually(
        roles,
        (answers) =>
          answers.some((answer) => answer.status.role === "leader" && answer.replica !== leader) ||
          (label === "sqlite" && answers.length === 0),
      );
      const successor = found.find((answer) => answer.status.role === "leader" && answer.replica !== leader)?.replica;
      const paused = leader;
      paused.resume();
      if (successor === undefined) {
        // Paused again at once, it would stay stopped inside its write, and the others waiting for the lock, for good.
        await eventually(roles, (answers) => answers.length === replicas.length);
        continue;
      }
      elected++;
      // Woken, it finds at its next beat that it was replaced, steps down, and knows who leads now.
      await eventually(
        () => paused.status(),
        (status) => status?.role === "follower" && status.leader !== status.holder,
      );
      leader = successor;
    }
    // Two replicas may each say they lead (one woken and not yet stepped down), never with one token.
    expect(sameTokenTwice).toEqual([]);

    const terms = elections(replicas);
    // Each token was given to one holder only, and the tokens grew with every election.
    const holders = new Map<number, Set<string>>();
    for (const term of terms) holders.set(term.token, (holders.get(term.token) ?? new Set()).add(term.holder));
    expect([...holders.values()].every((set) => set.size === 1)).toBe(true);
    expect(terms.length).toBeGreaterThanOrEqual(6);
    expect(new Set(terms.map((term) => term.token)).size).toBe(terms.length);
    // Every new leader ran a check at once; none posted again what an earlier one had posted.
    const postsAfter = alertPosts();
    expect([...postsAfter.values()].every((count) => count === 1)).toBe(true);
    expect([...postsAfter.keys()]).toEqual([...postsBefore.keys()]);
    for (const replica of replicas) expect(replica.log()).not.toMatch(/at .*\.(ts|js):\d+/);
  }, 240_000);

  it("replaces a killed leader: a follower takes the lease of the dead process at once and the check goes on", async () => {
    stub = await startSlackApiStub();
    const directory = replicaDirectory(30, "", shared.fresh());
    replicas = ["a", "b"].map((name) => start(name, directory));
    const first = await leaderOtherThan([]);
    await eventually(alertPosts, (posts) => posts.size > 0);
    first.kill();
    await first.exited;
    // The lease runs 30 s, but its holder is a dead process of this host: the follower takes over at its next beat.
    const second = await leaderOtherThan([first]);
    expect(second.log()).toMatch(/the leader \S+ is a process of this host that no longer runs/);
    expect(
      elections(replicas)
        .map((term) => term.token)
        .sort(),
    ).toEqual([1, 2]);
    expect([...alertPosts().values()].every((count) => count === 1)).toBe(true);
  }, 120_000);
});
