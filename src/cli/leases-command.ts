// `breakglass leases list | reap`: the emergency group memberships granted on a lease, and their removal once the lease ends.
import { loadConfig, resolveConfigPath } from "../config/load-config.js";
import { reapExpiredLeases } from "../adapters/runbook-actions/group-membership.js";
import { requireGroupDirectory } from "../application/idp-group-api.js";
import { openRunbookServices } from "../application/runbook-runtime.js";
import { openStore } from "../adapters/store/open-store.js";
import { DEFAULT_RUNBOOK_DIRECTORY } from "./runbook-command.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import { leasesJson } from "./leases-json.js";

export async function runLeasesList(options: { config?: string; json?: boolean }, io: CliIo): Promise<number> {
  const { config } = await loadConfig(resolveConfigPath(options.config, io.env));
  const store = openStore(config.store);
  try {
    const active = store.leases.activeLeases();
    if (options.json) {
      io.stdout(`${JSON.stringify(leasesJson(active, io.clock.now()), null, 2)}\n`);
      return EXIT.ok;
    }
    if (active.length === 0)
      io.stdout("No active leases: no one holds emergency group membership through breakglass.\n");
    for (const lease of active) {
      const ended =
        Date.parse(lease.expiresAt) <= io.clock.now().getTime()
          ? "  ENDED, not yet removed (run `breakglass leases reap`)"
          : "";
      io.stdout(
        `${lease.login} in group ${lease.groupId} until ${lease.expiresAt}${lease.runId ? ` (run ${lease.runId})` : ""}${ended}\n`,
      );
    }
    return EXIT.ok;
  } finally {
    store.close();
  }
}

export async function runLeasesReap(options: { config?: string }, io: CliIo): Promise<number> {
  const { config } = await loadConfig(resolveConfigPath(options.config, io.env));
  const services = openRunbookServices(config, {
    runbookDirectory: DEFAULT_RUNBOOK_DIRECTORY,
    clock: io.clock,
    env: io.env,
    notify: () => Promise.resolve(),
  });
  try {
    const directory = requireGroupDirectory(services.directory, "leases reap");
    const result = await reapExpiredLeases({
      store: services.store.leases,
      directory,
      clock: io.clock,
      audit: services.audit,
    });
    for (const lease of result.reaped)
      io.stdout(
        `Removed ${lease.login} from group ${lease.groupId}: the lease ended ${lease.expiresAt}; verified gone.\n`,
      );
    for (const { lease, error } of result.failed)
      io.stdout(
        `Could NOT remove ${lease.login} from group ${lease.groupId} (lease ended ${lease.expiresAt}): ${error}\n`,
      );
    if (result.reaped.length === 0 && result.failed.length === 0) io.stdout("No lease has ended: nothing to remove.\n");
    return result.failed.length === 0 ? EXIT.ok : EXIT.findings;
  } finally {
    services.close();
  }
}
