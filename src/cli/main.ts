// The `breakglass` command: wires the subcommands and turns every error into one line on stderr and an exit code.
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { CHECK_NAMES } from "../domain/checks/check-names.js";
import { DEFAULT_WARN_DAYS } from "../domain/checks/metadata-check-defaults.js";
import { describeError, isBreakglassError } from "../domain/errors.js";
import { DEFAULT_MAX_SIGNED_BYTES, DEFAULT_MAX_SIGNED_ELEMENTS } from "../domain/saml/inspect-defaults.js";
import { DEFAULT_TAKE_OVER_GRACE_MILLISECONDS } from "../domain/runbooks/run-lease.js";
import { formatBytes } from "../domain/shared/format-bytes.js";
import { DEFAULT_FETCH_OPTIONS } from "../adapters/metadata/metadata-fetch.js";
import type { CheckOptions } from "./check-command.js";
import type { AttestOptions } from "./identity-center-command.js";
import { DEFAULT_RUNBOOK_DIRECTORY } from "./runbook-directory.js";
import type { ApproveOptions, OperatorOptions, RunOptions, TakeOverOptions } from "./runbook-run-command.js";
import { EXIT, EXIT_STATUS_HELP, exitCodeFor } from "./exit-codes.js";
import { processIo, type CliIo } from "./io.js";
import type { MetadataInspectOptions } from "./metadata-inspect-command.js";
import type { SamlPreflightOptions } from "./saml-preflight-command.js";
import type { ServeOptions } from "./serve-command.js";
import type { DrillOptions as DrillCommandOptions } from "./drill-command.js";

