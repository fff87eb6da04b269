// Checks that a request really comes from Slack before Bolt sees it: the signing secret's HMAC, a timestamp within five
// minutes, and never the same signature twice (https://docs.slack.dev/authentication/verifying-requests-from-slack).
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Clock } from "../domain/shared/clock.js";

export const SIGNATURE_WINDOW_SECONDS = 5 * 60;

export type Rejection = "missing-headers" | "stale" | "forged" | "replayed";

export type Verdict =
  { readonly ok: true } | { readonly ok: false; readonly reason: Rejection; readonly detail: string };

export class RequestGuard {
  /** Signatures seen within the window, with when each stops mattering (epoch seconds). */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly signingSecret: string,
    private readonly clock: Clock,
  ) {}

  check(headers: Readonly<Record<string, string | string[] | undefined>>, body: Buffer): Verdict {
    const timestampHeader = headers["x-slack-request-timestamp"];
    const signature = headers["x-slack-signature"];
    if (typeof timestampHeader !== "string" || typeof signature !== "string" || !/^\d+$/.test(timestampHeader)) {
      return {
        ok: false,
        reason: "missing-headers",
        detail: "no X-Slack-Signature and X-Slack-Request-Timestamp headers",
      };
    }
    const timestamp = Number(timestampHeader);
    const now = Math.floor(this.clock.now().getTime() / 1000);
    if (Math.abs(now - timestamp) > SIGNATURE_WINDOW_SECONDS) {
      return {
        ok: false,
        reason: "stale",
        detail: `timestamp ${timestamp} is more than ${SIGNATURE_WINDOW_SECONDS / 60} minutes from now`,
      };
    }
    const expected = Buffer.from(
      `v0=${createHmac("sha256", this.signingSecret).update(`v0:${timestampHeader}:`).update(body).digest("hex")}`,
    );
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: "forged", detail: "the signature does not match the signing secret" };
    }
    this.forgetExpired(now);
    if (this.seen.has(signature))
      return { ok: false, reason: "replayed", detail: "this exact signed request was already received" };
    this.seen.set(signature, timestamp + SIGNATURE_WINDOW_SECONDS);
    return { ok: true };
  }

  private forgetExpired(now: number): void {
    // Signatures are inserted in arrival order, which is nearly timestamp order; stop at the first still-valid one.
    for (const [signature, expiresAt] of this.seen) {
      if (expiresAt >= now - SIGNATURE_WINDOW_SECONDS) break;
      this.seen.delete(signature);
    }
  }
}
