// The OAuth 2.0 client credentials grant (RFC 6749 §4.4) as the loopback IdP stand-ins issue it: client_secret_post
// (Entra ID) or private_key_jwt (RFC 7523, what Okta requires of service apps), short-lived tokens on a test's clock.
import { randomBytes, verify, type KeyObject } from "node:crypto";
import { DpopVerifier } from "./dpop-verifier.js";

export interface OAuthClient {
  readonly clientId: string;
  /** client_secret_post */
  readonly secret?: string;
  /** private_key_jwt: the public half of the key the client signs its assertion with. */
  readonly publicKey?: KeyObject;
  /** "Require Demonstrating Proof of Possession (DPoP) header in token requests": a token request without a proof is refused. */
  readonly requireDpop?: boolean;
}

export interface TokenAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What the token endpoint says to a wrong credential, in the vendor's words. */
export interface IssuerWording {
  readonly badSecret: (clientId: string) => TokenAnswer;
  readonly badAssertion: TokenAnswer;
  readonly unknownClient: (clientId: string) => TokenAnswer;
}

export class OAuthTokenIssuer {
  /** Tokens issued, with when each expires (epoch milliseconds on `now`). */
  private readonly issued = new Map<string, number>();
  /** DPoP-bound tokens: the thumbprint of the key each is bound to. */
  private readonly bindings = new Map<string, string>();
  /** Checks proofs at the token endpoint (its own jti memory, as Okta's authorization server keeps). */
  readonly dpop = new DpopVerifier();
  /** The nonce the token endpoint demands in every proof, as Okta's does; `rotateDpopNonce` makes the last one stale. */
  dpopNonce = randomBytes(16).toString("base64url");
  readonly clients = new Map<string, OAuthClient>();
  /** Seconds in `expires_in`; Entra ID issues 60 to 90 minutes, Okta one hour. */
  lifetimeSeconds = 3600;
  tokenRequests = 0;
  /** Answer every issued token as expired, however fresh: a server whose clock is far ahead. */
  refuseIssued = false;

  constructor(
    private readonly now: () => number,
    private readonly wording: IssuerWording,
  ) {}

  register(client: OAuthClient): void {
    this.clients.set(client.clientId, client);
  }

  /** A token the server no longer accepts although its expires_in has not run out (revoked, or the clocks disagree). */
  revokeAll(): void {
    this.issued.clear();
  }

  rotateDpopNonce(): void {
    this.dpopNonce = randomBytes(16).toString("base64url");
  }

  /** The thumbprint of the key a DPoP-bound token is bound to; undefined for a Bearer token. */
  binding(token: string): string | undefined {
    return this.bindings.get(token);
  }

  /** "valid", "expired" (issued here, past its lifetime) or "unknown". */
  check(token: string): "valid" | "expired" | "unknown" {
    const expiresAt = this.issued.get(token);
    if (expiresAt === undefined) return "unknown";
    if (this.refuseIssued) return "expired";
    return this.now() < expiresAt ? "valid" : "expired";
  }

  /** Answers a POST to the token endpoint at `tokenUrl` with this form body. */
  answer(
    form: string,
    tokenUrl: string,
    scopes: (scope: string) => string | undefined,
    proof?: string | string[],
  ): TokenAnswer {
    this.tokenRequests++;
    const fields = new URLSearchParams(form);
    if (fields.get("grant_type") !== "client_credentials")
      return {
        status: 400,
        body: { error: "unsupported_grant_type", error_description: "The grant type is not supported." },
      };
    let clientId = fields.get("client_id") ?? "";
    const assertion = fields.get("client_assertion");
    if (assertion !== null) {
      const claims = readAssertion(assertion);
      clientId = typeof claims?.iss === "string" ? claims.iss : "";
      const client = this.clients.get(clientId);
      if (!client) return this.wording.unknownClient(clientId);
      const nowSeconds = this.now() / 1000;
      const valid =
        claims !== undefined &&
        client.publicKey !== undefined &&
        verifyAssertion(assertion, client.publicKey) &&
        claims.sub === clientId &&
        claims.aud === tokenUrl &&
        typeof claims.exp === "number" &&
        claims.exp > nowSeconds &&
        fields.get("client_assertion_type") === "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
      if (!valid) return this.wording.badAssertion;
    } else {
      const client = this.clients.get(clientId);
      if (!client) return this.wording.unknownClient(clientId);
      if (client.secret === undefined || fields.get("client_secret") !== client.secret)
        return this.wording.badSecret(clientId);
    }
    // Okta checks the proof once the client is known: https://developer.okta.com/docs/guides/dpop/
    let thumbprint: string | undefined;
    if (proof !== undefined || this.clients.get(clientId)?.requireDpop === true) {
      const checked = this.dpop.check(proof, {
        method: "POST",
        url: tokenUrl,
        now: this.now(),
        nonce: this.dpopNonce,
      });
      if (!checked.ok)
        return {
          status: 400,
          body: { error: checked.nonce ? "use_dpop_nonce" : "invalid_dpop_proof", error_description: checked.reason },
          ...(checked.nonce ? { headers: { "dpop-nonce": this.dpopNonce } } : {}),
        };
      thumbprint = checked.thumbprint;
    }
    const scope = scopes(fields.get("scope") ?? "");
    if (scope === undefined)
      return {
        status: 400,
        body: {
          error: "invalid_scope",
          error_description: "The authorization server does not support the requested scope.",
        },
      };
    const token = randomBytes(24).toString("base64url");
    this.issued.set(token, this.now() + this.lifetimeSeconds * 1000);
    if (thumbprint !== undefined) this.bindings.set(token, thumbprint);
    return {
      status: 200,
      body: {
        token_type: thumbprint === undefined ? "Bearer" : "DPoP",
        expires_in: this.lifetimeSeconds,
        access_token: token,
        ...(scope === "" ? {} : { scope }),
      },
    };
  }
}

function readAssertion(jwt: string): Record<string, unknown> | undefined {
  try {
    const claims = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as unknown;
    return typeof claims === "object" && claims !== null ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function verifyAssertion(jwt: string, publicKey: KeyObject): boolean {
  const [header, claims, signature] = jwt.split(".");
  if (header === undefined || claims === undefined || signature === undefined) return false;
  const alg = (JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { alg?: unknown }).alg;
  return (
    alg === "RS256" &&
    verify("sha256", Buffer.from(`${header}.${claims}`), publicKey, Buffer.from(signature, "base64url"))
  );
}
