// Drives the real CLI in-process for runbook integration tests: main() with a captured CliIo, a fixed clock and a chosen environment.
import { main } from "../../src/cli/main.js";
import { fixedClock } from "../../src/domain/shared/clock.js";

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type Breakglass = (...args: string[]) => Promise<CliResult>;

/** A `breakglass` that runs `main(args)` with this environment and clock, and returns what a terminal would have shown. */
export function breakglassCli(env: () => NodeJS.ProcessEnv, now: Date): Breakglass {
  return async (...args: string[]) => {
    let stdout = "";
    let stderr = "";
    const code = await main(args, {
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
      stdoutIsTty: false,
      env: env(),
      clock: fixedClock(now),
    });
    return { code, stdout, stderr };
  };
}

/** The run id a `runbook run` printed. */
export function startedRunId(stdout: string, runbookId: string): string {
  const id = new RegExp(`Started run (\\S+) of ${runbookId}`).exec(stdout)?.[1];
  if (id === undefined) throw new Error(`no run of ${runbookId} was started:\n${stdout}`);
  return id;
}

/** The last run-view line of the step with this title, as `  ✓  3. Title (kind)  summary`. */
export function stepLine(stdout: string, title: string): string {
  const line = stdout
    .split("\n")
    .reverse()
    .find((candidate) => /^ {2}\S {1,2}\d+\. /.test(candidate) && candidate.includes(`. ${title} (`));
  if (line === undefined) throw new Error(`no step "${title}" in:\n${stdout}`);
  return line;
}
