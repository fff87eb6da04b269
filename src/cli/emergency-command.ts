// `breakglass incident declare | close`, `breakglass grant` and `breakglass revoke`: the emergency-access use cases
// Slack's /breakglass offers, for when Slack is down too. Each parses, calls the same use case, and prints the result.
import { formatDuration, parseDuration, DURATION_DESCRIPTION } from "../domain/shared/duration.js";
import { BreakglassError } from "../domain/errors.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import { withActor, type OperatorOptions } from "./runbook-run-command.js";

export async function runIncidentDeclare(
  title: readonly string[],
  options: OperatorOptions,
  io: CliIo,
): Promise<number> {
  return withActor(options, io, "run", async ({ emergency }, actor) => {
    const declared = await emergency.declareIncident(title.join(" "), actor);
    io.stdout(
      `Declared ${declared.incident}: "${declared.window.reason ?? ""}", opened ${declared.window.openedAt} by ${actor.label}.\n`,
    );
    io.stdout(
      `Emergency access is now allowed under it: breakglass grant <login> --as <you>; close it with ` +
        `breakglass incident close ${declared.incident} --as <you>.\n`,
    );
    return EXIT.ok;
  });
}

export async function runIncidentClose(
  incident: string | undefined,
  options: OperatorOptions,
  io: CliIo,
): Promise<number> {
  return withActor(options, io, "run", async ({ emergency }, actor) => {
    const closed = await emergency.closeIncident(actor, incident);
    io.stdout(`Closed ${closed.incident} (window ${closed.window.openedAt} – ${closed.window.closedAt ?? "?"}).\n`);
    for (const revoked of closed.revoked)
      io.stdout(`Removed ${revoked.user.login} from ${revoked.groups.join(", ")}: verified gone.\n`);
    for (const failed of closed.notRevoked) {
      io.stdout(
        `Could NOT remove ${failed.login} from ${failed.groups.join(", ")} (${failed.error}); the lease ` +
          `stays active, so breakglass leases reap removes it when it ends.\n`,
      );
    }
    io.stdout(`Activity summary: ${closed.activitySummary}\n`);
    return closed.notRevoked.length === 0 ? EXIT.ok : EXIT.findings;
  });
}

export async function runGrant(login: string, options: OperatorOptions & { ttl?: string }, io: CliIo): Promise<number> {
  const ttl = options.ttl === undefined ? null : parseTtl(options.ttl);
  return withActor(options, io, "grant", async ({ emergency }, actor) => {
    const granted = await emergency.grant(login, ttl, actor);
    io.stdout(
      `Granted ${granted.user.login} emergency access under ${granted.incident}: member ` +
        `of ${granted.groups.join(", ")} until ${granted.expiresAt} (${formatDuration(granted.ttl)}), verified.\n`,
    );
    return EXIT.ok;
  });
}

export async function runRevoke(login: string, options: OperatorOptions, io: CliIo): Promise<number> {
  return withActor(options, io, "grant", async ({ emergency }, actor) => {
    const revoked = await emergency.revoke(login, actor);
    io.stdout(
      `Revoked emergency access from ${revoked.user.login}: removed from ${revoked.groups.join(", ")}, verified.\n`,
    );
    return EXIT.ok;
  });
}

function parseTtl(text: string): number {
  const milliseconds = parseDuration(text);
  if (milliseconds === undefined)
    throw new BreakglassError("USAGE", "--ttl", `expected ${DURATION_DESCRIPTION}, got "${text}"`);
  return milliseconds;
}
