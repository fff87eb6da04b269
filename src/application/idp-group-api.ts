// The IdP's group API (FM3's emergency groups) as breakglass.yaml and the environment configure it, and the one answer
// for every use case that needs it when it is not configured.
import { readFileSync } from "node:fs";
import type { BreakglassConfig } from "../config/config-schema.js";
import { BreakglassError } from "../domain/errors.js";
import type { GroupDirectory } from "../domain/ports/group-directory.js";
import type { ActionExecutor } from "../domain/runbooks/engine-ports.js";
import { GraphGroupDirectory } from "../adapters/idp/graph-group-directory.js";
import { OktaGroupDirectory } from "../adapters/idp/okta-group-directory.js";
import { ScimGroupDirectory } from "../adapters/idp/scim-group-directory.js";

export const NO_GROUP_API =
  "needs the IdP's group API: set idp.directory in breakglass.yaml and put its token in the environment variable it names";

/** The configured directory; undefined without idp.directory or without its token in the environment. */
export function openGroupDirectory(
  settings: BreakglassConfig["idp"]["directory"],
  env: NodeJS.ProcessEnv,
): GroupDirectory | undefined {
  if (!settings) return undefined;
  const token = env[settings.tokenVariable];
  if (!token) return undefined;
  const options = { baseUrl: settings.baseUrl, token, ...(settings.ca ? { ca: readCa(settings.ca) } : {}) };
  switch (settings.kind) {
    case "scim":
      return new ScimGroupDirectory(options);
    case "okta":
      return new OktaGroupDirectory(options);
    case "graph":
      return new GraphGroupDirectory(options);
  }
}

/** The directory, or USAGE saying what to configure, naming what needed it. */
export function requireGroupDirectory(directory: GroupDirectory | undefined, subject: string): GroupDirectory {
  if (directory === undefined) throw new BreakglassError("USAGE", subject, NO_GROUP_API);
  return directory;
}

function readCa(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    throw new BreakglassError("CONFIG_UNREADABLE", path, "cannot read the CA certificate file (idp.directory.ca)");
  }
}

/** Why there is no group API, naming the key or the variable to set: for a run's preflight and every later attempt. */
export function missingGroupApi(settings: BreakglassConfig["idp"]["directory"], env: NodeJS.ProcessEnv): string {
  if (!settings)
    return "needs the IdP's group API, and breakglass.yaml has no idp.directory: set it (kind, baseUrl, tokenVariable)";
  if (!env[settings.tokenVariable])
    return (
      `needs the IdP's group API, and the environment variable ${settings.tokenVariable} ` +
      "(idp.directory.tokenVariable) that holds its token is unset"
    );
  return NO_GROUP_API;
}

/**
 * Without an IdP API the group steps cannot run: the run's preflight says why (naming idp.directory or the token's
 * variable), so that the run is refused when it starts, before anyone approves; every later attempt fails the same way.
 */
export function needsGroupApi(action: string, reason: string = NO_GROUP_API): ActionExecutor {
  const refused = () => Promise.reject(new BreakglassError("USAGE", action, reason));
  return {
    preflight: () => Promise.resolve({ facts: [], problems: [reason] }),
    plan: refused,
    apply: refused,
    verify: refused,
  };
}
