// `breakglass runbook lint` and `runbook show <id>`: check the runbooks, print one as Markdown (`runbook list` is in
// runbook-list-command.ts, which loads no parser when its cache answers).
import { lintRunbooks, readRunbookText, runbookFiles } from "../adapters/runbook-files/runbook-files.js";
import { describeRunbookProblem, parseRunbook, validateRunbookText } from "../domain/runbooks/parse-runbook.js";
import { renderRunbook } from "../domain/runbooks/render-runbook.js";
import { RunbookCatalog } from "../application/runbook-catalog.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import { runbookShowJson } from "./runbook-json.js";

export { DEFAULT_RUNBOOK_DIRECTORY } from "./runbook-directory.js";
export { runRunbookList } from "./runbook-list-command.js";

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
