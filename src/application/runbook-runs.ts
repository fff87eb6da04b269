// The runbook use cases every front end calls — start, advance, approve, reject, confirm, skip, abort, status — so that
// the CLI and Slack start the same runbook with the same inputs and reach the same state and audit record. Every one
// takes the Actor its front end resolved once at its edge; the audit log names the actor's person id.
import { BreakglassError } from "../domain/errors.js";
import { secondPersonProblem, type Actor } from "../domain/identity/actor.js";
import type { ApprovalConfirmation, RunEngine, RunView } from "../domain/runbooks/run-engine.js";
import { fingerprintRequirement, type FingerprintRequirement } from "../domain/runbooks/fingerprint-confirmation.js";
import type { RunRecord } from "../domain/runbooks/run-store.js";
import type { Runbook } from "../domain/runbooks/runbook-schema.js";
import type { RunbookResolver } from "../domain/runbooks/engine-ports.js";
import { rollbackRunbookId } from "../domain/runbooks/rollback-runbook.js";
import type { RunbookCatalog } from "./runbook-catalog.js";
import type { SamlPreflightReport, SamlResponseSource } from "./saml-preflight.js";
import { rollbackRunId } from "./rollback-runbooks.js";
import { requireRunbookInputs, type GivenInputs } from "./runbook-inputs.js";

/** What the use cases read about runs beyond one run's view: lists and short ids. */
export interface RunQueries {
  findRun(runId: string): RunRecord | null;
  recentRuns(limit: number): RunRecord[];
  /** At most two ids (enough to tell one from many) of runs whose id starts with the prefix. */
  runIdsStartingWith(prefix: string): string[];
}

export interface RunbookRunsOptions {
  readonly engine: RunEngine;
  readonly catalog: RunbookCatalog;
  /** The engine's resolver: catalog files and the rollback runbooks derived from runs. */
  readonly resolveRunbook: RunbookResolver;
  readonly runs: RunQueries;
  /** Inputs breakglass.yaml already answers (emergencyAccountId, identityCenterRegion), by input name. */
  readonly inputDefaults: Readonly<Record<string, string>>;
  /** Judges a SAML response pasted to confirm a `preflight: saml-response` step (saml-preflight.ts, against AWS). */
  readonly preflightSamlResponse?: (response: SamlResponseSource) => Promise<SamlPreflightReport>;
  /**
   * False on a `serve` replica that follows: decisions (approve, confirm, skip, reject) are recorded here, but the steps
   * after them, and `advance`, are left to the leader, which goes on with every run that is ready (running, its lease
   * free). Always true in the CLI, which needs no serve running.
   */
  readonly executesRuns?: () => boolean;
}

export interface StartRequest {
  readonly runbookId: string;
  readonly inputs: GivenInputs;
  readonly dryRun: boolean;
  readonly actor: Actor;
}

export class RunbookRuns {
  constructor(private readonly options: RunbookRunsOptions) {}

  get catalog(): RunbookCatalog {
    return this.options.catalog;
  }

  /**
   * Records a new run with its inputs checked against the runbook (config defaults filled, every problem named at once).
   * Nothing runs yet: the front end shows the run, then advances it.
   */
  async start(request: StartRequest): Promise<RunView> {
    const source = await this.options.catalog.source(request.runbookId);
    const defaults = inputDefaultsFor(source.runbook.inputs, this.options.inputDefaults);
    const inputs = requireRunbookInputs(source.runbook, request.inputs, defaults);
    return this.options.engine.startChecked(source, inputs, request.actor, { dryRun: request.dryRun });
  }

  /** The runbook a run follows, by its id: a catalog file, or the rollback runbook derived from another run. */
  async runbook(runbookId: string): Promise<Runbook> {
    return (await this.options.resolveRunbook(runbookId)).runbook;
  }

  /** Runs steps until the run waits for a person or ends. */
  advance(runId: string, actor: Actor): Promise<RunView> {
    const id = this.resolve(runId);
    if (this.options.executesRuns?.() === false) return this.options.engine.status(id);
    return this.options.engine.advance(id, actor.person);
  }

  /**
   * Goes on with a run where it stopped. A lease held by a dead process of this host is taken over at once; one held
   * from another host only with `takeOver` (its reason goes on the record), once the holder missed two heartbeats. On
   * a serve replica that follows, nothing is executed here (its engine's writes would be refused for want of the
   * leader's fencing token): the leader goes on with the run once its run lease is free or expired.
   */
  resume(runId: string, actor: Actor, takeOver?: { readonly reason: string }): Promise<RunView> {
    const request = takeOver === undefined ? undefined : { reason: requireReason(takeOver.reason, "take it over") };
    const id = this.resolve(runId);
    if (this.options.executesRuns?.() === false) return this.options.engine.status(id);
    return this.options.engine.advance(id, actor.person, request);
  }

