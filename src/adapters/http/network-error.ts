// Names what went wrong on the network in words an admin reads at 3 a.m., for every HTTP client breakglass has.
import { describeError } from "../../domain/errors.js";

const TLS_TRUST_ERRORS: ReadonlySet<string> = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** The system or undici error code of `error` or of its cause. */
export function networkErrorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  if (typeof code === "string") return code;
  if (typeof cause === "object" && cause !== null && typeof (cause as { code?: unknown }).code === "string")
    return (cause as { code: string }).code;
  return undefined;
}

/** True when the server's certificate is not trusted: retrying cannot fix that. */
export function isTlsTrustError(error: unknown): boolean {
  const code = networkErrorCode(error);
  return code !== undefined && TLS_TRUST_ERRORS.has(code);
}

export function explainNetworkError(error: unknown): string {
  const code = networkErrorCode(error);
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
      return "the connection was reset";
    case "UND_ERR_CONNECT_TIMEOUT":
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
      return "the server took too long to answer";
    default:
      return code !== undefined && TLS_TRUST_ERRORS.has(code)
        ? `the server's TLS certificate is not trusted (${code})`
        : describeError(error);
  }
}
