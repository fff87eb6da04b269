// Identity Center import attestations in DynamoDB: every one kept under its instance, and the newest per instance in
// one item that a write replaces only with a newer one.
import type { Attestation } from "../../../domain/checks/posture-facts.js";
import type { AttestationStore } from "../../../domain/ports/attestation-store.js";
import { paddedNumber } from "./dynamodb-table-design.js";
import type { DynamoTable } from "./dynamodb-table.js";

const NEWEST = "ATTESTATION";
const history = (instanceArn: string) => `ATTESTATION#${instanceArn}`;

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
    return item === null ? null : attestationOf(item);
  }

  latestAttestations(): Attestation[] {
    return this.table.query(NEWEST).map(attestationOf);
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
