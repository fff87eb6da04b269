// How a step's texts and parameters find `${inputs.x}`, `${artefacts.x}` and `${run.x}` in the run they belong to.
import type { ArtefactPaths } from "./engine-ports.js";
import type { Artefact } from "./runbook-schema.js";
import type { ReferenceLookup } from "./runbook-template.js";
import type { RunRecord } from "./run-store.js";

export function lookupInRun(run: RunRecord, artefacts: ArtefactPaths): ReferenceLookup {
  return (reference) => {
    if (reference.scope === "inputs") return run.inputs[reference.name];
    if (reference.scope === "artefacts") {
      const path = artefacts[reference.name as Artefact];
      // A dry run applies no action, so a text may name an artefact that was never made.
      return path === undefined && run.dryRun ? `(no ${reference.name}: dry run)` : path;
    }
    if (reference.name === "id") return run.id;
    return reference.name === "initiator" ? run.initiator : undefined;
  };
}
