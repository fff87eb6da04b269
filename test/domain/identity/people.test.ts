// The people list: which verified facts belong to whom, the access rules over them, and the two-person rule that compares people.
import { describe, expect, it } from "vitest";
import { describeActor, secondPersonProblem } from "../../../src/domain/identity/actor.js";
import { principalOfCallerArn } from "../../../src/domain/identity/aws-principal.js";
import { People } from "../../../src/domain/identity/people.js";

const people = new People({
  people: [
    { name: "alice", slack: ["U0ALICE0001"], aws: [{ userArn: "arn:aws:iam::111122223333:user/em-alice" }] },
    {
      name: "bob",
      slack: ["U0BOB000001"],
      aws: [{ roleArn: "arn:aws:iam::111122223333:role/teams/Responder", sessionName: "bob" }],
    },
  ],
  access: { run: ["alice", "U0CAROL0001"], approve: ["U0BOB000001"], grant: [] },
  mode: "verified",
});

describe("who a verified fact belongs to", () => {
  it("knows a person by their Slack user id, and a Slack user no person lists by that id alone", () => {
    expect(people.slackActor("U0ALICE0001")).toEqual({
      person: "person:alice",
      label: "slack:U0ALICE0001",
      verification: "Slack signed request",
      verified: true,
    });
    expect(people.slackActor("U0CAROL0001").person).toBe("slack:U0CAROL0001");
  });

  it("knows a person by their IAM user, and by a session of their role under their own session name", () => {
    expect(people.awsActor("arn:aws:iam::111122223333:user/em-alice", "Alice").person).toBe("person:alice");
    // A session's ARN has no role path; the configured role has one: they are the same role.
    const bob = people.awsActor("arn:aws:sts::111122223333:assumed-role/Responder/bob", "bob");
    expect(bob).toEqual({
      person: "person:bob",
      label: "bob",
      verification: "AWS STS arn:aws:iam::111122223333:role/Responder session bob",
      verified: true,
    });
  });

  it("does not take another session of the same role, the same role in another account, or a look-alike user for the person", () => {
    expect(people.awsActor("arn:aws:sts::111122223333:assumed-role/Responder/alice", "bob").person).toBe(
      "aws:arn:aws:iam::111122223333:role/Responder session alice",
    );
    expect(people.awsActor("arn:aws:sts::444455556666:assumed-role/Responder/bob", "bob").person).toBe(
      "aws:arn:aws:iam::444455556666:role/Responder session bob",
    );
    expect(people.awsActor("arn:aws:iam::111122223333:user/other/em-alice", "alice").person).toBe(
      "aws:arn:aws:iam::111122223333:user/other/em-alice",
    );
    expect(principalOfCallerArn("arn:aws:iam::111122223333:root")).toBeUndefined();
  });
});

describe("the access rules", () => {
  it("allow a person by name or by one of their Slack ids, whatever front end they came through", () => {
    expect(people.allows(people.awsActor("arn:aws:iam::111122223333:user/em-alice", "alice"), "run")).toBe(true);
    expect(
      people.allows(people.awsActor("arn:aws:sts::111122223333:assumed-role/Responder/bob", "bob"), "approve"),
    ).toBe(true);
    expect(people.allows(people.slackActor("U0CAROL0001"), "run")).toBe(true);
    expect(people.allows(people.slackActor("U0ALICE0001"), "approve")).toBe(false);
    expect(people.allows(people.labActor("alice", "alice"), "grant")).toBe(false);
  });
});

describe("the two-person rule", () => {
  const started = (person: string, label = "alice") => ({ person, label });

  it("refuses the same person, naming both labels when they differ", () => {
    const alice = people.awsActor("arn:aws:iam::111122223333:user/em-alice", "Alice");
    expect(secondPersonProblem(started("person:alice", "slack:U0ALICE0001"), alice)).toBe(
      "Alice started this run (as slack:U0ALICE0001; both are person:alice), so Alice cannot approve it",
    );
    expect(
      secondPersonProblem(started("slack:U0CAROL0001", "slack:U0CAROL0001"), people.slackActor("U0CAROL0001")),
    ).toBe("slack:U0CAROL0001 started this run, so slack:U0CAROL0001 cannot approve it");
  });

  it("refuses two identities no person lists that come from different front ends, which might be one person", () => {
    const unmappedAws = people.awsActor("arn:aws:iam::111122223333:user/carol", "carol");
    expect(secondPersonProblem(started("slack:U0CAROL0001"), unmappedAws)).toContain(
      "cannot tell whether they are two people",
    );
  });

  it("refuses anything unverified on either side", () => {
    expect(secondPersonProblem(started("unverified:alice"), people.slackActor("U0BOB000001"))).toContain(
      "started this run without being verified",
    );
    expect(
      secondPersonProblem(started("person:alice"), {
        person: "unverified:bob",
        label: "bob",
        verification: "unverified: no people",
        verified: false,
      }),
    ).toBe("bob could not be verified (unverified: no people)");
  });

  it("accepts two people, or a person and an identity the people list does not have", () => {
    expect(secondPersonProblem(started("person:alice"), people.slackActor("U0BOB000001"))).toBeUndefined();
    expect(secondPersonProblem(started("slack:U0CAROL0001"), people.slackActor("U0BOB000001"))).toBeUndefined();
    expect(secondPersonProblem(started("slack:U0CAROL0001"), people.slackActor("U0DAVE00001"))).toBeUndefined();
  });

  it("names a lab-mode approver as unverified on the record", () => {
    expect(describeActor(people.labActor("root", "alice"))).toBe("alice (unverified: lab mode, OS user root)");
    expect(describeActor(people.slackActor("U0BOB000001"))).toBe("slack:U0BOB000001");
  });
});
