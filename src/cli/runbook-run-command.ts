// `breakglass runbook run | resume | approve | reject | confirm | status | abort`: drive a runbook from the CLI, when Slack is down too.
import { join } from "node:path";
import { userInfo } from "node:os";
import pc from "picocolors";
import { loadConfig, resolveConfigPath } from "../config/load-config.js";
import { BreakglassError } from "../domain/errors.js";
import { readRunbookSource, type RunView } from "../domain/runbooks/run-engine.js";
import type { Runbook } from "../domain/runbooks/runbook-schema.js";
import { openRunbookServices, type RunbookServices } from "../application/runbook-runtime.js";
import { SqliteStore } from "../adapters/store/sqlite-store.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import { runViewText } from "./run-view-text.js";

export interface OperatorOptions {
  readonly config?: string;
  readonly as: string;
  readonly dir: string;
}

export interface RunOptions extends OperatorOptions {
  readonly input?: readonly string[];
  readonly dryRun?: boolean;
}

export async function runRunbookRun(runbookId: string, options: RunOptions, io: CliIo): Promise<number> {
  return withServices(options, io, async ({ engine }, actor) => {
    const source = await readRunbookSource(join(options.dir, `${runbookId}.yaml`));
    const view = engine.start(source, parseInputs(source.runbook, options.input ?? []), actor, { dryRun: options.dryRun === true });
    io.stdout(`Started run ${view.id} of ${runbookId}${options.dryRun ? " (dry run)" : ""}.\n`);
    return engine.advance(view.id, actor);
  });
}

export async function runRunbookResume(runId: string, options: OperatorOptions, io: CliIo): Promise<number> {
  return withServices(options, io, ({ engine }, actor) => engine.advance(runId, actor));
}

export async function runRunbookApprove(runId: string, options: OperatorOptions, io: CliIo): Promise<number> {
  return withServices(options, io, async ({ engine }, actor) => {
    await engine.approve(runId, actor);
    return engine.advance(runId, actor);
  });
}

export async function runRunbookReject(runId: string, options: OperatorOptions & { reason: string }, io: CliIo): Promise<number> {
  return withServices(options, io, ({ engine }, actor) => engine.reject(runId, actor, options.reason));
}

export async function runRunbookConfirm(runId: string, options: OperatorOptions & { record?: string }, io: CliIo): Promise<number> {
  return withServices(options, io, async ({ engine }, actor) => {
    await engine.confirm(runId, actor, options.record);
    return engine.advance(runId, actor);
  });
}

export async function runRunbookAbort(runId: string, options: OperatorOptions & { reason: string }, io: CliIo): Promise<number> {
  return withServices(options, io, ({ engine }, actor) => engine.abort(runId, actor, options.reason));
}

/** One run in full; without a run id, the recent runs one per line. */
export async function runRunbookStatus(runId: string | undefined, options: Omit<OperatorOptions, "as">, io: CliIo): Promise<number> {
  if (runId !== undefined) return withServices({ ...options, as: "status" }, io, ({ engine }) => engine.status(runId));
  const { config } = await loadConfig(resolveConfigPath(options.config, io.env));
  const store = SqliteStore.open(config.store.path);
  try {
    const runs = store.recentRuns(20);
    if (runs.length === 0) io.stdout("No runbook runs yet.\n");
    for (const run of runs) {
      io.stdout(`${run.id}  ${run.runbookId.padEnd(24)} ${run.status.padEnd(9)} ${run.dryRun ? "dry run  " : ""}started ${run.createdAt} by ${run.initiator}\n`);
    }
    return EXIT.ok;
  } finally {
    store.close();
  }
}

/** The operator is the name given with --as, plus the OS account it came from: both go into the audit log. */
function operator(name: string): string {
  const trimmed = name.trim();
  if (trimmed === "") throw new BreakglassError("USAGE", "--as", "expected your name: every step is recorded with who did it");
  let account = "unknown";
  try {
    account = userInfo().username;
  } catch {
    // No OS account name (a container without /etc/passwd): the given name stands alone.
  }
  return `${trimmed} (os user ${account})`;
}

async function withServices(options: OperatorOptions, io: CliIo, work: (services: RunbookServices, actor: string) => Promise<RunView>): Promise<number> {
  const actor = operator(options.as);
  const { config } = await loadConfig(resolveConfigPath(options.config, io.env));
  const services = openRunbookServices(config, {
    ...io.runbookSeams,
    runbookDirectory: options.dir,
    clock: io.clock,
    env: io.env,
    notify: (channel, message) => {
      io.stdout(`[notify #${channel}] ${message}\n`);
      return Promise.resolve();
    },
  });
  try {
    const view = await work(services, actor);
    io.stdout(runViewText(view, pc.createColors(io.stdoutIsTty && !io.env["NO_COLOR"])));
    return view.status === "failed" || view.status === "aborted" ? EXIT.findings : EXIT.ok;
  } finally {
    services.close();
  }
}

/** `--input name=value`; a list input takes comma-separated values. */
function parseInputs(runbook: Runbook, pairs: readonly string[]): Record<string, string | string[]> {
  const values: Record<string, string | string[]> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    if (equals <= 0) throw new BreakglassError("USAGE", "--input", `expected name=value, got "${pair}"`);
    const name = pair.slice(0, equals).trim();
    const value = pair.slice(equals + 1).trim();
    const declared = runbook.inputs.find((input) => input.name === name);
    values[name] = declared?.type === "list" ? value.split(",").map((item) => item.trim()).filter(Boolean) : value;
  }
  return values;
}
