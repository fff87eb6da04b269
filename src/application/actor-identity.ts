// Who is at the CLI: resolved once per command from verified facts (the AWS principal of the default credential chain,
// through sts:GetCallerIdentity), or from the OS user in an explicitly named lab mode, then held to the access rules
// every front end shares.
import { BreakglassError, describeError } from "../domain/errors.js";
import type { Actor } from "../domain/identity/actor.js";
import { PERMISSION_MEANINGS, type People, type Permission } from "../domain/identity/people.js";

/** Where the CLI's facts come from; the composition root wires STS and the OS, tests may wire the same to their own. */
export interface CliIdentitySource {
  /** The ARN sts:GetCallerIdentity returns for the CLI's credentials; throws when they are missing or STS cannot be reached. */
  callerArn(): Promise<string>;
  /** The OS account running the CLI, or undefined when the OS cannot say. */
  osUser(): string | undefined;
}

export interface CliActorRequest {
  /** The --as text: shown on the record, never trusted as an identity. */
  readonly label: string;
  /** What the command needs the person for. */
  readonly permission: Permission;
}

/**
 * The CLI's Actor, allowed to do what it asks, or a refusal saying why. With a people list (or in lab mode) the same
 * access rules as Slack's apply; without one, the CLI cannot tell who anyone is, so it can still start and move runs as
 * before, but never approve (nor reject) anything.
 */
export async function resolveCliActor(
  people: People,
  source: CliIdentitySource,
  request: CliActorRequest,
): Promise<Actor> {
  const label = requireLabel(request.label);
  const actor = await identify(people, source, label, request.permission);
  if ((people.hasPeople || people.mode === "lab") && !people.allows(actor, request.permission)) {
    const listed = people.allowed(request.permission);
    const who = listed.length === 0 ? "nobody may" : `${listed.join(", ")} may`;
    const where = `access.${request.permission} and slack.access.${request.permission} in breakglass.yaml`;
    throw new BreakglassError(
      "ACCESS_REFUSED",
      `--as ${label}`,
      `you are ${actor.person} (${actor.verification}), who may not ${PERMISSION_MEANINGS[request.permission]}: ${who} (${where})`,
    );
  }
  return actor;
}

async function identify(
  people: People,
  source: CliIdentitySource,
  label: string,
  permission: Permission,
): Promise<Actor> {
  if (people.mode === "lab") {
    const osUser = source.osUser();
    if (osUser === undefined)
      throw new BreakglassError(
        "IDENTITY_UNVERIFIED",
        `--as ${label}`,
        "lab mode trusts the OS user, but the OS does not name the account running breakglass",
      );
    return people.labActor(osUser, label);
  }
  const decides = permission === "approve";
  if (!people.hasPeople) {
    if (decides) {
      throw new BreakglassError(
        "IDENTITY_UNVERIFIED",
        `--as ${label}`,
        "breakglass.yaml has no people list, so the CLI cannot tell who you are, and an approval needs a " +
          "verified second person: add people (their AWS principals), or decide in Slack",
      );
    }
    return {
      person: `unverified:${label}`,
      label,
      verification: "unverified: breakglass.yaml has no people list",
      verified: false,
    };
  }
  let arn: string;
  try {
    arn = await source.callerArn();
  } catch (error) {
    throw new BreakglassError(
      "IDENTITY_UNVERIFIED",
      `--as ${label}`,
      `cannot verify who you are, so nothing that needs a person is done: ${describeError(error)}; set ` +
        `AWS credentials of your own (the AWS_PROFILE or keys of your principal in people)`,
      { cause: error },
    );
  }
  const actor = people.awsActor(arn, label);
  if (actor.person.startsWith("aws:")) {
    throw new BreakglassError(
      "IDENTITY_UNVERIFIED",
      `--as ${label}`,
      `your AWS principal ${actor.person.slice("aws:".length)} is not listed for anyone under people in breakglass.yaml, so breakglass cannot tell who you are`,
    );
  }
  return actor;
}

function requireLabel(given: string): string {
  const label = given.trim();
  if (label === "")
    throw new BreakglassError("USAGE", "--as", "expected your name: every step is recorded with who did it");
  return label;
}
