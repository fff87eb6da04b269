// Reads runbook files and directories from disk into checked Runbooks (parsed by the domain's parse-runbook), or into problems naming the file.
import { join } from "node:path";
import type { RunbookSource } from "../../domain/runbooks/engine-ports.js";
import {
  parseRunbook,
  RUNBOOK_EXTENSION,
  validateRunbookText,
  wholeFileProblem,
  type LoadedRunbook,
  type RunbookProblem,
} from "../../domain/runbooks/parse-runbook.js";
import { directoryEntries, readRunbookText, readText, runbookFiles } from "./runbook-file-reader.js";

export { readRunbookText, runbookFiles };

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
