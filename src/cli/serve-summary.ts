// What `breakglass config validate` says about `breakglass serve`: its schedule, where Slack messages go, who may act,
// and what in the config or the environment would leave part of it silently idle.
import type { BreakglassConfig } from "../config/config-schema.js";
import { formatDuration } from "../domain/shared/duration.js";
import { describeError } from "../domain/errors.js";
import { slackSettings } from "../slack/slack-settings.js";

export function serveSummary(config: BreakglassConfig, env: NodeJS.ProcessEnv): string[] {
  const { serve, slack } = config;
  const rungs = serve.expiryLadder.join(", ");
  const lines = [
    `  serve: a full check every ${formatDuration(serve.checkInterval)}; certificate warnings ${rungs} days before expiry, then daily`,
  ];
  if (slack === undefined) {
    lines.push("  slack: no slack section, so serve logs what it would post");
    return lines;
  }
  const channels = (["alerts", "incidents", "security"] as const).map(
    (role) => `${role} ${slack.channels[role] ?? "(none: logged)"}`,
  );
  lines.push(`  slack: ${channels.join(", ")}${slack.socketMode ? "; Socket Mode" : ""}`);
  const access = slack.access;
  lines.push(
    `  slack access: run ${access.run.length}, approve ${access.approve.length}, grant ${access.grant.length} (user or user-group IDs; anyone may read)`,
  );
  const nobody = {
    run: "check or start runbooks",
    approve: "approve runbook steps",
    grant: "grant emergency access",
  } as const;
  for (const permission of ["run", "approve", "grant"] as const) {
    if (access[permission].length === 0)
      lines.push(`  warning: slack.access.${permission} is empty: nobody can ${nobody[permission]} from Slack`);
  }
  if (slack.grant !== undefined && config.idp.directory === undefined)
    lines.push("  warning: slack.grant needs idp.directory: /breakglass grant cannot add anyone to a group");
  try {
    const settings = slackSettings(config, env);
    lines.push(
      settings === undefined
        ? `  slack credentials: SLACK_BOT_TOKEN and ${slack.socketMode ? "SLACK_APP_TOKEN" : "SLACK_SIGNING_SECRET"} ` +
            "are not set here, so serve started here would only log"
        : `  slack credentials: set (${settings.socketMode ? "Socket Mode" : "HTTP receiver"}, Web API ${settings.apiUrl})`,
    );
  } catch (error) {
    lines.push(`  warning: ${describeError(error)}`);
  }
  return lines;
}
