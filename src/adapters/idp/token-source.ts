// Where the IdP adapters get their API token: a static one from the environment, or OAuth 2.0 client credentials
// (RFC 6749 §4.4) fetched from a token endpoint, cached until shortly before it expires and refreshed when refused.
import { createPrivateKey, randomUUID, sign, type KeyObject } from "node:crypto";
import { Agent, request } from "undici";
import { BreakglassError, oneLine } from "../../domain/errors.js";
import { isRecord } from "./foreign-json.js";
import { describeErrorBody } from "./http-client.js";
import { explainNetworkError } from "../http/network-error.js";
import { DpopProver, dpopNonce } from "./dpop.js";

/** A bearer of API tokens; the HTTP client asks it for one before every attempt. */
export interface TokenSource {
  /** A token to send now: cached, or fetched when there is none or it is about to expire. */
  token(): Promise<string>;
  /**
   * The server refused `token` (401): forget it so that the next `token()` fetches a fresh one. False when a fresh one
   * cannot differ (a static token), so the caller reports the 401 instead of retrying.
   */
  invalidate(token: string): boolean;
  /** Set when the tokens are DPoP-bound (RFC 9449): each API call then sends `Authorization: DPoP` and a fresh proof. */
  readonly dpop?: DpopProver | undefined;
}

/** A token configured as is (idp.directory.tokenVariable): never refreshed. */
export class StaticToken implements TokenSource {
  constructor(private readonly value: string) {}

  token(): Promise<string> {
    return Promise.resolve(this.value);
  }

  invalidate(): boolean {
    return false;
  }
}

/** How the client proves who it is to the token endpoint. */
export type ClientCredential =
  /** client_secret_post: Entra ID app registrations, most SCIM servers' OAuth. */
  | { readonly kind: "secret"; readonly secret: string }
  /** private_key_jwt (RFC 7523): what Okta requires of service apps for okta.* scopes. PEM, PKCS#8 or PKCS#1, RSA. */
  | { readonly kind: "private-key"; readonly privateKeyPem: string; readonly keyId?: string };

export interface ClientCredentialsOptions {
  /** https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token, https://<org>.okta.com/oauth2/v1/token, … */
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly credential: ClientCredential;
  /** Space-separated: https://graph.microsoft.com/.default, or "okta.users.read okta.groups.manage". */
  readonly scope: string;
  /** How errors name the setting to fix, e.g. "idp.directory.auth.clientSecretVariable (BREAKGLASS_GRAPH_SECRET)". */
  readonly credentialInput: string;
  readonly ca?: string;
  readonly timeoutMs?: number;
  /** DPoP-bound tokens (RFC 9449), as Okta service apps with "Require DPoP" ask: a proof on the token request. */
  readonly dpop?: boolean;
  /** Epoch milliseconds; injected so that tests step through a token's lifetime without waiting. */
  readonly now?: () => number;
}

/**
 * A token is replaced this long before the `expires_in` it came with (a tenth of its lifetime for short ones), so that
 * a request never leaves with a token that expires on the way; a token refused anyway is refreshed once (see the client).
 */
export const REFRESH_MARGIN_MS = 5 * 60_000;

