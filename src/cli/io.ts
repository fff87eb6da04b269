// What a CLI command may touch of its process: output streams, whether stdout is a terminal, the environment and the clock.
import type { RunbookServiceOptions } from "../application/runbook-runtime.js";
import { systemClock, type Clock } from "../domain/shared/clock.js";

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdoutIsTty: boolean;
  /** Progress bars go to stderr, and only to a terminal. */
  readonly stderrIsTty?: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly clock: Clock;
  /** Test seams handed to the runbook services (test/support/faulty-cli.ts); never set by processIo. */
  readonly runbookSeams?: Pick<RunbookServiceOptions, "wrapStore" | "wrapAction" | "leaseHost">;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stdoutIsTty: process.stdout.isTTY === true,
    stderrIsTty: process.stderr.isTTY === true,
    env: process.env,
    clock: systemClock,
  };
}
