// Identity Center import attestations in DynamoDB: every one kept under its instance, and the newest per instance in
// one item that a write replaces only with a newer one; and the IdP configuration changes CloudTrail reported, each
// under its instance sorted by time, with a marker per CloudTrail event id so a redelivered event is recorded once.
import type { Attestation, IdpConfigurationChange } from "../../../domain/checks/posture-facts.js";
import type { AttestationStore } from "../../../domain/ports/attestation-store.js";
import { paddedNumber } from "./dynamodb-table-design.js";
import type { DynamoTable } from "./dynamodb-table.js";

const NEWEST = "ATTESTATION";
const history = (instanceArn: string) => `ATTESTATION#${instanceArn}`;
const changes = (instanceArn: string) => `IDP-CHANGE#${instanceArn}`;
const CHANGE_EVENT = "IDP-CHANGE-EVENT";

export class DynamoAttestationStore implements AttestationStore {
  constructor(private readonly table: DynamoTable) {}

  recordAttestation(attestation: Attestation): void {
    const counter = this.table.updated({
      Key: { pk: "COUNTER", sk: "attestation" },
      UpdateExpression: "ADD #value :one",
      ExpressionAttributeNames: { "#value": "value" },
      ExpressionAttributeValues: { ":one": 1 },
    });
    const sequence = Number(counter?.["value"]);
    const attestedAt = attestation.attestedAt.toISOString();
    const fields = {
      instanceArn: attestation.instanceArn,
      fingerprints: JSON.stringify([...attestation.fingerprints].sort()),
      attestedAt,
      attestedBy: attestation.attestedBy,
      source: attestation.source,
      sequence,
    };
    this.table.write("Put", {
      Item: { pk: history(attestation.instanceArn), sk: `${attestedAt}#${paddedNumber(sequence)}`, ...fields },
    });
    // The newest: replaced by a later attestation, or by one recorded later for the same instant (as SQLite's id does).
    this.table.write("Put", {
      Item: { pk: NEWEST, sk: attestation.instanceArn, ...fields },
      ConditionExpression:
        "attribute_not_exists(pk) OR attestedAt < :at OR (attestedAt = :at AND #sequence < :sequence)",
      ExpressionAttributeNames: { "#sequence": "sequence" },
      ExpressionAttributeValues: { ":at": attestedAt, ":sequence": sequence },
    });
  }

  latestAttestation(instanceArn: string): Attestation | null {
    const item = this.table.get(NEWEST, instanceArn);
    return item === null ? null : this.withLastChange(attestationOf(item));
  }

  latestAttestations(): Attestation[] {
    return this.table.query(NEWEST).map((item) => this.withLastChange(attestationOf(item)));
  }

  recordIdpChange(change: IdpConfigurationChange): boolean {
    const changedAt = change.changedAt.toISOString();
    // The marker and the change in one transaction: the event id decides, whatever time a redelivery carries.
    const outcome = this.table.transact([
      {
        Put: {
          Item: { pk: CHANGE_EVENT, sk: change.eventId, instanceArn: change.instanceArn },
          ConditionExpression: "attribute_not_exists(pk)",
        },
      },
      {
        Put: {
          Item: {
            pk: changes(change.instanceArn),
            sk: `${changedAt}#${change.eventId}`,
            instanceArn: change.instanceArn,
            eventId: change.eventId,
            eventName: change.eventName,
            changedAt,
            changedBy: change.changedBy,
            sourceIp: change.sourceIp,
          },
        },
      },
    ]);
    if (outcome.written) return true;
    if (outcome.reasons[0] === "ConditionalCheckFailed") return false;
    // Cancelled by a concurrent write of the same event: whoever won recorded it.
    return this.table.get(CHANGE_EVENT, change.eventId) === null ? this.recordIdpChange(change) : false;
  }

  /** The instance's change with the latest changedAt (then event id), as SQLite orders them. */
  private withLastChange(attestation: Attestation): Attestation {
    const [item] = this.table.query(changes(attestation.instanceArn), undefined, { newestFirst: true, limit: 1 });
    if (item === undefined) return attestation;
    return {
      ...attestation,
      lastIdpChange: {
        instanceArn: String(item["instanceArn"]),
        eventId: String(item["eventId"]),
        eventName: String(item["eventName"]),
        changedAt: new Date(String(item["changedAt"])),
        changedBy: String(item["changedBy"]),
        sourceIp: String(item["sourceIp"]),
      },
    };
  }
}

function attestationOf(item: Record<string, unknown>): Attestation {
  return {
    instanceArn: String(item["instanceArn"]),
    fingerprints: JSON.parse(String(item["fingerprints"])) as string[],
    attestedAt: new Date(String(item["attestedAt"])),
    attestedBy: String(item["attestedBy"]),
    source: String(item["source"]),
  };
}
