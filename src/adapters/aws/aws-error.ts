// Turns what the AWS SDK throws into what breakglass reads: the plain FactError of the checks (the error name and a
// one-line message), and the ErrorCode whose kind tells the caller whether to retry, ask for access, or look elsewhere.
import type { FactError } from "../../domain/checks/posture-facts.js";
import { oneLine, type ErrorCode } from "../../domain/errors.js";

export function toFactError(error: unknown): FactError {
  if (error && typeof error === "object") {
    const candidate = error as {
      name?: unknown;
      Code?: unknown;
      code?: unknown;
      message?: unknown;
      $metadata?: { httpStatusCode?: unknown };
    };
    const status = candidate.$metadata?.httpStatusCode;
    if (candidate.name === "SyntaxError" && typeof status === "number") {
      // An error body the SDK could not parse (a proxy's HTML page, say): the HTTP status is all we know.
      return {
        code: status === 403 ? "AccessDenied" : `HTTP${status}`,
        message: `HTTP ${status} with a response that is not an AWS error document`,
      };
    }
    const code =
      [candidate.name, candidate.Code, candidate.code].find(
        (value): value is string => typeof value === "string" && value !== "" && value !== "Error",
      ) ?? "Error";
    const message = typeof candidate.message === "string" && candidate.message !== "" ? candidate.message : code;
    return { code, message: oneLine(message, 240) };
  }
  return { code: "Error", message: oneLine(String(error), 240) };
}

export function hasErrorName(error: unknown, ...names: string[]): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === "string" && names.includes(name);
}

/** Errors that say "not now": AWS's throttling and outage names across services, and the network's, as the SDK passes them on. */
const UNAVAILABLE_NAMES: ReadonlySet<string> = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ConcurrentModification",
  "ConcurrentModificationException",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "ServiceFailure",
  "InternalFailure",
  "InternalError",
  "InternalServerError",
  "InternalServerException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "NetworkingError",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "ENETUNREACH",
  "EHOSTUNREACH",
]);

/** Errors that say "not you": no access, or credentials AWS does not accept (missing, expired, wrong). */
const DENIED_NAMES: ReadonlySet<string> = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "UnauthorizedOperation",
  "UnauthorizedException",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "ExpiredToken",
  "ExpiredTokenException",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
  "MissingAuthenticationToken",
  "AuthFailure",
  "CredentialsProviderError",
]);

/** Errors that say "no such thing". */
const NOT_FOUND_NAMES: ReadonlySet<string> = new Set([
  "NoSuchEntity",
  "NoSuchEntityException",
  "ResourceNotFoundException",
  "NotFoundException",
  "NotFound",
  "TrailNotFoundException",
  "PolicyNotFoundException",
  "AccountNotFoundException",
]);

/**
 * The code for an error from the AWS SDK (or the FactError made of one): AWS_UNAVAILABLE for throttling, 5xx, timeouts
 * and network errors (retry), AWS_DENIED for AccessDenied, bad credentials, 401 and 403 (ask for access), AWS_NOT_FOUND
 * for NoSuchEntity and 404, and AWS_FAILED, whose kind is internal, for anything else.
 */
export function awsErrorCode(error: unknown): ErrorCode {
  const name = toFactError(error).code;
  const status = httpStatusOf(error) ?? statusInName(name);
  if (DENIED_NAMES.has(name) || status === 401 || status === 403) return "AWS_DENIED";
  if (NOT_FOUND_NAMES.has(name) || status === 404) return "AWS_NOT_FOUND";
  if (
    UNAVAILABLE_NAMES.has(name) ||
    isRetryableBySdk(error) ||
    (status !== undefined && (status === 429 || status >= 500))
  )
    return "AWS_UNAVAILABLE";
  return "AWS_FAILED";
}

function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

/** toFactError names an unparsable error body "HTTP503": the status is all there is. */
function statusInName(name: string): number | undefined {
  const match = /^HTTP(\d{3})$/.exec(name);
  return match === null ? undefined : Number(match[1]);
}

/** The SDK marks the errors its own retry strategy retries (throttling, transient): those are worth trying again later too. */
function isRetryableBySdk(error: unknown): boolean {
  const retryable = (error as { $retryable?: unknown } | null)?.$retryable;
  return typeof retryable === "object" && retryable !== null;
}
