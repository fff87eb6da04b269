// `breakglass store migrate`: copies every row of a SQLite store into a DynamoDB table, the audit chain record for
// record (same sequences, same hashes), in the item layout of dynamodb-table-design.ts.
import { existsSync } from "node:fs";
import type { AuditRecord } from "../../../domain/audit/audit-chain.js";
import { BreakglassError } from "../../../domain/errors.js";
import { artefactDigestMismatch, sha256Of, type ContentName } from "../../../domain/ports/artefact-store.js";
import { DynamoArtefactStore } from "./dynamodb-artefact-store.js";
import { openSqliteConnection } from "../sqlite/sqlite-connection.js";
import { SqliteAuditStore } from "../sqlite/sqlite-audit-store.js";
import { paddedNumber, TTL_ATTRIBUTE } from "./dynamodb-table-design.js";
import { DynamoAuditStore } from "./dynamodb-audit-store.js";
import type { DynamoTable } from "./dynamodb-table.js";

/** How many of each were copied, for the CLI to print. */
export interface ImportCounts {
  readonly auditRecords: number;
  readonly runs: number;
  readonly steps: number;
  readonly artefacts: number;
  /** Artefact contents (the bytes each artefact path stands for), each with its SHA-256 checked. */
  readonly artefactContents: number;
  readonly windows: number;
  readonly memberLeases: number;
  readonly attestations: number;
  readonly alerts: number;
  readonly expiryClaims: number;
  readonly slackMessages: number;
  readonly facts: number;
}

type Row = Record<string, unknown>;
const text = (value: unknown) => (typeof value === "string" ? value : undefined);
/** The row's fields without the null ones: the DynamoDB store keeps an absent attribute for null. */
const present = (fields: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== null && value !== undefined));

/**
 * Copies the SQLite store at `path` into `table`. An empty table only, unless `resume` (a copy that stopped half-way:
 * the audit records already there must be the source's first ones, hash for hash; every other item is written again).
 */
