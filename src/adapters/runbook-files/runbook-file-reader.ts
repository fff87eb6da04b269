// Finds and reads runbook files: the directory's *.yaml files and each file's text, within the size limit and as UTF-8.
// Parses nothing, so that listing runbooks loads no YAML or schema library until a file needs parsing.
import { open, readdir, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { BreakglassError, describeError, type ErrorCode } from "../../domain/errors.js";
import {
  MAX_RUNBOOK_BYTES,
  RUNBOOK_EXTENSION,
  runbookTooLargeReason,
} from "../../domain/runbooks/runbook-file-rules.js";

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

export interface ReadFailure {
  readonly code: ErrorCode;
  readonly reason: string;
  readonly cause?: unknown;
}

export async function readText(path: string): Promise<string | ReadFailure> {
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

export async function directoryEntries(directory: string): Promise<string[]> {
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
