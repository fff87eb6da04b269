// `breakglass store init | migrate | backup`: make the DynamoDB table, copy a SQLite store into it, or take a consistent,
// private copy of a SQLite store while serve runs, each with its audit chain verified.
import { resolve } from "node:path";
import {
  backupStore,
  describeStore,
  initStore,
  migrateStore,
  openStore,
  type ImportCounts,
} from "../adapters/store/open-store.js";
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
        `${describeStore(config.store)}: backed up to ${destination} (readable only by you): ${records}, chain intact${head}\n`,
      );
      return EXIT.ok;
    }
    io.stdout(
      `${describeStore(config.store)}: backed up to ${destination}, but its audit chain is broken ` +
        `(${problems.length} ${problems.length === 1 ? "problem" : "problems"} in ${records}):\n`,
    );
    for (const problem of problems) io.stdout(`  ${problem}\n`);
    return EXIT.findings;
  } finally {
    copy.close();
  }
}

export interface StoreConfigOptions {
  readonly config?: string;
}

/** Makes the DynamoDB table the config names (or checks the one there); a SQLite store is made on first use. */
export async function runStoreInit(options: StoreConfigOptions, io: CliIo): Promise<number> {
  const { config } = await loadConfig(resolveConfigPath(options.config, io.env));
  const result = initStore(config.store);
  const name = describeStore(config.store);
  if (result === null) {
    io.stdout(`${name}: SQLite store ready (it is made on first use; kind dynamodb needs \`store init\`)\n`);
    return EXIT.ok;
  }
  io.stdout(
    result.created
      ? `${name}: created (on-demand capacity, point-in-time recovery on, TTL on ttl)\n`
      : `${name}: exists already with the breakglass key schema (pk, sk); point-in-time recovery and TTL on\n`,
  );
  return EXIT.ok;
}

export interface StoreMigrateOptions extends StoreConfigOptions {
  readonly from: string;
  readonly resume?: boolean;
}

/**
 * Copies the SQLite store into the configured DynamoDB table, then verifies the copy's audit chain: exit 0 when it is
 * intact and ends on the same head hash as the source, 1 otherwise.
 */
export async function runStoreMigrate(options: StoreMigrateOptions, io: CliIo): Promise<number> {
  const { config } = await loadConfig(resolveConfigPath(options.config, io.env));
  const from = resolve(options.from);
  const source = openStore({ path: from });
  let sourceHead: string | null;
  try {
    sourceHead = source.audit.auditRecords().at(-1)?.hash ?? null;
  } finally {
    source.close();
  }
  const counts = migrateStore(from, config.store, options.resume === true);
  const target = openStore(config.store);
  try {
    const result = verifyAudit(target.audit);
    const name = describeStore(config.store);
    io.stdout(`${from} -> ${name}: copied ${countsText(counts)}\n`);
    if (result.problems.length === 0 && result.headHash === sourceHead) {
      const head = result.headHash === null ? "" : ` (head ${result.headHash.slice(0, 16)}…, as in the SQLite store)`;
      io.stdout(
        `${name}: ${result.records} audit ${result.records === 1 ? "record" : "records"}, chain intact${head}\n`,
      );
      return EXIT.ok;
    }
    io.stdout(
      `${name}: the copied audit chain does not match the source (head ${result.headHash ?? "none"}, ` +
        `source ${sourceHead ?? "none"}):\n`,
    );
    for (const problem of result.problems) io.stdout(`  ${problem.problem}\n`);
    return EXIT.findings;
  } finally {
    target.close();
  }
}

function countsText(counts: ImportCounts): string {
  return [
    `${counts.auditRecords} audit records`,
    `${counts.runs} runs (${counts.steps} steps, ${counts.artefacts} artefacts, ${counts.artefactContents} artefact contents)`,
    `${counts.windows} emergency windows`,
    `${counts.memberLeases} member leases`,
    `${counts.attestations} attestations`,
    `${counts.alerts} alerts`,
    `${counts.expiryClaims} expiry-ladder claims`,
    `${counts.slackMessages} Slack messages`,
    `${counts.facts} facts`,
  ].join(", ");
}
