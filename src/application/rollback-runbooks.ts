// The derived runbooks that roll runs back, by id (`rollback-<run id>`), beside the catalog's files: one resolver for the engine.
import { createHash } from "node:crypto";
import { BreakglassError } from "../domain/errors.js";
import type { RunbookResolver, RunbookSource } from "../domain/runbooks/engine-ports.js";
import { parseRunbook } from "../domain/runbooks/parse-runbook.js";
import { deriveRollbackRunbook, rollbackRunbookId, runIdOfRollback } from "../domain/runbooks/rollback-runbook.js";
import { runbookDigest } from "../domain/runbooks/run-engine.js";
import type { RunStore } from "../domain/runbooks/run-store.js";
import type { RunbookCatalog } from "./runbook-catalog.js";

/** What deriving a rollback reads of the original run: the store's read side, unchanged. */
export type StoredRuns = Pick<RunStore, "findRun" | "runSteps" | "runArtefacts">;

export class RollbackRunbooks {
  /** `originals` finds the runbook a run ran: the catalog's, or a derived one (a rollback can be rolled back too). */
  constructor(
    private readonly runs: StoredRuns,
    private readonly originals: () => RunbookResolver,
  ) {}

  /** True when the id names a derived rollback runbook rather than a file. */
  static names(runbookId: string): boolean {
    return runIdOfRollback(runbookId) !== undefined;
  }

  /**
   * The rollback runbook of the run it names, derived again from the stored run each time (the engine's digest check
   * then refuses to go on should the original run have changed since). RUN_NOT_FOUND without the run; RUN_STATE when it
   * is still running or applied nothing; RUNBOOK_CHANGED when the original's runbook is no longer the one it ran.
   */
  async source(runbookId: string): Promise<RunbookSource> {
    const runId = runIdOfRollback(runbookId);
    const run = runId === undefined ? null : this.runs.findRun(runId);
    if (runId === undefined || run === null)
      throw new BreakglassError(
        "RUNBOOK_NOT_FOUND",
        runbookId,
        `no run ${runId ?? "(none named)"} in the store to derive this rollback from`,
      );
    const original = await this.originals()(run.runbookId);
    if (runbookDigest(original.text) !== run.runbookDigest) {
      throw new BreakglassError(
        "RUNBOOK_CHANGED",
        `run ${run.id}`,
        `runbook ${run.runbookId} (${original.path}) changed since this run started, so what its steps did ` +
          `can no longer be read against it; put the runbook back as it was to roll the run back`,
      );
    }
    const text = deriveRollbackRunbook({
      run,
      runbook: original.runbook,
      steps: this.runs.runSteps(run.id),
      artefacts: this.runs.runArtefacts(run.id),
    });
    const path = `(derived from run ${run.id})`;
    return { path, text, runbook: parseRunbook(text, path).runbook };
  }
}

/** The engine's one resolver: a derived rollback by its id, otherwise the catalog's file. */
export function runbookResolver(catalog: RunbookCatalog, runs: StoredRuns): RunbookResolver {
  const resolve: RunbookResolver = (runbookId) =>
    RollbackRunbooks.names(runbookId) ? rollbacks.source(runbookId) : catalog.source(runbookId);
  const rollbacks = new RollbackRunbooks(runs, () => resolve);
  return resolve;
}

/**
 * The id of the `attempt`-th rollback run of a run: derived (shaped as a UUID, like every run id), so that a second
 * rollback finds the first one in the store without a query the store does not have.
 */
export function rollbackRunId(runId: string, attempt: number): string {
  const hex = createHash("sha256")
    .update(`${rollbackRunbookId(runId)}#${attempt}`, "utf8")
    .digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
