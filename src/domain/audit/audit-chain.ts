// The audit log's hash chain: each record carries the hash of the one before, so editing, deleting or reordering any record shows.
import { createHash } from "node:crypto";

export interface AuditEntry {
  /** Who did it: "alice (os user root)", "slack:U024BE7LH", "breakglass" for the service itself. */
  readonly actor: string;
  /** What happened, as a dotted verb: "identity-center.attest", "run.step.applied", "approval.granted". */
  readonly action: string;
  /** The run it belongs to, when it belongs to one. */
  readonly runId: string | null;
  /** What it is about: an ARN, a group, a step. */
  readonly subject: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface AuditRecord extends AuditEntry {
  readonly sequence: number;
  readonly at: string;
  readonly previousHash: string;
  readonly hash: string;
}

export const GENESIS_HASH = "0".repeat(64);

/** The record's hash covers every field but itself, serialised with sorted keys so it never depends on property order. */
export function hashRecord(record: Omit<AuditRecord, "hash">): string {
  return createHash("sha256").update(canonicalJson(record)).digest("hex");
}

export function sealRecord(entry: AuditEntry, sequence: number, at: Date, previousHash: string): AuditRecord {
  const unsealed = {
    sequence,
    at: at.toISOString(),
    actor: entry.actor,
    action: entry.action,
    runId: entry.runId,
    subject: entry.subject,
    detail: entry.detail,
    previousHash,
  };
  return { ...unsealed, hash: hashRecord(unsealed) };
}

export interface ChainProblem {
  readonly sequence: number;
  readonly problem: string;
}

/**
 * Every way the records (in the order they were written) depart from an intact chain, by record
 * number; empty when it is intact. A record is judged against its own predecessor by number, so
 * one edit, deletion or move is reported once, not as a cascade.
 */
export function verifyChain(records: readonly AuditRecord[]): ChainProblem[] {
  const problems: ChainProblem[] = [];
  const bySequence = new Map<number, AuditRecord>();
  for (const record of records) if (!bySequence.has(record.sequence)) bySequence.set(record.sequence, record);
  const seen = new Set<number>();
  let highest = 0;
  for (const record of records) {
    const { hash, ...unsealed } = record;
    if (seen.has(record.sequence)) {
      problems.push({ sequence: record.sequence, problem: `record ${record.sequence} appears twice` });
      continue;
    }
    seen.add(record.sequence);
    if (record.sequence < highest) {
      problems.push({
        sequence: record.sequence,
        problem: `record ${record.sequence} is out of order: it comes after record ${highest}`,
      });
    }
    highest = Math.max(highest, record.sequence);
    if (hashRecord(unsealed) !== hash) {
      problems.push({
        sequence: record.sequence,
        problem: `record ${record.sequence} was edited: its content no longer matches its hash`,
      });
      continue;
    }
    const predecessor = record.sequence === 1 ? GENESIS_HASH : bySequence.get(record.sequence - 1)?.hash;
    if (predecessor !== undefined && record.previousHash !== predecessor) {
      problems.push({
        sequence: record.sequence,
        problem: `record ${record.sequence} does not follow record ${record.sequence - 1}: one of them was replaced`,
      });
    }
  }
  for (let sequence = 1; sequence < highest; sequence++) {
    if (!seen.has(sequence)) problems.push({ sequence, problem: `record ${sequence} was deleted` });
  }
  return problems.sort((a, b) => a.sequence - b.sequence);
}

/** JSON with object keys sorted at every level: the same record always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner && typeof inner === "object" && !Array.isArray(inner)) {
      return Object.fromEntries(
        Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
    return inner;
  });
}
