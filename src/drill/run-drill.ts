// `breakglass drill`: plays an identity outage end to end on loopback (the drill world) through the real service and its
// Slack app, phase by phase, counting what people do and timing how long emergency credentials take to reach them.
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { GetSAMLProviderCommand, IAMClient } from "@aws-sdk/client-iam";
import { AssumeRoleCommand, AssumeRoleWithSAMLCommand, STSClient } from "@aws-sdk/client-sts";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { jsonlAuditMirror } from "../adapters/store/jsonl-audit-mirror.js";
import { openStore } from "../adapters/store/open-store.js";
import { loadRunbooks } from "../adapters/runbook-files/runbook-files.js";
import { loadConfig } from "../config/load-config.js";
import { verifyAudit } from "../domain/audit/audit-log.js";
import { BreakglassError, describeError } from "../domain/errors.js";
import type { RunView } from "../domain/runbooks/run-view.js";
import { RUN_ACTION_IDS, RUN_MODALS } from "../slack/run-message.js";
import { CROSS_ACCOUNT_ROLE, REGION } from "./loopback/aws-organization.js";
import { awsClientConfig } from "./loopback/moto.js";
import type { RecordedCall } from "./loopback/slack-api-stub.js";
import { buttonPress, postToSlackEndpoint, sign, slashCommand, viewSubmission } from "./loopback/slack-requests.js";
import { DRILL_CHANNELS, DRILL_PEOPLE, EMERGENCY_GROUP, startDrillWorld, type DrillWorld } from "./drill-world.js";
import type { PreflightSamlResponse } from "./saml-preflight-seam.js";
import {
  crossAccountAssumeRoleRecord,
  eventBridgeEnvelope,
  samlSignInRecord,
  type DrillCloudTrailRecord,
} from "./drill-cloudtrail.js";

/** How long the drill waits for the service to reach a state before it calls the phase failed. */
const PATIENCE_MS = 60_000;
const HOUR_MS = 3_600_000;

interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** What AssumeRoleWithSAML answered: the credentials, and the session as CloudTrail would name it. */
interface Federation {
  readonly credentials: SessionCredentials;
  readonly subject: string;
  readonly assumedRoleArn: string;
  readonly assumedRoleId: string;
}

export interface PhaseReport {
  readonly number: number;
  readonly title: string;
  /** passed; incomplete: every step ran, but one could not be checked (the preflight seam); failed. */
  readonly outcome: "passed" | "incomplete" | "failed";
  readonly seconds: number;
  readonly humanActions: number;
  /** What happened, one line each, in order. */
  readonly events: readonly string[];
  /** Why it failed or is incomplete. */
  readonly problem?: string;
}

export interface FailureModeFigure {
  /** Wall seconds from the trigger to emergency credentials in hand. */
  readonly seconds: number;
  /** What people did until then. */
  readonly humanActions: number;
}

export interface DrillReport {
  readonly phases: readonly PhaseReport[];
  readonly fm2: FailureModeFigure | null;
  readonly fm3: FailureModeFigure | null;
  /** True when every phase passed. */
  readonly passed: boolean;
}

export interface DrillOptions {
  readonly runbookDirectory: string;
  readonly preflight: PreflightSamlResponse;
  /** Told as each phase starts, as each event happens, and as each phase ends, for live output. */
  readonly onPhaseStart?: (number: number, title: string) => void;
  readonly onEvent?: (line: string) => void;
  readonly onPhaseEnd?: (phase: PhaseReport) => void;
}

class PhaseFailed extends BreakglassError {}

/** One phase as it runs: its events, its people's actions, and whether a check could not be made. */
class Phase {
  readonly events: string[] = [];
  humanActions = 0;
  incomplete: string | undefined;

  constructor(private readonly onEvent: ((line: string) => void) | undefined) {}

  note(line: string): void {
    this.events.push(line);
    this.onEvent?.(line);
  }

  /** A person did something: a slash command, a button, a confirmation, a sign-in. */
  act(line: string): void {
    this.humanActions++;
    this.note(`[person] ${line}`);
  }

