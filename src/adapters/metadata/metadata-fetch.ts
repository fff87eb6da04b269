// Fetches metadata over HTTPS: bounded time, size and redirects, and conditional GET so an unchanged document costs a 304.
import type { Agent } from "undici";
import { formatBytes } from "../../domain/shared/format-bytes.js";
import { redactUrl } from "../../domain/shared/redact-url.js";
import { BreakglassError, type ErrorCode } from "../../domain/errors.js";
import { discard, type ReadableBody } from "../http/http-body.js";
import { explainNetworkError, isTlsTrustError } from "../http/network-error.js";

export interface HttpValidators {
  readonly etag?: string;
  readonly lastModified?: string;
}

export interface FetchOptions {
  readonly maxBytes: number;
  /** The whole exchange, redirects and body included. */
  readonly timeoutMs: number;
  readonly maxRedirects: number;
  readonly allowInsecureHttp: boolean;
  /** Extra trusted CA certificates (PEM), e.g. a corporate proxy's or a test server's. */
  readonly ca?: string | readonly string[];
  /** Validators of the copy the caller already has: a 304 then returns `not-modified`. */
  readonly validators?: HttpValidators;
}

export type FetchResult =
  | { readonly kind: "document"; readonly bytes: Buffer; readonly url: string; readonly validators: HttpValidators }
  | { readonly kind: "not-modified"; readonly url: string; readonly validators: HttpValidators };

export const DEFAULT_FETCH_OPTIONS: Omit<FetchOptions, "validators" | "ca"> = {
  maxBytes: 100 * 1024 * 1024,
  timeoutMs: 30_000,
  maxRedirects: 5,
  allowInsecureHttp: false,
};

const USER_AGENT = "breakglass (SAML metadata monitor)";

/** Every error names the URL without its user:password and query (redactUrl): an error is printed, logged and posted. */
export async function fetchMetadata(requested: string, options: FetchOptions): Promise<FetchResult> {
  const location = redactUrl(requested);
  let url = parseUrl(requested, location, options);
  // undici is loaded by the first fetch, not with this module: a command that reads a file never pays for an HTTP client.
  const { Agent } = await import("undici");
  const agent = new Agent({
    connect: { timeout: options.timeoutMs, ...(options.ca ? { ca: options.ca as string | string[] } : {}) },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  // One deadline for the whole exchange; cleared at the end so it never fires into a finished request.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
  const signal = deadline.signal;
  try {
    for (let redirects = 0; ; redirects++) {
      const response = await send(url, location, agent, signal, options);
      const { statusCode, headers, body } = response;
      if (statusCode >= 300 && statusCode < 400 && statusCode !== 304) {
        await body.dump().catch(() => undefined);
        const target = header(headers, "location");
        if (!target)
          throw new BreakglassError("FETCH_FAILED", location, `HTTP ${statusCode} redirect without a Location header`);
        if (redirects >= options.maxRedirects) {
          throw new BreakglassError(
            "FETCH_TOO_MANY_REDIRECTS",
            location,
            `more than ${options.maxRedirects} redirects (last to ${redactUrl(target, url)})`,
          );
        }
        const next = parseUrl(new URL(target, url).toString(), location, options);
        // README promises a download never goes from https down to http: --allow-insecure-http only allows starting there.
        if (url.protocol === "https:" && next.protocol === "http:") {
          throw new BreakglassError(
            "INSECURE_URL",
            location,
            `refused to follow a redirect from https down to plain http (${redactUrl(url.toString())} to ${redactUrl(next.toString())})`,
          );
        }
        url = next;
        continue;
      }
      const validators = readValidators(headers);
      if (statusCode === 304) {
        await body.dump().catch(() => undefined);
        if (!options.validators)
          throw new BreakglassError(
            "FETCH_FAILED",
            location,
            "the server answered 304 Not Modified to an unconditional request",
          );
        return { kind: "not-modified", url: url.toString(), validators: { ...options.validators, ...validators } };
      }
      if (statusCode !== 200) {
        await body.dump().catch(() => undefined);
        throw new BreakglassError(
          statusErrorCode(statusCode),
          location,
          `the server answered HTTP ${statusCode}${statusCode === 404 ? " Not Found" : ""}`,
        );
      }
      const declared = Number(header(headers, "content-length") ?? Number.NaN);
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        discard(body);
        throw tooLarge(location, options.maxBytes);
      }
      const bytes = await readBounded(body, location, options.maxBytes);
      return { kind: "document", bytes, url: url.toString(), validators };
    }
  } catch (error) {
    if (error instanceof BreakglassError) throw error;
    if (signal.aborted)
      throw new BreakglassError("FETCH_TIMEOUT", location, `no complete answer within ${options.timeoutMs / 1000} s`);
    throw new BreakglassError(
      isTlsTrustError(error) ? "TLS_UNTRUSTED" : "FETCH_FAILED",
      location,
      explainNetworkError(error),
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
    await agent.destroy().catch(() => undefined);
  }
}

async function send(url: URL, location: string, agent: Agent, signal: AbortSignal, options: FetchOptions) {
  const headers: Record<string, string> = {
    accept: "application/samlmetadata+xml, application/xml, text/xml;q=0.9, */*;q=0.1",
    "user-agent": USER_AGENT,
  };
  if (options.validators?.etag) headers["if-none-match"] = options.validators.etag;
  if (options.validators?.lastModified) headers["if-modified-since"] = options.validators.lastModified;
  const { request } = await import("undici");
  try {
    return await request(url, { method: "GET", headers, dispatcher: agent, signal, maxRedirections: 0 });
  } catch (error) {
    if (signal.aborted)
      throw new BreakglassError("FETCH_TIMEOUT", location, `no answer within ${options.timeoutMs / 1000} s`);
    throw new BreakglassError(
      isTlsTrustError(error) ? "TLS_UNTRUSTED" : "FETCH_FAILED",
      location,
      explainNetworkError(error),
      { cause: error },
    );
  }
}

async function readBounded(body: ReadableBody, location: string, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) {
      discard(body);
      throw tooLarge(location, maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** A missing document and a refused one are not outages: they must not read as "try again later". */
function statusErrorCode(statusCode: number): ErrorCode {
  if (statusCode === 404 || statusCode === 410) return "FETCH_NOT_FOUND";
  if (statusCode === 401 || statusCode === 403) return "FETCH_DENIED";
  return "FETCH_HTTP_STATUS";
}

function tooLarge(location: string, maxBytes: number): BreakglassError {
  return new BreakglassError(
    "INPUT_TOO_LARGE",
    location,
    `refused: the document is larger than the ${formatBytes(maxBytes)} limit`,
    {
      hint: "raise it with --max-bytes if the document is genuine",
    },
  );
}

function parseUrl(value: string, location: string, options: FetchOptions): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BreakglassError("USAGE", location, "not a valid URL");
  }
  if (url.protocol === "http:" && !options.allowInsecureHttp) {
    throw new BreakglassError(
      "INSECURE_URL",
      location,
      `refused to fetch metadata over plain http (${redactUrl(value)}); use https, or pass --allow-insecure-http`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new BreakglassError("USAGE", location, `unsupported URL scheme "${url.protocol}"; use https`);
  }
  return url;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readValidators(headers: Record<string, string | string[] | undefined>): HttpValidators {
  const etag = header(headers, "etag");
  const lastModified = header(headers, "last-modified");
  return { ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
}
