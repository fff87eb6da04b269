// The one error family of breakglass: a stable code, a one-line message that names the input, an optional hint, and a
// kind that tells every front end what to do about it (the CLI's exit code, Slack's reply).

/**
 * What the caller can do about an error, a closed set: a script branches on it (through the exit code), a person reads
 * it (through the Slack reply). Each code has exactly one kind, so the same failure drives the same behaviour everywhere.
 */
export type ErrorKind =
  /** The command line, an option, a file the user named or a setting is wrong: fix how it is written. */
  | "usage"
  /** A thing breakglass looked up in its store or another system (a run, an incident, an IdP user, an AWS resource) does not exist. */
  | "not-found"
  /** The state does not allow it now: the run is busy or finished, or waits elsewhere; an incident is already open or closed. */
  | "conflict"
  /** Policy says no: the two-person rule, or the credentials lack the access. */
  | "refused"
  /** A dependency did not answer in time or said it is overloaded (network, timeout, throttling, 5xx, a locked store): retry. */
  | "unavailable"
  /** What must be true for the emergency path to be trusted is not: the audit cannot be written, a runbook changed, a peer cannot prove who it is. */
  | "integrity"
  /** Something breakglass did not expect: a bug, or an answer from another system it cannot classify. */
  | "internal";

/** Grouped by kind, in the order of the table below (which says what each one is for). */
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
  | "METADATA_NO_SIGNING_CERTIFICATE"
  | "SAML_RESPONSE_UNUSABLE"
  | "SAML_RESPONSE_REJECTED"
  | "INSECURE_URL"
  | "FETCH_TOO_MANY_REDIRECTS"
  | "SIGNER_UNREADABLE"
  | "CONFIG_UNREADABLE"
  | "CONFIG_INVALID"
  | "CONFIG_UNWRITABLE"
  | "RUNBOOK_INVALID"
  | "RUNBOOK_NOT_FOUND"
  | "RUN_PREFLIGHT_FAILED"
  | "RUN_NOT_FOUND"
  | "INCIDENT_NOT_FOUND"
  | "EVENT_NOT_FOUND"
  | "FETCH_NOT_FOUND"
  | "AWS_NOT_FOUND"
  | "IDP_NOT_FOUND"
  | "RUN_BUSY"
  | "RUN_STATE"
  | "LEADERSHIP_LOST"
  | "INCIDENT_ALREADY_OPEN"
  | "NO_OPEN_INCIDENT"
  | "INCIDENT_CLOSED"
  | "EVENT_ALREADY_ATTACHED"
  | "INCIDENT_REFERENCE_TAKEN"
  | "ACTION_UNVERIFIED"
  | "APPROVAL_REFUSED"
  | "IDENTITY_UNVERIFIED"
  | "ACCESS_REFUSED"
  | "AWS_DENIED"
  | "IDP_UNAUTHORIZED"
  | "FETCH_DENIED"
  | "FETCH_FAILED"
  | "FETCH_TIMEOUT"
  | "FETCH_HTTP_STATUS"
  | "STORE_FAILED"
  | "AWS_UNAVAILABLE"
  | "IDP_UNAVAILABLE"
  | "IDP_TIMEOUT"
  | "AUDIT_FAILED"
  | "ARTEFACT_INTEGRITY"
  | "RUNBOOK_CHANGED"
  | "TLS_UNTRUSTED"
  | "INTERNAL"
  | "ACTION_FAILED"
  | "AWS_FAILED"
  | "IDP_FAILED";

/** Every kind, in the order the README's table lists them. */
export const ERROR_KINDS: readonly ErrorKind[] = [
  "usage",
  "not-found",
  "conflict",
  "refused",
  "unavailable",
  "integrity",
  "internal",
];

