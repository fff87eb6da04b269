// JSON over HTTPS for the IdP adapters: bounded time and size, retries on throttling and outages, errors that name the
// API and the operation and never the token.
import { STATUS_CODES } from "node:http";
import { setTimeout as wait } from "node:timers/promises";
import { Agent, request } from "undici";
import { formatBytes } from "../../domain/shared/format-bytes.js";
import { BreakglassError, oneLine, type BreakglassErrorOptions, type ErrorCode } from "../../domain/errors.js";
import { UnexpectedAnswer, isRecord } from "./foreign-json.js";
import { discard, type ReadableBody } from "../http/http-body.js";
import { explainNetworkError, isTlsTrustError } from "../http/network-error.js";
import type { TokenSource } from "./token-source.js";
import { tellIdpWait } from "./server-waits.js";
import { asksForDpopNonce, dpopNonce } from "./dpop.js";

/** What every adapter is configured with. */
export interface IdpConnectionOptions {
  /** The API root: a SCIM base URL, an Okta org URL, Graph's https://graph.microsoft.com/v1.0 (or a national cloud's). */
  readonly baseUrl: string;
  /**
   * Sent only to baseUrl's origin, never written into a message: a static token, or a source of short-lived ones
   * (OAuth client credentials) that is asked before every attempt and refreshed once when the server answers 401.
   */
  readonly token: string | TokenSource;
  /** Per attempt, headers and body included. */
  readonly timeoutMs?: number;
  /** Attempts per request, the first included. */
  readonly maxAttempts?: number;
  /** Extra trusted CA certificates (PEM), e.g. a corporate proxy's or a test server's. */
  readonly ca?: string;
  /** Waits between attempts; injected so that tests do not sleep. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The longest single wait a server may ask for (Retry-After, Okta's X-Rate-Limit-Reset); a longer one is an error. */
  readonly maxRetryWaitMs?: number;
  /** The most one request may spend waiting between its attempts, all waits together. */
  readonly retryBudgetMs?: number;
}

export interface IdpHttpOptions extends IdpConnectionOptions {
  /** How messages name the API: "SCIM", "Okta", "Graph". */
  readonly api: string;
  /** Overridden by "DPoP" when the token source's tokens are DPoP-bound. */
  readonly authScheme: "Bearer" | "SSWS";
  /** Of request bodies, and preferred in Accept. */
  readonly mediaType?: string;
  readonly maxBytes?: number;
  /** Epoch milliseconds, to read a Retry-After date from a server that sends no Date header. */
  readonly now?: () => number;
  /** In [0, 1), for the backoff jitter. */
  readonly random?: () => number;
}

/**
 * Sized for an incident: a dead IdP API is reported in about a minute and a quarter, not left to hang; a throttling one
 * is waited for as long as it asks, up to 2 minutes a wait and 5 minutes in all (Okta's windows are a minute; Graph has
 * asked for 41 s and 315 s), and a longer wait is reported at once rather than sat through.
 */
export const IDP_HTTP_DEFAULTS = {
  timeoutMs: 10_000,
  maxAttempts: 6,
  maxBytes: 10 * 1024 * 1024,
  maxRetryWaitMs: 120_000,
  retryBudgetMs: 300_000,
  /** The first backoff, doubled on each retry up to backoffCapMs; half of each is jitter. */
  backoffBaseMs: 500,
  backoffCapMs: 8_000,
} as const;

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface IdpRequest {
  readonly method: HttpMethod;
  /** Relative to the base URL with its segments already encoded (see `pathSegment`), or an absolute next-page link. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number>>;
  readonly body?: unknown;
  /** What breakglass was doing, for messages: "adding user 2819c223 to group e9e30dba". */
  readonly operation: string;
  /** Extra request headers (Graph's ConsistencyLevel: eventual for $count and casts). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Error statuses the caller interprets itself (an idempotent "already a member", say) instead of failing. */
  readonly handles?: readonly number[];
}

export interface IdpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The parsed JSON, or null for an empty body (and for an error body that is not JSON). */
  readonly body: unknown;
}

const USER_AGENT = "breakglass (IdP group membership)";

export class IdpHttpClient {
  /** How every error names the API: "SCIM https://idp.example/scim/v2". */
  readonly input: string;
  /** The base URL, without a trailing slash: "https://graph.microsoft.com/v1.0". */
  readonly root: string;
  private readonly base: URL;
  private readonly basePath: string;
  private readonly authScheme: string;
  private readonly tokens: TokenSource;
  /** Every token this client has sent, to scrub from messages. */
  private readonly sentTokens = new Set<string>();
  private readonly mediaType: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly maxBytes: number;
  private readonly maxRetryWaitMs: number;
  private readonly retryBudgetMs: number;
  private readonly api: string;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly agent: Agent;
  /** The API's latest DPoP-Nonce, for the next proof. */
  private dpopNonce: string | undefined;