  /**
   * Grants the approval the run waits for (a second person's: the engine compares person ids), then goes on. When it
   * unlocks a full key change nothing vouches for, `confirmation.fingerprint` must be the start of a new certificate's
   * SHA-256 (approvalNeeds says which); a wrong one is refused and audited, and nothing is approved.
   */
  approve(runId: string, actor: Actor, confirmation: ApprovalConfirmation = {}): Promise<RunView> {
    const id = this.resolve(runId);
    return this.thenAdvance(id, actor, this.options.engine.approve(id, actor, confirmation));
  }

  /**
   * What approving the run needs besides a second person: the certificates one of whose fingerprint must be typed.
   * Nothing for someone who may not approve it anyway (who started it): approve then refuses them without asking.
   */
  async approvalNeeds(runId: string, actor: Actor): Promise<FingerprintRequirement | undefined> {
    const id = this.resolve(runId);
    const run = this.options.runs.findRun(id);
    if (run === null || secondPersonProblem({ person: run.initiatorPerson, label: run.initiator }, actor) !== undefined)
      return undefined;
    const view = await this.options.engine.status(id);
    if (view.waitingFor?.kind !== "approval") return undefined;
    const stepId = view.waitingFor.stepId;
    return fingerprintRequirement(view.steps.find((step) => step.id === stepId)?.outcome?.unlocks);
  }

  /** Refuses the approval; the runbook's onFailure decides what follows (a goto goes on at once). */
  reject(runId: string, actor: Actor, reason: string): Promise<RunView> {
    const id = this.resolve(runId);
    return this.thenAdvance(id, actor, this.options.engine.reject(id, actor, requireReason(reason, "reject")));
  }

  /** Confirms the manual step the run waits for (with the written answer it asks for), then goes on. */
  async confirm(runId: string, actor: Actor, record?: string): Promise<RunView> {
    const id = this.resolve(runId);
    const answer = await this.preflightedRecord(id, record);
    return this.thenAdvance(id, actor, this.options.engine.confirm(id, actor.person, answer));
  }

  /**
   * The answer to keep for a `preflight: saml-response` step: a pasted SAML response is judged as AWS would, and only
   * its verdict is kept (the response itself is a bearer credential for minutes: it goes in no record). One AWS would
   * refuse throws SAML_RESPONSE_REJECTED with the findings, and the step keeps waiting. Other answers pass unchanged.
   */
  private async preflightedRecord(runId: string, record: string | undefined): Promise<string | undefined> {
    if (record === undefined || !looksLikeSamlResponse(record)) return record;
    const view = await this.options.engine.status(runId);
    const waiting = view.waitingFor;
    if (waiting === null) return record;
    const runbook = await this.runbook(view.runbookId);
    const step = runbook.steps.find((candidate) => candidate.id === waiting.stepId);
    if (step?.kind !== "manual" || step.preflight !== "saml-response") return record;
    const preflight = this.options.preflightSamlResponse;
    if (!preflight) {
      throw new BreakglassError(
        "CONFIG_INVALID",
        "aws.emergencyAccount.samlProviders",
        "a pasted SAML response cannot be checked without the emergency SAML provider configured",
      );
    }
    const report = await preflight({ bytes: Buffer.from(record, "utf8"), input: "the pasted SAML response" });
    if (!report.accepted) {
      throw new BreakglassError(
        "SAML_RESPONSE_REJECTED",
        "the pasted SAML response",
        `AWS would refuse it, so the step is not confirmed: ${report.findings
          .map((finding) => `${finding.code}: ${finding.message}`)
          .join(" ")}`,
        { maxLength: 1200 },
      );
    }
    return describeAcceptedResponse(report);
  }

  /** Passes over the manual step the run waits for, with a reason on the record, then goes on. */
  skip(runId: string, actor: Actor, reason: string): Promise<RunView> {
    const id = this.resolve(runId);
    return this.thenAdvance(id, actor, this.options.engine.skip(id, actor.person, requireReason(reason, "skip")));
  }

  /**
   * Starts the rollback of a finished, failed or aborted run: a run of the runbook derived from it, which undoes each
   * action it applied, newest first, each approved by a second person, applied and read back. Refused (RUN_STATE) while
   * the run is running or waiting, when it applied nothing, and while an earlier rollback of it exists and was not
   * aborted (naming that one). Nothing runs yet: the front end shows the rollback run, then advances it.
   */
  async rollback(runId: string, actor: Actor): Promise<RunView> {
    const id = this.resolve(runId);
    const attempt = this.nextRollbackAttempt(id);
    const source = await this.options.resolveRunbook(rollbackRunbookId(id));
    return this.options.engine.startChecked(source, {}, actor, { dryRun: false, runId: rollbackRunId(id, attempt) });
  }