/** Each code's kind: a Record over ErrorCode, so that a new code does not compile until someone decides what it means to the caller. */
export const ERROR_KIND_OF_CODE: Readonly<Record<ErrorCode, ErrorKind>> = {
  USAGE: "usage",
  INPUT_UNREADABLE: "usage",
  INPUT_EMPTY: "usage",
  INPUT_TOO_LARGE: "usage",
  INPUT_ENCODING: "usage",
  XML_UNSAFE: "usage",
  XML_MALFORMED: "usage",
  XML_TOO_DEEP: "usage",
  METADATA_NOT_SAML: "usage",
  /** Metadata without an IdP signing certificate: importing it would break every sign-in. */
  METADATA_NO_SIGNING_CERTIFICATE: "usage",
  /** A SAML response the preflight cannot judge at all: not a samlp:Response, an encrypted assertion, not decodable. */
  SAML_RESPONSE_UNUSABLE: "usage",
  /** A SAML response pasted to confirm a step that AWS would refuse: the step keeps waiting; the message says why. */
  SAML_RESPONSE_REJECTED: "usage",
  INSECURE_URL: "usage",
  /** A URL that redirects without end is a URL to correct, not one to retry. */
  FETCH_TOO_MANY_REDIRECTS: "usage",
  SIGNER_UNREADABLE: "usage",
  CONFIG_UNREADABLE: "usage",
  CONFIG_INVALID: "usage",
  CONFIG_UNWRITABLE: "usage",
  RUNBOOK_INVALID: "usage",
  /** A run cannot apply as things stand (an unknown group or person, credentials that cannot reach the account): refused before it starts. */
  RUN_PREFLIGHT_FAILED: "usage",
  RUNBOOK_NOT_FOUND: "not-found",

  RUN_NOT_FOUND: "not-found",
  INCIDENT_NOT_FOUND: "not-found",
  /** A CloudTrail event id the watcher has not recorded. */
  EVENT_NOT_FOUND: "not-found",
  /** HTTP 404 or 410 for a metadata URL. */
  FETCH_NOT_FOUND: "not-found",
  /** NoSuchEntity, ResourceNotFoundException, HTTP 404. */
  AWS_NOT_FOUND: "not-found",
  IDP_NOT_FOUND: "not-found",

  /** Another process holds the run's lease, or lost it while it worked. */
  RUN_BUSY: "conflict",
  /** The run is finished, or waits at another kind of step than the one answered. */
  RUN_STATE: "conflict",
  /** A serve replica wrote as the leader with a fencing token that is no longer the current one: another replica leads now. */
  LEADERSHIP_LOST: "conflict",
  INCIDENT_ALREADY_OPEN: "conflict",
  NO_OPEN_INCIDENT: "conflict",
  INCIDENT_CLOSED: "conflict",
  /** The watched event is on an incident's timeline already, or was not misuse. */
  EVENT_ALREADY_ATTACHED: "conflict",
  /** Every reference of this minute is taken: the next minute has new ones. */
  INCIDENT_REFERENCE_TAKEN: "conflict",
  /** A change was made (or found made), but reading it back shows another state: someone or something else changed it too. */
  ACTION_UNVERIFIED: "conflict",

  /** The two-person rule: the one who started a run cannot approve it. */
  APPROVAL_REFUSED: "refused",
  /** Who is asking could not be established (no credentials, STS unreachable, no person mapped): nothing that needs a person proceeds. */
  IDENTITY_UNVERIFIED: "refused",
  /** The person is known, but the access rules (access, slack.access) do not let them do this. */
  ACCESS_REFUSED: "refused",
  /** AccessDenied, expired or invalid credentials, HTTP 401 or 403 from AWS. */
  AWS_DENIED: "refused",
  IDP_UNAUTHORIZED: "refused",
  /** HTTP 401 or 403 for a metadata URL. */
  FETCH_DENIED: "refused",

  FETCH_FAILED: "unavailable",
  FETCH_TIMEOUT: "unavailable",
  /** Any other status than 2xx, 3xx, 401, 403, 404 and 410 for a metadata URL: mostly 5xx and 429. */
  FETCH_HTTP_STATUS: "unavailable",
  /** The store cannot be opened, read or written now (locked, disk full, gone). */
  STORE_FAILED: "unavailable",
  /** Throttling, 5xx, timeouts and network errors from AWS. */
  AWS_UNAVAILABLE: "unavailable",
  /** HTTP 429 or 5xx, and network errors, from the IdP's API after the retries. */
  IDP_UNAVAILABLE: "unavailable",
  IDP_TIMEOUT: "unavailable",

  /** Fail closed: the audit record of a mutation cannot be written, so the mutation is not done. */
  AUDIT_FAILED: "integrity",
  ARTEFACT_INTEGRITY: "integrity",
  /** The runbook file no longer has the digest the run started with. */
  RUNBOOK_CHANGED: "integrity",
  /** The server's TLS certificate is not trusted: retrying cannot fix it, and on the emergency path it may be an attack. */
  TLS_UNTRUSTED: "integrity",

  INTERNAL: "internal",
  /** An action failed with an error its adapter did not classify. */
  ACTION_FAILED: "internal",
  /** An AWS error that is neither throttling, an outage, a denial nor a missing resource. */
  AWS_FAILED: "internal",
  /** The IdP's API answered something breakglass cannot use (an unexpected shape, endless paging, an ambiguous match). */
  IDP_FAILED: "internal",
};

export interface BreakglassErrorOptions {
  readonly hint?: string;
  readonly cause?: unknown;
  /** Longest reason kept (300 characters by default): one that lists several problems, each with its fix, needs more. */
  readonly maxLength?: number;
}

export class BreakglassError extends Error {
  override readonly name = "BreakglassError";
  readonly code: ErrorCode;
  /** The file, URL or option the error is about. */
  readonly input: string;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, input: string, reason: string, options: BreakglassErrorOptions = {}) {
    super(
      `${input}: ${oneLine(reason, options.maxLength)}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.input = input;
    this.hint = options.hint;
  }
}

export function isBreakglassError(value: unknown): value is BreakglassError {
  return value instanceof BreakglassError;
}

/** The kind of anything thrown: a BreakglassError's code says it; anything else escaped an adapter unwrapped, which is a bug. */
export function kindOf(error: unknown): ErrorKind {
  return isBreakglassError(error) ? ERROR_KIND_OF_CODE[error.code] : "internal";
}

/** Collapses whitespace so that a message from a library never spans lines. */
export function oneLine(text: string, maxLength = 300): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= maxLength) return flat;
  // Never half a surrogate pair (an emoji), which Slack and terminals show as a broken character.
  const end = /[\uD800-\uDBFF]/.test(flat.charAt(maxLength - 2)) ? maxLength - 2 : maxLength - 1;
  return `${flat.slice(0, end)}…`;
}

/** The message of anything thrown, without its stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return oneLine(error.message || error.name);
  return oneLine(String(error));
}
