// The slash command's short replies: what someone typed (an incident title, a notification filled from inputs) can
// never notify a channel or a person, in the blocks or in the fallback text Slack shows in notifications.
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { loadRunbook } from "../../src/adapters/runbook-files/runbook-files.js";
import { BreakglassError } from "../../src/domain/errors.js";
import {
  failure,
  grantedMessage,
  incidentClosedMessage,
  incidentDeclaredMessage,
  revokedMessage,
  runbookListMessage,
  runbookNotification,
} from "../../src/slack/command-replies.js";
import { errorReply } from "../../src/slack/error-reply.js";
import { helpMessage, usageMessage } from "../../src/slack/help-message.js";
import { blockKitProblems, blockTextTotal, MESSAGE_BLOCK_TEXT_LIMIT } from "../support/block-kit-limits.js";
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

const fm3 = await loadRunbook(join(import.meta.dirname, "..", "..", "runbooks", "fm3-direct-federation.yaml"));

describe("the runbook list", () => {
  const installed = (count: number) =>
    Array.from({ length: count }, (_, index) => ({
      path: `runbooks/r${index}.yaml`,
      runbook: { ...fm3.runbook, id: `runbook-${String(index).padStart(3, "0")}` },
    }));

  it("lists 49 and more runbooks within one message's limits, and says how many it left out", () => {
    for (const count of [1, 49, 60, 300]) {
      const message = runbookListMessage(installed(count), "/breakglass");
      expect(blockKitProblems(message.blocks)).toEqual([]);
      expect(blockTextTotal(message.blocks)).toBeLessThanOrEqual(MESSAGE_BLOCK_TEXT_LIMIT);
      const text = visibleText(message.blocks);
      expect(text).toContain("`runbook-000`");
      if (count === 49) expect(text).toContain("`runbook-048`");
      if (count === 300) expect(text).toMatch(/…and \d+ more: `breakglass runbook list` in a terminal lists them all/);
    }
  });
});

describe("help, usage and error replies", () => {
  it("stay within Slack's limits whatever the problem says", () => {
    const long = `🔥 ${"bad input <!channel> https://u:p@x.example/?token=t ".repeat(250)}`;
    const replies = [
      helpMessage(),
      usageMessage(long),
      errorReply(new BreakglassError("RUNBOOK_NOT_FOUND", long, long)),
      failure(long),
      grantedMessage("U0ALICE001", long, [long], at, long, "slack:U0BOB0002"),
      revokedMessage("U0ALICE001", long, [long], "slack:U0BOB0002"),
      incidentClosedMessage(long, "slack:U0BOB0002", [long], [long], long),
    ];
    for (const reply of replies) {
      expect(blockKitProblems(reply.blocks)).toEqual([]);
      expect(blockTextTotal(reply.blocks)).toBeLessThanOrEqual(MESSAGE_BLOCK_TEXT_LIMIT);
    }
  });
});
