// DPoP (RFC 9449): proof-of-possession for the OAuth tokens of Okta service apps that require it. Every request (the
// token request and each API call) carries a fresh proof JWT signed with a key that never leaves this process, so a
// leaked token is useless without it.
import { createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from "node:crypto";

/** One P-256 key per process, made when first needed: a restart binds new tokens to a new key, as RFC 9449 allows. */
let processKey: { readonly privateKey: KeyObject; readonly jwk: Readonly<Record<string, string>> } | undefined;

function dpopKey(): { readonly privateKey: KeyObject; readonly jwk: Readonly<Record<string, string>> } {
  if (processKey === undefined) {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const { kty = "EC", crv = "P-256", x = "", y = "" } = publicKey.export({ format: "jwk" });
    // Only the public members, in the order RFC 7638's thumbprint uses.
    processKey = { privateKey, jwk: { crv, kty, x, y } };
  }
  return processKey;
}

/** What a proof is for. */
export interface ProofRequest {
  readonly method: string;
  /** The request's URL; its query and fragment are left out of `htu`. */
  readonly url: URL;
  /** The server's latest DPoP-Nonce, when it asked for one. */
  readonly nonce?: string | undefined;
  /** The access token sent with a resource request, bound by `ath`; none on the token request. */
  readonly accessToken?: string;
}

/** Signs DPoP proofs (ES256, typ dpop+jwt, the public key as `jwk`) with the process's key. */
export class DpopProver {
  constructor(private readonly now: () => number = Date.now) {}

  proof(req: ProofRequest): string {
    const { privateKey, jwk } = dpopKey();
    const header = { typ: "dpop+jwt", alg: "ES256", jwk };
    const claims = {
      jti: randomUUID(),
      htm: req.method,
      htu: `${req.url.origin}${req.url.pathname}`,
      iat: Math.floor(this.now() / 1000),
      ...(req.nonce === undefined ? {} : { nonce: req.nonce }),
      ...(req.accessToken === undefined ? {} : { ath: accessTokenHash(req.accessToken) }),
    };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    // JWS wants the raw r || s pair (64 bytes), not DER.
    const signature = sign("sha256", Buffer.from(signingInput), { key: privateKey, dsaEncoding: "ieee-p1363" });
    return `${signingInput}.${signature.toString("base64url")}`;
  }
}

/** `ath`: base64url of the SHA-256 of the access token's ASCII. */
export function accessTokenHash(token: string): string {
  return createHash("sha256").update(token, "ascii").digest("base64url");
}

/** The DPoP-Nonce header of an answer, when it has a usable one (RFC 9449 §8: NQCHAR, no spaces or quotes). */
export function dpopNonce(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  const value = headers["dpop-nonce"];
  const nonce = (Array.isArray(value) ? value[0] : value)?.trim();
  return nonce !== undefined && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(nonce) ? nonce : undefined;
}

/** True when a 401's WWW-Authenticate is the DPoP scheme asking for a nonce (RFC 9449 §9). */
export function asksForDpopNonce(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  const value = headers["www-authenticate"];
  const challenges = Array.isArray(value) ? value.join(", ") : (value ?? "");
  return /(^|[\s,])DPoP\b[^]*\berror="use_dpop_nonce"/i.test(challenges);
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}
