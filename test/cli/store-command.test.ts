// `breakglass store backup`: a copy taken while another process writes holds a whole audit chain, private, never clobbering.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/adapters/store/open-store.js";
import { main } from "../../src/cli/main.js";
import { verifyChain } from "../../src/domain/audit/audit-chain.js";
import { capturingIo } from "../support/cli-io.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const directories: string[] = [];
afterAll(() => {
  for (const made of directories.splice(0)) rmSync(made, { recursive: true, force: true });
});

/** A folder with a configuration whose store holds `records` audit records. */
function storeWithRecords(records: number): { directory: string; config: string; store: string } {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-backup-"));
  directories.push(directory);
  const config = join(directory, "breakglass.yaml");
  writeFileSync(config, "idp:\n  name: Okta\n  metadata: ./okta.xml\nstore:\n  path: ./breakglass.db\n");
  const store = join(directory, "breakglass.db");
  const opened = openStore({ path: store });
  for (let index = 1; index <= records; index++)
    opened.audit.appendAudit(
      { actor: "seed", action: "slack.button", runId: null, subject: `seed-${index}`, detail: { index } },
      new Date(Date.UTC(2026, 10, 25, 3)),
    );
  opened.close();
  return { directory, config, store };
}

async function breakglass(...argv: string[]) {
  const { io, output } = capturingIo();
  const code = await main(argv, io);
  return { code, ...output };
}

function auditRecordsOf(path: string) {
  const store = openStore({ path });
  try {
    return store.audit.auditRecords();
  } finally {
    store.close();
  }
}

describe("store backup", () => {
  it("copies the store while another process appends to it, and the copy's audit chain verifies", async () => {
    const { directory, config, store } = storeWithRecords(20);
    const writer = spawn(
      process.execPath,
      ["--import", "tsx", "test/support/append-audit-process.ts", store, "writer", "1500"],
      { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
    );
    let writerErrors = "";
    writer.stderr.on("data", (chunk: Buffer) => (writerErrors += chunk.toString()));
    const writerExit = new Promise<number | null>((resolve) => writer.once("exit", resolve));
    // Observed, not timed: back up once the other process has committed records of its own.
    const watcher = openStore({ path: store });
    while (watcher.audit.auditHead() <= 20) await new Promise((resolve) => setImmediate(resolve));
    watcher.close();

    const backup = join(directory, "backups", "breakglass-copy.db");
    const { code, stdout, stderr } = await breakglass("store", "backup", backup, "--config", config);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(await writerExit).toBe(0);
    expect(writerErrors).toBe("");

    const copied = auditRecordsOf(backup);
    expect(copied.length).toBeGreaterThan(20);
    expect(verifyChain(copied)).toEqual([]);
    expect(stdout).toBe(
      `${store}: backed up to ${backup} (readable only by you): ${copied.length} audit records, chain intact (head ${copied.at(-1)?.hash.slice(0, 16)}…)\n`,
    );
    // The copy is a prefix of the store's one chain: nothing torn, nothing invented.
    expect(auditRecordsOf(store).slice(0, copied.length)).toEqual(copied);
    expect(statSync(backup).mode & 0o777).toBe(0o600);
  });

  it("refuses to overwrite an existing file without --force, and replaces it with --force", async () => {
    const { directory, config } = storeWithRecords(3);
    const backup = join(directory, "existing.db");
    writeFileSync(backup, "keep me");
    const refused = await breakglass("store", "backup", backup, "--config", config);
    expect({ code: refused.code, stdout: refused.stdout }).toEqual({ code: 2, stdout: "" });
    expect(refused.stderr).toBe(
      `breakglass: ${backup}: already exists, not overwriting it (pass --force to replace it)\n`,
    );
    expect(readFileSync(backup, "utf8")).toBe("keep me");

    const replaced = await breakglass("store", "backup", backup, "--force", "--config", config);
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toContain(": 3 audit records, chain intact");
    expect(auditRecordsOf(backup)).toHaveLength(3);
    expect(statSync(backup).mode & 0o777).toBe(0o600);
  });

  it("says there is no store to back up rather than making an empty one", async () => {
    const directory = mkdtempSync(join(tmpdir(), "breakglass-backup-"));
    directories.push(directory);
    const config = join(directory, "breakglass.yaml");
    writeFileSync(config, "idp:\n  name: Okta\n  metadata: ./okta.xml\n");
    const { code, stderr } = await breakglass("store", "backup", join(directory, "copy.db"), "--config", config);
    expect(code).toBe(2);
    expect(stderr).toBe(
      `breakglass: ${join(directory, "breakglass.db")}: no store here to back up (store.path in the configuration)\n`,
    );
    expect(() => statSync(join(directory, "breakglass.db"))).toThrow();
  });
});
