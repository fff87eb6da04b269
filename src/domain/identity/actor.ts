// Who asked: the person behind a request, resolved once at a front end's edge from facts it verified, and the
// two-person rule that compares people, never display names.

/**
 * A person as breakglass knows them. `person` is what rules compare: "person:<name>" for someone in the config's people
 * list; otherwise the verified identity alone ("slack:U…", "aws:<ARN>"), "os:<user>" in lab mode, or "unverified:<label>"
 * when nothing could be verified. `label` is only what is shown (the CLI's --as text, the Slack user).
 */
export interface Actor {
  readonly person: string;
  readonly label: string;
  /** How the person was established, in words, for the audit record: "Slack signed request", "AWS STS <ARN>", "unverified: …". */
  readonly verification: string;
  /** True when `person` rests on a verified fact (a signed Slack request, STS); false in lab mode and when unverified. */
  readonly verified: boolean;
}

const PERSON_PREFIX = "person:";

export function personId(name: string): string {
  return `${PERSON_PREFIX}${name}`;
}

/** The people-list name behind a person id, or undefined for an identity no person was mapped to. */
export function personName(person: string): string | undefined {
  return person.startsWith(PERSON_PREFIX) ? person.slice(PERSON_PREFIX.length) : undefined;
}

/** The identity namespace of a person id: person, slack, aws, os or unverified. */
function namespaceOf(person: string): string {
  const colon = person.indexOf(":");
  return colon < 0 ? "" : person.slice(0, colon);
}

/**
 * Why `approver` may not be the second person on a run `initiator` started, or undefined when they are two people.
 * Two identities that no person was mapped to, from different front ends (a Slack user and an AWS principal), cannot be
 * told apart: they might be one person, so the rule refuses. Nothing unverified ever counts as a second person.
 */
export function secondPersonProblem(
  started: { readonly person: string; readonly label: string },
  approver: Actor,
): string | undefined {
  const initiator = started.person;
  if (approver.person === initiator) {
    const as = approver.label === started.label ? "" : ` (as ${started.label}; both are ${initiator})`;
    return `${approver.label} started this run${as}, so ${approver.label} cannot approve it`;
  }
  const initiatorSpace = namespaceOf(initiator);
  const approverSpace = namespaceOf(approver.person);
  if (initiatorSpace === "unverified") {
    return (
      `${started.label} started this run without being verified (${initiator}), so no one can be shown to ` +
      `be someone else; abort it and start it again from Slack or with AWS credentials`
    );
  }
  if (approverSpace === "unverified") return `${approver.label} could not be verified (${approver.verification})`;
  if (initiatorSpace !== "person" && approverSpace !== "person" && initiatorSpace !== approverSpace) {
    return (
      `neither ${initiator} nor ${approver.person} is in the people list of breakglass.yaml, so ` +
      `breakglass cannot tell whether they are two people; add both to people`
    );
  }
  return undefined;
}

/** How an approval names its approver on the record: the label, and when the identity is not verified, that it is not. */
export function describeActor(actor: Actor): string {
  return actor.verified ? actor.label : `${actor.label} (${actor.verification})`;
}
