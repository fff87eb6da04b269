// A RunContext for calling an action executor directly, as the engine would for one step of one run.
import type { ArtefactPaths, RunContext } from "../../../src/domain/runbooks/engine-ports.js";

export function runContext(
  overrides: { runId?: string; stepId?: string; initiator?: string; now?: Date; artefacts?: ArtefactPaths } = {},
): RunContext {
  const runId = overrides.runId ?? "run-1";
  const stepId = overrides.stepId ?? "step";
  return {
    runId,
    runbookId: "fm3-direct-federation",
    stepId,
    initiator: overrides.initiator ?? "alice",
    dryRun: false,
    now: overrides.now ?? new Date("2026-11-25T10:00:00Z"),
    idempotencyKey: `${runId}:${stepId}`,
    artefacts: overrides.artefacts ?? {},
  };
}
