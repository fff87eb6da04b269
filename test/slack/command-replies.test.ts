// The slash command's short replies: what someone typed (an incident title, a notification filled from inputs) can
// never notify a channel or a person, in the blocks or in the fallback text Slack shows in notifications.
import { describe, expect, it } from "vitest";
import { incidentDeclaredMessage, runbookNotification } from "../../src/slack/command-replies.js";
import { visibleText } from "../support/block-text.js";

const at = new Date("2026-05-01T12:00:00Z");

describe("an incident title typed in Slack", () => {
  it("reaches neither the blocks nor the fallback text as a broadcast or a mention", () => {
    const message = incidentDeclaredMessage(
      "INC-7",
      "IdP down <!channel> & slack:U0OTHER999",
      "slack:U0INIT0001",
      at,
      "/breakglass",
    );
    for (const text of [visibleText(message.blocks), message.text]) {
      expect(text).not.toContain("<!channel>");
      expect(text).not.toContain("<@U0OTHER999>");
    }
    expect(message.text).toBe("Emergency declared: IdP down &lt;!channel&gt; &amp; slack:U0OTHER999 (INC-7)");
    expect(visibleText(message.blocks)).toContain("by <@U0INIT0001>");
  });
});

describe("a runbook notification", () => {
  it("mentions the run's initiator and nobody an input names, with the fallback text escaped", () => {
    const message = runbookNotification(
      "FM3 started by slack:U0INIT0001: reason slack:U0OTHER999 <!here>",
      "slack:U0INIT0001",
    );
    expect(message.text).toBe("FM3 started by <@U0INIT0001>: reason slack:U0OTHER999 &lt;!here&gt;");
    expect(visibleText(message.blocks)).toBe(message.text);
  });
});