  /** Ends the run for good; with `takeOver`, even while another host's process holds it, once it missed two heartbeats. */
  abort(runId: string, actor: Actor, reason: string, options: { readonly takeOver?: boolean } = {}): Promise<RunView> {
    const why = requireReason(reason, "abort");
    return this.options.engine.abort(
      this.resolve(runId),
      actor.person,
      why,
      options.takeOver ? { reason: why } : undefined,
    );
  }

  status(runId: string): Promise<RunView> {
    return this.options.engine.status(this.resolve(runId));
  }

  recent(limit = 20): RunRecord[] {
    return this.options.runs.recentRuns(limit);
  }

  /** A run by its id, or by the first characters of it as run messages and lists show them (when only one run matches). */
  resolve(given: string): string {
    const id = given.trim();
    if (id === "")
      throw new BreakglassError("USAGE", "run id", "expected the id of a run (breakglass runbook status lists them)");
    if (this.options.runs.findRun(id) !== null) return id;
    const matches = this.options.runs.runIdsStartingWith(id);
    if (matches.length === 1) return matches[0] as string;
    if (matches.length > 1)
      throw new BreakglassError(
        "USAGE",
        `run ${id}`,
        "more than one run has an id starting with this; give more of it",
      );
    throw new BreakglassError("RUN_NOT_FOUND", `run ${id}`, "no run has this id in the store");
  }

  /** The first rollback attempt of the run that has no run yet; an earlier one still alive is pointed at instead. */
  private nextRollbackAttempt(runId: string): number {
    for (let attempt = 1; ; attempt += 1) {
      const existing = this.options.runs.findRun(rollbackRunId(runId, attempt));
      if (existing === null) return attempt;
      if (existing.status !== "aborted") {
        throw new BreakglassError(
          "RUN_STATE",
          `run ${runId}`,
          `is already being rolled back by run ${existing.id} (${existing.status}); go on with that one ` +
            `(breakglass runbook status ${existing.id}), or abort it to start over`,
        );
      }
    }
  }

  /** After a decision the run goes on only when the decision let it (a rejection that stops the run leaves it failed). */
  private async thenAdvance(runId: string, actor: Actor, decided: Promise<RunView>): Promise<RunView> {
    const view = await decided;
    if (view.status !== "running" || this.options.executesRuns?.() === false) return view;
    return this.options.engine.advance(runId, actor.person);
  }
}

/** The config's values for the inputs this runbook declares. */
function inputDefaultsFor(
  inputs: readonly { readonly name: string }[],
  known: Readonly<Record<string, string>>,
): Record<string, string> {
  const defaults: Record<string, string> = {};
  for (const { name } of inputs) {
    const value = Object.hasOwn(known, name) ? known[name] : undefined;
    if (value !== undefined) defaults[name] = value;
  }
  return defaults;
}

function requireReason(reason: string, verb: string): string {
  const text = reason.replace(/\s+/g, " ").trim();
  if (text === "")
    throw new BreakglassError("USAGE", "--reason", `say why you ${verb} it: the reason goes on the record`);
  return text;
}

/** A SAML response as people paste one: its XML, its base64 (long, no spaces), or a form body with SAMLResponse=. */
function looksLikeSamlResponse(text: string): boolean {
  const trimmed = text.trim();
  return (
    /^<(?:\?xml[^>]*>\s*<)?[\w.-]*:?Response[\s>]/.test(trimmed) ||
    /(?:^|&)SAMLResponse=/.test(trimmed) ||
    (trimmed.length > 200 && /^[A-Za-z0-9+/=\s%]+$/.test(trimmed) && trimmed.startsWith("PH"))
  );
}

/** The record of an accepted response: who got in as what, and the signature it was verified with. */
function describeAcceptedResponse(report: SamlPreflightReport): string {
  const { facts } = report;
  const roles = facts.roles.filter((role) => role.accepted).map((role) => role.roleArn ?? role.value);
  return (
    `SAML preflight: AWS would accept this response — ${facts.nameId ?? "(no NameID)"} as ${roles.join(", ") || "(no role)"}, ` +
    `issued by ${facts.issuer ?? "(no issuer)"}, signed by sha256 ${facts.signingCertificateSha256 ?? "(none)"}, ` +
    `valid until ${facts.times.notOnOrAfter ?? facts.times.subjectNotOnOrAfter ?? "(unknown)"}.`
  );
}