  require(condition: unknown, why: string): asserts condition {
    if (!condition) throw new PhaseFailed("ACTION_UNVERIFIED", "drill", why);
  }
}

export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const world = await startDrillWorld(options.runbookDirectory);
  const phases: PhaseReport[] = [];
  let fm2: FailureModeFigure | null = null;
  let fm3: FailureModeFigure | null = null;
  const play = new DrillPlay(world, options);
  const run = async (title: string, body: (phase: Phase) => Promise<void>): Promise<boolean> => {
    const number = phases.length + 1;
    options.onPhaseStart?.(number, title);
    const phase = new Phase(options.onEvent);
    const started = performance.now();
    let problem: string | undefined;
    try {
      await body(phase);
    } catch (error) {
      problem = describeError(error);
    }
    const trouble = problem ?? phase.incomplete;
    const report: PhaseReport = {
      number,
      title,
      outcome: problem !== undefined ? "failed" : phase.incomplete !== undefined ? "incomplete" : "passed",
      seconds: (performance.now() - started) / 1000,
      humanActions: phase.humanActions,
      events: phase.events,
      ...(trouble === undefined ? {} : { problem: trouble }),
    };
    phases.push(report);
    options.onPhaseEnd?.(report);
    return report.outcome !== "failed";
  };

  try {
    const ok =
      (await run("healthy: the check is clean", (phase) => play.healthy(phase))) &&
      (await run("the IdP rotates its signing key", (phase) => play.rotateKey(phase))) &&
      (await run("FM2 from Slack: re-import, approved by a second person", async (phase) => {
        fm2 = await play.fm2(phase);
      })) &&
      (await run("FM3: Identity Center unreachable, a responder on a 1-hour lease", async (phase) => {
        fm3 = await play.fm3(phase);
      })) &&
      (await run("the lease expires; back to rest", (phase) => play.backToRest(phase)));
    void ok;
  } finally {
    await world.close();
  }
  return { phases, fm2, fm3, passed: phases.length === 5 && phases.every((phase) => phase.outcome === "passed") };
}

/** The outage, scene by scene, as the people involved play it. */
class DrillPlay {
  private commands = 0;
  /** performance.now() when the IdP first published its new certificate. */
  private newCertificateAt = 0;
  private fm3RunId = "";

  constructor(
    private readonly world: DrillWorld,
    private readonly options: DrillOptions,
  ) {}

  async healthy(phase: Phase): Promise<void> {
    const findings = await this.check();
    const serious = findings.filter((finding) => finding.severity === "high" || finding.severity === "critical");
    phase.note(
      `check: ${findings.length === 0 ? "no findings" : findings.map((finding) => `${finding.code} (${finding.severity})`).join(", ")}`,
    );
    phase.require(serious.length === 0, `the healthy organisation has high findings: ${codes(serious)}`);
  }

  async rotateKey(phase: Phase): Promise<void> {
    const posted = this.alerts().length;
    this.world.idp.announceNextKey();
    this.newCertificateAt = performance.now();
    phase.note("the IdP publishes a new signing certificate beside the current one");
    const rollover = await this.check();
    phase.note(`check: ${codes(rollover)}`);
    phase.require(has(rollover, "ROLLOVER_IN_PROGRESS"), `no rollover warning: ${codes(rollover)}`);
    this.world.idp.switchToNextKey();
    phase.note("the IdP signs with the new key only and publishes only its certificate");
    const drift = await this.check();
    phase.note(`check: ${codes(drift)}`);
    const driftCodes = drift.filter((finding) => finding.code.startsWith("SAML_PROVIDER_"));
    phase.require(driftCodes.length > 0, `no drift of the emergency IAM SAML provider: ${codes(drift)}`);
    const alerts = this.alerts().slice(posted);
    phase.require(
      alerts.some((call) => text(call).includes("ROLLOVER_IN_PROGRESS")),
      "the rollover warning was not posted to the alerts channel",
    );
    phase.require(
      driftCodes.every((finding) => alerts.some((call) => text(call).includes(finding.code))),
      "the drift was not posted to the alerts channel",
    );
    phase.note(`posted to #alerts: ${alerts.length} messages (rollover warning, drift)`);
  }

