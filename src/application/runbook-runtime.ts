// The composition root of the use cases: one store, the audit log, the engine with each executor wired to AWS, the IdP
// and the store, and the use cases every front end calls (runbook runs, emergency access).
import { mkdirSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { dirname, join } from "node:path";
import { AuditLog } from "../domain/audit/audit-log.js";
import { AwsClients, DEFAULT_AWS_SETTINGS, type AwsSettings } from "../adapters/aws/aws-clients.js";
import { actionPrincipal } from "../adapters/aws/action-principal.js";
import { callerArn } from "../adapters/aws/caller-identity.js";
import { People, type IdentitySettings } from "../domain/identity/people.js";
import { accountOfArn } from "../domain/shared/arn.js";
import type { CliIdentitySource } from "./actor-identity.js";
import type { BreakglassConfig } from "../config/config-schema.js";
import type { Clock } from "../domain/shared/clock.js";
import type { GroupDirectory } from "../domain/ports/group-directory.js";
import { closeWindowExecutor, openWindowExecutor } from "../adapters/runbook-actions/emergency-window.js";
import { addGroupMembersExecutor, removeGroupMembersExecutor } from "../adapters/runbook-actions/group-membership.js";
import { updateSamlProviderExecutor } from "../adapters/runbook-actions/update-saml-provider.js";
import type { ActionExecutor, Notifier, StepExecutors } from "../domain/runbooks/engine-ports.js";
import type { RunStore } from "../domain/runbooks/run-store.js";
import type { ActionName } from "../domain/runbooks/runbook-schema.js";
import { RunEngine } from "../domain/runbooks/run-engine.js";
import type { LeaseHost } from "../domain/runbooks/run-lease.js";
import type { RunProgressListener } from "../domain/runbooks/run-progress.js";
import { jsonlAuditMirror } from "../adapters/store/jsonl-audit-mirror.js";
import { describeStore, openStore } from "../adapters/store/open-store.js";
import type { BreakglassStore } from "../domain/ports/store.js";
import type { Fence } from "../domain/ports/leadership-store.js";
import { planChecks } from "./check-plan.js";
import { evaluatePosture } from "./evaluate-posture.js";
import { EmergencyAccess } from "./emergency-access.js";
import { IncidentActivity } from "./incident-activity.js";
import { missingGroupApi, needsGroupApi, openGroupDirectory } from "./idp-group-api.js";
import { RunbookCatalog } from "./runbook-catalog.js";
import { runbookResolver } from "./rollback-runbooks.js";
import { awsEmergencyAccountReader } from "./saml-preflight-aws.js";
import { preflightSamlResponse, type SamlPreflightReport, type SamlResponseSource } from "./saml-preflight.js";
import { RunbookRuns } from "./runbook-runs.js";
import { SharedArtefacts } from "./shared-artefacts.js";
import { withIdpWaitsReported } from "../adapters/idp/server-waits.js";

export interface RunbookServices {
  /** The runbook use cases: what the CLI and Slack call to start and move runs. */
  readonly runs: RunbookRuns;
  /** Incidents and emergency access (declare, close, grant, revoke): what the CLI and Slack call. */
  readonly emergency: EmergencyAccess;
  /** Incident timelines and attaching misuse events to an incident: what the CLI and Slack call. */
  readonly activity: IncidentActivity;
  readonly engine: RunEngine;
  readonly store: BreakglassStore;
  readonly audit: AuditLog;
  /** The IdP's group API, when the config has idp.directory and its token is in the environment. */
  readonly directory: GroupDirectory | undefined;
  /** Who is who (breakglass.yaml's people) and who may do what (access, slack.access): every front end resolves its Actor here. */
  readonly people: People;
  /** How the CLI learns who runs it: the AWS principal of the default credential chain (STS), and the OS user for lab mode. */
  readonly cliIdentity: CliIdentitySource;
  /** `saml preflight` against the emergency provider and roles in AWS: what Slack's /breakglass preflight calls. */
  readonly preflightSamlResponse: (
    response: SamlResponseSource,
    options: { readonly role?: string | undefined },
  ) => Promise<SamlPreflightReport>;
  close(): void;
}

export interface RunbookServiceOptions {
  readonly runbookDirectory: string;
  readonly clock: Clock;
  readonly env: NodeJS.ProcessEnv;
  readonly notify: Notifier;
  /** Told of every AWS call of a runbook action that failed after its retries (serve counts them in /metrics). */
  readonly onAwsCallFailed?: AwsSettings["onCallFailed"];
  /** Told before every wait of a run (a check step's retry) and when that step ends: each front end shows it its way. */
  readonly onProgress?: RunProgressListener;
  /** Test seam, undefined in production: the wait between a check step's attempts (a test makes it instant or gated). */
  readonly sleep?: StepExecutors["sleep"];
  /** Test seam, undefined in production: wraps the run store the engine writes through (the crash test kills the process in it). */
  readonly wrapStore?: (store: RunStore) => RunStore;
  /** Test seam, undefined in production: the host name and process table the engine's lease take-over judges by (a test plays "another host"). */
  readonly leaseHost?: LeaseHost;
  /** Test seam, undefined in production: wraps each action's executor (the crash test kills the process after a side effect). */
  readonly wrapAction?: (action: ActionName, executor: ActionExecutor) => ActionExecutor;
  /** serve: false while this replica follows, so that only the leader executes runs (RunbookRunsOptions.executesRuns). */
  readonly executesRuns?: () => boolean;
  /**
   * serve: the leader's fence now (the elector's current term), read at each write; undefined while this replica
   * follows. With it, every write of a run's steps goes through the store's fenced view (RunEngineOptions.executionStore),
   * so a replica that no longer leads cannot write a step. The CLI has none: its runs are guarded by their run lease.
   */
  readonly leaderFence?: () => Fence | undefined;
}

export function openRunbookServices(config: BreakglassConfig, options: RunbookServiceOptions): RunbookServices {
  const store = openStore(config.store);
  const audit = new AuditLog(store.audit, options.clock, jsonlAuditMirror(config.store.auditMirror));
  const artefactDirectory = artefactDirectoryOf(config.store.path);
  const catalog = new RunbookCatalog(options.runbookDirectory);
  const directory = openGroupDirectory(config.idp.directory, options.env);
  const noGroupApi = missingGroupApi(config.idp.directory, options.env);
  const wrapAction = options.wrapAction ?? ((_action: ActionName, executor: ActionExecutor) => executor);
  // A run's runbook is a catalog file, or the rollback runbook derived from another run.
  const resolveRunbook = runbookResolver(catalog, store.runs);
  const actionClients = new AwsClients({
    ...DEFAULT_AWS_SETTINGS,
    region: config.aws?.region,
    ...(options.onAwsCallFailed ? { onCallFailed: options.onAwsCallFailed } : {}),
  });
  // serve's leader view: a step's writes, its run's and its audit records', carry the fencing token of the term now.
  const leaderView = options.leaderFence ? store.fenced(options.leaderFence) : undefined;
  // Each artefact's content goes to the store as it is produced; a step on another host reads it back from there.
  const sharedArtefacts = new SharedArtefacts({
    store: () => (leaderView ?? store).artefacts,
    directory: artefactDirectory,
    storeDescription: describeStore(config.store),
  });
  const executors: StepExecutors = {
    check: async (checks, context) => {
      const metadataFile = context.artefacts["metadata-file"];
      const evaluation = await evaluatePosture(config, planChecks(config, checks.join(",")), {
        now: context.now,
        onAwsCallFailed: options.onAwsCallFailed,
        // Once a run holds the metadata it inspected, every later check judges that same document.
        metadataOverride: metadataFile,
        keepDocument: checks.includes("metadata") && metadataFile === undefined,
        latestAttestation: (instanceArn) => store.attestations.latestAttestation(instanceArn),
        env: options.env,
        leased: (groupId, userId) => store.leases.activeLease(groupId, userId) !== null,
      });
      if (!evaluation.document) return { findings: evaluation.findings };
      const path = join(artefactDirectory, context.runId, `${context.stepId}-idp-metadata.xml`);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, evaluation.document, { mode: 0o600 });
      return { findings: evaluation.findings, artefacts: { "metadata-file": path } };
    },
    actions: {
      // Changes are applied as aws.emergencyAccount.actionRoleArn (assumed), else as the default chain; either must be
      // in the emergency account. Never with breakglass's read roles.
      "iam.update-saml-provider": wrapAction(
        "iam.update-saml-provider",
        updateSamlProviderExecutor({
          clients: actionClients,
          principal: actionPrincipal(actionClients, {
            emergencyAccountId: config.aws?.emergencyAccount.accountId,
            actionRoleArn: config.aws?.emergencyAccount.actionRoleArn,
          }),
          providerArns: config.aws?.emergencyAccount.samlProviders ?? [],
          savedDirectory: artefactDirectory,
          // Each provider's previous document is kept in the store too: a rollback on any host puts it back.
          savedDocuments: sharedArtefacts.savedDocuments(),
          ...(config.idp.metadataSigner === undefined ? {} : { metadataSignerPath: config.idp.metadataSigner }),
        }),
      ),
      "idp.add-group-members": wrapAction(
        "idp.add-group-members",
        directory
          ? withIdpWaitsReported(addGroupMembersExecutor({ directory, store: store.leases }))
          : needsGroupApi("idp.add-group-members", noGroupApi),
      ),
      "idp.remove-group-members": wrapAction(
        "idp.remove-group-members",
        directory
          ? withIdpWaitsReported(removeGroupMembersExecutor({ directory, store: store.leases }))
          : needsGroupApi("idp.remove-group-members", noGroupApi),
      ),
      "emergency.open-window": wrapAction("emergency.open-window", openWindowExecutor({ store: store.windows })),
      "emergency.close-window": wrapAction(
        "emergency.close-window",
        closeWindowExecutor({
          store: store.windows,
          audit: store.audit,
          events: store.watchedEvents,
          summaryDirectory: artefactDirectory,
        }),
      ),
    },
    notify: options.notify,
    sleep: options.sleep ?? ((milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds))),
  };
  const wrapStore = options.wrapStore ?? ((runs: RunStore) => runs);
  const engine = new RunEngine({
    store: wrapStore(store.runs),
    audit,
    ...(leaderView
      ? {
          executionStore: wrapStore(leaderView.runs),
          executionAudit: new AuditLog(leaderView.audit, options.clock, jsonlAuditMirror(config.store.auditMirror)),
        }
      : {}),
    clock: options.clock,
    executors: sharedArtefacts.around(executors),
    runbooks: resolveRunbook,
    ...(options.leaseHost ? { host: options.leaseHost } : {}),
    ...(options.onProgress ? { progress: options.onProgress } : {}),
  });
  // The SAML preflight against the emergency provider and roles in AWS, for fm3's confirm-sign-in and Slack.
  const emergencyAccountReader = awsEmergencyAccountReader({
    region: config.aws?.region,
    roleArn: config.aws?.emergencyAccount.roleArn,
  });
  const preflight: RunbookServices["preflightSamlResponse"] = (response, { role }) =>
    preflightSamlResponse(
      response,
      { kind: "aws", providerArns: config.aws?.emergencyAccount.samlProviders ?? [], reader: emergencyAccountReader },
      { now: options.clock.now(), role },
    );
  const runs = new RunbookRuns({
    engine,
    catalog,
    resolveRunbook,
    runs: store.runs,
    inputDefaults: configInputDefaults(config),
    // fm3's confirm-sign-in: a pasted SAML response is judged against the emergency provider and roles in AWS.
    preflightSamlResponse: (response) => preflight(response, {}),
    ...(options.executesRuns ? { executesRuns: options.executesRuns } : {}),
  });
  const emergency = new EmergencyAccess({
    store,
    audit,
    clock: options.clock,
    directory,
    grant: config.slack?.grant,
    summaryDirectory: artefactDirectory,
  });
  const people = new People(identitySettingsOf(config));
  const cliIdentity = cliIdentitySource(
    config.aws?.region ??
      nonEmpty(options.env["AWS_REGION"]) ??
      nonEmpty(options.env["AWS_DEFAULT_REGION"]) ??
      "us-east-1",
  );
  const activity = new IncidentActivity({ store, audit, clock: options.clock });
  return {
    runs,
    emergency,
    activity,
    engine,
    store,
    audit,
    directory,
    people,
    cliIdentity,
    preflightSamlResponse: preflight,
    close: () => store.close(),
  };
}

