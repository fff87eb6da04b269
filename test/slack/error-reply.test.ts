// The reply a person gets in Slack when what they asked for failed: one line, the failure naming its input, then
// what to do, told apart by kind (fix it, look elsewhere, wait, ask someone, retry, stop, report) and never a secret.
import { describe, expect, it } from "vitest";
import { BreakglassError, ERROR_KINDS, type ErrorKind } from "../../src/domain/errors.js";
import { ERROR_EMOJI, errorReply } from "../../src/slack/error-reply.js";
import { visibleText } from "../support/block-text.js";

/** One real failure of each kind, as the engine, the store, the adapters and the audit log throw them. */
const FAILURES: readonly [ErrorKind, unknown, string][] = [
  [
    "usage",
    new BreakglassError("USAGE", "grant", "name the person: /breakglass grant @user [ttl]"),
    "/breakglass help",
  ],
  ["not-found", new BreakglassError("RUN_NOT_FOUND", "run r-7", "no run has this id in the store"), "lists the runs"],
  [
    "conflict",
    new BreakglassError(
      "RUN_BUSY",
      "run r-7",
      "it is being advanced by host-b, whose lease expires at 03:44; try again after that",
    ),
    "wait a moment",
  ],
  [
    "refused",
    new BreakglassError("APPROVAL_REFUSED", "run r-7", 'step "approve" needs a second person: alice started this run'),
    "a second person approves",
  ],
  [
    "unavailable",
    new BreakglassError(
      "IDP_UNAVAILABLE",
      "SCIM https://idp.example/scim/v2",
      "listing members: HTTP 503 Service Unavailable (gave up after 4 attempts)",
    ),
    "safe to retry",
  ],
  [
    "integrity",
    new BreakglassError(
      "AUDIT_FAILED",
      "audit log",
      'cannot record "approval.granted" on approve, so it is not done: disk full',
    ),
    "Tell the security team now",
  ],
  ["internal", new TypeError("Cannot read properties of undefined (reading 'id')"), "report it to its maintainers"],
];

describe("errorReply", () => {
  it.each(FAILURES)(
    "answers a %s error in one line: its emoji, the failure naming its input, what to do",
    (kind, error, advice) => {
      const reply = errorReply(error);
      const text = visibleText(reply.blocks);
      expect(text.split("\n")).toHaveLength(1);
      expect(text.startsWith(`${ERROR_EMOJI[kind]} `)).toBe(true);
      expect(text).toContain((error as Error).message.replace(/</g, "&lt;").replace(/>/g, "&gt;"));
      expect(text).toContain(advice);
      expect(reply.text).toBe(text);
    },
  );

  it("gives every kind an emoji of its own", () => {
    expect(new Set(ERROR_KINDS.map((kind) => ERROR_EMOJI[kind])).size).toBe(ERROR_KINDS.length);
    expect(new Set(FAILURES.map(([kind]) => kind))).toEqual(new Set(ERROR_KINDS));
  });

  it("names the slash command as the app is installed", () => {
    expect(errorReply(new BreakglassError("USAGE", "grant", "name the person")).text).toContain("`/breakglass help`");
    expect(errorReply(new BreakglassError("USAGE", "grant", "name the person"), "/bg").text).toContain("`/bg help`");
  });

  it("shows a refused run's every preflight problem, not the first 300 characters of them", () => {
    const problems = Array.from(
      { length: 6 },
      (_, index) => `no user in the IdP (SCIM) has the login or email "r${index}@example.com"`,
    );
    const refused = new BreakglassError("RUN_PREFLIGHT_FAILED", "runbook fm3-direct-federation", problems.join("; "), {
      maxLength: 2_000,
    });
    const text = String(errorReply(refused).text);
    for (const problem of problems) expect(text).toContain(problem);
  });

  it("keeps the hint, which says how to fix this very error", () => {
    const error = new BreakglassError(
      "IDP_NOT_FOUND",
      "grant mallory",
      "no user in the IdP (scim) has the login or email mallory",
      { hint: "check the spelling" },
    );
    expect(errorReply(error).text).toContain(
      "grant mallory: no user in the IdP (scim) has the login or email mallory (check the spelling) — ",
    );
  });

  it("never shows a token, a password in a URL or a presigned query, nor pings a channel", () => {
    const leaky = [
      new BreakglassError(
        "IDP_UNAUTHORIZED",
        "Okta https://acme.okta.com",
        "HTTP 401: the server echoed Authorization: SSWS 00aBcDeFgHiJkLmNoPqRsTuVwXyZ",
      ),
      new BreakglassError(
        "FETCH_DENIED",
        "https://admin:hunter2@idp.example/metadata?X-Amz-Signature=abc123",
        "the server answered HTTP 403",
      ),
      new Error("slack said invalid_auth for xoxb-1234-5678-abcdefgh <!channel>"),
    ];
    const shown = leaky.map((error) => errorReply(error).text).join("\n");
    for (const secret of ["00aBcDeFgHiJkLmNoPqRsTuVwXyZ", "hunter2", "abc123", "xoxb-1234", "<!channel>"])
      expect(shown).not.toContain(secret);
    expect(shown).toContain("idp.example/metadata");
  });
});
