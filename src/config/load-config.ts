// Reads breakglass.yaml into a checked BreakglassConfig, or into problems that each name the line, the key and what was expected.
import { open, type FileHandle } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { isMap, isScalar, LineCounter, parseDocument, type YAMLError } from "yaml";
import { z } from "zod";
import { closestName } from "../domain/shared/closest-name.js";
import { formatBytes } from "../domain/shared/format-bytes.js";
import { describeAliasFailure, describeNode, lineOf, locate, type YamlSource } from "../domain/shared/yaml-location.js";
import { BreakglassError, describeError, isBreakglassError } from "../domain/errors.js";
import { configSchema, type BreakglassConfig } from "./config-schema.js";

export const DEFAULT_CONFIG_PATH = "breakglass.yaml";
export const CONFIG_PATH_VARIABLE = "BREAKGLASS_CONFIG";
/** A configuration file is a few hundred lines at most; anything near this limit is a mistake or an attack. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
// Enough to reuse a list through an anchor a few times, far too few for an exponential "billion laughs" expansion.
const MAX_ALIAS_COUNT = 20;

export interface ConfigProblem {
  /** 1-based line in the file, or null when the problem has no place (a missing top-level section, an empty file). */
  readonly line: number | null;
  /** The dotted key, e.g. `aws.emergencyAccount.samlProviders[0]`; empty when the problem is the file itself. */
  readonly key: string;
  readonly message: string;
}

export interface LoadedConfig {
  /** The configuration file as it was named (the paths inside `config` are absolute). */
  readonly path: string;
  readonly config: BreakglassConfig;
}

/** `--config`, else `$BREAKGLASS_CONFIG`, else ./breakglass.yaml. */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag !== undefined) {
    if (flag.trim() === "") throw new BreakglassError("USAGE", "--config", "expected a file path, got an empty string");
    return flag;
  }
  const fromEnvironment = env[CONFIG_PATH_VARIABLE];
  // An empty variable is how shells unset things in practice.
  return fromEnvironment === undefined || fromEnvironment === "" ? DEFAULT_CONFIG_PATH : fromEnvironment;
}

export async function loadConfig(path: string): Promise<LoadedConfig> {
  return parseConfig(await readConfigText(path), path);
}

/** Parses and checks the text of a configuration file; throws CONFIG_INVALID naming the first problem. */
export function parseConfig(text: string, path: string): LoadedConfig {
  const outcome = interpretConfigText(text, path);
  if (outcome.config !== undefined) return { path, config: outcome.config };
  const [first, ...others] = outcome.problems;
  const more =
    others.length === 0
      ? {}
      : {
          hint: `and ${others.length} more problem${others.length === 1 ? "" : "s"}; run \`${configCommand("validate", path)}\` to list them`,
        };
  throw new BreakglassError("CONFIG_INVALID", path, first === undefined ? "invalid" : describeProblemAt(first), more);
}

/** Every problem of the text, in file order; empty when it is a valid configuration. */
export function validateConfigText(text: string, path: string): ConfigProblem[] {
  return interpretConfigText(text, path).problems;
}

/** `key: message`, leaving out the key when the message already names it or the problem is the whole file. */
export function describeProblem(problem: ConfigProblem): string {
  return problem.key === "" || problem.message.includes(`\`${problem.key}\``)
    ? problem.message
    : `${problem.key}: ${problem.message}`;
}

/** The breakglass command line that acts on this configuration file, for hints. */
export function configCommand(subcommand: "validate" | "init", path: string): string {
  if (path === DEFAULT_CONFIG_PATH || path === `./${DEFAULT_CONFIG_PATH}`) return `breakglass config ${subcommand}`;
  const quoted = /^[\w./@:+-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
  return `breakglass config ${subcommand} --config ${quoted}`;
}

/** The file's text; CONFIG_UNREADABLE when it cannot be read, CONFIG_INVALID when it is too large or not UTF-8. */
export async function readConfigText(path: string): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw unreadable(path, error);
  }
  try {
    const stats = await handle.stat();
    if (stats.isDirectory())
      throw new BreakglassError("CONFIG_UNREADABLE", path, "is a directory, not a configuration file");
    // A FIFO or device would block or never end.
    if (!stats.isFile()) throw new BreakglassError("CONFIG_UNREADABLE", path, "is not a regular file");
    if (stats.size > MAX_CONFIG_BYTES) throw tooLarge(path, stats.size);
    const bytes = await handle.readFile();
    if (bytes.length > MAX_CONFIG_BYTES) throw tooLarge(path, bytes.length);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new BreakglassError("CONFIG_INVALID", path, "the file is not UTF-8 text");
    }
  } catch (error) {
    throw isBreakglassError(error) ? error : unreadable(path, error);
  } finally {
    await handle.close();
  }
}