/** breakglass.yaml's people, its access rules merged with slack.access (the Slack-only form of the same rules), and its identity mode. */
export function identitySettingsOf(config: BreakglassConfig): IdentitySettings {
  const slack = config.slack?.access;
  const merged = (permission: "run" | "approve" | "grant") => [
    ...new Set([...config.access[permission], ...(slack?.[permission] ?? [])]),
  ];
  return {
    people: config.people,
    access: { run: merged("run"), approve: merged("approve"), grant: merged("grant") },
    mode: config.identity.mode,
  };
}

/** STS answers GetCallerIdentity in any Region; the credentials are the SDK's default chain, as the CLI's actions use. */
function cliIdentitySource(region: string): CliIdentitySource {
  return {
    callerArn: () => callerArn({ region }),
    osUser: () => {
      try {
        return userInfo().username;
      } catch {
        // A container without /etc/passwd: the OS cannot say.
        return undefined;
      }
    },
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/** Where runs keep the files they produce (inspected metadata, activity summaries): beside the store. */
export function artefactDirectoryOf(storePath: string): string {
  return join(dirname(storePath), "artefacts");
}

/** Runbook inputs that breakglass.yaml already answers, so a responder at 3 a.m. does not have to look them up. */
export function configInputDefaults(config: BreakglassConfig): Record<string, string> {
  const known: Record<string, string | undefined> = {
    emergencyAccountId: config.aws?.emergencyAccount.accountId,
    identityCenterRegion: config.aws?.identityCenter?.region,
    identityCenterAccountId: identityCenterAccountOf(config),
  };
  return Object.fromEntries(Object.entries(known).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** The account that administers Identity Center: aws.identityCenter.accountId, or the account of its read role. */
function identityCenterAccountOf(config: BreakglassConfig): string | undefined {
  const identityCenter = config.aws?.identityCenter;
  return identityCenter?.accountId ?? (identityCenter?.roleArn ? accountOfArn(identityCenter.roleArn) : undefined);
}