  async fm2(phase: Phase): Promise<FailureModeFigure> {
    const { organization } = this.world;
    phase.act("alice: /breakglass runbook start fm2-reimport-metadata … (Slack)");
    const runId = await this.startRun(
      `runbook start fm2-reimport-metadata incident=DRILL-FM2 workforceSignIn=working ` +
        `identityCenterAccountId=${organization.managementAccountId} identityCenterRegion=${REGION}`,
      "fm2-reimport-metadata",
    );
    await this.until(runId, (view) => view.waitingFor?.kind === "approval", "fm2 to wait for approval");
    phase.act("bob: presses Approve on the run's message (Slack)");
    await this.press(RUN_ACTION_IDS.approve, runId, DRILL_PEOPLE.bob.slack);
    // A full key change that no pinned signer vouches for: Approve opens a modal asking for the first 8 hex characters
    // of the new certificate's SHA-256, which bob reads in the IdP's own admin console (here: the drill's IdP).
    const typed = createHash("sha256").update(this.world.idp.signing.der).digest("hex").slice(0, 8);
    phase.act(`bob: types ${typed}, the new certificate's fingerprint as the IdP's console shows it (Slack modal)`);
    await this.signed(
      viewSubmission(RUN_MODALS.approveFingerprint.callbackId, runId, DRILL_PEOPLE.bob.slack, {
        [RUN_MODALS.approveFingerprint.blockId]: { [RUN_MODALS.approveFingerprint.actionId]: typed },
      }),
    );
    const updated = await this.until(
      runId,
      (view) => stepStatus(view, "update-emergency-providers") !== "pending" && view.status !== "running",
      "fm2 to update the emergency IAM SAML provider",
    );
    phase.require(
      stepStatus(updated, "update-emergency-providers") === "succeeded",
      `the provider update did not succeed (${stepStatus(updated, "update-emergency-providers")})`,
    );
    phase.note("the emergency IAM SAML provider now holds the new certificate (applied and verified)");
    phase.act("alice: signs in to the emergency app with a fresh IdP response");
    const { credentials } = await this.federate(phase, DRILL_PEOPLE.alice.login, true);
    const figure = { seconds: (performance.now() - this.newCertificateAt) / 1000, humanActions: phase.humanActions };
    phase.note(`AssumeRoleWithSAML: credentials ${credentials.accessKeyId.slice(0, 8)}…`);
    return figure;
  }