function unreadable(path: string, error: unknown): BreakglassError {
  const code = error instanceof Error && "code" in error ? error.code : undefined;
  if (code === "ENOENT" || code === "ENOTDIR") {
    return new BreakglassError("CONFIG_UNREADABLE", path, "no such file", {
      hint: `create one with \`${configCommand("init", path)}\``,
      cause: error,
    });
  }
  if (code === "EACCES" || code === "EPERM")
    return new BreakglassError("CONFIG_UNREADABLE", path, "permission denied", { cause: error });
  return new BreakglassError("CONFIG_UNREADABLE", path, `cannot read the file: ${describeError(error)}`, {
    cause: error,
  });
}

function tooLarge(path: string, bytes: number): BreakglassError {
  return new BreakglassError("CONFIG_INVALID", path, tooLargeMessage(bytes));
}

function tooLargeMessage(bytes: number): string {
  return `refused: the file is ${formatBytes(bytes)}, over the ${formatBytes(MAX_CONFIG_BYTES)} limit for a configuration file`;
}

function describeProblemAt(problem: ConfigProblem): string {
  return problem.line === null ? describeProblem(problem) : `line ${problem.line}: ${describeProblem(problem)}`;
}

type Interpretation =
  | { readonly config: BreakglassConfig; readonly problems: [] }
  | { readonly config?: undefined; readonly problems: ConfigProblem[] };

function interpretConfigText(text: string, path: string): Interpretation {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_CONFIG_BYTES) return failed({ line: null, key: "", message: tooLargeMessage(bytes) });

  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const source: YamlSource = { text, document, lineCounter };
  if (document.errors.length > 0) return { problems: document.errors.map(yamlSyntaxProblem) };
  if (document.contents === null) {
    return failed({
      line: null,
      key: "",
      message: "the file is empty (only blank lines or comments); expected at least an idp section",
    });
  }
  if (!isMap(document.contents)) {
    return failed({
      line: lineOf(source, document.contents),
      key: "",
      message: `expected a mapping of sections (idp, aws, checks, store), got ${describeNode(source, document.contents)}`,
    });
  }

  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    return failed(aliasProblem(source, error));
  }
  const result = configSchema.safeParse(data);
  if (!result.success)
    return {
      problems: inFileOrder(
        withoutRepeatedProblems(
          withoutExplainedMissingKeys(result.error.issues.flatMap((issue) => problemsOfIssue(source, issue))),
        ),
      ),
    };
  return { config: withAbsolutePaths(result.data, path), problems: [] };
}

function failed(problem: ConfigProblem): Interpretation {
  return { problems: [problem] };
}

function yamlSyntaxProblem(error: YAMLError): ConfigProblem {
  // yaml's own message repeats the position and quotes the source over several lines; keep the first clause.
  const reason = (error.message.split("\n")[0] ?? error.code).replace(/ at line \d+, column \d+:?$/, "");
  return {
    line: error.linePos?.[0].line ?? null,
    key: "",
    message: `invalid YAML: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`,
  };
}

function aliasProblem(source: YamlSource, error: unknown): ConfigProblem {
  return { key: "", ...describeAliasFailure(source, error, "a configuration file") };
}

interface FoundProblem extends ConfigProblem {
  /** Set when the problem is a missing key. */
  readonly missing?: true;
  /** The key an unknown key was probably meant to be, as a dotted path. */
  readonly meant?: string;
}

// `emergencyAcount:` makes `emergencyAccount` missing too; the unknown key's "did you mean" already says all there is to say.
function withoutExplainedMissingKeys(problems: FoundProblem[]): ConfigProblem[] {
  const meant = new Set(problems.flatMap((problem) => (problem.meant === undefined ? [] : [problem.meant])));
  return problems
    .filter((problem) => !(problem.missing && meant.has(problem.key)))
    .map(({ line, key, message }) => ({ line, key, message }));
}

