// The runbooks a deployment offers, by id: the one place that knows a runbook's file is `<directory>/<id>.yaml`.
import { basename, join } from "node:path";
import { BreakglassError } from "../domain/errors.js";
import type { RunbookSource } from "../domain/runbooks/engine-ports.js";
import { RUNBOOK_EXTENSION, type LoadedRunbook } from "../domain/runbooks/parse-runbook.js";
import { loadRunbooks, readRunbookSource, runbookFiles } from "../adapters/runbook-files/runbook-files.js";

export class RunbookCatalog {
  constructor(readonly directory: string) {}

  /** Where the runbook with this id lives, whether or not it exists. */
  private path(runbookId: string): string {
    return join(this.directory, `${runbookId}${RUNBOOK_EXTENSION}`);
  }

  /** The ids on offer, sorted. */
  async ids(): Promise<string[]> {
    const files = await runbookFiles(this.directory);
    return files.map((file) => basename(file, RUNBOOK_EXTENSION));
  }

  /** The runbook's file, or RUNBOOK_NOT_FOUND naming the runbooks there are. Only a known id becomes a path: `../x` never does. */
  async file(runbookId: string): Promise<string> {
    const ids = await this.ids();
    if (!ids.includes(runbookId)) {
      throw new BreakglassError(
        "RUNBOOK_NOT_FOUND",
        runbookId,
        `no such runbook in ${this.directory} (known: ${ids.length === 0 ? "none" : ids.join(", ")})`,
      );
    }
    return this.path(runbookId);
  }

  /**
   * The runbook as it is on disk now. RUNBOOK_NOT_FOUND, naming the ones there are, when there is no such runbook;
   * RUNBOOK_INVALID, naming the file, line and field, when there is one but it is broken: two different problems for
   * the person who typed the id.
   */
  async source(runbookId: string): Promise<RunbookSource> {
    return readRunbookSource(await this.file(runbookId));
  }

  /** Every runbook, parsed; RUNBOOK_INVALID naming the first problem of the first broken file. */
  list(): Promise<LoadedRunbook[]> {
    return loadRunbooks(this.directory);
  }
}
