// The append-only audit log: every state change is sealed into the hash chain in the store and copied to the mirror, or it does not happen.
import type { Clock } from "../shared/clock.js";
import { BreakglassError, describeError } from "../errors.js";
import type { AuditMirror, AuditStore } from "../ports/audit-store.js";
import { verifyChain, type AuditEntry, type AuditRecord, type ChainProblem } from "./audit-chain.js";

export class AuditLog {
  constructor(
    private readonly store: AuditStore,
    private readonly clock: Clock,
    private readonly mirror?: AuditMirror | undefined,
  ) {}

  /**
   * Fail closed: a caller records what it is about to do and only then does it. If either copy
   * cannot be written this throws, and the caller must not make the change. A record a leader's fenced view refused
   * (LEADERSHIP_LOST: another replica leads now) is thrown as it is, so that the caller steps down.
   */
  record(entry: AuditEntry): AuditRecord {
    let record: AuditRecord;
    try {
      record = this.store.appendAudit(entry, this.clock.now());
    } catch (error) {
      if (error instanceof BreakglassError && error.code === "LEADERSHIP_LOST") throw error;
      throw new BreakglassError(
        "AUDIT_FAILED",
        "audit log",
        `cannot record "${entry.action}" on ${entry.subject}, so it is not done: ${describeError(error)}`,
      );
    }
    this.copyToMirror([record], entry.action);
    return record;
  }

  /**
   * For a change the store writes in one transaction with its own audit records (a run's transition): `change` writes
   * both and returns the records as sealed, which are then copied to the mirror. A lease the caller lost (RUN_BUSY,
   * RUN_NOT_FOUND) is thrown as it is; any other failure means nothing of the change was written, and says so.
   */
  recordWith(entries: readonly AuditEntry[], change: () => readonly AuditRecord[]): readonly AuditRecord[] {
    let records: readonly AuditRecord[];
    try {
      records = change();
    } catch (error) {
      const first = entries[0];
      const stillOurs = error instanceof BreakglassError && error.code !== "STORE_FAILED";
      if (first === undefined || stillOurs) throw error;
      throw new BreakglassError(
        "AUDIT_FAILED",
        "audit log",
        `cannot record "${first.action}" on ${first.subject}, so it is not done: ${describeError(error)}`,
        { cause: error },
      );
    }
    if (records.length > 0) this.copyToMirror(records, entries[0]?.action ?? records[0]?.action ?? "");
    return records;
  }

  private copyToMirror(records: readonly AuditRecord[], action: string): void {
    if (this.mirror === undefined) return;
    try {
      this.mirror.append(records);
    } catch (error) {
      const sequences = records.map((record) => record.sequence).join(", ");
      throw new BreakglassError(
        "AUDIT_FAILED",
        this.mirror.name,
        `cannot copy audit record ${sequences} to the mirror, so "${action}" is not done: ${describeError(error)}`,
      );
    }
  }
}

export interface AuditVerification {
  readonly records: number;
  readonly headHash: string | null;
  readonly problems: readonly ChainProblem[];
  readonly mirrorProblems: readonly string[];
}

/** Checks the chain in the store and, when there is one, that the mirror is the same intact chain. */
export function verifyAudit(store: AuditStore, mirror?: AuditMirror): AuditVerification {
  const records = store.auditRecords();
  const mirrorProblems: string[] = [];
  if (mirror) {
    const read = mirror.read();
    for (const problem of read.problems) mirrorProblems.push(`mirror: ${problem}`);
    const mirrored = read.records;
    for (const problem of verifyChain(mirrored)) mirrorProblems.push(`mirror: ${problem.problem}`);
    const byHash = new Map(mirrored.map((record) => [record.hash, record]));
    for (const record of records) {
      if (!byHash.has(record.hash))
        mirrorProblems.push(`mirror: record ${record.sequence} of the store is missing or differs`);
    }
    if (mirrored.length > records.length)
      mirrorProblems.push(`mirror: holds ${mirrored.length} records, the store ${records.length}`);
  }
  return {
    records: records.length,
    headHash: records.at(-1)?.hash ?? null,
    problems: verifyChain(records),
    mirrorProblems,
  };
}
