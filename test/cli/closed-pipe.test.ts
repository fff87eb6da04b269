// The installed command whose reader goes away early (`breakglass runbook status | head -1`): no stack trace, its own exit code.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// bin/breakglass.js runs the compiled dist/, which `npm test` builds first.
const BIN = new URL("../../bin/breakglass.js", import.meta.url).pathname;
const RUNBOOKS = new URL("../../runbooks", import.meta.url).pathname;
const directory = mkdtempSync(join(tmpdir(), "breakglass-pipe-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const config = join(directory, "breakglass.yaml");
writeFileSync(config, "idp:\n  name: Okta\n  metadata: ./okta.xml\n");

/**
 * Runs the command with the read end of one of its output pipes closed before it writes anything, as `| head -1` is
 * once head has its line; returns the exit code and what it wrote to the other stream.
 */
function runWithClosedReader(
  closed: "stdout" | "stderr",
  argv: string[],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; other: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    child[closed].destroy();
    let other = "";
    child[closed === "stdout" ? "stderr" : "stdout"].on("data", (chunk: Buffer) => (other += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, other }));
  });
}

describe("a closed pipe", () => {
  it("ends runbook status quietly when its reader has gone, with the command's own exit code", async () => {
    expect(await runWithClosedReader("stdout", ["runbook", "status", "--config", config, "--dir", RUNBOOKS])).toEqual({
      code: 0,
      signal: null,
      other: "",
    });
  });

  it("ends runbook list quietly after the reader of a long listing has gone", async () => {
    expect(await runWithClosedReader("stdout", ["runbook", "list", "--dir", RUNBOOKS])).toEqual({
      code: 0,
      signal: null,
      other: "",
    });
  });

  it("ends quietly when the reader of its errors has gone, still exiting with the error's code", async () => {
    const result = await runWithClosedReader("stderr", ["runbook", "status", "nosuchrun", "--config", config]);
    expect(result).toEqual({ code: 3, signal: null, other: "" });
  });
});
