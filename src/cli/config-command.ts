// `breakglass config validate` and `breakglass config init`: check the configuration file, or write a commented one to start from.
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { CHECK_NAMES, type BreakglassConfig } from "../config/config-schema.js";
import { describeDisabledChecks } from "../config/disabled-checks.js";
import { EXAMPLE_CONFIG } from "../config/example-config.js";
import {
  configCommand,
  describeProblem,
  parseConfig,
  readConfigText,
  type ConfigProblem,
} from "../config/load-config.js";
import { reviewConfigText } from "../config/review-config.js";
import { BreakglassError, describeError, isBreakglassError } from "../domain/errors.js";
import { redactUrl } from "../domain/shared/redact-url.js";
import { EXIT } from "./exit-codes.js";
import { serveSummary } from "./serve-summary.js";
import type { CliIo } from "./io.js";

export interface ConfigInitOptions {
  readonly force?: boolean;
}

/**
 * Prints `<file>: valid` and what will and will not be checked (exit 0), or every problem once, one per line on stderr
 * (exit 2): schema problems, example values left from `config init`, and variables the file names that are unset here.
 */
export async function runConfigValidate(path: string, io: CliIo, options: { json?: boolean } = {}): Promise<number> {
  let text: string;
  try {
    text = await readConfigText(path);
  } catch (error) {
    // Too large or not UTF-8 is a problem of the file like any other: same stream, same shape. Unreadable goes to main.
    if (!isBreakglassError(error) || error.code !== "CONFIG_INVALID") throw error;
    if (options.json === true) {
      io.stdout(`${JSON.stringify(validationJson(path, [{ line: null, key: "", message: error.message }]))}\n`);
      return EXIT.unusable;
    }
    io.stderr(`${error.message}\n`);
    return EXIT.unusable;
  }
  const problems = reviewConfigText(text, path, io.env);
  if (options.json === true) {
    const config = problems.length > 0 ? undefined : parseConfig(text, path).config;
    io.stdout(`${JSON.stringify(validationJson(path, problems, config))}\n`);
    return problems.length > 0 ? EXIT.unusable : EXIT.ok;
  }
  if (problems.length > 0) {
    for (const problem of problems) io.stderr(`${problemLine(path, problem)}\n`);
    return EXIT.unusable;
  }
  const config = parseConfig(text, path).config;
  io.stdout(validSummary(path, config));
  io.stdout(`${serveSummary(config, io.env).join("\n")}\n`);
  return EXIT.ok;
}

/** Writes the commented example configuration, readable only by its owner; never replaces a file without `force`. */
export async function runConfigInit(path: string, io: CliIo, options: ConfigInitOptions): Promise<number> {
  const target = resolve(path);
  const force = options.force === true;
  try {
    await mkdir(dirname(target), { recursive: true });
    // "wx" makes the existence check and the creation one step, so a file that appears meanwhile is not clobbered.
    await writeFile(target, EXAMPLE_CONFIG, { mode: 0o600, flag: force ? "w" : "wx" });
    // The mode applies only when the file is created: a replaced file would keep its old permissions.
    if (force) await chmod(target, 0o600);
  } catch (error) {
    const code = error instanceof Error && "code" in error ? error.code : undefined;
    if (code === "EEXIST") {
      io.stderr(
        `breakglass: ${path}: already exists, not overwriting it (pass --force to replace it with the example)\n`,
      );
      return EXIT.unusable;
    }
    const reason = code === "EACCES" || code === "EPERM" ? "permission denied" : describeError(error);
    throw new BreakglassError("CONFIG_UNWRITABLE", path, `cannot write the configuration file: ${reason}`, {
      cause: error,
    });
  }
  io.stdout(`wrote an example configuration to ${target} (readable only by you)\n`);
  io.stdout(`next: replace the values marked CHANGE ME, then run \`${configCommand("validate", path)}\`\n`);
  return EXIT.ok;
}

/**
 * `config validate --json`: `{ file, valid, problems: [{ line, key, message }], checks: { will, not: [{ check, reason }] } }`;
 * `checks` is null while the file has problems (what it would check is not known yet).
 */
function validationJson(path: string, problems: readonly ConfigProblem[], config?: BreakglassConfig): unknown {
  const disabled = config === undefined ? [] : describeDisabledChecks(config);
  const skipped = new Set(disabled.map((entry) => entry.check));
  return {
    file: path,
    valid: problems.length === 0,
    problems: problems.map((problem) => ({ line: problem.line, key: problem.key, message: describeProblem(problem) })),
    checks:
      config === undefined
        ? null
        : {
            will: CHECK_NAMES.filter((check) => !skipped.has(check)),
            not: disabled.map(({ check, reason }) => ({ check, reason })),
          },
  };
}

/** `file:line: key: message`, the shape editors and CI annotate from. */
function problemLine(path: string, problem: ConfigProblem): string {
  return problem.line === null
    ? `${path}: ${describeProblem(problem)}`
    : `${path}:${problem.line}: ${describeProblem(problem)}`;
}

function validSummary(path: string, config: BreakglassConfig): string {
  const disabled = describeDisabledChecks(config);
  const skipped = new Set(disabled.map((entry) => entry.check));
  const checked = CHECK_NAMES.filter((check) => !skipped.has(check));
  const { idp, aws } = config;
  const lines = [`${path}: valid`];
  const signer = idp.metadataSigner === undefined ? "signer not pinned" : `signer pinned to ${idp.metadataSigner}`;
  lines.push(
    `  idp: ${idp.name}, metadata ${redactUrl(idp.metadata)} (${signer}; warns ${idp.warnDays} days before a certificate expires)`,
  );
  if (idp.insecure)
    lines.push("  warning: idp.metadata is plain http, so anyone on the network path can change it; use https");
  if (aws !== undefined) {
    const account = aws.emergencyAccount;
    lines.push(
      `  emergency account: ${account.accountId}, ` +
        `${count(account.samlProviders?.length ?? 0, "SAML provider")}, ` +
        `${count(account.emergencyRoles?.length ?? 0, "emergency role")}, ` +
        `${count(account.emergencyUsers?.length ?? 0, "emergency user")}`,
    );
    const organization = aws.organization;
    if (organization !== undefined) {
      const scope =
        organization.accounts === "all"
          ? `every ACTIVE account except ${account.accountId}`
          : count(organization.accounts.length, "listed account");
      lines.push(`  organization: ${scope}, ${config.checks.concurrency} at a time`);
    }
  }
  lines.push(`  will check: ${checked.length === 0 ? "nothing" : checked.join(", ")}`);
  for (const { check, reason } of disabled) lines.push(`  not checked: ${check} (${reason})`);
  return `${lines.join("\n")}\n`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
