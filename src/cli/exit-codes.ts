// The CLI's exit codes, in one place: scripts branch on them.
import type { ErrorCode } from "../domain/errors.js";

export const EXIT = {
  /** Checks ran and found nothing high or critical. */
  ok: 0,
  /** Checks ran and found something high or critical. */
  findings: 1,
  /** The input could not be used, or the command line was wrong: no verdict was reached. */
  unusable: 2,
} as const;

const ERROR_EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  USAGE: EXIT.unusable,
  INPUT_UNREADABLE: EXIT.unusable,
  INPUT_EMPTY: EXIT.unusable,
  INPUT_TOO_LARGE: EXIT.unusable,
  INPUT_ENCODING: EXIT.unusable,
  XML_UNSAFE: EXIT.unusable,
  XML_MALFORMED: EXIT.unusable,
  XML_TOO_DEEP: EXIT.unusable,
  METADATA_NOT_SAML: EXIT.unusable,
  INSECURE_URL: EXIT.unusable,
  FETCH_FAILED: EXIT.unusable,
  FETCH_TIMEOUT: EXIT.unusable,
  FETCH_HTTP_STATUS: EXIT.unusable,
  FETCH_TOO_MANY_REDIRECTS: EXIT.unusable,
  SIGNER_UNREADABLE: EXIT.unusable,
  CONFIG_UNREADABLE: EXIT.unusable,
  CONFIG_INVALID: EXIT.unusable,
  CONFIG_UNWRITABLE: EXIT.unusable,
  RUNBOOK_INVALID: EXIT.unusable,
  RUNBOOK_NOT_FOUND: EXIT.unusable,
  STORE_FAILED: EXIT.unusable,
  AUDIT_FAILED: EXIT.unusable,
  RUN_FAILED: EXIT.unusable,
  RUN_NOT_FOUND: EXIT.unusable,
  RUN_BUSY: EXIT.unusable,
  AWS_FAILED: EXIT.unusable,
  IDP_FAILED: EXIT.unusable,
  IDP_TIMEOUT: EXIT.unusable,
  IDP_NOT_FOUND: EXIT.unusable,
  IDP_UNAUTHORIZED: EXIT.unusable,
  INTERNAL: EXIT.unusable,
};

export function exitCodeFor(code: ErrorCode): number {
  return ERROR_EXIT_CODES[code];
}
