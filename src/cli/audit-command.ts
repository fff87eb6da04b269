// `breakglass audit verify`: proves the audit log intact, or names every record that was edited, deleted or reordered.
import { verifyAudit } from "../domain/audit/audit-log.js";
import { loadConfig, resolveConfigPath } from "../config/load-config.js";
import { jsonlAuditMirror } from "../adapters/store/jsonl-audit-mirror.js";
import { describeStore, openStore } from "../adapters/store/open-store.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import { auditVerifyJson } from "./audit-verify-json.js";

export async function runAuditVerify(options: { config?: string; json?: boolean }, io: CliIo): Promise<number> {
  const { config } = await loadConfig(resolveConfigPath(options.config, io.env));
  const store = openStore(config.store);
  try {
    const result = verifyAudit(store.audit, jsonlAuditMirror(config.store.auditMirror));
    const problems = [...result.problems.map((entry) => entry.problem), ...result.mirrorProblems];
    if (options.json) {
      io.stdout(
        `${JSON.stringify(auditVerifyJson(describeStore(config.store), config.store.auditMirror, result), null, 2)}\n`,
      );
      return problems.length === 0 ? EXIT.ok : EXIT.findings;
    }
    if (problems.length === 0) {
      io.stdout(
        `${describeStore(config.store)}: ${result.records} audit ${result.records === 1 ? "record" : "records"}, ` +
          `chain intact${result.headHash ? ` (head ${result.headHash.slice(0, 16)}…)` : ""}${config.store.auditMirror ? ", mirror identical" : ""}\n`,
      );
      return EXIT.ok;
    }
    io.stdout(
      `${describeStore(config.store)}: the audit log was tampered with ` +
        `(${problems.length} ${problems.length === 1 ? "problem" : "problems"} in ${result.records} records):\n`,
    );
    for (const problem of problems) io.stdout(`  ${problem}\n`);
    return EXIT.findings;
  } finally {
    store.close();
  }
}
