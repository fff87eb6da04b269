// The JSON of `runbook list --json` and `runbook show --json`: the runbooks, and one runbook's inputs and steps as data.
import type { Runbook, RunbookStep } from "../domain/runbooks/runbook-schema.js";

/** The runbooks that load, and the files that do not (named, as the text report names them on stderr). */
export function runbookListJson(
  runbooks: readonly { readonly id: string; readonly failureMode: string; readonly title: string }[],
  invalidFiles: readonly string[],
): unknown {
  return {
    runbooks: runbooks.map((runbook) => ({
      id: runbook.id,
      failureMode: runbook.failureMode,
      title: runbook.title,
    })),
    invalidFiles,
  };
}

/** The runbook as parsed: what a script needs to start it (its inputs) and to follow a run of it (its steps, in order). */
export function runbookShowJson(runbook: Runbook): unknown {
  return {
    id: runbook.id,
    title: runbook.title,
    failureMode: runbook.failureMode,
    summary: runbook.summary,
    inputs: runbook.inputs.map((input) => ({
      name: input.name,
      description: input.description,
      type: input.type,
      required: input.required,
      default: input.default ?? null,
      choices: input.choices ?? null,
    })),
    steps: runbook.steps.map(stepJson),
  };
}

/** The fields every step has, with null where absent, then the fields of its kind exactly as the runbook file gives them. */
function stepJson(step: RunbookStep): unknown {
  const { id, title, kind, description, when, onFailure, ...fieldsOfKind } = step;
  return { id, title, kind, description: description ?? null, when: when ?? null, onFailure, ...fieldsOfKind };
}
