// The DynamoDB store's single-table design, written down once, and `breakglass store init`, which makes the table.
/**
 * One table, two string keys: `pk` (partition) and `sk` (sort), no secondary index. Every read is strongly consistent
 * (a GetItem or a Query on `pk`, which a GSI could not be), so each question the store answers is a partition:
 *
 * | item                  | pk                    | sk                     | written by                                        |
 * |-----------------------|-----------------------|------------------------|---------------------------------------------------|
 * | run                   | `RUN`                 | run id                 | createRun; lease and transition updates           |
 * | run step              | `RUN#<run id>`        | `STEP#<step id>`       | createRun, recordTransition                       |
 * | run artefact          | `RUN#<run id>`        | `ARTEFACT#<name>`      | recordTransition (newest path wins)               |
 * | artefact content head | `ARTEFACT#<run id>#<name>` | `CONTENT`         | putArtefact, after its chunks: `sha256`, `size`, `chunks` |
 * | artefact content chunk| `ARTEFACT#<run id>#<name>` | `CHUNK#<sha256>#<index, 6 digits>` | putArtefact: `data`, ≤ 350 KB binary |
 * | audit chain head      | `AUDIT`               | `HEAD`                 | every audit append: `sequence` and `hash`         |
 * | audit record          | `AUDIT`               | `RECORD#<sequence, 12 digits>` | every audit append, never changed         |
 * | emergency window      | `WINDOW`              | incident               | openWindow, closeWindow                           |
 * | member lease (active) | `MEMBER-LEASE`        | `ACTIVE#<group>#<user>`| recordLease (only if absent), endLease (deletes)  |
 * | member lease (ended)  | `MEMBER-LEASE`        | `ENDED#<id, 12 digits>`| endLease; `ttl` one year after it ended         |
 * | member lease counter  | `COUNTER`             | `member-lease`         | recordLease (ADD 1: the lease's id)               |
 * | attestation           | `ATTESTATION#<instance ARN>` | `<attested at>#<unique>` | recordAttestation, every one kept          |
 * | newest attestation    | `ATTESTATION`         | instance ARN           | recordAttestation when newer than the one kept    |
 * | IdP configuration change | `IDP-CHANGE#<instance ARN>` | `<changed at>#<event id>` | recordIdpChange, with its event marker |
 * | IdP change event marker | `IDP-CHANGE-EVENT`  | CloudTrail event id    | recordIdpChange (only if absent: once per event)  |
 * | alert                 | `ALERT`               | finding key            | recordSeen and the mark* updates                  |
 * | expiry-ladder claim   | `EXPIRY#<fingerprint>`| step                   | claim / deliver / forget                          |
 * | Slack message         | `MESSAGE`             | subject                | rememberMessage; `MESSAGE-REF` / `<channel> <ts>` finds the subject back |
 * | named fact            | `STATE`               | name                   | setState                                          |
 * | leader lease          | `LEADER`              | lease name             | acquireOrRenew / release, conditional on `version`|
 * | watched event         | `WATCHED`             | CloudTrail event id    | recordEvent (only if absent), attachEvent         |
 * | misuse alert          | `MISUSE-ALERT`        | `<id, 12 digits>`      | recordEvent (with its event), markAlertPosted     |
 * | derived session       | `DERIVED-SESSION`     | session ARN            | recordEvent of a call that created a session      |
 * | unreadable message    | `UNREADABLE`          | SQS message id         | recordUnreadable (only if absent)                 |
 *
 * A new repository is a new item kind: its own `pk`, no change to the table.
 *
 * Fencing: the leader's view of the store (`fenced`) turns every write into a TransactWriteItems that also holds a
 * ConditionCheck on its `LEADER` item (holder and token), so a replaced leader's write is refused atomically.
 *
 * Concurrency: every state change is a conditional write. The run item carries `version`, raised by every write to
 * it; a transition is ONE TransactWriteItems of the run (conditional on the lease holder and the version read), its
 * steps, its artefacts, its audit records (each `attribute_not_exists`) and the chain head (conditional on the
 * sequence read). Whoever loses a race gets TransactionCanceledException (or, on a multi-Region strongly consistent
 * global table, ReplicatedWriteConflictException), reads the run and the head again and retries, up to 25 times; a
 * holder that lost the lease gets RUN_BUSY and wrote nothing. So the audit chain stays one line under any number of
 * writers. One transaction holds at most 100 items and 4 MB: a transition needing more (over 97 steps or audit records
 * at once) is refused whole with a clear error, never split; an item over 400 KB (a step outcome) is refused by
 * DynamoDB the same way.
 *
 * Artefact contents: an item holds at most 400 KB, so a content (up to 64 MB) is cut into binary chunks of 350 KB,
 * written ten to a TransactWriteItems (under its 4 MB), keyed by the content's SHA-256 so a newer content never
 * overwrites the chunks an older head still names; the head item, written last, names the digest and chunk count,
 * so a reader (a strongly consistent GetItem, then a Query of that digest's chunks) sees a whole content or the one
 * before. Reassembled, the content must hash to the head's digest, or it is refused. Chunks of a replaced content
 * stay (a check step run again after a crash: rare, and small next to the table). Besides a run's artefacts (`<name>`
 * `metadata-file`, `activity-summary`), a document a step saved before replacing it is kept the same way, as
 * `saved/<file name>` (the metadata a provider held before an import, which a rollback puts back).
 *
 * Lists (runs, windows, alerts, leases) read their whole partition and sort in memory: breakglass keeps hundreds of
 * such items, not millions. The rows that expire carry `ttl` (epoch seconds), the table's TTL attribute.
 */
