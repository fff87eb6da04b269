// Reads runbook files and directories from disk into checked Runbooks (parsed by the domain's parse-runbook), or into problems naming the file.
import { open, readdir, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { BreakglassError, describeError, type ErrorCode } from "../../domain/errors.js";
import type { RunbookSource } from "../../domain/runbooks/engine-ports.js";
import {
  MAX_RUNBOOK_BYTES,
  parseRunbook,
  RUNBOOK_EXTENSION,
  runbookTooLargeReason,
  validateRunbookText,
  wholeFileProblem,
  type LoadedRunbook,
  type RunbookProblem,
} from "../../domain/runbooks/parse-runbook.js";

export async function loadRunbook(path: string): Promise<LoadedRunbook> {
  return parseRunbook(await readRunbookText(path), path);
}

/** The runbook at `path`, with the text its digest is taken from. */
export async function readRunbookSource(path: string): Promise<RunbookSource> {
  const text = await readRunbookText(path);
  return { path, text, runbook: parseRunbook(text, path).runbook };
}

/** Every runbook in the directory (each `*.yaml`), sorted by file name; throws RUNBOOK_INVALID naming the first problem of the first bad file. */
export async function loadRunbooks(directory: string): Promise<LoadedRunbook[]> {
  const loaded: LoadedRunbook[] = [];
  for (const path of await runbookFiles(directory)) loaded.push(await loadRunbook(path));
  return loaded;
}

/** Every problem of every runbook in the directory, file by file in line order; empty when all are valid. */
export async function lintRunbooks(directory: string): Promise<RunbookProblem[]> {
  const names = await directoryEntries(directory);
  const problems: RunbookProblem[] = [];
  const files = names.filter((name) => name.endsWith(RUNBOOK_EXTENSION));
  if (files.length === 0) problems.push(wholeFileProblem(directory, `holds no runbooks (*${RUNBOOK_EXTENSION} files)`));
  for (const name of names) {
    // A runbook saved as .yml would silently never be offered to a responder.
    if (name.endsWith(".yml"))
      problems.push(
        wholeFileProblem(join(directory, name), `not loaded: runbook files must end in ${RUNBOOK_EXTENSION}`),
      );
  }
  for (const name of files) {
    const path = join(directory, name);
    const read = await readText(path);
    problems.push(
      ...(typeof read === "string" ? validateRunbookText(read, path) : [wholeFileProblem(path, read.reason)]),
    );
  }
  return problems;
}

/** The runbook files of a directory (`*.yaml`), sorted, as paths joined to the directory. */
export async function runbookFiles(directory: string): Promise<string[]> {
  return (await directoryEntries(directory))
    .filter((name) => name.endsWith(RUNBOOK_EXTENSION))
    .map((name) => join(directory, name));
}

/** The file's text; INPUT_UNREADABLE when it cannot be read, RUNBOOK_INVALID when it is too large or not UTF-8. */
export async function readRunbookText(path: string): Promise<string> {
  const read = await readText(path);
  if (typeof read === "string") return read;
  throw new BreakglassError(read.code, path, read.reason, read.cause === undefined ? {} : { cause: read.cause });
}

interface ReadFailure {
  readonly code: ErrorCode;
  readonly reason: string;
  readonly cause?: unknown;
}

async function readText(path: string): Promise<string | ReadFailure> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    return unreadable(error);
  }
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) return { code: "INPUT_UNREADABLE", reason: "is a directory, not a runbook file" };
    // A FIFO or device would block or never end.
    if (!stats.isFile()) return { code: "INPUT_UNREADABLE", reason: "is not a regular file" };
    if (stats.size > MAX_RUNBOOK_BYTES) return { code: "RUNBOOK_INVALID", reason: runbookTooLargeReason(stats.size) };
    const bytes = await handle.readFile();
    if (bytes.length > MAX_RUNBOOK_BYTES)
      return { code: "RUNBOOK_INVALID", reason: runbookTooLargeReason(bytes.length) };
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      return { code: "RUNBOOK_INVALID", reason: "the file is not UTF-8 text" };
    }
  } catch (error) {
    return unreadable(error);
  } finally {
    await handle.close();
  }
}

function unreadable(error: unknown): ReadFailure {
  const code = errorCode(error);
  if (code === "ENOENT" || code === "ENOTDIR")
    return { code: "INPUT_UNREADABLE", reason: "no such file", cause: error };
  if (code === "EACCES" || code === "EPERM")
    return { code: "INPUT_UNREADABLE", reason: "permission denied", cause: error };
  return { code: "INPUT_UNREADABLE", reason: `cannot read the file: ${describeError(error)}`, cause: error };
}

async function directoryEntries(directory: string): Promise<string[]> {
  try {
    return (await readdir(directory)).sort();
  } catch (error) {
    const code = errorCode(error);
    const reason =
      code === "ENOENT"
        ? "no such directory"
        : code === "ENOTDIR"
          ? "is not a directory"
          : code === "EACCES" || code === "EPERM"
            ? "permission denied"
            : describeError(error);
    throw new BreakglassError("INPUT_UNREADABLE", directory, `cannot read the runbook directory: ${reason}`, {
      cause: error,
    });
  }
}

function errorCode(error: unknown): unknown {
  return error instanceof Error && "code" in error ? error.code : undefined;
}
