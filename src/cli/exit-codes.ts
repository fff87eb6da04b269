// The CLI's exit codes, in one place: scripts branch on them, so each kind of error has its own.
import { kindOf, type ErrorKind } from "../domain/errors.js";

/**
 * 0 and 1 are verdicts; 2 keeps its meaning for a wrong command line (commander's and the shell's habit); 3 to 7 are
 * the other kinds, small and contiguous so that `case $?` reads well; 70 is sysexits' EX_SOFTWARE, so that a bug never
 * looks like an answer. None is 126 or more, which the shell keeps for "cannot run" and for signals.
 */
export const EXIT = {
  /** Checks ran and found nothing high or critical. */
  ok: 0,
  /** Checks ran and found something high or critical. */
  findings: 1,
  /** The command line, an option, a file named on it or the configuration is wrong: fix it, do not retry. */
  usage: 2,
  /** What was named (a run, an incident, an IdP user, an AWS resource, a URL) does not exist. */
  notFound: 3,
  /** The state does not allow it now: a run busy, finished or waiting elsewhere; an incident already open or closed. */
  conflict: 4,
  /** Policy says no: the two-person rule, or access denied. */
  refused: 5,
  /** A dependency did not answer (network, timeout, throttling, 5xx, a locked store): retrying may succeed. */
  unavailable: 6,
  /** The audit cannot be written, a runbook changed under its run, a server cannot prove who it is: stop and tell security. */
  integrity: 7,
  /** A bug, or an error breakglass cannot classify: report it. */
  internal: 70,
  /** The same as usage: the name kept by the commands that print their own problems (runbook lint, config validate). */
  unusable: 2,
} as const;

/** The table `breakglass --help` ends with; README's "Exit status" says the same. */
export const EXIT_STATUS_HELP = `
Exit status:
  0   done; checks found nothing high or critical
  1   checks found something high or critical (or the audit chain is broken)
  2   usage: a wrong command line, option, file named on it, or configuration
  3   not found: no such run, incident, IdP user, AWS resource or URL
  4   conflict: the run is busy, finished or waits elsewhere; an incident is already open or closed
  5   refused: the two-person rule, or access denied
  6   unavailable: network, timeout, throttling, 5xx, a locked store; retrying may succeed
  7   integrity: the audit cannot be written, a runbook changed, a server cannot prove who it is
  70  internal: a bug or an error breakglass cannot classify; please report it
Every error is one line on stderr naming the input, and nothing on stdout.`;

const EXIT_CODE_OF_KIND: Readonly<Record<ErrorKind, number>> = {
  usage: EXIT.usage,
  "not-found": EXIT.notFound,
  conflict: EXIT.conflict,
  refused: EXIT.refused,
  unavailable: EXIT.unavailable,
  integrity: EXIT.integrity,
  internal: EXIT.internal,
};

/** The exit code of anything thrown: by its kind (see src/domain/errors.ts); what is not a BreakglassError is internal. */
export function exitCodeFor(error: unknown): number {
  return EXIT_CODE_OF_KIND[kindOf(error)];
}
