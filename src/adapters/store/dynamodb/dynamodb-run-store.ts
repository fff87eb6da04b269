// Runbook runs in DynamoDB: every transition one TransactWriteItems with its audit records and the chain head,
// conditional on the run's lease holder and version, so two processes can never both apply a step.
import { leaseRefusal } from "../../../domain/runbooks/run-lease.js";
import type { AuditEntry, AuditRecord } from "../../../domain/audit/audit-chain.js";
import { BreakglassError } from "../../../domain/errors.js";
import type { RunRepository } from "../../../domain/ports/store.js";
import type { Artefact } from "../../../domain/runbooks/runbook-schema.js";
import type {
  LeaseHeld,
  NewRun,
  RunInputs,
  RunRecord,
  RunStatus,
  RunStepRecord,
  RunTransition,
  StepOutcomeRecord,
  StepPreflight,
  StepStatus,
} from "../../../domain/runbooks/run-store.js";
import type { DynamoAuditStore } from "./dynamodb-audit-store.js";
import type { DynamoTable, TransactItem } from "./dynamodb-table.js";

const RUN = "RUN";
const runPartition = (runId: string) => `RUN#${runId}`;
const STEP = "STEP#";
const ARTEFACT = "ARTEFACT#";
const UNFINISHED: ReadonlySet<string> = new Set(["running", "waiting", "failed"]);

type Item = Record<string, unknown>;

export class DynamoRunStore implements RunRepository {
  constructor(
    private readonly table: DynamoTable,
    /** Seals the audit records of a run's changes inside the run's own transaction. */
    private readonly audit: DynamoAuditStore,
  ) {}

  createRun(run: NewRun, audit: AuditEntry, at: Date): AuditRecord {
    const now = at.toISOString();
    const steps: TransactItem[] = run.stepIds.map((stepId, position) => ({
      Put: {
        Item: {
          pk: runPartition(run.id),
          sk: `${STEP}${stepId}`,
          stepId,
          position,
          status: "pending",
          attempts: 0,
          updatedAt: now,
        },
      },
    }));
    const records = this.audit.appendWith(
      ([started]) => [
        {
          Put: {
            Item: {
              pk: RUN,
              sk: run.id,
              runbookId: run.runbookId,
              runbookDigest: run.runbookDigest,
              inputs: JSON.stringify(run.inputs),
              initiator: run.initiator,
              initiatorPerson: run.initiatorPerson,
              dryRun: run.dryRun,
              preflight: JSON.stringify(run.preflight ?? []),
              status: "running",
              createdAt: now,
              updatedAt: now,
              // Orders runs started in the same millisecond as they were written.
              startSequence: started?.sequence ?? 0,
              version: 1,
            },
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
        ...steps,
      ],
      [audit],
      at,
      (reasons) => {
        if (reasons[0] === "ConditionalCheckFailed") {
          throw new BreakglassError("STORE_FAILED", `run ${run.id}`, "a run with this id is in the store already");
        }
        return true;
      },
    );
    return records[0] as AuditRecord;
  }

  findRun(runId: string): RunRecord | null {
    const item = this.table.get(RUN, runId);
    return item === null ? null : runRecordOf(item);
  }

  recentRuns(limit: number): RunRecord[] {
    return this.newestFirst().slice(0, limit).map(runRecordOf);
  }

  runCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const item of this.table.query(RUN)) {
      const status = String(item["status"]);
      counts[status] = (counts[status] ?? 0) + 1;
    }
    return counts;
  }

  unfinishedRunIds(limit: number): string[] {
    return this.newestFirst()
      .filter((item) => UNFINISHED.has(String(item["status"])))
      .slice(0, limit)
      .map((item) => String(item["sk"]));
  }

  runIdsStartingWith(prefix: string): string[] {
    // begins_with on the sort key takes the prefix literally: no wildcard to escape.
    const items =
      prefix === "" ? this.table.query(RUN, undefined, { limit: 2 }) : this.table.query(RUN, prefix, { limit: 2 });
    return items.slice(0, 2).map((item) => String(item["sk"]));
  }

