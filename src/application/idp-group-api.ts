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
import { ClientCredentialsTokenSource, type ClientCredential } from "../adapters/idp/token-source.js";

export const NO_GROUP_API =
  "needs the IdP's group API: set idp.directory in breakglass.yaml and put its token in the environment variable it names";

/** The configured directory; undefined without idp.directory or without its token (or client secret) in the environment. */
export function openGroupDirectory(
  settings: BreakglassConfig["idp"]["directory"],
  env: NodeJS.ProcessEnv,
): GroupDirectory | undefined {
  if (!settings) return undefined;
  const ca = settings.ca ? readCa(settings.ca) : undefined;
  const token = settings.auth ? clientCredentials(settings.auth, env, ca) : env[settings.tokenVariable];
  if (!token) return undefined;
  const options = {
    baseUrl: settings.baseUrl,
    token,
    ...(settings.maxRetryWaitSeconds === undefined ? {} : { maxRetryWaitMs: settings.maxRetryWaitSeconds * 1000 }),
    ...(settings.retryBudgetSeconds === undefined ? {} : { retryBudgetMs: settings.retryBudgetSeconds * 1000 }),
    ...(ca === undefined ? {} : { ca }),
  };
  switch (settings.kind) {
    case "scim":
      return new ScimGroupDirectory(options);
    case "okta":
      return new OktaGroupDirectory(options);
    case "graph":
      return new GraphGroupDirectory(options);
  }
}

type DirectoryAuth = NonNullable<NonNullable<BreakglassConfig["idp"]["directory"]>["auth"]>;

/** The token source of idp.directory.auth; undefined when the secret's environment variable is unset. */
function clientCredentials(
  auth: DirectoryAuth,
  env: NodeJS.ProcessEnv,
  ca: string | undefined,
): ClientCredentialsTokenSource | undefined {
  let credential: ClientCredential;
  let credentialInput: string;
  if (auth.clientSecretVariable !== undefined) {
    const secret = env[auth.clientSecretVariable];
    if (!secret) return undefined;
    credential = { kind: "secret", secret: secret.trim() };
    credentialInput = `idp.directory.auth.clientSecretVariable (${auth.clientSecretVariable})`;
  } else if (auth.clientSecretFile !== undefined) {
    credentialInput = `idp.directory.auth.clientSecretFile (${auth.clientSecretFile})`;
    credential = { kind: "secret", secret: readSecretFile(auth.clientSecretFile, credentialInput).trim() };
  } else {
    const path = auth.privateKeyFile!;
    credentialInput = `idp.directory.auth.privateKeyFile (${path})`;
    credential = {
      kind: "private-key",
      privateKeyPem: readSecretFile(path, credentialInput),
      ...(auth.keyId === undefined ? {} : { keyId: auth.keyId }),
    };
  }
  return new ClientCredentialsTokenSource({
    tokenUrl: auth.tokenUrl,
    clientId: auth.clientId,
    scope: auth.scope,
    credential,
    credentialInput,
    ...(auth.dpop === true ? { dpop: true } : {}),
    ...(ca === undefined ? {} : { ca }),
  });
}

function readSecretFile(path: string, input: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    throw new BreakglassError("CONFIG_UNREADABLE", input, "cannot read the file");
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
  const secretVariable = settings.auth?.clientSecretVariable;
  if (secretVariable !== undefined && !env[secretVariable])
    return (
      `needs the IdP's group API, and the environment variable ${secretVariable} ` +
      "(idp.directory.auth.clientSecretVariable) that holds its client secret is unset"
    );
  if (!settings.auth && !env[settings.tokenVariable])
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