function problemsOfIssue(source: YamlSource, issue: z.core.$ZodIssue): FoundProblem[] {
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeysAt(configSchema, issue.path);
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      const suggestion = closestName(key, allowed);
      const advice =
        suggestion === undefined ? `expected one of ${allowed.join(", ")}` : `did you mean \`${suggestion}\`?`;
      const problem = {
        line: locate(source, path).line,
        key: keyPath(path),
        message: `unknown key \`${keyPath(path)}\` (${advice})`,
      };
      return suggestion === undefined ? problem : { ...problem, meant: keyPath([...issue.path, suggestion]) };
    });
  }
  if (issue.code === "invalid_union") {
    // `accounts: ["12345"]` is plainly meant as the list form: report what is wrong inside the list, not "got a list".
    const branchesOfTheRightKind = issue.errors.filter(
      (branch) =>
        !branch.some(
          (inner) => inner.path.length === 0 && (inner.code === "invalid_type" || inner.code === "invalid_value"),
        ),
    );
    const [onlyBranch] = branchesOfTheRightKind;
    if (branchesOfTheRightKind.length === 1 && onlyBranch !== undefined) {
      return onlyBranch.flatMap((inner) => problemsOfIssue(source, { ...inner, path: [...issue.path, ...inner.path] }));
    }
  }
  const location = locate(source, issue.path);
  const key = keyPath(issue.path);
  if (!location.found)
    return [{ line: location.line, key, message: `${issue.message}, but the key is missing`, missing: true }];
  let message = `${issue.message}, got ${describeNode(source, location.node)}`;
  if (issue.code === "invalid_value" && isScalar(location.node) && typeof location.node.value === "string") {
    const suggestion = closestName(
      location.node.value,
      issue.values.filter((value) => typeof value === "string"),
    );
    if (suggestion !== undefined) message += ` (did you mean \`${suggestion}\`?)`;
  }
  return [{ line: location.line, key, message }];
}

/**
 * Each problem once, as it would be printed. Zod reports `name: []` both as not a string and as too short, with one
 * message; and two routes to one finding (a schema rule and a placeholder) must print one line.
 */
export function withoutRepeatedProblems(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const shown = `${problem.line ?? ""}:${describeProblem(problem)}`;
    if (seen.has(shown)) return false;
    seen.add(shown);
    return true;
  });
}

function inFileOrder(problems: ConfigProblem[]): ConfigProblem[] {
  // Problems without a line (a missing top-level section) concern the whole file and come first; sort is stable.
  return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

function keyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, segment) =>
      typeof segment === "number"
        ? `${text}[${segment}]`
        : text === ""
          ? String(segment)
          : `${text}.${String(segment)}`,
    "",
  );
}

/** The keys the schema allows in the mapping at `path`, for "did you mean". */
function allowedKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.core.$ZodType | undefined = schema;
  for (const segment of path) {
    const inner: z.core.$ZodType | undefined = current === undefined ? undefined : unwrap(current);
    // A ZodObject reached by instanceof has a loosely typed shape; its values are schemas or absent.
    if (inner instanceof z.ZodObject)
      current = typeof segment === "string" ? (inner.shape[segment] as z.core.$ZodType | undefined) : undefined;
    else if (inner instanceof z.ZodArray) current = inner.element;
    else current = undefined;
  }
  const target = current === undefined ? undefined : unwrap(current);
  return target instanceof z.ZodObject ? Object.keys(target.shape) : [];
}

/** The schema under optional, default and transform wrappers. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodNullable
    )
      current = current.unwrap();
    else if (current instanceof z.ZodPipe) current = current.in instanceof z.ZodTransform ? current.out : current.in;
    else return current;
  }
}

const URL_SOURCE = /^https?:\/\//i;

type DirectorySettings = NonNullable<BreakglassConfig["idp"]["directory"]>;

function withAbsoluteDirectoryPaths(settings: DirectorySettings, folder: string): DirectorySettings {
  const { ca, auth } = settings;
  const absolute = <Key extends string>(key: Key, path: string | undefined) =>
    path === undefined ? {} : ({ [key]: resolve(folder, path) } as Record<Key, string>);
  return {
    ...settings,
    ...absolute("ca", ca),
    ...(auth === undefined
      ? {}
      : {
          auth: {
            ...auth,
            ...absolute("clientSecretFile", auth.clientSecretFile),
            ...absolute("privateKeyFile", auth.privateKeyFile),
          },
        }),
  };
}

/** Relative paths in the file are relative to the file's own folder, wherever breakglass runs from. */
function withAbsolutePaths(config: BreakglassConfig, configPath: string): BreakglassConfig {
  const directory = dirname(resolve(configPath));
  const { metadata, metadataSigner, directory: idpDirectory } = config.idp;
  return {
    ...config,
    idp: {
      ...config.idp,
      metadata: URL_SOURCE.test(metadata) ? metadata : resolve(directory, metadata),
      ...(metadataSigner === undefined ? {} : { metadataSigner: resolve(directory, metadataSigner) }),
      ...(idpDirectory === undefined ? {} : { directory: withAbsoluteDirectoryPaths(idpDirectory, directory) }),
    },
    store: {
      ...config.store,
      path: resolve(directory, config.store.path),
      ...(config.store.auditMirror === undefined ? {} : { auditMirror: resolve(directory, config.store.auditMirror) }),
    },
    serve: {
      ...config.serve,
      ...(config.serve.drill === undefined
        ? {}
        : {
            drill: {
              ...config.serve.drill,
              reportDirectory: resolve(directory, config.serve.drill.reportDirectory),
              ...(config.serve.drill.response === undefined
                ? {}
                : { response: resolve(directory, config.serve.drill.response) }),
            },
          }),
    },
  };
}
