// `breakglass store backup <file>`: a consistent, private copy of the store, taken while serve runs, with its audit chain verified.
import { resolve } from "node:path";
import { backupStore, openStore } from "../adapters/store/open-store.js";
import { loadConfig, resolveConfigPath } from "../config/load-config.js";
import { verifyAudit } from "../domain/audit/audit-log.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";

export interface StoreBackupOptions {
  readonly config?: string;
  readonly force?: boolean;
}

/** Exit 0 with the copy's record count when its chain is intact; 1, naming each problem, when the store's chain is not. */
export async function runStoreBackup(file: string, options: StoreBackupOptions, io: CliIo): Promise<number> {
  const { config } = await loadConfig(resolveConfigPath(options.config, io.env));
  const destination = resolve(file);
  await backupStore(config.store, destination, { force: options.force === true });
  // Verified on the copy, not the store: what matters is that the file kept is whole.
  const copy = openStore({ path: destination });
  try {
    const result = verifyAudit(copy.audit);
    const records = `${result.records} audit ${result.records === 1 ? "record" : "records"}`;
    const problems = result.problems.map((entry) => entry.problem);
    if (problems.length === 0) {
      const head = result.headHash === null ? "" : ` (head ${result.headHash.slice(0, 16)}…)`;
      io.stdout(
        `${config.store.path}: backed up to ${destination} (readable only by you): ${records}, chain intact${head}\n`,
      );
      return EXIT.ok;
    }
    io.stdout(
      `${config.store.path}: backed up to ${destination}, but its audit chain is broken ` +
        `(${problems.length} ${problems.length === 1 ? "problem" : "problems"} in ${records}):\n`,
    );
    for (const problem of problems) io.stdout(`  ${problem}\n`);
    return EXIT.findings;
  } finally {
    copy.close();
  }
}
