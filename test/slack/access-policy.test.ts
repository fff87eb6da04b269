// Who may run, approve and grant from Slack: direct ids, user groups through a cached lookup that fails closed, and the refusal a person reads.
import { describe, expect, it } from "vitest";
import { AccessPolicy, refusal, type AccessLists, type UserGroupMembers } from "../../src/slack/access-policy.js";
import { SteppingClock } from "../support/stepping-clock.js";

const ACCESS: AccessLists = {
  run: ["U0RUNNER01", "S0ONCALL01"],
  approve: ["U0APPROVE1", "S0SECTEAM1"],
  grant: [],
};

/** A directory of user groups that counts the lookups and can be told to fail. */
function groups(members: Record<string, string[]>) {
  const calls: string[] = [];
  let failing = new Set<string>();
  const lookup: UserGroupMembers = async (groupId) => {
    calls.push(groupId);
    await Promise.resolve();
    if (failing.has(groupId)) throw new Error(`usergroups.users.list ${groupId}: ratelimited`);
    const found = members[groupId];
    if (found === undefined) throw new Error(`no_such_subteam ${groupId}`);
    return found;
  };
  return { lookup, calls, members, fail: (...ids: string[]) => (failing = new Set(ids)) };
}

describe("allows", () => {
  it("allows a listed user without looking up any group", async () => {
    const directory = groups({});
    const policy = new AccessPolicy(ACCESS, directory.lookup);
    expect(await policy.allows("U0RUNNER01", "run")).toBe(true);
    expect(directory.calls).toEqual([]);
  });

  it("allows a member of a listed user group, and keeps permissions apart", async () => {
    const directory = groups({ S0ONCALL01: ["U0MEMBER01"], S0SECTEAM1: ["U0SECURE01"] });
    const policy = new AccessPolicy(ACCESS, directory.lookup);
    expect(await policy.allows("U0MEMBER01", "run")).toBe(true);
    expect(await policy.allows("U0MEMBER01", "approve")).toBe(false);
    expect(await policy.allows("U0SECURE01", "approve")).toBe(true);
    expect(await policy.allows("U0RUNNER01", "approve")).toBe(false);
  });

  it("allows a person the shared access rules allow by name, through the people list, without looking up any group", async () => {
    const directory = groups({});
    const byName = new Set(["U0ALICE001:approve"]);
    const policy = new AccessPolicy({ ...ACCESS, approve: ["alice", "S0SECTEAM1"] }, directory.lookup, {
      personAllows: (userId, permission) => byName.has(`${userId}:${permission}`),
    });
    expect(await policy.allows("U0ALICE001", "approve")).toBe(true);
    expect(directory.calls).toEqual([]);
    expect(await policy.allows("U0ALICE001", "run")).toBe(false);
  });

  it("allows nobody a permission with an empty list", async () => {
    const policy = new AccessPolicy(ACCESS, groups({}).lookup);
    expect(await policy.allows("U0RUNNER01", "grant")).toBe(false);
  });

  it("refuses what is not a Slack user id, even one that names a listed group", async () => {
    const policy = new AccessPolicy(ACCESS, groups({ S0ONCALL01: ["U0MEMBER01"] }).lookup);
    for (const id of ["", "S0ONCALL01", "slack:U0RUNNER01", "u0runner01", " U0RUNNER01"])
      expect(await policy.allows(id, "run")).toBe(false);
  });

  it("trusts a group's members for the cache time, then looks again", async () => {
    const clock = new SteppingClock(Date.parse("2026-05-01T12:00:00Z"));
    const directory = groups({ S0ONCALL01: ["U0MEMBER01"] });
    const policy = new AccessPolicy(ACCESS, directory.lookup, { clock });
    expect(await policy.allows("U0MEMBER01", "run")).toBe(true);
    directory.members["S0ONCALL01"] = [];
    clock.advance(59_000);
    expect(await policy.allows("U0MEMBER01", "run")).toBe(true);
    expect(directory.calls).toHaveLength(1);
    clock.advance(1_000);
    expect(await policy.allows("U0MEMBER01", "run")).toBe(false);
    expect(directory.calls).toHaveLength(2);
  });

  it("takes a cache time of its own", async () => {
    const clock = new SteppingClock(0);
    const directory = groups({ S0ONCALL01: ["U0MEMBER01"] });
    const policy = new AccessPolicy(ACCESS, directory.lookup, { clock, cacheMilliseconds: 5_000 });
    await policy.allows("U0MEMBER01", "run");
    clock.advance(5_000);
    await policy.allows("U0MEMBER01", "run");
    expect(directory.calls).toHaveLength(2);
  });

  it("refuses while a group cannot be read, says so, and does not remember the failure", async () => {
    const clock = new SteppingClock(0);
    const directory = groups({ S0ONCALL01: ["U0MEMBER01"] });
    const failures: string[] = [];
    const policy = new AccessPolicy(ACCESS, directory.lookup, {
      clock,
      onLookupFailure: (groupId, error) => failures.push(`${groupId}: ${String(error)}`),
    });
    directory.fail("S0ONCALL01");
    expect(await policy.allows("U0MEMBER01", "run")).toBe(false);
    expect(failures).toEqual(["S0ONCALL01: Error: usergroups.users.list S0ONCALL01: ratelimited"]);
    directory.fail();
    expect(await policy.allows("U0MEMBER01", "run")).toBe(true);
    expect(directory.calls).toEqual(["S0ONCALL01", "S0ONCALL01"]);
  });

  it("drops a cached list when a later lookup fails", async () => {
    const clock = new SteppingClock(0);
    const directory = groups({ S0ONCALL01: ["U0MEMBER01"] });
    const policy = new AccessPolicy(ACCESS, directory.lookup, { clock });
    expect(await policy.allows("U0MEMBER01", "run")).toBe(true);
    clock.advance(60_000);
    directory.fail("S0ONCALL01");
    expect(await policy.allows("U0MEMBER01", "run")).toBe(false);
  });

  it("still allows through a second group when the first cannot be read", async () => {
    const directory = groups({ S0OTHER001: ["U0MEMBER01"] });
    const policy = new AccessPolicy({ ...ACCESS, run: ["S0ONCALL01", "S0OTHER001"] }, directory.lookup, {
      onLookupFailure: () => {
        throw new Error("the logger broke");
      },
    });
    directory.fail("S0ONCALL01");
    expect(await policy.allows("U0MEMBER01", "run")).toBe(true);
  });

  it("looks a group up once for presses that arrive together", async () => {
    const directory = groups({ S0ONCALL01: ["U0MEMBER01"] });
    const policy = new AccessPolicy(ACCESS, directory.lookup);
    const answers = await Promise.all([
      policy.allows("U0MEMBER01", "run"),
      policy.allows("U0OTHER001", "run"),
      policy.allows("U0MEMBER01", "run"),
    ]);
    expect(answers).toEqual([true, false, true]);
    expect(directory.calls).toEqual(["S0ONCALL01"]);
  });
});

