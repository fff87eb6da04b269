// The checks before Bolt: Slack's HMAC signature, the five-minute window, and no signature accepted twice.
import { describe, expect, it } from "vitest";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { RequestGuard } from "../../src/slack/request-guard.js";
import { sign, TEST_SIGNING_SECRET } from "../support/slack-requests.js";

const NOW = new Date("2026-11-25T03:00:00Z");
const seconds = Math.floor(NOW.getTime() / 1000);
const body = Buffer.from("command=%2Fbreakglass&text=help");

describe("RequestGuard", () => {
  it("accepts a request signed with the signing secret within the window, once", () => {
    const guard = new RequestGuard(TEST_SIGNING_SECRET, fixedClock(NOW));
    const headers = sign(body.toString(), TEST_SIGNING_SECRET, seconds - 299);
    expect(guard.check(headers, body)).toEqual({ ok: true });
    expect(guard.check(headers, body)).toEqual({
      ok: false,
      reason: "replayed",
      detail: "this exact signed request was already received",
    });
  });

  it.each([
    ["another secret", () => sign(body.toString(), "another-secret", seconds), "forged"],
    ["a timestamp over five minutes old", () => sign(body.toString(), TEST_SIGNING_SECRET, seconds - 301), "stale"],
    ["a timestamp over five minutes ahead", () => sign(body.toString(), TEST_SIGNING_SECRET, seconds + 301), "stale"],
    ["no headers", () => ({}), "missing-headers"],
    [
      "a timestamp that is not a number",
      () => ({ ...sign(body.toString()), "x-slack-request-timestamp": "soon" }),
      "missing-headers",
    ],
    [
      "a truncated signature",
      () => ({ ...sign(body.toString(), TEST_SIGNING_SECRET, seconds), "x-slack-signature": "v0=abc" }),
      "forged",
    ],
  ] as const)("refuses %s", (_name, headers, reason) => {
    const guard = new RequestGuard(TEST_SIGNING_SECRET, fixedClock(NOW));
    expect(guard.check(headers(), body)).toMatchObject({ ok: false, reason });
  });

  it("refuses a body changed after signing", () => {
    const guard = new RequestGuard(TEST_SIGNING_SECRET, fixedClock(NOW));
    const headers = sign(body.toString(), TEST_SIGNING_SECRET, seconds);
    expect(guard.check(headers, Buffer.from("command=%2Fbreakglass&text=grant"))).toMatchObject({
      ok: false,
      reason: "forged",
    });
  });
});