  async fm3(phase: Phase): Promise<FailureModeFigure> {
    const { identityCenter, scim, emergencyGroupId } = this.world;
    const posted = this.alerts().length;
    identityCenter.reachable = false;
    const disruptedAt = performance.now();
    phase.note("Identity Center stops answering");
    const findings = await this.check();
    phase.note(`check: ${codes(findings)}`);
    phase.require(
      has(findings, "IDENTITY_CENTER_UNREACHABLE"),
      `Identity Center not found unreachable: ${codes(findings)}`,
    );
    phase.require(
      this.alerts()
        .slice(posted)
        .some((call) => text(call).includes("IDENTITY_CENTER_UNREACHABLE")),
      "the finding was not posted to the alerts channel",
    );
    phase.note("posted to #alerts: IDENTITY_CENTER_UNREACHABLE");
    phase.act("alice: /breakglass runbook start fm3-direct-federation … ttl=1h (Slack)");
    const runId = await this.startRun(
      `runbook start fm3-direct-federation incident=DRILL-FM3 responders=${DRILL_PEOPLE.dana.login} ` +
        `groups=${EMERGENCY_GROUP} ttl=1h signInUrl=${this.world.idp.metadataUrl.replace(/\/metadata$/, "/sso")}`,
      "fm3-direct-federation",
    );
    this.fm3RunId = runId;
    await this.until(runId, (view) => view.waitingFor?.kind === "approval", "fm3 to wait for approval");
    phase.act("bob: presses Approve on the run's message (Slack)");
    await this.press(RUN_ACTION_IDS.approve, runId, DRILL_PEOPLE.bob.slack);
    const added = await this.until(
      runId,
      (view) =>
        view.waitingFor?.stepId === "confirm-sign-in" || (view.status !== "waiting" && view.status !== "running"),
      "fm3 to add the responder",
    );
    phase.require(
      stepStatus(added, "add-responders") === "succeeded",
      `the responder was not added (run ${added.status}, step ${stepStatus(added, "add-responders")})`,
    );
    const lease = this.world.service.services.store.leases.activeLease(emergencyGroupId, DRILL_PEOPLE.dana.idpId);
    phase.require(lease !== null, "no lease recorded for the responder");
    phase.require(scim.store.membersOf(emergencyGroupId).includes(DRILL_PEOPLE.dana.idpId), "dana is not in the group");
    phase.note(`dana is in ${EMERGENCY_GROUP} until ${lease.expiresAt}`);
    phase.act("dana: signs in to the emergency app with a fresh IdP response");
    const signedIn = await this.federate(phase, DRILL_PEOPLE.dana.login, false);
    const { credentials } = signedIn;
    const figure = { seconds: (performance.now() - disruptedAt) / 1000, humanActions: phase.humanActions };
    phase.note(`AssumeRoleWithSAML: credentials ${credentials.accessKeyId.slice(0, 8)}…`);
    phase.act("dana: assumes the cross-account role in a workload account");
    const workload = this.world.organization.workloadAccountIds[0] ?? "";
    const crossAccount = await new STSClient({
      ...awsClientConfig(this.world.moto.endpoint, REGION),
      credentials,
    }).send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${workload}:role/${CROSS_ACCOUNT_ROLE}`,
        RoleSessionName: "dana-drill",
      }),
    );
    phase.require(crossAccount.Credentials?.AccessKeyId, `no credentials for ${CROSS_ACCOUNT_ROLE} in ${workload}`);
    phase.note(`AssumeRole ${CROSS_ACCOUNT_ROLE} in workload account ${workload}: credentials`);
    const { emergencyAccountId, samlProviderArn, emergencyRoleArn } = this.world.organization;
    const at = this.world.clock.now();
    await this.watchSees(phase, "DRILL-FM3", [
      samlSignInRecord({
        at,
        region: REGION,
        accountId: emergencyAccountId,
        providerArn: samlProviderArn,
        roleArn: emergencyRoleArn,
        subject: signedIn.subject,
        assumedRoleArn: signedIn.assumedRoleArn,
        assumedRoleId: signedIn.assumedRoleId,
      }),
      crossAccountAssumeRoleRecord({
        at,
        region: REGION,
        callerSessionArn: signedIn.assumedRoleArn,
        callerRoleArn: emergencyRoleArn,
        callerAccountId: emergencyAccountId,
        roleArn: `arn:aws:iam::${workload}:role/${CROSS_ACCOUNT_ROLE}`,
        roleSessionName: "dana-drill",
        assumedRoleArn: crossAccount.AssumedRoleUser?.Arn ?? "",
        assumedRoleId: crossAccount.AssumedRoleUser?.AssumedRoleId ?? "",
      }),
    ]);
    return figure;
  }

  /**
   * The watch with the responder's activity: the emulator has no CloudTrail, so the drill puts the records its own calls
   * would produce on the watch's SQS queue (as EventBridge would) and waits for serve's watcher to file them. Each must
   * land on the incident's timeline; one judged misuse fails the phase.
   */
  private async watchSees(phase: Phase, incident: string, records: readonly DrillCloudTrailRecord[]): Promise<void> {
    const { service, watchQueueUrl, moto, organization } = this.world;
    const sqs = new SQSClient(awsClientConfig(moto.endpoint, REGION));
    for (const record of records)
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: watchQueueUrl,
          MessageBody: eventBridgeEnvelope(record, organization.emergencyAccountId),
        }),
      );
    phase.note(
      `watch: ${records.length} CloudTrail records of these calls (built by the drill: the emulator has no CloudTrail) ` +
        `delivered through the SQS queue serve's watcher reads (watch.queueUrl)`,
    );
    const { watchedEvents } = service.services.store;
    const filed = await eventually(() => {
      const events = records.map((record) => watchedEvents.findEvent(record.eventID));
      return events.every((event) => event !== null) ? events.filter((event) => event !== null) : undefined;
    }, "serve's watcher to file the responder's CloudTrail events");
    const misuse = filed.filter((event) => event.verdict !== "incident" || event.incident !== incident);
    phase.require(
      misuse.length === 0,
      `the watch did not file the responder's activity under ${incident}: ${misuse
        .map((event) => `${event.action} by ${event.actor}: ${event.verdict}`)
        .join("; ")}`,
    );
    const timeline = service.services.activity.timeline(incident);
    phase.note(
      `incident ${incident} timeline: ${timeline.events.length} CloudTrail events ` +
        `(${filed.map((event) => event.action).join(", ")}), none judged misuse`,
    );
  }

  async backToRest(phase: Phase): Promise<void> {
    const { scim, emergencyGroupId, service, clock } = this.world;
    clock.advance(HOUR_MS + 60_000);
    phase.note("the drill moves its clock 61 minutes forward instead of waiting for the lease to end");
    await this.check();
    await eventually(
      () =>
        !scim.store.membersOf(emergencyGroupId).includes(DRILL_PEOPLE.dana.idpId) &&
        service.services.store.leases.activeLeases().length === 0,
      "the lease to end and dana to be removed",
    );
    phase.require(
      this.world.logs.some((line) => line.includes(`removed ${DRILL_PEOPLE.dana.login}`) && line.includes("verified")),
      "the reaper did not report the removal verified",
    );
    phase.note(`lease ended: dana removed from ${EMERGENCY_GROUP}, verified gone`);

    this.world.identityCenter.reachable = true;
    phase.note("Identity Center answers again");
    await this.finish(phase, this.fm3RunId, "fm3-direct-federation");
    const timeline = service.services.activity.timeline("DRILL-FM3");
    phase.note(
      `incident DRILL-FM3 ${timeline.window.closedAt === null ? "still open" : "closed"}: its timeline holds ` +
        `${timeline.entries.length} entries, ${timeline.events.length} of them the responder's CloudTrail events`,
    );
    phase.act("alice: /breakglass runbook start post-incident-recovery (Slack)");
    const recoveryId = await this.startRun(
      `runbook start post-incident-recovery incident=DRILL-FM3 groups=${EMERGENCY_GROUP}`,
      "post-incident-recovery",
    );
    const recovery = await this.finish(phase, recoveryId, "post-incident-recovery");
    phase.require(
      recovery.steps.every((step) => step.status === "succeeded"),
      `post-incident-recovery: ${recovery.steps
        .filter((step) => step.status !== "succeeded")
        .map((step) => `${step.id} ${step.status}`)
        .join(", ")}`,
    );
    phase.note("post-incident-recovery: every step succeeded, the posture check is clean");

    const { config } = await loadConfig(this.world.configPath);
    const store = openStore(config.store);
    try {
      const audit = verifyAudit(store.audit, jsonlAuditMirror(config.store.auditMirror));
      const problems = [...audit.problems.map((entry) => entry.problem), ...audit.mirrorProblems];
      phase.require(problems.length === 0, `audit verify: ${problems.join("; ")}`);
      phase.note(`audit verify: ${audit.records} records, chain intact (head ${(audit.headHash ?? "").slice(0, 16)}…)`);
    } finally {
      store.close();
    }
  }

  /** Confirms each manual step of a run through Slack (with a written answer where the step asks one) until it ends. */
  private async finish(phase: Phase, runId: string, runbookId: string): Promise<RunView> {
    const runbook = (await loadRunbooks(this.options.runbookDirectory)).find(
      (loaded) => loaded.runbook.id === runbookId,
    )?.runbook;
    for (;;) {
      const view = await this.until(runId, (found) => found.status !== "running", `${runbookId} to move on`);
      if (view.status !== "waiting") {
        phase.require(view.status === "succeeded", `${runbookId} ended ${view.status}`);
        phase.note(`${runbookId}: succeeded`);
        return view;
      }
      const waiting = view.waitingFor;
      phase.require(
        waiting?.kind === "manual",
        `${runbookId} waits for ${waiting?.kind ?? "nothing"} at ${waiting?.stepId}`,
      );
      const step = runbook?.steps.find((candidate) => candidate.id === waiting.stepId);
      const asksRecord = step !== undefined && "record" in step && step.record !== undefined;
      phase.act(
        `alice: confirms "${step?.title ?? waiting.stepId}"${asksRecord ? " with a written answer" : ""} (Slack)`,
      );
      if (asksRecord) {
        await this.signed(
          viewSubmission(RUN_MODALS.confirm.callbackId, runId, DRILL_PEOPLE.alice.slack, {
            [RUN_MODALS.confirm.blockId]: {
              [RUN_MODALS.confirm.actionId]: `none: breakglass drill (${waiting.stepId})`,
            },
          }),
        );
      } else {
        await this.press(RUN_ACTION_IDS.confirm, runId, DRILL_PEOPLE.alice.slack);
      }
      await this.until(
        runId,
        (found) => found.waitingFor?.stepId !== waiting.stepId,
        `${runbookId} to take the confirmation of ${waiting.stepId}`,
      );
    }
  }

  /**
   * A person's sign-in to the emergency app: the IdP signs a fresh response, the preflight judges it, and STS answers
   * AssumeRoleWithSAML. The emulator does not check SAML signatures, so before asking it the drill checks what AWS
   * would: the provider must hold the certificate the IdP signs with now.
   */
  private async federate(phase: Phase, login: string, adminTest: boolean): Promise<Federation> {
    const { idp, organization, moto } = this.world;
    const app = { roleArn: organization.emergencyRoleArn, providerArn: organization.samlProviderArn };
    const response = adminTest ? await idp.testResponse(login, app) : await idp.respond(login, app);
    phase.require(response !== undefined, `the IdP refused ${login}: the emergency app is not assigned to them`);
    const verdict = await this.options.preflight(
      Buffer.from(response, "base64").toString("utf8"),
      this.world.configPath,
    );
    if (verdict.available === false) {
      phase.incomplete = `${verdict.summary}: the IdP's response was not preflighted`;
      phase.note(`preflight: ${verdict.summary} (not counted as passing)`);
    } else {
      phase.require(verdict.accepted, `preflight rejected the IdP's response: ${verdict.summary}`);
      phase.note(`preflight: accepted (${verdict.summary})`);
    }
    const held =
      (
        await new IAMClient(await organization.configFor(organization.emergencyAccountId)).send(
          new GetSAMLProviderCommand({ SAMLProviderArn: organization.samlProviderArn }),
        )
      ).SAMLMetadataDocument ?? "";
    phase.require(
      held.includes(idp.signing.base64),
      "AWS would refuse the response: the emergency IAM SAML provider lacks the IdP's signing certificate",
    );
    const answer = await new STSClient(awsClientConfig(moto.endpoint, REGION)).send(
      new AssumeRoleWithSAMLCommand({
        RoleArn: organization.emergencyRoleArn,
        PrincipalArn: organization.samlProviderArn,
        SAMLAssertion: response,
      }),
    );
    const issued = answer.Credentials;
    phase.require(
      issued?.AccessKeyId && issued.SecretAccessKey && issued.SessionToken,
      "AssumeRoleWithSAML returned no credentials",
    );
    return {
      credentials: {
        accessKeyId: issued.AccessKeyId,
        secretAccessKey: issued.SecretAccessKey,
        sessionToken: issued.SessionToken,
      },
      subject: answer.Subject ?? login,
      assumedRoleArn: answer.AssumedRoleUser?.Arn ?? "",
      assumedRoleId: answer.AssumedRoleUser?.AssumedRoleId ?? "",
    };
  }

  private async check() {
    const cycle = await this.world.service.scheduler.runOnce();
    if (cycle === undefined || cycle === null)
      throw new PhaseFailed("ACTION_UNVERIFIED", "check", "the check did not run");
    return cycle.evaluation.findings;
  }

  private alerts(): RecordedCall[] {
    return this.world.slack
      .callsTo("chat.postMessage")
      .filter((call) => call.args["channel"] === DRILL_CHANNELS.alerts);
  }

  private async signed(body: string): Promise<void> {
    const answer = await postToSlackEndpoint(
      `http://127.0.0.1:${this.world.service.port}/slack/events`,
      body,
      sign(body),
    );
    if (answer.status !== 200)
      throw new PhaseFailed("ACTION_UNVERIFIED", "Slack", `the app answered HTTP ${answer.status}: ${answer.body}`);
  }

  private async press(actionId: string, runId: string, user: string): Promise<void> {
    const message = this.world.service.services.store.serveState.message(`run:${runId}`);
    await this.signed(
      buttonPress(actionId, runId, {
        user,
        channel: message?.channel ?? DRILL_CHANNELS.incidents,
        messageTs: message?.ts ?? "",
        responseUrl: this.world.slack.responseUrl(`press-${++this.commands}`),
      }),
    );
  }

  /** Sends the slash command as alice in the incidents channel, and waits for the run it starts. */
  private async startRun(command: string, runbookId: string): Promise<string> {
    const audit = this.world.service.services.store.audit;
    const before = new Set(
      audit
        .auditRecords()
        .filter((record) => record.action === "run.started")
        .map((record) => record.runId),
    );
    await this.signed(
      slashCommand(command, {
        user: DRILL_PEOPLE.alice.slack,
        channel: DRILL_CHANNELS.incidents,
        responseUrl: this.world.slack.responseUrl(`command-${++this.commands}`),
      }),
    );
    const started = await eventually(
      () =>
        audit
          .auditRecords()
          .find((record) => record.action === "run.started" && record.runId !== null && !before.has(record.runId))
          ?.runId ?? undefined,
      `${runbookId} to start`,
      () => this.world.slack.responses.map((response) => JSON.stringify(response.body)).join(" | "),
    );
    await eventually(
      () => this.world.service.services.store.serveState.message(`run:${started}`) ?? undefined,
      `${runbookId}'s message in Slack`,
    );
    return started;
  }

  private until(runId: string, done: (view: RunView) => boolean, what: string): Promise<RunView> {
    return eventually(async () => {
      const view = await this.world.service.services.engine.status(runId);
      return done(view) ? view : undefined;
    }, what);
  }
}

/** Polls until `probe` yields something, for at most PATIENCE_MS; then the phase fails naming what it waited for. */
async function eventually<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  context?: () => string,
): Promise<T> {
  const deadline = performance.now() + PATIENCE_MS;
  for (;;) {
    const found = await probe();
    if (found !== undefined && found !== false) return found;
    if (performance.now() > deadline) {
      const detail = context?.();
      throw new PhaseFailed(
        "ACTION_UNVERIFIED",
        "drill",
        `waited ${PATIENCE_MS / 1000} s for ${what}${detail ? ` (${detail})` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const has = (findings: readonly { code: string }[], code: string) => findings.some((finding) => finding.code === code);
const codes = (findings: readonly { code: string }[]) =>
  findings.length === 0 ? "no findings" : findings.map((finding) => finding.code).join(", ");
const text = (call: RecordedCall) => JSON.stringify(call.args);
const stepStatus = (view: RunView, stepId: string) => view.steps.find((step) => step.id === stepId)?.status;
