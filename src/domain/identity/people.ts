// The people of breakglass.yaml and the access rules over them: one mapping from verified facts (Slack user ids, AWS
// principals) to people, and one run / approve / grant rule that every front end applies the same way.
import { personId, personName, type Actor } from "./actor.js";
import {
  describePrincipal,
  principalMatches,
  principalOfCallerArn,
  type ConfiguredPrincipal,
} from "./aws-principal.js";

export const PERMISSIONS = ["run", "approve", "grant"] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** What each permission lets a person do, on any front end. */
export const PERMISSION_MEANINGS: Readonly<Record<Permission, string>> = {
  run: "start, resume and abort runbook runs, and declare or close incidents",
  approve: "approve or reject runbook steps",
  grant: "grant and revoke emergency group membership",
};

export interface Person {
  /** Stable and unique: what access rules and the audit log name. */
  readonly name: string;
  /** The person's Slack user ids (U…, W…). */
  readonly slack: readonly string[];
  /** The AWS principals the person signs in to the CLI as. */
  readonly aws: readonly ConfiguredPrincipal[];
}

/** `lab` trusts the OS user on the CLI, unverified, and says so on every record; `verified` (the default) does not. */
export type IdentityMode = "verified" | "lab";

export interface IdentitySettings {
  readonly people: readonly Person[];
  /** Per permission: people names, Slack user ids and Slack user-group ids (access, and slack.access, merged). */
  readonly access: Readonly<Record<Permission, readonly string[]>>;
  readonly mode: IdentityMode;
}

export const SLACK_VERIFICATION = "Slack signed request";

export class People {
  private readonly byName: ReadonlyMap<string, Person>;

  constructor(private readonly settings: IdentitySettings) {
    this.byName = new Map(settings.people.map((person) => [person.name, person]));
  }

  /** Whether breakglass.yaml lists people at all; without them the CLI cannot tell who anyone is. */
  get hasPeople(): boolean {
    return this.settings.people.length > 0;
  }

  get mode(): IdentityMode {
    return this.settings.mode;
  }

  /** The person behind a Slack user id from a signed request; the user id itself when no person lists it. */
  slackActor(userId: string): Actor {
    const person = this.settings.people.find((candidate) => candidate.slack.includes(userId));
    const label = `slack:${userId}`;
    return {
      person: person === undefined ? label : personId(person.name),
      label,
      verification: SLACK_VERIFICATION,
      verified: true,
    };
  }

  /** The person behind the ARN sts:GetCallerIdentity returned for the CLI's credentials; "aws:<principal>" when no person lists it. */
  awsActor(callerArn: string, label: string): Actor {
    const principal = principalOfCallerArn(callerArn);
    const described = principal === undefined ? callerArn : describePrincipal(principal);
    const person =
      principal === undefined
        ? undefined
        : this.settings.people.find((candidate) =>
            candidate.aws.some((configured) => principalMatches(principal, configured)),
          );
    return {
      person: person === undefined ? `aws:${described}` : personId(person.name),
      label,
      verification: `AWS STS ${described}`,
      verified: true,
    };
  }

  /** Lab mode: the OS user, trusted without proof (as the person of that name when the people list has one). */
  labActor(osUser: string, label: string): Actor {
    const person = this.byName.has(osUser) ? personId(osUser) : `os:${osUser}`;
    return { person, label, verification: `unverified: lab mode, OS user ${osUser}`, verified: false };
  }

  /** Whether the rules let this actor do it, from what is written in the lists: Slack user groups are the Slack front end's to expand. */
  allows(actor: Actor, permission: Permission): boolean {
    const listed = this.settings.access[permission];
    const name = personName(actor.person);
    if (name !== undefined && listed.includes(name)) return true;
    const slackIds =
      name === undefined
        ? [/^slack:(.+)$/.exec(actor.person)?.[1]].filter((id): id is string => id !== undefined)
        : (this.byName.get(name)?.slack ?? []);
    return slackIds.some((id) => listed.includes(id));
  }

  /** Who may, in words, for a refusal: the entries of the rule. */
  allowed(permission: Permission): readonly string[] {
    return this.settings.access[permission];
  }
}
