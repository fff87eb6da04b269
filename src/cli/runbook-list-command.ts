// `breakglass runbook list`: id, failure mode and title of each runbook. A runbook file whose name and text were listed
// before comes from the summary cache, so an unchanged directory is listed without loading the YAML parser or schema.
import { defaultCacheDirectory } from "../adapters/store/file-inspection-cache.js";
import { readRunbookText, runbookFiles } from "../adapters/runbook-files/runbook-file-reader.js";
import { RunbookSummaryCache, type RunbookSummary } from "../adapters/runbook-files/runbook-summary-cache.js";
import { isBreakglassError } from "../domain/errors.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import { runbookListJson } from "./runbook-json.js";

/**
 * One line per runbook: id, failure mode, title, in aligned columns. A file that does not load is named on stderr (exit 2),
 * and with --json in the object's invalidFiles too.
 */
export async function runRunbookList(directory: string, io: CliIo, options: { json?: boolean } = {}): Promise<number> {
  const cache = await RunbookSummaryCache.open(defaultCacheDirectory());
  const listed: RunbookSummary[] = [];
  const broken: string[] = [];
  for (const path of await runbookFiles(directory)) {
    // One bad file must not hide the others from a responder looking for the right runbook.
    try {
      listed.push(await summaryOf(path, cache));
    } catch (error) {
      if (!isBreakglassError(error)) throw error;
      broken.push(path);
    }
  }
  await cache.save();
  if (options.json) {
    io.stdout(`${JSON.stringify(runbookListJson(listed, broken), null, 2)}\n`);
  } else {
    const idWidth = Math.max(0, ...listed.map((runbook) => runbook.id.length));
    const modeWidth = Math.max(0, ...listed.map((runbook) => runbook.failureMode.length));
    for (const runbook of listed)
      io.stdout(`${runbook.id.padEnd(idWidth)}  ${runbook.failureMode.padEnd(modeWidth)}  ${runbook.title}\n`);
  }
  for (const path of broken)
    io.stderr(`${path}: invalid, not listed (run \`breakglass runbook lint\` for the problems)\n`);
  return broken.length === 0 ? EXIT.ok : EXIT.unusable;
}

/** The runbook's summary, from the cache or else parsed (and then remembered); throws what parsing throws. */
async function summaryOf(path: string, cache: RunbookSummaryCache): Promise<RunbookSummary> {
  const text = await readRunbookText(path);
  const cached = cache.get(path, text);
  if (cached) return cached;
  const { parseRunbook } = await import("../domain/runbooks/parse-runbook.js");
  const { runbook } = parseRunbook(text, path);
  cache.set(path, text, runbook);
  return runbook;
}
