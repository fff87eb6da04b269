// The JSON of `breakglass audit verify --json`: { ok, store, records, headHash, mirror, problems }.
import type { AuditVerification } from "../domain/audit/audit-log.js";

/**
 * `problems` holds the chain's problems (with the record's sequence number) then the mirror's (sequence null), in the
 * order the text report lists them; `ok` is true exactly when there is none.
 */
export function auditVerifyJson(storePath: string, mirrorPath: string | undefined, result: AuditVerification): unknown {
  const problems = [
    ...result.problems.map((entry) => ({ sequence: entry.sequence, problem: entry.problem })),
    ...result.mirrorProblems.map((problem) => ({ sequence: null, problem })),
  ];
  return {
    ok: problems.length === 0,
    store: storePath,
    records: result.records,
    headHash: result.headHash,
    mirror: mirrorPath ?? null,
    problems,
  };
}
