// The environment variables a configuration names that are not set where it is checked, so FM3 does not fail after approval.
import type { BreakglassConfig } from "./config-schema.js";

export interface UnsetVariable {
  /** The schema path of the key that names the variable (or of the section that implies it by default). */
  readonly path: readonly string[];
  readonly variable: string;
  readonly consequence: string;
}

/** The variables the config needs in order to be used as is, each once, that are unset or empty in `env`. */
export function findUnsetVariables(config: BreakglassConfig, env: NodeJS.ProcessEnv): UnsetVariable[] {
  const directory = config.idp.directory;
  if (directory === undefined) return [];
  // With client credentials the static token is unused; only a secret held in the environment can be missing.
  const [path, variable] = directory.auth
    ? (["clientSecretVariable", directory.auth.clientSecretVariable] as const)
    : (["tokenVariable", directory.tokenVariable] as const);
  if (variable === undefined) return [];
  const value = env[variable];
  if (value !== undefined && value.trim() !== "") return [];
  return [
    {
      path: directory.auth ? ["idp", "directory", "auth", path] : ["idp", "directory", path],
      variable,
      consequence: `FM3 and grants cannot add anyone to the IdP's emergency groups (${directory.kind} API) without the token it holds`,
    },
  ];
}