  runSteps(runId: string): RunStepRecord[] {
    return this.table
      .query(runPartition(runId), STEP)
      .map((item) => ({
        stepId: String(item["stepId"]),
        position: Number(item["position"]),
        status: item["status"] as StepStatus,
        outcome: typeof item["outcome"] === "string" ? (JSON.parse(item["outcome"]) as StepOutcomeRecord) : null,
        attempts: Number(item["attempts"]),
        updatedAt: String(item["updatedAt"]),
      }))
      .sort((left, right) => left.position - right.position);
  }

  runArtefacts(runId: string): Partial<Record<Artefact, string>> {
    return Object.fromEntries(
      this.table.query(runPartition(runId), ARTEFACT).map((item) => [String(item["name"]), String(item["path"])]),
    );
  }

  acquireLease(runId: string, holder: string, now: Date, ttlMilliseconds: number): void {
    const written = this.updateRun(runId, {
      UpdateExpression: "SET leaseHolder = :holder, leaseExpiresAt = :expires, version = version + :one",
      // ISO-8601 instants in UTC sort as strings, so DynamoDB compares the expiry.
      ConditionExpression:
        "attribute_exists(pk) AND (attribute_not_exists(leaseHolder) OR leaseHolder = :holder OR leaseExpiresAt <= :now)",
      ExpressionAttributeValues: {
        ":holder": holder,
        ":expires": new Date(now.getTime() + ttlMilliseconds).toISOString(),
        ":now": now.toISOString(),
        ":one": 1,
      },
    });
    if (!written) throw this.refusal(runId);
  }

  renewLease(runId: string, holder: string, now: Date, ttlMilliseconds: number): void {
    const written = this.updateRun(runId, {
      UpdateExpression: "SET leaseExpiresAt = :expires, version = version + :one",
      ConditionExpression: "leaseHolder = :holder",
      ExpressionAttributeValues: {
        ":holder": holder,
        ":expires": new Date(now.getTime() + ttlMilliseconds).toISOString(),
        ":one": 1,
      },
    });
    if (!written) throw this.refusal(runId, `${holder} lost its lease, so it stopped; `);
  }

  takeOverLease(runId: string, from: LeaseHeld, holder: string, now: Date, ttlMilliseconds: number): void {
    // Conditional on the holder AND its expiry as read: a renewal in between changes the expiry, so a live holder wins.
    const written = this.updateRun(runId, {
      UpdateExpression: "SET leaseHolder = :holder, leaseExpiresAt = :expires, version = version + :one",
      ConditionExpression: "leaseHolder = :from AND leaseExpiresAt = :fromExpires",
      ExpressionAttributeValues: {
        ":holder": holder,
        ":expires": new Date(now.getTime() + ttlMilliseconds).toISOString(),
        ":from": from.holder,
        ":fromExpires": from.expiresAt,
        ":one": 1,
      },
    });
    if (!written) {
      throw this.refusal(runId, `${from.holder} renewed its lease or was taken over first, so it was not taken over; `);
    }
  }

  releaseLease(runId: string, holder: string): void {
    this.updateRun(runId, {
      UpdateExpression: "REMOVE leaseHolder, leaseExpiresAt SET version = version + :one",
      ConditionExpression: "leaseHolder = :holder",
      ExpressionAttributeValues: { ":holder": holder, ":one": 1 },
    });
  }

