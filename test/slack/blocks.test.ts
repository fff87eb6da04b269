// The blocks every message is built from: never an empty text object, never over Slack's limits.
import { describe, expect, it } from "vitest";
import {
  contextBlock,
  headerBlock,
  plainContextBlock,
  plainSectionBlock,
  sectionBlock,
} from "../../src/slack/blocks.js";

describe("blocks", () => {
  it("cuts a section to what Slack accepts and never leaves it empty", () => {
    expect(sectionBlock("x".repeat(5000)).text?.text.length).toBe(2900);
    expect(sectionBlock("")).toEqual({ type: "section", text: { type: "mrkdwn", text: " " } });
  });

  it("shows quoted text as written, with no emoji codes", () => {
    expect(plainSectionBlock("arn:aws:iam::111111111111:saml-provider/Emergency_IdP")).toEqual({
      type: "section",
      text: { type: "plain_text", text: "arn:aws:iam::111111111111:saml-provider/Emergency_IdP", emoji: false },
    });
  });

  it("keeps a context line to ten elements and leaves out empty ones", () => {
    const texts = ["", ...Array.from({ length: 12 }, (_, index) => `item ${index}`)];
    expect(contextBlock(...texts).elements).toHaveLength(10);
    expect(contextBlock(...texts).elements[0]).toEqual({ type: "mrkdwn", text: "item 0" });
    expect(plainContextBlock("", "Account 111111111111").elements).toEqual([
      { type: "plain_text", text: "Account 111111111111", emoji: false },
    ]);
    expect(contextBlock("").elements).toEqual([{ type: "mrkdwn", text: " " }]);
  });

  it("cuts a header to 150 characters", () => {
    expect(headerBlock("h".repeat(200)).text.text).toBe(`${"h".repeat(149)}…`);
  });
});
