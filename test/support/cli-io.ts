// A CliIo that keeps what a command prints, for tests that call the command functions directly.
import type { CliIo } from "../../src/cli/io.js";
import { fixedClock } from "../../src/domain/shared/clock.js";

export function capturingIo(now = new Date("2026-11-24T12:00:00Z")): {
  io: CliIo;
  output: { stdout: string; stderr: string };
} {
  const output = { stdout: "", stderr: "" };
  const io: CliIo = {
    stdout: (text) => void (output.stdout += text),
    stderr: (text) => void (output.stderr += text),
    stdoutIsTty: false,
    env: {},
    clock: fixedClock(now),
  };
  return { io, output };
}