  recordTransition(runId: string, holder: string, transition: RunTransition, at: Date): AuditRecord[] {
    const audit = transition.audit ?? [];
    const steps = transition.steps ?? [];
    if (steps.length > 0 && audit.length === 0) {
      throw new BreakglassError(
        "AUDIT_FAILED",
        `run ${runId}`,
        `a step's status cannot change without its audit record (steps ${steps.map((step) => step.stepId).join(", ")}); nothing was written`,
      );
    }
    const now = at.toISOString();
    const lostLease = `${holder} lost its lease, so it stopped without writing; `;
    let run = this.table.get(RUN, runId);
    if (run === null || run["leaseHolder"] !== holder) throw this.refusal(runId, lostLease);
    // One item per step and artefact name: a transaction may not touch one item twice, and the last change wins.
    const stepChanges = [...new Map(steps.map((step) => [step.stepId, step])).values()];
    const artefacts = [...new Map((transition.artefacts ?? []).map((artefact) => [artefact.name, artefact])).values()];
    const names: Record<string, string> = { "#status": "status" };
    return this.audit.appendWith(
      () => [
        {
          Update: {
            Key: { pk: RUN, sk: runId },
            UpdateExpression:
              transition.runStatus === undefined
                ? "SET updatedAt = :now, version = version + :one"
                : "SET #status = :status, updatedAt = :now, version = version + :one",
            // The lease is checked by the same write: a holder that lost it writes nothing, its audit records included.
            ConditionExpression: "leaseHolder = :holder AND version = :version",
            ...(transition.runStatus === undefined ? {} : { ExpressionAttributeNames: names }),
            ExpressionAttributeValues: {
              ":now": now,
              ":one": 1,
              ":holder": holder,
              ":version": Number(run?.["version"] ?? 0),
              ...(transition.runStatus === undefined ? {} : { ":status": transition.runStatus }),
            },
          },
        },
        ...stepChanges.map((step) => ({
          Update: {
            Key: { pk: runPartition(runId), sk: `${STEP}${step.stepId}` },
            UpdateExpression:
              step.outcome === null
                ? "SET #status = :status, updatedAt = :now, attempts = attempts + :started REMOVE outcome"
                : "SET #status = :status, updatedAt = :now, attempts = attempts + :started, outcome = :outcome",
            ConditionExpression: "attribute_exists(pk)",
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: {
              ":status": step.status,
              ":now": now,
              ":started": step.started === true ? 1 : 0,
              ...(step.outcome === null ? {} : { ":outcome": JSON.stringify(step.outcome) }),
            },
          },
        })),
        ...artefacts.map((artefact) => ({
          Put: {
            Item: {
              pk: runPartition(runId),
              sk: `${ARTEFACT}${artefact.name}`,
              name: artefact.name,
              path: artefact.path,
              stepId: artefact.stepId,
              createdAt: now,
            },
          },
        })),
      ],
      audit,
      at,
      (reasons) => {
        // Lost to another write: the run changed (a renewal, a take-over) or the chain head moved. Read the run again;
        // a holder that no longer has the lease stops here, having written nothing.
        run = this.table.get(RUN, runId);
        if (run === null || run["leaseHolder"] !== holder) throw this.refusal(runId, lostLease);
        const stepIndex = reasons.slice(1, 1 + stepChanges.length).findIndex((reason) => reason !== "None");
        if (stepIndex >= 0 && reasons[1 + stepIndex] === "ConditionalCheckFailed") {
          throw new BreakglassError(
            "STORE_FAILED",
            `run ${runId}`,
            `it has no step ${stepChanges[stepIndex]?.stepId ?? "?"}; nothing was written`,
          );
        }
        return true;
      },
    );
  }

  /** Runs, the most recently started first. */
  private newestFirst(): Item[] {
    return this.table
      .query(RUN)
      .sort(
        (left, right) =>
          String(right["createdAt"]).localeCompare(String(left["createdAt"])) ||
          Number(right["startSequence"]) - Number(left["startSequence"]),
      );
  }

  private updateRun(runId: string, update: Item): boolean {
    return this.table.write("Update", { Key: { pk: RUN, sk: runId }, ...update });
  }

  /** RUN_NOT_FOUND without the run, otherwise RUN_BUSY naming who holds the lease and until when. */
  private refusal(runId: string, prefix = ""): BreakglassError {
    return leaseRefusal(this.findRun(runId), runId, prefix);
  }
}

function runRecordOf(item: Item): RunRecord {
  return {
    id: String(item["sk"]),
    runbookId: String(item["runbookId"]),
    runbookDigest: String(item["runbookDigest"]),
    inputs: JSON.parse(String(item["inputs"])) as RunInputs,
    initiator: String(item["initiator"]),
    initiatorPerson: String(item["initiatorPerson"]),
    dryRun: item["dryRun"] === true,
    preflight: JSON.parse(String(item["preflight"])) as StepPreflight[],
    status: item["status"] as RunStatus,
    createdAt: String(item["createdAt"]),
    updatedAt: String(item["updatedAt"]),
    leaseHolder: typeof item["leaseHolder"] === "string" ? item["leaseHolder"] : null,
    leaseExpiresAt: typeof item["leaseExpiresAt"] === "string" ? item["leaseExpiresAt"] : null,
  };
}
