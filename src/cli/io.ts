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
  /**
   * Asks the person at the terminal one line (the question on stderr); only when stdin is a terminal, so that a script
   * never hangs on a question: a command that needs an answer without one says which option to pass instead.
   */
  readonly prompt?: ((question: string) => Promise<string>) | undefined;
  /** All of standard input (a command given "-" for a file); tests pass their own. */
  readonly readStdin?: () => Promise<Buffer>;
  /** Test seams handed to the runbook services (test/support/faulty-cli.ts); never set by processIo. */
  readonly runbookSeams?: Pick<RunbookServiceOptions, "wrapStore" | "wrapAction" | "leaseHost" | "sleep">;
}

/**
 * The process's own streams. stdin and stderr are opened when first used, not when a command starts: opening one loads
 * a stream class of Node's (a file, a pipe or a terminal) that most commands never need (issue 15).
 */
export function processIo(): CliIo {
  let stderr: ((text: string) => void) | undefined;
  return {
    stdout: writerEndingQuietlyOnClosedPipe(process.stdout),
    stderr: (text) => (stderr ??= writerEndingQuietlyOnClosedPipe(process.stderr))(text),
    stdoutIsTty: process.stdout.isTTY === true,
    get stderrIsTty() {
      return process.stderr.isTTY === true;
    },
    env: process.env,
    clock: systemClock,
    get prompt() {
      return process.stdin.isTTY === true ? askOnTerminal : undefined;
    },
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
      return Buffer.concat(chunks);
    },
  };
}

/** readline is loaded only to ask: every command start would pay for it otherwise (issue 15). */
async function askOnTerminal(question: string): Promise<string> {
  const { createInterface } = await import("node:readline/promises");
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await terminal.question(question);
  } finally {
    terminal.close();
  }
}

/**
 * Writes to `stream` until its reader goes away. `breakglass runbook status | head -1` closes the pipe after one line;
 * the next write fails with EPIPE, which Node reports as an unhandled 'error' event: a stack trace for a reader's
 * ordinary choice. Nobody is left to read, so later output is dropped and the command ends with its own exit code;
 * any other stream error is still thrown.
 */
function writerEndingQuietlyOnClosedPipe(stream: NodeJS.WriteStream): (text: string) => void {
  let readerGone = false;
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    readerGone = true;
  });
  return (text) => {
    if (!readerGone) stream.write(text);
  };
}