import { BreakglassError } from "../../../domain/errors.js";
import type { DynamoTable } from "./dynamodb-table.js";

/** Epoch seconds after which DynamoDB deletes the item (its TTL attribute; only ended member leases carry it). */
export const TTL_ATTRIBUTE = "ttl";

/** A sequence or id as a sort key that sorts as a number. */
export const paddedNumber = (value: number): string => String(value).padStart(12, "0");

/** What `store init` found or did, for the CLI to print. */
export interface TableInitResult {
  readonly created: boolean;
  readonly pointInTimeRecovery: boolean;
  readonly timeToLive: boolean;
}

/**
 * Creates the table (on-demand capacity, point-in-time recovery on, TTL on `ttl`) and waits until it is active;
 * a table that exists already has its key schema checked instead (and PITR and TTL turned on if they were off).
 * `sleep` waits between polls of the table's status.
 */
export function initTable(table: DynamoTable, sleep: (ms: number) => void): TableInitResult {
  const existing = describe(table);
  let created = false;
  if (existing === null) {
    table.call("CreateTable", {
      TableName: table.name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      Tags: [{ Key: "breakglass", Value: "store" }],
    });
    created = true;
  } else {
    verifyKeySchema(table, existing);
  }
  for (let polls = 0; describe(table)?.TableStatus !== "ACTIVE"; polls++) {
    if (polls >= 120) {
      throw new BreakglassError("STORE_FAILED", table.description, "the table did not become ACTIVE within 2 minutes");
    }
    sleep(1_000);
  }
  const backups = table.call("DescribeContinuousBackups", { TableName: table.name }) as {
    PointInTimeRecoveryDescription?: { PointInTimeRecoveryStatus?: string };
  } | null;
  if (backups?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus !== "ENABLED") {
    table.call("UpdateContinuousBackups", {
      TableName: table.name,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  }
  const ttl = table.call("DescribeTimeToLive", { TableName: table.name }) as {
    TimeToLiveStatus?: string;
    AttributeName?: string;
  } | null;
  if (ttl?.TimeToLiveStatus !== "ENABLED" && ttl?.TimeToLiveStatus !== "ENABLING") {
    table.call("UpdateTimeToLive", {
      TableName: table.name,
      TimeToLiveSpecification: { Enabled: true, AttributeName: TTL_ATTRIBUTE },
    });
  }
  return { created, pointInTimeRecovery: true, timeToLive: true };
}

interface TableDescription {
  readonly TableStatus?: string;
  readonly KeySchema?: readonly { AttributeName?: string; KeyType?: string }[];
}

function describe(table: DynamoTable): TableDescription | null {
  return table.callUnlessMissing("DescribeTable", { TableName: table.name }) as TableDescription | null;
}

/** A table someone else made with other keys would take our writes and lose our queries: refuse it, saying why. */
function verifyKeySchema(table: DynamoTable, description: TableDescription): void {
  const keys = (description.KeySchema ?? []).map((key) => `${key.AttributeName ?? "?"} ${key.KeyType ?? "?"}`);
  if (keys.join(", ") !== "pk HASH, sk RANGE") {
    throw new BreakglassError(
      "STORE_FAILED",
      table.description,
      `the table exists with the key schema (${keys.join(", ") || "none"}), not (pk HASH, sk RANGE): ` +
        "it is not a breakglass store; name another table in store.table",
    );
  }
}
