// How an authorization or resource server checks a DPoP proof (RFC 9449 §4.3): one JWT in one DPoP header, typ
// dpop+jwt, an asymmetric alg, a public jwk that verifies the signature, htm and htu matching the request, iat within a
// window, a jti never seen before, the server's nonce when it demands one, and on a resource request ath matching the
// access token. Used by the loopback Okta stand-in's token endpoint and API.
import { createHash, createPublicKey, verify } from "node:crypto";

/** How far a proof's iat may be from the server's clock, either way (Okta allows about a minute). */
export const IAT_WINDOW_SECONDS = 60;

export interface ProofExpectation {
  readonly method: string;
  /** The request URL as the server sees it; compared without query and fragment. */
  readonly url: string;
  /** Epoch milliseconds, the server's clock. */
  readonly now: number;
  /** The nonce the server currently demands, if any. */
  readonly nonce?: string | undefined;
  /** On a resource request: the access token in the Authorization header. */
  readonly accessToken?: string;
  /** On a resource request: the thumbprint the token was bound to when issued. */
  readonly boundTo?: string;
}

export type ProofCheck =
  | { readonly ok: true; readonly thumbprint: string }
  /** `nonce` when only the nonce is missing or stale: the server answers use_dpop_nonce. */
  | { readonly ok: false; readonly nonce: boolean; readonly reason: string };

export class DpopVerifier {
  /** jti values already used, never accepted twice. */
  private readonly seen = new Set<string>();

  check(header: string | string[] | undefined, expected: ProofExpectation): ProofCheck {
    const fail = (reason: string, nonce = false): ProofCheck => ({ ok: false, nonce, reason });
    if (header === undefined) return fail("The DPoP proof JWT header is missing.");
    if (Array.isArray(header) || header.includes(",")) return fail("Only one DPoP proof may be sent.");
    const [head, body, signature] = header.split(".");
    if (head === undefined || body === undefined || signature === undefined || header.split(".").length !== 3)
      return fail("The DPoP proof is not a JWS.");
    const joseHeader = parse(head);
    const claims = parse(body);
    if (!joseHeader || !claims) return fail("The DPoP proof is not a JWS.");
    if (joseHeader.typ !== "dpop+jwt") return fail("The DPoP proof 'typ' must be 'dpop+jwt'.");
    if (joseHeader.alg !== "ES256") return fail("The DPoP proof 'alg' is not supported.");
    const jwk = joseHeader.jwk;
    if (typeof jwk !== "object" || jwk === null || "d" in jwk) return fail("The DPoP proof 'jwk' is invalid.");
    const { kty, crv, x, y } = jwk as Record<string, unknown>;
    if (kty !== "EC" || crv !== "P-256" || typeof x !== "string" || typeof y !== "string")
      return fail("The DPoP proof 'jwk' is invalid.");
    let valid = false;
    try {
      const key = createPublicKey({ key: { kty, crv, x, y }, format: "jwk" });
      valid = verify("sha256", Buffer.from(`${head}.${body}`), { key, dsaEncoding: "ieee-p1363" }, b64(signature));
    } catch {
      valid = false;
    }
    if (!valid) return fail("The DPoP proof signature is invalid.");
    if (claims.htm !== expected.method) return fail("The DPoP proof 'htm' does not match the request method.");
    const url = new URL(expected.url);
    if (claims.htu !== `${url.origin}${url.pathname}`)
      return fail("The DPoP proof 'htu' does not match the request URL.");
    if (typeof claims.iat !== "number" || Math.abs(claims.iat - expected.now / 1000) > IAT_WINDOW_SECONDS)
      return fail("The DPoP proof 'iat' is outside the accepted window.");
    if (typeof claims.jti !== "string" || claims.jti === "") return fail("The DPoP proof 'jti' is missing.");
    if (this.seen.has(claims.jti)) return fail("The DPoP proof 'jti' has already been used.");
    const thumbprint = jwkThumbprint(crv, x, y);
    if (expected.accessToken !== undefined) {
      const ath = createHash("sha256").update(expected.accessToken, "ascii").digest("base64url");
      if (claims.ath !== ath) return fail("The DPoP proof 'ath' does not match the access token.");
      if (expected.boundTo !== thumbprint) return fail("The DPoP proof key is not the one the token is bound to.");
    }
    if (expected.nonce !== undefined && claims.nonce !== expected.nonce)
      return fail(
        expected.accessToken === undefined
          ? "Authorization server requires nonce in DPoP proof."
          : "Resource server requires nonce in DPoP proof.",
        true,
      );
    this.seen.add(claims.jti);
    return { ok: true, thumbprint };
  }
}

/** RFC 7638 thumbprint of an EC public key: SHA-256 of the required members in lexicographic order. */
export function jwkThumbprint(crv: string, x: string, y: string): string {
  return createHash("sha256")
    .update(JSON.stringify({ crv, kty: "EC", x, y }))
    .digest("base64url");
}

function parse(part: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(b64(part).toString("utf8")) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function b64(part: string): Buffer {
  return Buffer.from(part, "base64url");
}