const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export class ClientCredentialsTokenSource implements TokenSource {
  private readonly tokenUrl: URL;
  private readonly options: ClientCredentialsOptions;
  private readonly now: () => number;
  private readonly agent: Agent;
  private readonly key: KeyObject | undefined;
  private cached: { readonly value: string; readonly refreshAt: number } | undefined;
  private pending: Promise<string> | undefined;
  readonly dpop: DpopProver | undefined;
  /** The token endpoint's latest DPoP-Nonce. */
  private nonce: string | undefined;

  constructor(options: ClientCredentialsOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.dpop = options.dpop === true ? new DpopProver(this.now) : undefined;
    if (!/^https:\/\//i.test(options.tokenUrl) || !URL.canParse(options.tokenUrl))
      throw new BreakglassError(
        "USAGE",
        "idp.directory.auth.tokenUrl",
        `expected an https URL, not ${oneLine(options.tokenUrl, 100)}`,
      );
    this.tokenUrl = new URL(options.tokenUrl);
    if (options.credential.kind === "secret" && options.credential.secret.trim() === "")
      throw new BreakglassError("USAGE", options.credentialInput, "the client secret is empty");
    this.key =
      options.credential.kind === "private-key"
        ? readPrivateKey(options.credential.privateKeyPem, options.credentialInput)
        : undefined;
    const timeout = options.timeoutMs ?? 10_000;
    this.agent = new Agent({
      connect: { timeout, ...(options.ca === undefined ? {} : { ca: options.ca }) },
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
  }

  token(): Promise<string> {
    if (this.cached && this.now() < this.cached.refreshAt) return Promise.resolve(this.cached.value);
    // Requests running side by side share one fetch.
    this.pending ??= this.fetch().finally(() => (this.pending = undefined));
    return this.pending;
  }

  invalidate(token: string): boolean {
    if (this.cached?.value === token) this.cached = undefined;
    return true;
  }

  private async fetch(): Promise<string> {
    const form = new URLSearchParams({ grant_type: "client_credentials", scope: this.options.scope });
    const { credential } = this.options;
    if (credential.kind === "secret") {
      form.set("client_id", this.options.clientId);
      form.set("client_secret", credential.secret);
    } else {
      form.set("client_assertion_type", ASSERTION_TYPE);
    }
    const requestedAt = this.now();
    let { status, body, headers } = await this.post(form);
    // RFC 9449 §8: a token endpoint that wants a nonce in the proof answers 400 use_dpop_nonce with one; retried once.
    const nonce = dpopNonce(headers);
    if (this.dpop && status === 400 && isRecord(body) && body.error === "use_dpop_nonce" && nonce !== undefined) {
      this.nonce = nonce;
      ({ status, body, headers } = await this.post(form));
    }
    this.nonce = dpopNonce(headers) ?? this.nonce;
    if (status < 200 || status >= 300) throw this.refused(status, body);
    const token = isRecord(body) ? body.access_token : undefined;
    const expiresIn = isRecord(body) ? Number(body.expires_in) : Number.NaN;
    if (typeof token !== "string" || token === "" || /[\s\p{Cc}]/u.test(token) || !(expiresIn > 0)) {
      throw new BreakglassError(
        "IDP_FAILED",
        `token endpoint ${this.tokenUrl.origin}${this.tokenUrl.pathname}`,
        `HTTP ${status} without an access_token and a positive expires_in`,
      );
    }
    const tokenType = isRecord(body) && typeof body.token_type === "string" ? body.token_type : "";
    if (this.dpop && tokenType.toLowerCase() !== "dpop")
      throw new BreakglassError(
        "IDP_FAILED",
        "idp.directory.auth.dpop",
        `the token endpoint ${this.tokenUrl.host} issued a ${oneLine(tokenType || "typeless", 20)} token, not a DPoP-bound one`,
        { hint: 'turn on "Require Demonstrating Proof of Possession (DPoP)" on the Okta service app, or remove dpop' },
      );
    const lifetime = expiresIn * 1000;
    this.cached = { value: token, refreshAt: requestedAt + lifetime - Math.min(REFRESH_MARGIN_MS, lifetime / 10) };
    return token;
  }

  /** One POST to the token endpoint, with a fresh client assertion and (with DPoP) a fresh proof. */
  private async post(
    form: URLSearchParams,
  ): Promise<{ status: number; body: unknown; headers: Record<string, string | string[] | undefined> }> {
    const { credential } = this.options;
    if (credential.kind === "private-key") form.set("client_assertion", this.assertion(credential.keyId));
    const proof = this.dpop?.proof({ method: "POST", url: this.tokenUrl, nonce: this.nonce });
    let status: number;
    let text: string;
    let headers: Record<string, string | string[] | undefined>;
    try {
      const response = await request(this.tokenUrl, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
          ...(proof === undefined ? {} : { dpop: proof }),
        },
        body: form.toString(),
        dispatcher: this.agent,
      });
      status = response.statusCode;
      headers = response.headers;
      text = await response.body.text();
    } catch (error) {
      throw new BreakglassError(
        "IDP_UNAVAILABLE",
        `token endpoint ${this.tokenUrl.origin}${this.tokenUrl.pathname}`,
        explainNetworkError(error),
        { cause: error },
      );
    }
    let body: unknown = null;
    try {
      body = text.trim() === "" ? null : (JSON.parse(text) as unknown);
    } catch {
      // Reported by the caller with the status.
    }
    return { status, body, headers };
  }

  /** A refusal names the setting that holds the credential; the server's own words say why, and never echo the secret. */
  private refused(status: number, body: unknown): BreakglassError {
    const detail = describeErrorBody(body);
    const code = isRecord(body) && typeof body.error === "string" ? body.error : undefined;
    const said = [code, detail].filter((part) => part !== undefined).join(": ");
    const secret = this.options.credential.kind === "secret" ? this.options.credential.secret : undefined;
    const reason = `the token endpoint ${this.tokenUrl.host} refused the client credentials (HTTP ${status}${said ? `: ${said}` : ""})`;
    const redacted = secret !== undefined && secret.length >= 4 ? reason.split(secret).join("[redacted]") : reason;
    const unauthorized = status === 400 || status === 401 || status === 403;
    return new BreakglassError(
      unauthorized ? "IDP_UNAUTHORIZED" : status >= 500 ? "IDP_UNAVAILABLE" : "IDP_FAILED",
      this.options.credentialInput,
      redacted,
      {
        maxLength: 300,
        hint:
          code === "invalid_dpop_proof" && this.dpop === undefined
            ? "the service app requires DPoP: set idp.directory.auth.dpop: true"
            : "check the client id, the credential and the scope configured under idp.directory.auth",
      },
    );
  }

  /** The RFC 7523 client assertion Okta documents for private_key_jwt: iss = sub = client id, aud = the token URL. */
  private assertion(keyId: string | undefined): string {
    const issued = Math.floor(this.now() / 1000);
    const header = { alg: "RS256", typ: "JWT", ...(keyId === undefined ? {} : { kid: keyId }) };
    const claims = {
      iss: this.options.clientId,
      sub: this.options.clientId,
      aud: `${this.tokenUrl.origin}${this.tokenUrl.pathname}`,
      iat: issued,
      exp: issued + 300,
      jti: randomUUID(),
    };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign("sha256", Buffer.from(signingInput), this.key!);
    return `${signingInput}.${signature.toString("base64url")}`;
  }
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

function readPrivateKey(pem: string, input: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new BreakglassError("USAGE", input, "is not a PEM private key");
  }
  if (key.asymmetricKeyType !== "rsa")
    throw new BreakglassError(
      "USAGE",
      input,
      `is a ${key.asymmetricKeyType ?? "unknown"} key; Okta's private_key_jwt here needs an RSA key (RS256)`,
    );
  return key;
}
