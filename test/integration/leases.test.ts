// `breakglass leases list | reap` against a SCIM 2.0 server: a membership whose lease ended is removed, verified gone and audited.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { ScimGroupDirectory } from "../../src/adapters/idp/scim-group-directory.js";
import { addGroupMembersExecutor } from "../../src/adapters/runbook-actions/group-membership.js";
import { openStore } from "../../src/adapters/store/open-store.js";
import { startScimServer, type ScimTestServer } from "../support/idp-scim-server.js";
import { runContext } from "../adapters/runbook-actions/run-context.js";

const TOKEN = "scim-test-token";
const OPERATORS = "7f0c1d2e-emergency-operators";
const ALICE = "2819c223-7f76-453a-919d-413861904646";
const NOW = new Date("2026-11-25T10:00:00Z");
let server: ScimTestServer;
let directory: string;
let configPath: string;

async function breakglass(at: Date, ...args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    stdoutIsTty: false,
    env: { BREAKGLASS_IDP_TOKEN: TOKEN },
    clock: fixedClock(at),
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  server = await startScimServer(TOKEN);
  server.store.addUser({ id: ALICE, userName: "alice@example.com", displayName: "Alice Responder" });
  server.store.addGroup(OPERATORS, "AWS emergency operators");
  directory = mkdtempSync(join(tmpdir(), "breakglass-leases-cli-"));
  writeFileSync(join(directory, "scim-ca.pem"), server.ca);
  writeFileSync(join(directory, "idp.xml"), "<unused/>");
  configPath = join(directory, "breakglass.yaml");
  writeFileSync(
    configPath,
    [
      "idp:",
      "  name: Test IdP",
      "  metadata: idp.xml",
      "  directory:",
      "    kind: scim",
      `    baseUrl: ${server.baseUrl}`,
      "    ca: scim-ca.pem",
      "store:",
      "  path: breakglass.db",
      "",
    ].join("\n"),
  );
  // A one-hour membership, as fm3's add step grants it.
  const store = openStore({ path: join(directory, "breakglass.db") });
  const add = addGroupMembersExecutor({
    directory: new ScimGroupDirectory({ baseUrl: server.baseUrl, token: TOKEN, ca: server.ca }),
    store: store.leases,
  });
  const parameters = { groups: [OPERATORS], members: ["alice@example.com"], ttl: "1h" };
  const context = runContext({ now: NOW });
  await add.apply(await add.plan(parameters, context), parameters, context);
  store.close();
});

afterAll(async () => {
  await server.close();
});

describe("leases", () => {
  it("lists the active membership and leaves it alone before its lease ends", async () => {
    expect((await breakglass(NOW, "leases", "list", "--config", configPath)).stdout).toBe(
      `alice@example.com in group ${OPERATORS} until 2026-11-25T11:00:00.000Z (run run-1)\n`,
    );
    expect((await breakglass(NOW, "leases", "reap", "--config", configPath)).stdout).toBe(
      "No lease has ended: nothing to remove.\n",
    );
    expect(server.store.membersOf(OPERATORS)).toEqual([ALICE]);
  });

  it("removes the membership once the lease has ended, verifies it gone and audits it", async () => {
    const later = new Date(NOW.getTime() + 2 * 3_600_000);
    expect((await breakglass(later, "leases", "list", "--config", configPath)).stdout).toContain(
      "ENDED, not yet removed",
    );
    const reaped = await breakglass(later, "leases", "reap", "--config", configPath);
    expect(reaped).toMatchObject({
      code: 0,
      stdout: `Removed alice@example.com from group ${OPERATORS}: the lease ended 2026-11-25T11:00:00.000Z; verified gone.\n`,
    });
    expect(server.store.membersOf(OPERATORS)).toEqual([]);
    expect((await breakglass(later, "leases", "list", "--config", configPath)).stdout).toContain("No active leases");
    const audit = await breakglass(later, "audit", "verify", "--config", configPath);
    expect(audit.stdout).toMatch(/1 audit record, chain intact/);
  });

  it("says what to configure when the IdP's API is not set up", async () => {
    const bare = join(directory, "bare.yaml");
    writeFileSync(
      bare,
      ["idp:", "  name: Test IdP", "  metadata: idp.xml", "store:", "  path: breakglass.db", ""].join("\n"),
    );
    const { code, stderr } = await breakglass(NOW, "leases", "reap", "--config", bare);
    expect(code).toBe(2);
    expect(stderr).toBe(
      "breakglass: leases reap: needs the IdP's group API: set idp.directory in breakglass.yaml and put its token in the environment variable it names\n",
    );
  });
});
