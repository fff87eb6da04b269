// `breakglass leases list --json`: who holds emergency group membership through breakglass, until when, and whether it has ended.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openStore } from "../../src/adapters/store/open-store.js";
import { main } from "../../src/cli/main.js";
import { capturingIo } from "../support/cli-io.js";

const NOW = new Date("2026-11-25T10:00:00Z");
const HOUR = 3_600_000;

/** A config with a store holding these leases, as fm3's add step records them. */
function configWithLeases(leases: { login: string; groupId: string; expiresAt: Date; runId: string | null }[]): string {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-leases-json-"));
  writeFileSync(join(directory, "idp.xml"), "<unused/>");
  const configPath = join(directory, "breakglass.yaml");
  writeFileSync(
    configPath,
    ["idp:", "  name: Test IdP", "  metadata: idp.xml", "store:", "  path: breakglass.db", ""].join("\n"),
  );
  const store = openStore({ path: join(directory, "breakglass.db") });
  for (const lease of leases)
    store.leases.recordLease({ ...lease, userId: `id-${lease.login}`, addedAt: new Date(NOW.getTime() - 2 * HOUR) });
  store.close();
  return configPath;
}

async function leasesList(configPath: string) {
  const { io, output } = capturingIo(NOW);
  const code = await main(["leases", "list", "--config", configPath, "--json"], io);
  return { code, ...output };
}

describe("leases list --json", () => {
  it("gives each active lease with its group, run and end, soonest first, and says which have ended", async () => {
    const configPath = configWithLeases([
      { login: "bob@example.com", groupId: "g-operators", expiresAt: new Date(NOW.getTime() + HOUR), runId: "run-2" },
      { login: "alice@example.com", groupId: "g-operators", expiresAt: new Date(NOW.getTime() - HOUR), runId: null },
    ]);
    const { code, stdout, stderr } = await leasesList(configPath);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(stdout)).toEqual({
      leases: [
        {
          login: "alice@example.com",
          userId: "id-alice@example.com",
          groupId: "g-operators",
          runId: null,
          addedAt: "2026-11-25T08:00:00.000Z",
          expiresAt: "2026-11-25T09:00:00.000Z",
          ended: true,
        },
        {
          login: "bob@example.com",
          userId: "id-bob@example.com",
          groupId: "g-operators",
          runId: "run-2",
          addedAt: "2026-11-25T08:00:00.000Z",
          expiresAt: "2026-11-25T11:00:00.000Z",
          ended: false,
        },
      ],
    });
  });

  it("gives an empty list when no one holds a lease", async () => {
    const { code, stdout } = await leasesList(configWithLeases([]));
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ leases: [] });
  });
});
