// Text that reaches Slack: nothing in it can ping a channel, leak a credential or pass Slack's limits, and people and times read well.
import { describe, expect, it } from "vitest";
import { oneLine } from "../../src/domain/errors.js";
import {
  code,
  cutText,
  escapeMrkdwn,
  limitedLines,
  mentionActor,
  mentionKnownActors,
  mentionPrincipal,
  redactSecrets,
  redactUrls,
  slackDate,
  slackText,
  truncate,
  utcMinute,
} from "../../src/slack/mrkdwn.js";

describe("escaping", () => {
  it("escapes Slack's control characters and defuses broadcasts", () => {
    expect(escapeMrkdwn("a & b <@U1> > @channel @Here")).toBe("a &amp; b &lt;@U1&gt; &gt; @\u2060channel @\u2060Here");
  });

  it("keeps a backtick from ending a code span early", () => {
    expect(code("echo `id` <x>")).toBe("`echo 'id' &lt;x&gt;`");
  });
});

describe("redaction", () => {
  it("redacts what looks like a credential", () => {
    const text = redactSecrets(
      "xoxb-1234-5678-abcdef AKIAABCDEFGHIJKLMNOP eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop https://x/?a=1&token=s3cret&b=2",
    );
    expect(text).toBe(
      "[redacted Slack token] [redacted AWS key id] [redacted token] https://x/?a=1&token=[redacted]&b=2",
    );
  });

  it("cuts a URL's query, fragment and user:password, and keeps the punctuation after it", () => {
    expect(redactUrls("GET https://bucket.s3.amazonaws.com/okta.xml?X-Amz-Signature=deadbeef: HTTP 403.")).toBe(
      "GET https://bucket.s3.amazonaws.com/okta.xml?…: HTTP 403.",
    );
    expect(redactUrls("(https://user:hunter2@idp.example.test/metadata#top)")).toBe(
      "(https://idp.example.test/metadata?…)",
    );
    expect(redactUrls("https://idp.example.test/metadata")).toBe("https://idp.example.test/metadata");
  });

  it("blanks a URL's user:password wherever text reaches Slack, runbook links included", () => {
    expect(slackText("open sftp://ops:hunter2@files.example.test/x?a=1")).toBe(
      "open sftp://[redacted]@files.example.test/x?a=1",
    );
  });

  it("makes free text safe and never turns what someone typed into a mention or a broadcast", () => {
    expect(
      slackText("approved by slack:U0ALICE001 with Bearer abcdefgh12345678 @everyone <!channel> <@U0BOB0002>"),
    ).toBe("approved by slack:U0ALICE001 with Bearer [redacted] @\u2060everyone &lt;!channel&gt; &lt;@U0BOB0002&gt;");
  });

  it("mentions only the people breakglass itself names", () => {
    expect(mentionKnownActors("approved by slack:U0ALICE001, see slack:U0BOB0002", ["slack:U0ALICE001"])).toBe(
      "approved by <@U0ALICE001>, see slack:U0BOB0002",
    );
  });
});

describe("cutting text", () => {
  it("never splits an emoji, a flag or a skin tone, so Slack never shows half a character", () => {
    const header = `${"h".repeat(148)}🔥 and more`;
    expect(truncate(header, 150)).toBe(`${"h".repeat(148)}…`);
    expect(truncate(`${"x".repeat(5)}🇳🇱👍🏽 end`, 10)).toBe(`${"x".repeat(5)}🇳🇱…`);
    expect(cutText("ab👍🏽", 5)).toBe("ab");
    expect(oneLine(`${"y".repeat(298)}🔥🔥`, 300)).toBe(`${"y".repeat(298)}…`);
  });
});

describe("mentions", () => {
  it("mentions a Slack actor and shows any other actor as written, escaped", () => {
    expect(mentionActor("slack:W0ABC1234")).toBe("<@W0ABC1234>");
    expect(mentionActor("slack:not-an-id")).toBe("slack:not-an-id");
    expect(mentionActor("alice <root>")).toBe("alice &lt;root&gt;");
  });

  it("shows a person of breakglass.yaml's people by their name, not the audit log's person: id", () => {
    expect(mentionActor("person:alice")).toBe("alice");
  });

  it("mentions a user group as a group and anyone else as a person", () => {
    expect(mentionPrincipal("S0RESPOND")).toBe("<!subteam^S0RESPOND>");
    expect(mentionPrincipal("U0ALICE001")).toBe("<@U0ALICE001>");
  });
});

describe("length", () => {
  it("cuts long text to the limit with an ellipsis, and leaves short text alone", () => {
    expect(truncate("abcdef", 4)).toBe("abc…");
    expect(truncate("abcd", 4)).toBe("abcd");
    expect(truncate("abcd", 0)).toBe("…");
  });

  it("lists the first lines and counts the rest", () => {
    expect(limitedLines(["a", "b", "c"], 2, (count) => `…and ${count} more`)).toEqual(["a", "b", "…and 1 more"]);
    expect(limitedLines(["a", "b"], 2, (count) => `…and ${count} more`)).toEqual(["a", "b"]);
  });
});

describe("dates", () => {
  it("shows a time in each reader's timezone, with UTC for clients that cannot", () => {
    const at = new Date("2026-11-20T08:15:42Z");
    expect(utcMinute(at)).toBe("2026-11-20 08:15 UTC");
    expect(slackDate(at)).toBe(
      `<!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} {time}|2026-11-20 08:15 UTC>`,
    );
  });
});