export function importSqliteStore(path: string, table: DynamoTable, resume: boolean): ImportCounts {
  if (!existsSync(path)) throw new BreakglassError("INPUT_UNREADABLE", path, "no SQLite store at this path");
  const target = new DynamoAuditStore(table);
  const already = target.auditRecords();
  if (!resume && (already.length > 0 || table.query("RUN", undefined, { limit: 1 }).length > 0)) {
    throw new BreakglassError(
      "USAGE",
      table.description,
      `the table is not empty (${already.length} audit records): migrate into a new table, or add --resume to finish a copy that stopped`,
    );
  }
  const database = openSqliteConnection(path);
  try {
    const records = new SqliteAuditStore(database).auditRecords();
    copyAudit(table, target, records, already);
    const put = (item: Row) => table.write("Put", { Item: item });
    const rows = (sql: string) => database.prepare(sql).all() as Row[];

    const runs = rows("SELECT rowid AS row_number, * FROM runs");
    for (const run of runs) {
      put(
        present({
          pk: "RUN",
          sk: run["id"],
          runbookId: run["runbook_id"],
          runbookDigest: run["runbook_digest"],
          inputs: run["inputs"],
          initiator: run["initiator"],
          initiatorPerson: run["initiator_person"],
          dryRun: Number(run["dry_run"]) === 1,
          preflight: run["preflight"],
          status: run["status"],
          createdAt: run["created_at"],
          updatedAt: run["updated_at"],
          startSequence: Number(run["row_number"]),
          leaseHolder: run["lease_holder"],
          leaseExpiresAt: run["lease_expires_at"],
          version: 1,
        }),
      );
    }
    const steps = rows("SELECT * FROM run_steps");
    for (const step of steps) {
      put(
        present({
          pk: `RUN#${String(step["run_id"])}`,
          sk: `STEP#${String(step["step_id"])}`,
          stepId: step["step_id"],
          position: Number(step["position"]),
          status: step["status"],
          outcome: step["outcome"],
          attempts: Number(step["attempts"]),
          updatedAt: step["updated_at"],
        }),
      );
    }
    const artefacts = rows("SELECT * FROM run_artefacts");
    for (const artefact of artefacts) {
      put({
        pk: `RUN#${String(artefact["run_id"])}`,
        sk: `ARTEFACT#${String(artefact["name"])}`,
        name: artefact["name"],
        path: artefact["path"],
        stepId: artefact["step_id"],
        createdAt: artefact["created_at"],
      });
    }
    // Each content is checked against the digest the SQLite store kept before it is copied: a rotted one stops the copy.
    const contents = rows("SELECT run_id, name, sha256, content FROM run_artefact_contents ORDER BY run_id, name");
    const artefactStore = new DynamoArtefactStore(table);
    for (const row of contents) {
      const runId = String(row["run_id"]);
      const name = String(row["name"]) as ContentName;
      const content = new Uint8Array(row["content"] as Uint8Array);
      const actual = sha256Of(content);
      if (actual !== row["sha256"])
        throw artefactDigestMismatch(`SQLite store ${path}`, runId, name, String(row["sha256"]), actual);
      artefactStore.putArtefact(runId, name, content);
    }
    const windows = rows("SELECT * FROM emergency_windows");
    for (const window of windows) {
      put(
        present({
          pk: "WINDOW",
          sk: window["incident"],
          openedAt: window["opened_at"],
          openedBy: window["opened_by"],
          reason: window["reason"],
          runId: window["run_id"],
          closedAt: window["closed_at"],
          closedBy: window["closed_by"],
        }),
      );
    }
    const leases = rows("SELECT * FROM member_leases ORDER BY id");
    for (const lease of leases) {
      const removedAt = text(lease["removed_at"]);
      put(
        present({
          pk: "MEMBER-LEASE",
          sk:
            removedAt === undefined
              ? `ACTIVE#${JSON.stringify([lease["group_id"], lease["user_id"]])}`
              : `ENDED#${paddedNumber(Number(lease["id"]))}`,
          id: Number(lease["id"]),
          runId: lease["run_id"],
          groupId: lease["group_id"],
          userId: lease["user_id"],
          login: lease["login"],
          addedAt: lease["added_at"],
          expiresAt: lease["expires_at"],
          removedAt,
          [TTL_ATTRIBUTE]:
            removedAt === undefined ? undefined : Math.floor(Date.parse(removedAt) / 1000) + 366 * 24 * 60 * 60,
        }),
      );
    }
    setCounter(table, "member-lease", Math.max(0, ...leases.map((lease) => Number(lease["id"]))));
    const attestations = rows("SELECT * FROM attestations ORDER BY id");
    for (const attestation of attestations) {
      const fields = {
        instanceArn: attestation["instance_arn"],
        fingerprints: attestation["fingerprints"],
        attestedAt: attestation["attested_at"],
        attestedBy: attestation["attested_by"],
        source: attestation["source"],
        sequence: Number(attestation["id"]),
      };
      put({
        pk: `ATTESTATION#${String(attestation["instance_arn"])}`,
        sk: `${String(attestation["attested_at"])}#${paddedNumber(Number(attestation["id"]))}`,
        ...fields,
      });
      // The newest per instance, as the SQLite store answers it: the latest instant, then the latest row.
      table.write("Put", {
        Item: { pk: "ATTESTATION", sk: attestation["instance_arn"], ...fields },
        ConditionExpression:
          "attribute_not_exists(pk) OR attestedAt < :at OR (attestedAt = :at AND #sequence < :sequence)",
        ExpressionAttributeNames: { "#sequence": "sequence" },
        ExpressionAttributeValues: { ":at": fields.attestedAt, ":sequence": fields.sequence },
      });
    }
    setCounter(table, "attestation", Math.max(0, ...attestations.map((attestation) => Number(attestation["id"]))));
    const alerts = rows("SELECT * FROM alerts");
    for (const alert of alerts) {
      put(
        present({
          pk: "ALERT",
          sk: alert["key"],
          code: alert["code"],
          severity: alert["severity"],
          message: alert["message"],
          firstSeen: alert["first_seen"],
          lastSeen: alert["last_seen"],
          postedAt: alert["posted_at"],
          resolvedAt: alert["resolved_at"],
          resolutionPostedAt: alert["resolution_posted_at"],
          version: 1,
        }),
      );
    }
    const claims = rows("SELECT * FROM expiry_warnings");
    for (const claim of claims) {
      put({
        pk: `EXPIRY#${String(claim["fingerprint"])}`,
        sk: claim["step"],
        postedAt: claim["posted_at"],
        delivered: Number(claim["delivered"]) === 1,
      });
    }
    const messages = rows("SELECT * FROM slack_messages");
    for (const message of messages) {
      put({
        pk: "MESSAGE-REF",
        sk: `${String(message["channel"])} ${String(message["ts"])}`,
        subject: message["subject"],
      });
      put({
        pk: "MESSAGE",
        sk: message["subject"],
        channel: message["channel"],
        ts: message["ts"],
        createdAt: message["created_at"],
      });
    }
    const facts = rows("SELECT * FROM service_state");
    for (const fact of facts) put({ pk: "STATE", sk: fact["name"], value: fact["value"] });
    return {
      auditRecords: records.length,
      runs: runs.length,
      steps: steps.length,
      artefacts: artefacts.length,
      artefactContents: contents.length,
      windows: windows.length,
      memberLeases: leases.length,
      attestations: attestations.length,
      alerts: alerts.length,
      expiryClaims: claims.length,
      slackMessages: messages.length,
      facts: facts.length,
    };
  } finally {
    database.close();
  }
}

/** The source's records after those already copied, which must be the source's first ones exactly. */
function copyAudit(
  table: DynamoTable,
  target: DynamoAuditStore,
  records: readonly AuditRecord[],
  already: readonly AuditRecord[],
): void {
  already.forEach((record, index) => {
    if (records[index]?.hash !== record.hash) {
      throw new BreakglassError(
        "USAGE",
        table.description,
        `its audit record ${record.sequence} is not the SQLite store's: it holds another store's chain; migrate into a new table`,
      );
    }
  });
  target.importRecords(records.slice(already.length));
}

/** The next id a counter hands out follows the copied ones. */
function setCounter(table: DynamoTable, name: string, value: number): void {
  table.write("Put", {
    Item: { pk: "COUNTER", sk: name, value },
    ConditionExpression: "attribute_not_exists(pk) OR #value < :value",
    ExpressionAttributeNames: { "#value": "value" },
    ExpressionAttributeValues: { ":value": value },
  });
}
