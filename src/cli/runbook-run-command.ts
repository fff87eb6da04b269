// `breakglass runbook run | resume | approve | reject | confirm | skip | status | abort | rollback`: drive a runbook from the CLI,
// when Slack is down too. Each parses its options, calls the runbook use case Slack calls too, and prints the run.
import pc from "picocolors";
import { loadConfig, resolveConfigPath } from "../config/load-config.js";
import { BreakglassError } from "../domain/errors.js";
import type { Actor } from "../domain/identity/actor.js";
import type { Permission } from "../domain/identity/people.js";
import type { RunView } from "../domain/runbooks/run-engine.js";
import { resolveCliActor } from "../application/actor-identity.js";
import type { GivenInputs } from "../application/runbook-inputs.js";
import type { RunbookRuns } from "../application/runbook-runs.js";
import { openRunbookServices, type RunbookServices } from "../application/runbook-runtime.js";
import type { FingerprintRequirement } from "../domain/runbooks/fingerprint-confirmation.js";
import { CONFIRM_HEX_LENGTH, describeIncomingCertificate } from "../domain/saml/key-continuity.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import { recentRunsJson, runViewJson } from "./run-view-json.js";
import { runViewText } from "./run-view-text.js";
import { runProgressOutput } from "./run-progress-output.js";

export interface OperatorOptions {
  readonly config?: string;
  readonly as: string;
  readonly dir: string;
  /** Print the run as one JSON object (run-view-json.ts) instead of the readable view. */
  readonly json?: boolean;
}

export interface RunOptions extends OperatorOptions {
  readonly input?: readonly string[];
  readonly dryRun?: boolean;
}

export async function runRunbookRun(runbookId: string, options: RunOptions, io: CliIo): Promise<number> {
  return withRuns(options, io, "run", async (runs, actor) => {
    const view = await runs.start({
      runbookId,
      inputs: parseInputs(options.input ?? []),
      actor,
      dryRun: options.dryRun === true,
    });
    // With --json the run's id is in the object, and stdout holds nothing else.
    if (!options.json) io.stdout(`Started run ${view.id} of ${runbookId}${options.dryRun ? " (dry run)" : ""}.\n`);
    return runs.advance(view.id, actor);
  });
}

/** `--take-over --reason <text>`: take the run from a process on another host that stopped renewing its lease. */
export interface TakeOverOptions {
  readonly takeOver?: boolean;
  readonly reason?: string;
}

export async function runRunbookResume(
  runId: string,
  options: OperatorOptions & TakeOverOptions,
  io: CliIo,
): Promise<number> {
  if (options.takeOver === true && options.reason === undefined)
    throw new BreakglassError("USAGE", "--take-over", "needs --reason <text>: taking a run over goes on the record");
  if (options.takeOver !== true && options.reason !== undefined)
    throw new BreakglassError("USAGE", "--reason", "is only for --take-over when resuming a run");
  return withRuns(options, io, "run", (runs, actor) =>
    runs.resume(runId, actor, options.takeOver === true ? { reason: options.reason ?? "" } : undefined),
  );
}

export interface ApproveOptions extends OperatorOptions {
  /** The first 8 hex characters of a new signing certificate's SHA-256, when the approval unlocks a full key change. */
  readonly confirmFingerprint?: string;
}

export async function runRunbookApprove(runId: string, options: ApproveOptions, io: CliIo): Promise<number> {
  return withRuns(options, io, "approve", async (runs, actor) => {
    let fingerprint = options.confirmFingerprint;
    if (fingerprint === undefined) {
      const needs = await runs.approvalNeeds(runId, actor);
      if (needs !== undefined) fingerprint = await askFingerprint(runId, needs, io);
    }
    return runs.approve(runId, actor, fingerprint === undefined ? {} : { fingerprint });
  });
}

/** Asks at a terminal for the fingerprint a full key change needs; without one, says exactly what to pass. */
async function askFingerprint(runId: string, needs: FingerprintRequirement, io: CliIo): Promise<string> {
  const which = needs.certificates.map((certificate) => describeIncomingCertificate(certificate)).join("; or ");
  const what =
    `the first ${CONFIRM_HEX_LENGTH} hex characters of the SHA-256 of the new signing certificate ${which}, ` +
    "as the IdP's own admin console shows it";
  if (io.prompt === undefined) {
    throw new BreakglassError(
      "USAGE",
      "--confirm-fingerprint",
      `run ${runId} unlocks a full key change not signed by the pinned metadata signer: ` +
        `pass --confirm-fingerprint <hex>, ${what}`,
      { maxLength: 600 },
    );
  }
  io.stderr(`This approval unlocks a full key change not signed by the pinned metadata signer.\nType ${what}.\n`);
  return io.prompt(`SHA-256, first ${CONFIRM_HEX_LENGTH} hex characters: `);
}

export async function runRunbookReject(
  runId: string,
  options: OperatorOptions & { reason: string },
  io: CliIo,
): Promise<number> {
  return withRuns(options, io, "approve", (runs, actor) => runs.reject(runId, actor, options.reason));
}

