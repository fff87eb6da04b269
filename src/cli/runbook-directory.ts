// Where the runbooks shipped with breakglass live, in a module of its own so that defining the command line loads nothing else.
import { fileURLToPath } from "node:url";

/** The runbooks shipped with breakglass: `runbooks/` at the package root, from src/cli and dist/cli alike. */
export const DEFAULT_RUNBOOK_DIRECTORY = fileURLToPath(new URL("../../runbooks/", import.meta.url));
