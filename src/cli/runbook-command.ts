// `breakglass runbook lint`, `runbook list` and `runbook show <id>`: check the runbooks, list them, print one as Markdown.
import { lintRunbooks, loadRunbook, readRunbookText, runbookFiles } from "../adapters/runbook-files/runbook-files.js";
import {
  describeRunbookProblem,
  parseRunbook,
  validateRunbookText,
  type LoadedRunbook,
} from "../domain/runbooks/parse-runbook.js";
import { renderRunbook } from "../domain/runbooks/render-runbook.js";
import { RunbookCatalog } from "../application/runbook-catalog.js";
import { isBreakglassError } from "../domain/errors.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import { runbookListJson, runbookShowJson } from "./runbook-json.js";

export { DEFAULT_RUNBOOK_DIRECTORY } from "./runbook-directory.js";

/** Prints `N runbooks: valid` (exit 0), or every problem, one per line on stderr (exit 2). */
export async function runRunbookLint(directory: string, io: CliIo): Promise<number> {
  const problems = await lintRunbooks(directory);
  if (problems.length > 0) {
    for (const problem of problems) io.stderr(`${describeRunbookProblem(problem)}\n`);
    return EXIT.unusable;
  }
  const count = (await runbookFiles(directory)).length;
  io.stdout(`${count} runbook${count === 1 ? "" : "s"}: valid\n`);
  return EXIT.ok;
}

/**
 * One line per runbook: id, failure mode, title, in aligned columns. A file that does not load is named on stderr (exit 2),
 * and with --json in the object's invalidFiles too.
 */
export async function runRunbookList(directory: string, io: CliIo, options: { json?: boolean } = {}): Promise<number> {
  const loaded: LoadedRunbook[] = [];
  const broken: string[] = [];
  for (const path of await runbookFiles(directory)) {
    // One bad file must not hide the others from a responder looking for the right runbook.
    try {
      loaded.push(await loadRunbook(path));
    } catch (error) {
      if (!isBreakglassError(error)) throw error;
      broken.push(path);
    }
  }
  if (options.json) {
    io.stdout(
      `${JSON.stringify(
        runbookListJson(
          loaded.map(({ runbook }) => runbook),
          broken,
        ),
        null,
        2,
      )}\n`,
    );
  } else {
    const idWidth = Math.max(0, ...loaded.map(({ runbook }) => runbook.id.length));
    const modeWidth = Math.max(0, ...loaded.map(({ runbook }) => runbook.failureMode.length));
    for (const { runbook } of loaded)
      io.stdout(`${runbook.id.padEnd(idWidth)}  ${runbook.failureMode.padEnd(modeWidth)}  ${runbook.title}\n`);
  }
  for (const path of broken)
    io.stderr(`${path}: invalid, not listed (run \`breakglass runbook lint\` for the problems)\n`);
  return broken.length === 0 ? EXIT.ok : EXIT.unusable;
}

/** Prints the runbook as Markdown (or, with --json, as data); an unknown id is RUNBOOK_NOT_FOUND naming the known ids. */
export async function runRunbookShow(
  id: string,
  directory: string,
  io: CliIo,
  options: { json?: boolean } = {},
): Promise<number> {
  const path = await new RunbookCatalog(directory).file(id);
  const text = await readRunbookText(path);
  const problems = validateRunbookText(text, path);
  if (problems.length > 0) {
    // A responder needs the whole reason at once, not one problem per attempt.
    for (const problem of problems) io.stderr(`${describeRunbookProblem(problem)}\n`);
    return EXIT.unusable;
  }
  const { runbook } = parseRunbook(text, path);
  io.stdout(options.json ? `${JSON.stringify(runbookShowJson(runbook), null, 2)}\n` : renderRunbook(runbook));
  return EXIT.ok;
}
