// The help a person gets from `/breakglass`, and the reply to a command that could not be read: problem first, escaped, then the commands.
import { describe, expect, it } from "vitest";
import { parseSlashCommand } from "../../src/slack/command-parser.js";
import { COMMAND_HELP, helpMessage, usageMessage } from "../../src/slack/help-message.js";
import { visibleText } from "../support/block-text.js";

describe("help", () => {
  it("lists every command on a line of its own", () => {
    const message = helpMessage();
    const text = visibleText(message.blocks);
    for (const entry of COMMAND_HELP)
      expect(text).toContain(`\`/breakglass ${entry.usage.replace(/</g, "&lt;").replace(/>/g, "&gt;")}\``);
    expect(text).toContain("`/breakglass runbook start &lt;id&gt; [name=value …] [--dry-run]` start a runbook");
    expect(text).toContain(
      "`/breakglass grant @person [ttl]` add someone to the emergency groups for a while (such as 2h)",
    );
    expect(message.text).toBe(
      "/breakglass: status, check, runbook list, runbook start &lt;id&gt;, runbook status, grant @person, " +
        "revoke @person, incident declare &lt;title&gt;, incident close, preflight, help",
    );
  });

  it("names the slash command the app is installed under", () => {
    expect(visibleText(helpMessage("/bg").blocks)).toContain("`/bg status`");
  });

  it("every usage line reads back as its command", () => {
    const examples: Record<string, string> = {
      status: "status",
      check: "check",
      "runbook list": "runbook-list",
      "runbook start fm3-direct-federation incident=INC-1 --dry-run": "runbook-start",
      "runbook status": "runbook-status",
      "grant <@U012ABC|ana> 2h": "grant",
      "revoke <@U012ABC|ana>": "revoke",
      "incident declare IdP down": "incident-declare",
      "incident close INC-20261125-0342": "incident-close",
      "preflight arn:aws:iam::111111111111:role/EmergencyAdmin": "saml-preflight",
      help: "help",
    };
    expect(Object.keys(examples)).toHaveLength(COMMAND_HELP.length);
    for (const [text, kind] of Object.entries(examples)) expect(parseSlashCommand(text).kind).toBe(kind);
  });
});

describe("usage", () => {
  it("puts the problem first, escaped, then the short list of commands", () => {
    const message = usageMessage('unknown command "<deploy> & go"');
    const [first, second] = message.blocks;
    expect(first).toEqual({
      type: "section",
      text: { type: "mrkdwn", text: ':warning: unknown command "&lt;deploy&gt; &amp; go"' },
    });
    expect(second?.type).toBe("context");
    expect(visibleText(second)).toContain("`/breakglass status`\n`/breakglass check`");
    expect(message.text).toBe('/breakglass: unknown command "&lt;deploy&gt; &amp; go"');
  });

  it("shows what the parser said about a malformed command", () => {
    const command = parseSlashCommand("grant <@U012ABC|ana> 4 hours");
    if (command.kind !== "usage") throw new Error("expected a problem");
    expect(visibleText(usageMessage(command.problem).blocks)).toContain(
      ':warning: "4 hours" is not a duration such as 30m, 4h or 1h30m',
    );
  });
});
