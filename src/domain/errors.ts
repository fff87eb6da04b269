// The one error family of breakglass: a stable code, a one-line message that names the input, an optional hint.

export type ErrorCode =
  | "USAGE"
  | "INPUT_UNREADABLE"
  | "INPUT_EMPTY"
  | "INPUT_TOO_LARGE"
  | "INPUT_ENCODING"
  | "XML_UNSAFE"
  | "XML_MALFORMED"
  | "XML_TOO_DEEP"
  | "METADATA_NOT_SAML"
  | "INSECURE_URL"
  | "FETCH_FAILED"
  | "FETCH_TIMEOUT"
  | "FETCH_HTTP_STATUS"
  | "FETCH_TOO_MANY_REDIRECTS"
  | "SIGNER_UNREADABLE"
  | "CONFIG_UNREADABLE"
  | "CONFIG_INVALID"
  | "CONFIG_UNWRITABLE"
  | "RUNBOOK_INVALID"
  | "RUNBOOK_NOT_FOUND"
  | "STORE_FAILED"
  | "AUDIT_FAILED"
  | "RUN_FAILED"
  | "RUN_NOT_FOUND"
  | "RUN_BUSY"
  | "AWS_FAILED"
  | "IDP_FAILED"
  | "IDP_TIMEOUT"
  | "IDP_NOT_FOUND"
  | "IDP_UNAUTHORIZED"
  | "INTERNAL";

export interface BreakglassErrorOptions {
  readonly hint?: string;
  readonly cause?: unknown;
}

export class BreakglassError extends Error {
  override readonly name = "BreakglassError";
  readonly code: ErrorCode;
  /** The file, URL or option the error is about. */
  readonly input: string;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, input: string, reason: string, options: BreakglassErrorOptions = {}) {
    super(`${input}: ${oneLine(reason)}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.input = input;
    this.hint = options.hint;
  }
}

export function isBreakglassError(value: unknown): value is BreakglassError {
  return value instanceof BreakglassError;
}

/** Collapses whitespace so that a message from a library never spans lines. */
export function oneLine(text: string, maxLength = 300): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > maxLength ? `${flat.slice(0, maxLength - 1)}…` : flat;
}

/** The message of anything thrown, without its stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return oneLine(error.message || error.name);
  return oneLine(String(error));
}