export async function runRunbookConfirm(
  runId: string,
  options: OperatorOptions & { record?: string },
  io: CliIo,
): Promise<number> {
  return withRuns(options, io, "run", (runs, actor) => runs.confirm(runId, actor, options.record));
}

export async function runRunbookSkip(
  runId: string,
  options: OperatorOptions & { reason: string },
  io: CliIo,
): Promise<number> {
  return withRuns(options, io, "run", (runs, actor) => runs.skip(runId, actor, options.reason));
}

export async function runRunbookAbort(
  runId: string,
  options: OperatorOptions & { reason: string; takeOver?: boolean },
  io: CliIo,
): Promise<number> {
  return withRuns(options, io, "run", (runs, actor) =>
    runs.abort(runId, actor, options.reason, { takeOver: options.takeOver === true }),
  );
}

/** Starts the rollback of a run, then runs it until it needs the second person (its first approval). */
export async function runRunbookRollback(runId: string, options: OperatorOptions, io: CliIo): Promise<number> {
  return withRuns(options, io, "run", async (runs, actor) => {
    const view = await runs.rollback(runId, actor);
    if (!options.json)
      io.stdout(`Started run ${view.id} (${view.runbookId}) to roll back run ${runs.resolve(runId)}.\n`);
    return runs.advance(view.id, actor);
  });
}

/** One run in full (by its id or the start of it); without a run id, the recent runs one per line. */
export async function runRunbookStatus(
  runId: string | undefined,
  options: Omit<OperatorOptions, "as">,
  io: CliIo,
): Promise<number> {
  return withServices(options, io, async ({ runs }) => {
    if (runId !== undefined) return printRun(await runs.status(runId), io, options.json === true);
    const recent = runs.recent(20);
    if (options.json) {
      io.stdout(`${JSON.stringify(recentRunsJson(recent), null, 2)}\n`);
      return EXIT.ok;
    }
    if (recent.length === 0) io.stdout("No runbook runs yet.\n");
    for (const run of recent) {
      io.stdout(
        `${run.id}  ${run.runbookId.padEnd(24)} ${run.status.padEnd(9)} ${run.dryRun ? "dry run  " : ""}started ${run.createdAt} by ${run.initiator}\n`,
      );
    }
    return EXIT.ok;
  });
}

/** Opens the use cases for one command, and always closes the store again. */
export async function withServices<T>(
  options: Omit<OperatorOptions, "as">,
  io: CliIo,
  work: (services: RunbookServices) => Promise<T>,
): Promise<T> {
  const { config } = await loadConfig(resolveConfigPath(options.config, io.env));
  // A check that retries shows each wait on stderr, so a long one does not look hung.
  const progress = runProgressOutput(io, options.json === true);
  const services = openRunbookServices(config, {
    ...io.runbookSeams,
    runbookDirectory: options.dir,
    clock: io.clock,
    env: io.env,
    onProgress: progress.listener,
    notify: (channel, message) => {
      // With --json, stdout is the one JSON object: the notifications go where a person still sees them.
      (options.json ? io.stderr : io.stdout)(`[notify #${channel}] ${message}\n`);
      return Promise.resolve();
    },
  });
  try {
    return await work(services);
  } finally {
    progress.stop();
    services.close();
  }
}

/**
 * Opens the use cases as the person at the terminal, resolved once here: --as is only the label shown on the record;
 * who it is comes from verified facts (see application/actor-identity.ts), held to the access rules Slack applies too.
 */
export async function withActor<T>(
  options: OperatorOptions,
  io: CliIo,
  permission: Permission,
  work: (services: RunbookServices, actor: Actor) => Promise<T>,
): Promise<T> {
  return withServices(options, io, async (services) =>
    work(services, await resolveCliActor(services.people, services.cliIdentity, { label: options.as, permission })),
  );
}

async function withRuns(
  options: OperatorOptions,
  io: CliIo,
  permission: Permission,
  work: (runs: RunbookRuns, actor: Actor) => Promise<RunView>,
): Promise<number> {
  return withActor(options, io, permission, async ({ runs }, actor) =>
    printRun(await work(runs, actor), io, options.json === true),
  );
}

function printRun(view: RunView, io: CliIo, json: boolean): number {
  if (json) io.stdout(`${JSON.stringify(runViewJson(view), null, 2)}\n`);
  else io.stdout(runViewText(view, pc.createColors(io.stdoutIsTty && !io.env["NO_COLOR"])));
  return view.status === "failed" || view.status === "aborted" ? EXIT.findings : EXIT.ok;
}

/** `--input name=value`, repeatable: every value of a name is kept, in order; the runbook says which names are lists. */
function parseInputs(pairs: readonly string[]): GivenInputs {
  // A Map, not an object: a name such as __proto__ stays a name.
  const given = new Map<string, string[]>();
  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    if (equals <= 0) throw new BreakglassError("USAGE", "--input", `expected name=value, got "${pair}"`);
    const name = pair.slice(0, equals).trim();
    given.set(name, [...(given.get(name) ?? []), pair.slice(equals + 1)]);
  }
  return Object.fromEntries(given);
}
