// The composition root of runbook runs: one store, the audit log, the engine, and each executor wired to AWS, the IdP and the store.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { AuditLog } from "../domain/audit/audit-log.js";
import { AwsClients, DEFAULT_AWS_SETTINGS, type AwsSettings } from "../adapters/aws/aws-clients.js";
import type { BreakglassConfig } from "../config/config-schema.js";
import type { Clock } from "../domain/shared/clock.js";
import { BreakglassError } from "../domain/errors.js";
import type { GroupDirectory } from "../domain/ports/group-directory.js";
import { GraphGroupDirectory } from "../adapters/idp/graph-group-directory.js";
import { OktaGroupDirectory } from "../adapters/idp/okta-group-directory.js";
import { ScimGroupDirectory } from "../adapters/idp/scim-group-directory.js";
import { closeWindowExecutor, openWindowExecutor } from "../adapters/runbook-actions/emergency-window.js";
import { addGroupMembersExecutor, removeGroupMembersExecutor } from "../adapters/runbook-actions/group-membership.js";
import { updateSamlProviderExecutor } from "../adapters/runbook-actions/update-saml-provider.js";
import type { ActionExecutor, Notifier, StepExecutors } from "../domain/runbooks/engine-ports.js";
import type { RunStore } from "../domain/runbooks/run-store.js";
import type { ActionName } from "../domain/runbooks/runbook-schema.js";
import { readRunbookSource, RunEngine } from "../domain/runbooks/run-engine.js";
import { SqliteStore } from "../adapters/store/sqlite-store.js";
import { planChecks } from "./check-plan.js";
import { evaluatePosture } from "./evaluate-posture.js";

export interface RunbookServices {
  readonly engine: RunEngine;
  readonly store: SqliteStore;
  readonly audit: AuditLog;
  /** The IdP's group API, when the config has idp.directory and its token is in the environment. */
  readonly directory: GroupDirectory | undefined;
  close(): void;
}

export interface RunbookServiceOptions {
  readonly runbookDirectory: string;
  readonly clock: Clock;
  readonly env: NodeJS.ProcessEnv;
  readonly notify: Notifier;
  /** Told of every AWS call of a runbook action that failed after its retries (serve counts them in /metrics). */
  readonly onAwsCallFailed?: AwsSettings["onCallFailed"];
  /** Test seam, undefined in production: wraps the run store the engine writes through (the crash test kills the process in it). */
  readonly wrapStore?: (store: RunStore) => RunStore;
  /** Test seam, undefined in production: wraps each action's executor (the crash test kills the process after a side effect). */
  readonly wrapAction?: (action: ActionName, executor: ActionExecutor) => ActionExecutor;
}

export function openRunbookServices(config: BreakglassConfig, options: RunbookServiceOptions): RunbookServices {
  const store = SqliteStore.open(config.store.path);
  const audit = new AuditLog(store, options.clock, config.store.auditMirror);
  const artefactDirectory = join(dirname(config.store.path), "artefacts");
  const directory = groupDirectory(config, options.env);
  const wrapAction = options.wrapAction ?? ((_action: ActionName, executor: ActionExecutor) => executor);
  const executors: StepExecutors = {
    check: async (checks, context) => {
      const metadataFile = context.artefacts["metadata-file"];
      const evaluation = await evaluatePosture(config, planChecks(config, checks.join(",")), {
        now: context.now,
        onAwsCallFailed: options.onAwsCallFailed,
        // Once a run holds the metadata it inspected, every later check judges that same document.
        metadataOverride: metadataFile,
        keepDocument: checks.includes("metadata") && metadataFile === undefined,
        latestAttestation: (instanceArn) => store.latestAttestation(instanceArn),
      });
      if (!evaluation.document) return { findings: evaluation.findings };
      const path = join(artefactDirectory, context.runId, `${context.stepId}-idp-metadata.xml`);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, evaluation.document, { mode: 0o600 });
      return { findings: evaluation.findings, artefacts: { "metadata-file": path } };
    },
    actions: {
      // Changes are made with the operator's own AWS credentials (the default chain), never with breakglass's read roles.
      "iam.update-saml-provider": wrapAction(
        "iam.update-saml-provider",
        updateSamlProviderExecutor({
          clients: new AwsClients({ ...DEFAULT_AWS_SETTINGS, region: config.aws?.region, ...(options.onAwsCallFailed ? { onCallFailed: options.onAwsCallFailed } : {}) }),
          credentials: undefined,
          providerArns: config.aws?.emergencyAccount.samlProviders ?? [],
        }),
      ),
      "idp.add-group-members": wrapAction("idp.add-group-members", directory ? addGroupMembersExecutor({ directory, store }) : needsDirectory("idp.add-group-members")),
      "idp.remove-group-members": wrapAction("idp.remove-group-members", directory ? removeGroupMembersExecutor({ directory, store }) : needsDirectory("idp.remove-group-members")),
      "emergency.open-window": wrapAction("emergency.open-window", openWindowExecutor({ store })),
      "emergency.close-window": wrapAction("emergency.close-window", closeWindowExecutor({ store, summaryDirectory: artefactDirectory })),
    },
    notify: options.notify,
    sleep: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)),
  };
  const engine = new RunEngine({
    store: options.wrapStore ? options.wrapStore(store) : store,
    audit,
    clock: options.clock,
    executors,
    runbooks: (runbookId) => readRunbookSource(join(options.runbookDirectory, `${runbookId}.yaml`)),
  });
  return { engine, store, audit, directory, close: () => store.close() };
}

function groupDirectory(config: BreakglassConfig, env: NodeJS.ProcessEnv): GroupDirectory | undefined {
  const settings = config.idp.directory;
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

function readCa(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    throw new BreakglassError("CONFIG_UNREADABLE", path, "cannot read the CA certificate file (idp.directory.ca)");
  }
}

/** Without an IdP API the group steps cannot run: each attempt fails with what to configure, and nothing is changed. */
function needsDirectory(action: string): ActionExecutor {
  const refuse = (): never => {
    throw new BreakglassError("USAGE", action, "needs the IdP's group API: set idp.directory in breakglass.yaml and put its token in the environment variable it names");
  };
  const refused = () => new Promise<never>(() => refuse());
  return { plan: refused, apply: refused, verify: refused };
}