// Each action imports its command module when it runs, never at the top: a command pays only for the libraries it uses
// (`metadata inspect` and `--help` load no AWS SDK, Slack or store driver; test/cli/startup-imports.test.ts holds that).
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command("breakglass")
    .description("Keeps the AWS emergency-access path ready and drives it during an identity outage.")
    .version(packageVersion(), "-V, --version")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", EXIT_STATUS_HELP)
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: (message, write) => write(`breakglass: ${message.replace(/^error: /, "")}`),
    });

  const metadata = program.command("metadata").description("Inspect SAML metadata documents.").exitOverride();
  metadata
    .command("inspect")
    .description(
      "Inspect IdP metadata (file or https URL): entities, signing certificates, signature, findings. " +
        "Exit 0 ok, 1 high/critical findings, 2 unusable input, 3 and up as breakglass --help lists.",
    )
    .argument("<source>", "metadata file path or https URL")
    .option("--json", "print one JSON object instead of the readable report")
    .option("--now <iso-8601>", "judge as of this instant instead of the clock (reproducible checks)")
    .option("--warn-days <n>", "warn when a signing certificate expires within n days", String(DEFAULT_WARN_DAYS))
    .option(
      "--metadata-signer <pem>",
      "certificate or public key (PEM file) the document's signature must verify against",
    )
    .option("--allow-insecure-http", "allow fetching metadata over plain http://")
    .addOption(
      new Option("--max-bytes <n>", "refuse documents larger than n bytes").default(
        String(DEFAULT_FETCH_OPTIONS.maxBytes),
        formatBytes(DEFAULT_FETCH_OPTIONS.maxBytes),
      ),
    )
    .addOption(
      new Option(
        "--max-signed-bytes <n>",
        "verify signatures of documents up to n bytes; larger ones are reported unverified",
      ).default(String(DEFAULT_MAX_SIGNED_BYTES), formatBytes(DEFAULT_MAX_SIGNED_BYTES)),
    )
    .option(
      "--max-signed-elements <n>",
      "verify signatures of profiles other than enveloped exclusive C14N while elements x signatures stays within n; beyond, they are reported unverified",
      String(DEFAULT_MAX_SIGNED_ELEMENTS),
    )
    .option(
      "--timeout <seconds>",
      "give up on a URL after this many seconds",
      String(DEFAULT_FETCH_OPTIONS.timeoutMs / 1000),
    )
    .option("--ca <pem>", "extra trusted CA certificate(s) for https, e.g. a corporate proxy's")
    .option("--cache-dir <dir>", "where fetched inspections are kept for conditional GET (default ~/.cache/breakglass)")
    .option("--no-cache", "always download and parse, keep nothing")
    .exitOverride()
    .action(async (source: string, options: MetadataInspectOptions) => {
      const { runMetadataInspect } = await import("./metadata-inspect-command.js");
      exitCode = await runMetadataInspect(source, options, io);
    });

  const saml = program.command("saml").description("Check SAML sign-ins into the emergency account.").exitOverride();
  saml
    .command("preflight")
    .description(
      "Would AWS accept this SAML response for direct federation? It is verified against the emergency IAM SAML " +
        "provider's certificates. Exit 0 accepted, 1 refused (findings), 2 unusable input, 3 and up as breakglass --help lists.",
    )
    .argument("<file>", 'the SAML response: XML, base64 or URL-encoded base64 (a form post); "-" reads standard input')
    .option("--role <arn>", "judge only this role of the Role attribute (otherwise each one is judged)")
    .option(
      "--provider-metadata <file>",
      "check against this metadata document's signing certificates instead of the provider in AWS (offline; skips role trust and duration)",
    )
    .option("--now <iso-8601>", "judge as of this instant instead of the clock")
    .option("--config <file>", "the breakglass config naming the emergency account and provider")
    .option("--json", "print one JSON object instead of the readable report")
    .exitOverride()
    .action(async (source: string, options: SamlPreflightOptions) => {
      const { runSamlPreflight } = await import("./saml-preflight-command.js");
      exitCode = await runSamlPreflight(source, options, io);
    });

  const config = program
    .command("config")
    .description("Check or create the configuration file (breakglass.yaml).")
    .exitOverride();
  config
    .command("validate")
    .description(
      "Check breakglass.yaml: list every problem with its line (exit 2), or say what will and will not be checked (exit 0).",
    )
    .option("--config <file>", "the configuration file (default: $BREAKGLASS_CONFIG, else ./breakglass.yaml)")
    .option("--json", "print one JSON object on stdout: { file, valid, problems, checks }")
    .exitOverride()
    .action(async (options: { config?: string; json?: boolean }) => {
      const [{ runConfigValidate }, { resolveConfigPath }] = await Promise.all([
        import("./config-command.js"),
        import("../config/load-config.js"),
      ]);
      exitCode = await runConfigValidate(resolveConfigPath(options.config, io.env), io, {
        json: options.json === true,
      });
    });
  config
    .command("init")
    .description(
      "Write a commented example breakglass.yaml to edit, readable only by you; never overwrites without --force.",
    )
    .option("--config <file>", "where to write it (default: $BREAKGLASS_CONFIG, else ./breakglass.yaml)")
    .option("--force", "replace an existing file")
    .exitOverride()
    .action(async (options: { config?: string; force?: boolean }) => {
      const [{ runConfigInit }, { resolveConfigPath }] = await Promise.all([
        import("./config-command.js"),
        import("../config/load-config.js"),
      ]);
      exitCode = await runConfigInit(resolveConfigPath(options.config, io.env), io, { force: options.force === true });
    });

  program
    .command("check")
    .description(
      "Check the whole emergency-access posture: IdP metadata, IAM SAML providers, emergency and " +
        "cross-account roles, Identity Center, SCPs, CloudTrail, EventBridge. Exit 0 ok, 1 high/critical " +
        "findings, 2 unusable config, 3 and up as breakglass --help lists.",
    )
    .option("--config <file>", "the configuration file (default: $BREAKGLASS_CONFIG, else ./breakglass.yaml)")
    .option("--json", "print one JSON object { ok, findings, facts, notChecked }")
    .option("--now <iso-8601>", "judge as of this instant instead of the clock")
    .option("--only <checks>", `comma-separated checks to run (${CHECK_NAMES.join(", ")})`)
    .exitOverride()
    .action(async (options: CheckOptions) => {
      const { runCheck } = await import("./check-command.js");
      exitCode = await runCheck(options, io);
    });

  const identityCenter = program
    .command("identity-center")
    .description("Record facts about IAM Identity Center that AWS offers no API to read.")
    .exitOverride();
  identityCenter
    .command("attest")
    .description(
      "Record that you imported this IdP metadata in the Identity Center console (which signing certificates, when, by whom).",
    )
    .requiredOption("--metadata <file|url>", "the metadata file or URL you uploaded")
    .requiredOption("--by <name>", "who imported it")
    .option("--json", "print what was recorded as one JSON object")
    .option("--config <file>", "the configuration file (default: $BREAKGLASS_CONFIG, else ./breakglass.yaml)")
    .exitOverride()
    .action(async (options: AttestOptions) => {
      const { runIdentityCenterAttest } = await import("./identity-center-command.js");
      exitCode = await runIdentityCenterAttest(options, io);
    });

  const runbook = program
    .command("runbook")
    .description("Check, list and read the runbooks breakglass drives (runbooks/*.yaml).")
    .exitOverride();
  const runbookDirectory = () =>
    new Option("--dir <directory>", "the runbook directory").default(
      DEFAULT_RUNBOOK_DIRECTORY,
      "the runbooks shipped with breakglass",
    );
  runbook
    .command("lint")
    .description(
      "Check every runbook: print each problem with its file, line, step and field (exit 2), or how many are valid (exit 0).",
    )
    .addOption(runbookDirectory())
    .exitOverride()
    .action(async (options: { dir: string }) => {
      const { runRunbookLint } = await import("./runbook-command.js");
      exitCode = await runRunbookLint(options.dir, io);
    });
  runbook
    .command("list")
    .description("List the runbooks: id, failure mode and title, one per line.")
    .addOption(runbookDirectory())
    .option("--json", "print one JSON object { runbooks, invalidFiles }")
    .exitOverride()
    .action(async (options: { dir: string; json?: boolean }) => {
      const { runRunbookList } = await import("./runbook-list-command.js");
      exitCode = await runRunbookList(options.dir, io, options);
    });
  runbook
    .command("show")
    .description("Print a runbook as Markdown: every step, condition, approval, artefact and compensation.")
    .argument("<id>", "the runbook id, as `breakglass runbook list` shows it")
    .addOption(runbookDirectory())
    .option("--json", "print the runbook's inputs and steps as one JSON object")
    .exitOverride()
    .action(async (id: string, options: { dir: string; json?: boolean }) => {
      const { runRunbookShow } = await import("./runbook-command.js");
      exitCode = await runRunbookShow(id, options.dir, io, options);
    });

  const configOption = () =>
    new Option("--config <file>", "the configuration file (default: $BREAKGLASS_CONFIG, else ./breakglass.yaml)");
  const asOption = () =>
    new Option(
      "--as <name>",
      "your name as the record shows it (who you are comes from your AWS credentials, see people in breakglass.yaml)",
    ).makeOptionMandatory();
  const collect = (value: string, previous: string[] = []) => [...previous, value];
  const runJsonOption = () => new Option("--json", "print the run as one JSON object (README: runbook JSON)");
  runbook
    .command("run")
    .description("Start a runbook and run it until it needs a person (an approval, a step by hand) or ends.")
    .argument("<id>", "the runbook id, as `breakglass runbook list` shows it")
    .addOption(asOption())
    .option("--input <name=value>", "a runbook input (repeat it; a list takes comma-separated values)", collect)
    .option("--dry-run", "run checks and show every plan, but apply nothing")
    .addOption(runJsonOption())
    .addOption(configOption())
    .addOption(runbookDirectory())
    .exitOverride()
    .action(async (id: string, options: RunOptions) => {
      const { runRunbookRun } = await import("./runbook-run-command.js");
      exitCode = await runRunbookRun(id, options, io);
    });
  /** The commands that act on one run as a named operator: `<run-id> --as <name> [--config] [--dir]`. */
  const runCommand = (name: string, description: string) =>
    runbook
      .command(name)
      .description(description)
      .argument("<run-id>", "the run")
      .addOption(asOption())
      .addOption(runJsonOption())
      .addOption(configOption())
      .addOption(runbookDirectory())
      .exitOverride();
  const takeOverOption = () =>
    new Option(
      "--take-over",
      "take the run from a process on another host that stopped renewing its lease " +
        `(allowed ${DEFAULT_TAKE_OVER_GRACE_MILLISECONDS / 1000} s after its last renewal)`,
    );
  runCommand(
    "resume",
    "Go on with a run where it stopped (after a crash, or once a failed step's cause is fixed). " +
      "A run held by a dead process of this host is taken over at once.",
  )
    .addOption(takeOverOption())
    .option("--reason <text>", "why you take the run over (with --take-over)")
    .action(async (runId: string, options: OperatorOptions & TakeOverOptions) => {
      const { runRunbookResume } = await import("./runbook-run-command.js");
      exitCode = await runRunbookResume(runId, options, io);
    });
  runCommand(
    "approve",
    "Approve the step a run waits on, as a second person (never the one who started it), and go on.",
  )
    .option(
      "--confirm-fingerprint <hex>",
      "the first 8 hex characters of the new signing certificate's SHA-256, as the IdP's admin console shows it " +
        "(asked when the approval unlocks a full key change not signed by the pinned metadata signer)",
    )
    .action(async (runId: string, options: ApproveOptions) => {
      const { runRunbookApprove } = await import("./runbook-run-command.js");
      exitCode = await runRunbookApprove(runId, options, io);
    });
  runCommand("reject", "Reject the approval a run waits on.")
    .requiredOption("--reason <text>", "why")
    .action(async (runId: string, options: OperatorOptions & { reason: string }) => {
      const { runRunbookReject } = await import("./runbook-run-command.js");
      exitCode = await runRunbookReject(runId, options, io);
    });
  runCommand("confirm", "Confirm the step done by hand that a run waits on, and go on.")
    .option("--record <text>", "the answer the step asks you to record (e.g. which credential you checked out)")
    .action(async (runId: string, options: OperatorOptions & { record?: string }) => {
      const { runRunbookConfirm } = await import("./runbook-run-command.js");
      exitCode = await runRunbookConfirm(runId, options, io);
    });
  runbook
    .command("status")
    .description(
      "Show where a run stands: every step's outcome and what it waits for; without a run id, the recent runs.",
    )
    .argument("[run-id]", "the run")
    .addOption(runJsonOption())
    .addOption(configOption())
    .addOption(runbookDirectory())
    .exitOverride()
    .action(async (runId: string | undefined, options: Omit<OperatorOptions, "as">) => {
      const { runRunbookStatus } = await import("./runbook-run-command.js");
      exitCode = await runRunbookStatus(runId, options, io);
    });
  runCommand(
    "skip",
    "Pass over the step done by hand that a run waits on (e.g. it was done another way), on the record, and go on. Approvals cannot be skipped.",
  )
    .requiredOption("--reason <text>", "why")
    .action(async (runId: string, options: OperatorOptions & { reason: string }) => {
      const { runRunbookSkip } = await import("./runbook-run-command.js");
      exitCode = await runRunbookSkip(runId, options, io);
    });
  runCommand(
    "rollback",
    "Undo what a finished, failed or aborted run applied: start a run of its compensations, newest " +
      "first, each approved by a second person, and go on until it needs one.",
  ).action(async (runId: string, options: OperatorOptions) => {
    const { runRunbookRollback } = await import("./runbook-run-command.js");
    exitCode = await runRunbookRollback(runId, options, io);
  });
  runCommand("abort", "Stop a run for good (nothing is undone: `breakglass runbook rollback` does that).")
    .requiredOption("--reason <text>", "why")
    .addOption(takeOverOption())
    .action(async (runId: string, options: OperatorOptions & { reason: string; takeOver?: boolean }) => {
      const { runRunbookAbort } = await import("./runbook-run-command.js");
      exitCode = await runRunbookAbort(runId, options, io);
    });

  /** The emergency-access commands act as a named operator: `--as <name> [--config] [--dir]`, as the run commands do. */
  const operatorCommand = (command: Command) =>
    command.addOption(asOption()).addOption(configOption()).addOption(runbookDirectory()).exitOverride();
  const incident = program
    .command("incident")
    .description("Declare and close an emergency: the window in which emergency access is expected, not misuse.")
    .exitOverride();
  operatorCommand(
    incident
      .command("declare")
      .description("Open an emergency window under a new reference (INC-<date>-<time>).")
      .argument("<title...>", "what is happening, in a few words"),
  ).action(async (title: string[], options: OperatorOptions) => {
    const { runIncidentDeclare } = await import("./emergency-command.js");
    exitCode = await runIncidentDeclare(title, options, io);
  });
  operatorCommand(
    incident
      .command("close")
      .description("Remove everyone granted during the incident, close its window and write the activity summary.")
      .argument("[reference]", "the incident to close (default: the one open incident)"),
  ).action(async (reference: string | undefined, options: OperatorOptions) => {
    const { runIncidentClose } = await import("./emergency-command.js");
    exitCode = await runIncidentClose(reference, options, io);
  });
  incident
    .command("timeline")
    .description(
      "Everything on an incident's timeline in time order: its window, the emergency principals' CloudTrail " +
        "calls (who, what, from where), and breakglass's audit records.",
    )
    .argument("<reference>", "the incident, e.g. INC-20261205-0312")
    .addOption(configOption())
    .addOption(runbookDirectory())
    .option("--json", "print one JSON object { incident, window, entries }")
    .exitOverride()
    .action(async (reference: string, options: { config?: string; json?: boolean; dir: string }) => {
      const { runIncidentTimeline } = await import("./watch-command.js");
      exitCode = await runIncidentTimeline(reference, options, io);
    });

  const watch = program
    .command("watch")
    .description(
      "Watch the emergency account: judge each CloudTrail event of an emergency principal as incident (inside a " +
        "declared window) or misuse (outside every one); serve does this continuously and posts misuse alerts.",
    )
    .addOption(configOption())
    .option("--once", "read what is waiting (the queue drained, or LookupEvents since the cursor) and exit 0")
    .option(
      "--json",
      "print one JSON object per new event (JSON Lines): verdict, actor, action, eventId, time, sourceIp…",
    )
    .exitOverride()
    .action(async (options: { config?: string; once?: boolean; json?: boolean }) => {
      const { runWatch } = await import("./watch-command.js");
      exitCode = await runWatch(options, io);
    });
  operatorCommand(
    watch
      .command("attach")
      .description("Put a misuse event on an open incident's timeline (it was a legitimate emergency use); audited.")
      .argument("<eventId>", "the CloudTrail event id, as the misuse alert shows it")
      .option("--incident <reference>", "the incident (default: the one open incident)")
      .option("--json", "print one JSON object { incident, event }"),
  ).action(async (eventId: string, options: OperatorOptions & { incident?: string }) => {
    const { runWatchAttach } = await import("./watch-command.js");
    // `watch` has a --config of its own, which commander gives a --config written after `attach` to.
    const config = options.config ?? watch.opts<{ config?: string }>().config;
    exitCode = await runWatchAttach(eventId, { ...options, ...(config === undefined ? {} : { config }) }, io);
  });

  operatorCommand(
    program
      .command("grant")
      .description(
        "Add a responder to the emergency IdP groups (slack.grant.groups) on a lease, under the open incident; verified by reading back.",
      )
      .argument("<login>", "the person's login or email address in the IdP")
      .option(
        "--ttl <duration>",
        "how long the lease lasts, e.g. 2h (default: slack.grant.defaultTtl; at most slack.grant.maxTtl)",
      ),
  ).action(async (login: string, options: OperatorOptions & { ttl?: string }) => {
    const { runGrant } = await import("./emergency-command.js");
    exitCode = await runGrant(login, options, io);
  });
  operatorCommand(
    program
      .command("revoke")
      .description("Remove a responder from the emergency IdP groups and end their leases; verified by reading back.")
      .argument("<login>", "the person's login or email address in the IdP"),
  ).action(async (login: string, options: OperatorOptions) => {
    const { runRevoke } = await import("./emergency-command.js");
    exitCode = await runRevoke(login, options, io);
  });

  const leases = program
    .command("leases")
    .description("Emergency group memberships granted on a lease (FM3).")
    .exitOverride();
  leases
    .command("list")
    .description("List the memberships whose lease is still active, with when each ends.")
    .addOption(configOption())
    .option("--json", "print one JSON object { leases }")
    .exitOverride()
    .action(async (options: { config?: string; json?: boolean }) => {
      const { runLeasesList } = await import("./leases-command.js");
      exitCode = await runLeasesList(options, io);
    });
  leases
    .command("reap")
    .description(
      "Remove every membership whose lease has ended, verify it is gone, and audit it (the service does this on its own).",
    )
    .addOption(configOption())
    .exitOverride()
    .action(async (options: { config?: string }) => {
      const { runLeasesReap } = await import("./leases-command.js");
      exitCode = await runLeasesReap(options, io);
    });

  const audit = program.command("audit").description("The append-only, hash-chained audit log.").exitOverride();
  audit
    .command("verify")
    .description(
      "Check the audit log's hash chain (and its JSONL mirror): exit 0 intact, 1 tampered, naming each record edited, deleted or reordered.",
    )
    .option("--config <file>", "the configuration file (default: $BREAKGLASS_CONFIG, else ./breakglass.yaml)")
    .option("--json", "print one JSON object { ok, store, records, headHash, mirror, problems }")
    .exitOverride()
    .action(async (options: { config?: string; json?: boolean }) => {
      const { runAuditVerify } = await import("./audit-command.js");
      exitCode = await runAuditVerify(options, io);
    });

  const store = program
    .command("store")
    .description("The store (SQLite file or DynamoDB table): runs, leases and the audit log.")
    .exitOverride();
  store
    .command("init")
    .description(
      "Create the DynamoDB table store.table names (on-demand, point-in-time recovery, TTL), or check the one there " +
        "has breakglass's key schema. A SQLite store needs none: it is made on first use.",
    )
    .option("--config <file>", "the configuration file (default: $BREAKGLASS_CONFIG, else ./breakglass.yaml)")
    .exitOverride()
    .action(async (options: { config?: string }) => {
      const { runStoreInit } = await import("./store-command.js");
      exitCode = await runStoreInit(options, io);
    });
  store
    .command("migrate")
    .description(
      "Copy a SQLite store into the configured DynamoDB table (an empty one), audit chain included, then verify " +
        "the copy's chain ends on the same head hash; exit 1 if it does not.",
    )
    .requiredOption("--from <file>", "the SQLite store to copy")
    .option("--resume", "finish a copy that stopped: the table may hold the first records of this same store")
    .option("--config <file>", "the configuration file (default: $BREAKGLASS_CONFIG, else ./breakglass.yaml)")
    .exitOverride()
    .action(async (options: { config?: string; from: string; resume?: boolean }) => {
      const { runStoreMigrate } = await import("./store-command.js");
      exitCode = await runStoreMigrate(options, io);
    });
  store
    .command("backup")
    .description(
      "Copy the SQLite store to <file> with SQLite's online backup, safe while serve runs (a plain cp can lose what " +
        "is in the WAL), readable only by you; then verify the copy's audit chain. DynamoDB: use PITR or on-demand backups.",
    )
    .argument("<file>", "where to write the copy")
    .option("--force", "replace <file> if it exists")
    .option("--config <file>", "the configuration file (default: $BREAKGLASS_CONFIG, else ./breakglass.yaml)")
    .exitOverride()
    .action(async (file: string, options: { config?: string; force?: boolean }) => {
      const { runStoreBackup } = await import("./store-command.js");
      exitCode = await runStoreBackup(file, options, io);
    });

  program
    .command("drill")
    .description(
      "Play an identity outage end to end on loopback, with no AWS account and no Slack workspace: the AWS emulator, " +
        "a SAML IdP, a SCIM directory and Slack stand-ins drive the real service through key rotation (FM2) and an " +
        "Identity Center outage (FM3). Exit 0 when every phase passed, 1 otherwise; needs `node scripts/ensure-moto.mjs`.",
    )
    .option("--json", "print one JSON object { passed, phases, fm2, fm3 } instead of the live account")
    .option(
      "--live",
      "a game day against the configured organisation instead: check, preflight --response, and with --assume one " +
        "15-minute AssumeRoleWithSAML inside a drill window; writes an evidence report (Markdown and JSON)",
    )
    .option(
      "--config <file>",
      "with --live: the configuration file (default: $BREAKGLASS_CONFIG, else ./breakglass.yaml)",
    )
    .option("--as <name>", "with --live: who runs the drill (people in breakglass.yaml)")
    .option("--response <file>", "with --live: a fresh SAML Response from the IdP, XML or base64 (- for stdin)")
    .option("--assume", "with --live: call AssumeRoleWithSAML with the response (15 minutes, inside a drill window)")
    .option("--report <dir>", "with --live: where to write the evidence report (default: the current directory)")
    .option("--dir <dir>", "the runbook directory", DEFAULT_RUNBOOK_DIRECTORY)
    .exitOverride()
    .action(async (options: DrillCommandOptions) => {
      const [{ runDrillCommand }, { preflightAgainstConfig }] = await Promise.all([
        import("./drill-command.js"),
        import("./drill-preflight.js"),
      ]);
      exitCode = await runDrillCommand(options, io, preflightAgainstConfig(options.config, io));
    });

  program
    .command("serve")
    .description(
      "Run the service: the full check every serve.checkInterval, alerts and certificate warnings to " +
        "Slack, the Slack app, /healthz, /readyz and /metrics. Stops cleanly on SIGTERM.",
    )
    .option("--config <file>", "the configuration file (default: $BREAKGLASS_CONFIG, else ./breakglass.yaml)")
    .addOption(
      new Option(
        "--port <n>",
        "the HTTP port for Slack, and for health and metrics without --ops-port (default: $PORT, else 3000)",
      ),
    )
    .option("--host <address>", "listen on this address only, e.g. 127.0.0.1 (default: every interface)")
    .option(
      "--ops-port <n>",
      "answer /healthz, /readyz and /metrics on this port only, keeping them off the port Slack reaches (default: $BREAKGLASS_OPS_PORT, else on --port)",
    )
    .option("--ops-host <address>", "the address of the --ops-port listener (default: --host)")
    .option("--dir <dir>", "the runbook directory", DEFAULT_RUNBOOK_DIRECTORY)
    .exitOverride()
    .action(async (options: ServeOptions) => {
      const { runServe } = await import("./serve-command.js");
      exitCode = await runServe(options, io);
    });

  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version are not failures (commander says so with exit code 0); help shown because a subcommand is missing is.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (isBreakglassError(error)) {
      io.stderr(`breakglass: ${error.message}${error.hint ? ` (${error.hint})` : ""}\n`);
      return exitCodeFor(error);
    }
    io.stderr(`breakglass: internal error: ${describeError(error)}\n`);
    if (io.env["BREAKGLASS_DEBUG"]) io.stderr(`${(error as Error).stack ?? ""}\n`);
    return exitCodeFor(error);
  }
}

function packageVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return manifest.version ?? "unknown";
  } catch {
    return "unknown";
  }
}
