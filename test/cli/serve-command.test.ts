// `breakglass serve` refuses bad settings before it starts anything: one line naming the option or variable.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { capturingIo } from "../support/cli-io.js";

function configFile(): string {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-serve-cli-"));
  const path = join(directory, "breakglass.yaml");
  writeFileSync(path, "idp:\n  name: Okta\n  metadata: idp.xml\nstore:\n  path: breakglass.db\n");
  return path;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function serve(args: string[], env: NodeJS.ProcessEnv = {}) {
  const { io, output } = capturingIo();
  const code = await main(["serve", ...args], { ...io, env });
  return { code, ...output };
}

describe("breakglass serve settings", () => {
  it.each([
    [
      "a port out of range",
      ["--port", "99999"],
      {},
      'breakglass: --port: expected a port number from 0 to 65535, got "99999"\n',
    ],
    [
      "a PORT that is not a number",
      [],
      { PORT: "http" },
      'breakglass: PORT: expected a port number from 0 to 65535, got "http"\n',
    ],
    [
      "an --ops-port out of range",
      ["--port", "0", "--ops-port", "70000"],
      {},
      'breakglass: --ops-port: expected a port number from 0 to 65535, got "70000"\n',
    ],
    [
      "a BREAKGLASS_OPS_PORT that is not a number",
      ["--port", "0"],
      { BREAKGLASS_OPS_PORT: "metrics" },
      'breakglass: BREAKGLASS_OPS_PORT: expected a port number from 0 to 65535, got "metrics"\n',
    ],
    [
      "the same port for Slack and for operations",
      ["--port", "3000", "--ops-port", "3000"],
      {},
      "breakglass: --ops-port: 3000 is also the port for Slack's requests (--port or PORT); the two listeners need different ports\n",
    ],
    [
      "--ops-host without an operations port",
      ["--port", "0", "--ops-host", "127.0.0.1"],
      {},
      "breakglass: --ops-host: needs --ops-port: without a separate port, health and metrics are answered on --port\n",
    ],
    [
      "a user token as the bot token",
      ["--port", "0"],
      { SLACK_BOT_TOKEN: "xoxp-1-2-3", SLACK_SIGNING_SECRET: "s" },
      "breakglass: SLACK_BOT_TOKEN: expected a bot token, which starts with xoxb- (OAuth & Permissions → Bot User OAuth Token)\n",
    ],
  ])("refuses %s, in one line, and exits 2", async (_name, args, env, message) => {
    const result = await serve(["--config", configFile(), "--host", "127.0.0.1", ...args], env);
    expect(result).toEqual({ code: 2, stdout: "", stderr: message });
  });

  it("says when the port is taken, naming --port, and leaves nothing running", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const result = await serve(["--config", configFile(), "--host", "127.0.0.1", "--port", String(port)]);
      expect(result.code).toBe(2);
      expect(result.stderr.split("\n").at(-2)).toBe(
        `breakglass: --port: 127.0.0.1 port ${port} is already in use (another breakglass serve?); choose another with --port or PORT`,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it("says when the operations port is taken, naming --ops-port, and leaves nothing running", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const mainPort = await freePort();
      const result = await serve([
        "--config",
        configFile(),
        "--host",
        "127.0.0.1",
        "--port",
        String(mainPort),
        "--ops-port",
        String(port),
      ]);
      expect(result.code).toBe(2);
      expect(result.stderr.split("\n").at(-2)).toBe(
        `breakglass: --ops-port: 127.0.0.1 port ${port} is already in use (another breakglass serve?); choose another with --ops-port or BREAKGLASS_OPS_PORT`,
      );
      // The main listener, already up when the operations one failed, is closed again: its port can be taken.
      const again = createServer();
      await new Promise<void>((resolve, reject) => again.once("error", reject).listen(mainPort, "127.0.0.1", resolve));
      await new Promise((resolve) => again.close(resolve));
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it("names the configuration file it cannot read", async () => {
    const result = await serve(["--config", "/nonexistent/breakglass.yaml"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^breakglass: \/nonexistent\/breakglass\.yaml: .*\n$/);
  });
});