  constructor(options: IdpHttpOptions) {
    this.base = parseBaseUrl(options.api, options.baseUrl);
    this.basePath = this.base.pathname.replace(/\/+$/, "");
    this.root = `${this.base.origin}${this.basePath}`;
    this.input = `${options.api} ${this.root}`;
    const token = options.token;
    if (typeof token === "string") {
      // A token with whitespace or control characters would break the header; say so without printing it.
      if (token === "" || /[\s\p{Cc}]/u.test(token)) {
        throw new BreakglassError("USAGE", this.input, "the API token is empty or contains whitespace");
      }
      this.sentTokens.add(token);
      this.tokens = { token: () => Promise.resolve(token), invalidate: () => false };
    } else {
      this.tokens = token;
    }
    this.authScheme = this.tokens.dpop === undefined ? options.authScheme : "DPoP";
    this.mediaType = options.mediaType ?? "application/json";
    this.timeoutMs = positive(options.timeoutMs ?? IDP_HTTP_DEFAULTS.timeoutMs, "timeoutMs", this.input);
    this.maxAttempts = Math.floor(
      positive(options.maxAttempts ?? IDP_HTTP_DEFAULTS.maxAttempts, "maxAttempts", this.input),
    );
    this.maxBytes = options.maxBytes ?? IDP_HTTP_DEFAULTS.maxBytes;
    this.maxRetryWaitMs = positive(
      options.maxRetryWaitMs ?? IDP_HTTP_DEFAULTS.maxRetryWaitMs,
      "maxRetryWaitMs",
      this.input,
    );
    this.retryBudgetMs = positive(
      options.retryBudgetMs ?? IDP_HTTP_DEFAULTS.retryBudgetMs,
      "retryBudgetMs",
      this.input,
    );
    this.api = options.api;
    this.sleep = options.sleep ?? ((ms) => wait(ms));
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.agent = new Agent({
      connect: { timeout: this.timeoutMs, ...(options.ca === undefined ? {} : { ca: options.ca }) },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  /**
   * Sends one request, retrying 429, 5xx and network failures; any other status outside 2xx and `handles` is an error.
   * Retrying after a lost answer is safe because every request the adapters send is idempotent or made so.
   */
  async send(req: IdpRequest): Promise<IdpResponse> {
    const url = this.resolve(req);
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    let refreshed = false;
    let nonceRetried = false;
    let waited = 0;
    /** Waits `ms` before the next attempt, telling a listening run step why. */
    const pause = async (ms: number, attempt: number, why: string) => {
      waited += ms;
      tellIdpWait({
        attempt,
        attempts: this.maxAttempts,
        waitMilliseconds: ms,
        reason: `${this.api} ${why} (${req.operation})`,
      });
      await this.sleep(ms);
    };
    for (let attempt = 1; ; attempt++) {
      let response: IdpResponse;
      const token = await this.tokens.token();
      this.sentTokens.add(token);
      try {
        response = await this.attempt(url, req, body, token);
      } catch (error) {
        if (error instanceof BreakglassError) throw error;
        const failure = this.networkFailure(error);
        const delay = this.backoff(attempt);
        if (failure.retryable && attempt < this.maxAttempts && waited + delay <= this.retryBudgetMs) {
          await pause(delay, attempt, failure.reason);
          continue;
        }
        throw this.error(
          failure.code,
          `${req.operation}: ${failure.reason}${gaveUp(attempt)}`,
          failure.cause === undefined ? {} : { cause: failure.cause },
        );
      }
      this.dpopNonce = (this.tokens.dpop && dpopNonce(response.headers)) ?? this.dpopNonce;
      if (response.status >= 200 && response.status < 300) return response;
      // RFC 9449 §9: an API that wants a (fresh) nonce in the proof answers 401 use_dpop_nonce with one; retried once,
      // not counted as an attempt.
      if (response.status === 401 && this.tokens.dpop && !nonceRetried && asksForDpopNonce(response.headers)) {
        nonceRetried = true;
        attempt--;
        continue;
      }
      // A short-lived token can expire (or be revoked) between the source's check and the server's: one fresh token,
      // not counted as an attempt; a second 401 is reported.
      if (response.status === 401 && !refreshed && this.tokens.invalidate(token)) {
        refreshed = true;
        attempt--;
        continue;
      }
      if (isRetryableStatus(response.status) && attempt < this.maxAttempts) {
        const requested = serverRequestedWait(response.status, response.headers, this.now());
        if (requested !== undefined && requested > this.maxRetryWaitMs) {
          throw this.waitRefused(
            req,
            response,
            `asks to wait ${seconds(requested)} before retrying, longer than the ${seconds(this.maxRetryWaitMs)} ceiling`,
          );
        }
        const delay = requested ?? this.backoff(attempt);
        if (waited + delay > this.retryBudgetMs) {
          throw this.waitRefused(
            req,
            response,
            `asks to wait ${seconds(delay)} more after ${seconds(waited)} of waits, past the ${seconds(this.retryBudgetMs)} retry budget`,
          );
        }
        await pause(
          delay,
          attempt,
          `answered HTTP ${response.status} ${STATUS_CODES[response.status] ?? ""}`.trimEnd(),
        );
        continue;
      }
      if (req.handles?.includes(response.status)) return response;
      throw this.failure(req, response, attempt);
    }
  }

  /**
   * Every item of a paged listing: `readPage` narrows one page and returns its items and the next page's link, which is
   * followed until there is none, at most `maxPages` times and never to the same link twice.
   */
  async collectPages<T>(
    first: IdpRequest,
    readPage: (body: unknown, headers: IdpResponse["headers"]) => { items: readonly T[]; next: string | undefined },
    maxPages = 1_000,
  ): Promise<T[]> {
    const items: T[] = [];
    const seen = new Set<string>();
    let req = first;
    for (let page = 1; ; page++) {
      const response = await this.send(req);
      const { items: pageItems, next } = this.read(req, response.body, (body) => readPage(body, response.headers));
      items.push(...pageItems);
      if (next === undefined) return items;
      if (seen.has(next))
        throw this.error(
          "IDP_FAILED",
          `${first.operation}: the server's next-page link repeats a page it already gave`,
        );
      if (page >= maxPages) throw this.error("IDP_FAILED", `${first.operation}: gave up after ${maxPages} pages`);
      seen.add(next);
      // The link carries the query (filter, select, page size and cursor) itself.
      req = { method: "GET", path: next, operation: first.operation };
    }
  }

  /** The USAGE error for a blank argument, before anything is sent. */
  requireValue(value: string, what: string): string {
    if (value.trim() === "") throw this.error("USAGE", `${what} is empty`);
    return value;
  }

  /** Narrows an answer with `parse`; a wrong shape becomes an IDP_FAILED error naming the operation. */
  read<T>(req: IdpRequest, body: unknown, parse: (body: unknown) => T): T {
    try {
      return parse(body);
    } catch (error) {
      if (error instanceof UnexpectedAnswer)
        throw this.error("IDP_FAILED", `${req.operation}: unexpected answer: ${error.message}`);
      throw error;
    }
  }

  /** The error for an answer the caller decided is a failure: the status, its name, and the server's own detail. */
  failure(req: IdpRequest, response: IdpResponse, attempts = 1): BreakglassError {
    const { status } = response;
    const reason = `${statusReason(req, response)}${gaveUp(attempts)}`;
    const hint = hintFor(status);
    return this.error(statusErrorCode(status), reason, hint === undefined ? {} : { hint });
  }

  /** The error for a wait the client will not sit through: the answer as `failure` words it, then why not. */
  private waitRefused(req: IdpRequest, response: IdpResponse, why: string): BreakglassError {
    const reason = `${statusReason(req, response)}; the server ${why}`;
    return this.error(statusErrorCode(response.status), reason, {
      hint: "retry later, or raise idp.directory.maxRetryWaitSeconds (one wait) or retryBudgetSeconds (all waits)",
    });
  }

  /** A BreakglassError naming this API, with the token scrubbed from the reason in case a server echoed it. */
  error(code: ErrorCode, reason: string, options: BreakglassErrorOptions = {}): BreakglassError {
    return new BreakglassError(code, this.input, this.redact(reason), options);
  }

  private resolve(req: IdpRequest): URL {
    let url: URL;
    if (/^https?:\/\//i.test(req.path)) {
      url = new URL(req.path);
      // Next-page links come from the server; the token must not follow one to another host.
      if (url.origin !== this.base.origin) {
        throw this.error(
          "IDP_FAILED",
          `${req.operation}: refused to follow a link to another host (${url.host}); the token is only sent to ${this.base.host}`,
        );
      }
    } else {
      url = new URL(`${this.basePath}${req.path}`, this.base.origin);
    }
    if (req.query) {
      // Encoded by hand: URLSearchParams writes spaces as "+", which not every IdP reads back as a space in a filter.
      url.search = Object.entries(req.query)
        .map(([key, value]) => `${key}=${encodeURIComponent(String(value))}`)
        .join("&");
    }
    return url;
  }

  private async attempt(url: URL, req: IdpRequest, body: string | undefined, token: string): Promise<IdpResponse> {
    const proof = this.tokens.dpop?.proof({ method: req.method, url, nonce: this.dpopNonce, accessToken: token });
    const headers: Record<string, string> = {
      authorization: `${this.authScheme} ${token}`,
      ...(proof === undefined ? {} : { dpop: proof }),
      accept: this.mediaType === "application/json" ? "application/json" : `${this.mediaType}, application/json;q=0.9`,
      "user-agent": USER_AGENT,
      ...(body === undefined ? {} : { "content-type": this.mediaType }),
      ...req.headers,
    };
    // One deadline per attempt for the headers and the whole body; undici's own timeouts only bound the gaps.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.timeoutMs);
    try {
      const response = await request(url, {
        method: req.method,
        headers,
        ...(body === undefined ? {} : { body }),
        dispatcher: this.agent,
        signal: deadline.signal,
      });
      const declared = Number(firstHeader(response.headers, "content-length") ?? Number.NaN);
      if (Number.isFinite(declared) && declared > this.maxBytes) {
        discard(response.body);
        throw this.tooLarge(req);
      }
      const text = await this.readBounded(response.body, req);
      return {
        status: response.statusCode,
        headers: response.headers,
        body: this.parseBody(req, response.statusCode, text),
      };
    } catch (error) {
      if (error instanceof BreakglassError) throw error;
      if (deadline.signal.aborted) throw new AttemptTimedOut();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private async readBounded(body: ReadableBody, req: IdpRequest): Promise<string> {
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of body) {
      total += chunk.length;
      if (total > this.maxBytes) {
        discard(body);
        throw this.tooLarge(req);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, total).toString("utf8");
  }

  private parseBody(req: IdpRequest, status: number, text: string): unknown {
    if (text.trim() === "") return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // An error page from a proxy is still an error with a status worth reporting; a success we cannot read is not a success.
      if (status >= 200 && status < 300)
        throw this.error(
          "IDP_FAILED",
          `${req.operation}: unexpected answer: HTTP ${status} with a body that is not JSON`,
        );
      return null;
    }
  }

  private tooLarge(req: IdpRequest): BreakglassError {
    return this.error(
      "IDP_FAILED",
      `${req.operation}: refused: the answer is larger than the ${formatBytes(this.maxBytes)} limit`,
    );
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(IDP_HTTP_DEFAULTS.backoffCapMs, IDP_HTTP_DEFAULTS.backoffBaseMs * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private networkFailure(error: unknown): { code: ErrorCode; reason: string; retryable: boolean; cause?: unknown } {
    if (error instanceof AttemptTimedOut) {
      return { code: "IDP_TIMEOUT", reason: `no complete answer within ${this.timeoutMs / 1000} s`, retryable: true };
    }
    // Retrying cannot make a certificate trusted, and a token must not be sent to a server that cannot prove who it is.
    const untrusted = isTlsTrustError(error);
    return {
      code: untrusted ? "TLS_UNTRUSTED" : "IDP_UNAVAILABLE",
      reason: explainNetworkError(error),
      retryable: !untrusted,
      cause: error,
    };
  }

  private redact(text: string): string {
    // Very short strings would match ordinary words; no real API token is that short.
    let redacted = text;
    for (const token of this.sentTokens) if (token.length >= 4) redacted = redacted.split(token).join("[redacted]");
    return redacted;
  }
}

/** An id as one path segment: "/Groups/" + pathSegment(id). */
export function pathSegment(id: string): string {
  return encodeURIComponent(id);
}

/**
 * How long the server asked us to wait before retrying, in milliseconds: `Retry-After` (seconds, or an HTTP date read
 * against the answer's own Date header) on a 429 or 5xx, else Okta's `X-Rate-Limit-Reset` on a 429: the epoch second
 * its window resets, measured as okta-sdk-nodejs does against the answer's Date header plus 1 s for the two clocks'
 * sub-second difference, never against our clock (which may be off, and gave 0 ms waits). Undefined when the server
 * asked for nothing readable: the caller backs off on its own.
 */
export function serverRequestedWait(
  status: number,
  headers: IdpResponse["headers"],
  nowMs: number,
): number | undefined {
  const serverDate = Date.parse(firstHeader(headers, "date") ?? "");
  const serverNow = Number.isNaN(serverDate) ? undefined : serverDate;
  const retryAfter = parseRetryAfter(firstHeader(headers, "retry-after"), serverNow ?? nowMs);
  if (retryAfter !== undefined) return retryAfter;
  if (status !== 429 || serverNow === undefined) return undefined;
  const reset = firstHeader(headers, "x-rate-limit-reset")?.trim();
  if (reset === undefined || !/^\d+$/.test(reset)) return undefined;
  return Math.max(0, Number(reset) * 1000 - serverNow) + 1000;
}

export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  const text = value?.trim();
  if (text === undefined || text === "") return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** The server's own words from a JSON error body: SCIM `detail`, Okta `errorSummary`, Graph `error.message`, OAuth `error_description`. */
export function describeErrorBody(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const text = (value: unknown) => (typeof value === "string" && value.trim() !== "" ? value.trim() : undefined);
  let detail: string | undefined;
  if (text(body.detail)) {
    const scimType = text(body.scimType);
    detail = scimType ? `${scimType}: ${text(body.detail)}` : text(body.detail);
  } else if (text(body.errorSummary)) {
    const causes = Array.isArray(body.errorCauses)
      ? body.errorCauses
          .map((cause) => (isRecord(cause) ? text(cause.errorSummary) : undefined))
          .filter((cause) => cause !== undefined)
      : [];
    detail = [text(body.errorSummary), ...causes].join("; ");
  } else if (isRecord(body.error) && text(body.error.message)) {
    const code = text(body.error.code);
    detail = code ? `${code}: ${text(body.error.message)}` : text(body.error.message);
  } else {
    detail = text(body.error_description) ?? text(body.message);
  }
  return detail === undefined ? undefined : oneLine(detail, 200);
}

function isRetryableStatus(status: number): boolean {
  // 501 Not Implemented and 505 will answer the same however often we ask.
  return status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

/** The code of a status the client does not retry (or retried in vain), by what the caller can do about it. */
function statusErrorCode(status: number): ErrorCode {
  if (status === 401 || status === 403) return "IDP_UNAUTHORIZED";
  if (status === 404) return "IDP_NOT_FOUND";
  return isRetryableStatus(status) ? "IDP_UNAVAILABLE" : "IDP_FAILED";
}

/** "adding user 2819c223 to group e9e30dba: HTTP 403 Forbidden: <the server's own words>". */
function statusReason(req: IdpRequest, response: IdpResponse): string {
  const name = STATUS_CODES[response.status];
  const detail = describeErrorBody(response.body);
  return `${req.operation}: HTTP ${response.status}${name ? ` ${name}` : ""}${detail ? `: ${detail}` : ""}`;
}

/** "315 s", "2 min": how a wait reads in a message. */
function seconds(ms: number): string {
  const whole = Math.ceil(ms / 1000);
  return whole >= 120 && whole % 60 === 0 ? `${whole / 60} min` : `${whole} s`;
}

function gaveUp(attempts: number): string {
  return attempts > 1 ? ` (gave up after ${attempts} attempts)` : "";
}

function hintFor(status: number): string | undefined {
  switch (status) {
    case 401:
      return "check that the API token is the right one and has not expired or been revoked";
    case 403:
      return "the API token lacks a permission this operation needs";
    case 404:
      return "check that the group (and the user) exist in the IdP";
    case 429:
      return "the IdP is rate-limiting breakglass; wait a minute and retry";
    default:
      return undefined;
  }
}

function parseBaseUrl(api: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BreakglassError("USAGE", `${api} base URL`, `not a valid URL: ${oneLine(value, 100)}`);
  }
  const shown = `${api} ${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
  if (url.protocol !== "https:")
    throw new BreakglassError("USAGE", shown, "refused: an API token is only ever sent over https");
  if (url.username !== "" || url.password !== "")
    throw new BreakglassError(
      "USAGE",
      shown,
      "the base URL must not carry credentials; the token is configured on its own",
    );
  if (url.search !== "" || url.hash !== "")
    throw new BreakglassError("USAGE", shown, "the base URL must not have a query or a fragment");
  return url;
}

function positive(value: number, name: string, input: string): number {
  if (!Number.isFinite(value) || value < 1)
    throw new BreakglassError("USAGE", input, `${name} must be a positive number, not ${value}`);
  return value;
}

class AttemptTimedOut extends Error {
  override readonly name = "AttemptTimedOut";
}

function firstHeader(headers: IdpResponse["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