describe("the refusal", () => {
  it("says what was refused and who can do it, as mentions", () => {
    const message = new AccessPolicy(ACCESS, groups({}).lookup).refusal("approve", "approve runbook steps");
    expect(message.text).toBe(
      "Sorry, you are not allowed to approve runbook steps. Ask one of <@U0APPROVE1> or " +
        "<!subteam^S0SECTEAM1> to do it, or to add you to `slack.access.approve` in breakglass.yaml.",
    );
    expect(JSON.stringify(message.blocks)).toContain("`slack.access.approve` may approve or reject runbook steps.");
  });

  it("names people listed by name as written, and Slack ids as mentions", () => {
    expect(refusal("approve", "approve runbook steps", { ...ACCESS, approve: ["alice", "U0BOB00001"] }).text).toContain(
      "Ask alice or <@U0BOB00001> to do it",
    );
  });

  it("asks someone in the group when only groups are listed", () => {
    expect(refusal("run", "start runbooks", { ...ACCESS, run: ["S0ONCALL01"] }).text).toContain(
      "Ask someone in <!subteam^S0ONCALL01> to do it",
    );
    expect(refusal("run", "start runbooks", { ...ACCESS, run: ["U0A0000001", "U0B0000002"] }).text).toContain(
      "Ask <@U0A0000001> or <@U0B0000002> to do it",
    );
  });

  it("says nobody is configured when the list is empty", () => {
    expect(refusal("grant", "grant emergency access.", ACCESS).text).toBe(
      "Sorry, you are not allowed to grant emergency access. Nobody is allowed to from Slack yet: " +
        "`slack.access.grant` in breakglass.yaml is empty. Ask whoever runs breakglass to list the responders there.",
    );
  });

  it("names a few and counts the rest, and escapes what it was given", () => {
    const many = Array.from({ length: 11 }, (_, index) => `U0PERSON${String(index).padStart(2, "0")}`);
    const text = refusal("run", "run <this> & that", { ...ACCESS, run: many }).text;
    expect(text).toContain("run &lt;this&gt; &amp; that");
    expect(text).toContain("<@U0PERSON07> and 3 more to do it");
    expect(text).not.toContain("U0PERSON08");
  });
});
