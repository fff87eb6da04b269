// The runbooks a deployment offers, by id: the one place that knows a runbook's file is `<directory>/<id>.yaml`.
import { basename, join } from "node:path";
import { BreakglassError } from "../domain/errors.js";
import { closestName } from "../domain/shared/closest-name.js";
import type { RunbookSource } from "../domain/runbooks/engine-ports.js";
import { loadRunbooks, runbookFiles, RUNBOOK_EXTENSION, type LoadedRunbook } from "../domain/runbooks/load-runbook.js";
import { readRunbookSource } from "../domain/runbooks/run-engine.js";

export class RunbookCatalog {
  constructor(readonly directory: string) {}

  /** Where the runbook with this id lives, whether or not it exists. */
  path(runbookId: string): string {
    return join(this.directory, `${runbookId}${RUNBOOK_EXTENSION}`);
  }

  /** The ids on offer, sorted. */
  async ids(): Promise<string[]> {
    const files = await runbookFiles(this.directory);
    return files.map((file) => basename(file, RUNBOOK_EXTENSION));
  }

  /**
   * The runbook as it is on disk now. RUNBOOK_NOT_FOUND, naming the ones there are, when there is no such runbook;
   * RUNBOOK_INVALID, naming the file, line and field, when there is one but it is broken: two different problems for
   * the person who typed the id.
   */
  async source(runbookId: string): Promise<RunbookSource> {
    const ids = await this.ids();
    if (!ids.includes(runbookId)) {
      const closest = closestName(runbookId, ids);
      throw new BreakglassError("RUNBOOK_NOT_FOUND", `runbook ${runbookId}`, `there is no such runbook in ${this.directory}${closest === undefined ? "" : ` (did you mean ${closest}?)`}; runbooks: ${ids.join(", ") || "none"}`);
    }
    return readRunbookSource(this.path(runbookId));
  }

  /** Every runbook, parsed; RUNBOOK_INVALID naming the first problem of the first broken file. */
  list(): Promise<LoadedRunbook[]> {
    return loadRunbooks(this.directory);
  }
}
