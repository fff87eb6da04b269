// What makes a file a runbook file before it is parsed: its extension and its size limit. Apart from the parser, so
// that listing runbook files loads no YAML or schema library.
import { formatBytes } from "../shared/format-bytes.js";

/** A runbook is a few hundred lines; anything near this limit is a mistake or an attack. */
export const MAX_RUNBOOK_BYTES = 1024 * 1024;
export const RUNBOOK_EXTENSION = ".yaml";

/** Why a runbook of this size is refused, for the file reader and for text handed in directly. */
export function runbookTooLargeReason(bytes: number): string {
  return `refused: the file is ${formatBytes(bytes)}, over the ${formatBytes(MAX_RUNBOOK_BYTES)} limit for a runbook`;
}
