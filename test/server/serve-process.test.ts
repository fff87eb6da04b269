// `breakglass serve` as a real process without Slack credentials: it checks on start, logs what it would have posted,
// answers /healthz and /readyz, and stops cleanly on SIGTERM.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DAY, makeCertificate } from "../support/certificates.js";
import { entityXml } from "../support/metadata-builder.js";

// The installed command (bin/breakglass.js runs the compiled dist/, which `npm test` builds first): the compiled
// check thread (dist/serve/check-worker.js) is what runs here, while the in-process tests run it from the sources.
const BIN = new URL("../../bin/breakglass.js", import.meta.url).pathname;

describe("breakglass serve, the process", () => {
  it("runs the scheduler without Slack, logging what it would post, and exits 0 on SIGTERM", async () => {
    const directory = mkdtempSync(join(tmpdir(), "breakglass-serve-process-"));
    const certificate = makeCertificate({
      commonName: "Okta signing",
      notBefore: new Date(Date.now() - 300 * DAY),
      notAfter: new Date(Date.now() + 20 * DAY + 3_600_000),
    });
    writeFileSync(join(directory, "idp.xml"), entityXml({ keys: [{ base64: certificate.base64, use: "signing" }] }));
    writeFileSync(
      join(directory, "breakglass.yaml"),
      "idp:\n  name: Okta\n  metadata: idp.xml\nstore:\n  path: breakglass.db\n",
    );
    const child = spawn(
      process.execPath,
      [BIN, "serve", "--config", join(directory, "breakglass.yaml"), "--port", "0", "--host", "127.0.0.1"],
      {
        env: { PATH: process.env["PATH"], HOME: directory },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    let alerted: () => void = () => undefined;
    const firstAlert = new Promise<void>((resolve) => (alerted = resolve));
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/would post to alerts/.test(stderr)) alerted();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      // The first check's alert, or the process ending without one; a process that does neither is left to the test's timeout.
      await Promise.race([firstAlert, exited]);
      const port = /port (\d+);/.exec(stderr)?.[1];
      expect(port, stderr).toBeDefined();
      expect(stderr).toMatch(/Slack is not configured/);
      expect(stderr).toMatch(
        /would post to alerts: Okta signing certificate sha256 \S+ \(CN=Okta signing\) expires in 20 days/,
      );
      expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe("ok\n");
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/slack/events`, { method: "POST", body: "x" })).status).toBe(404);

      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(stderr).toMatch(/SIGTERM received/);
      expect(stderr).toMatch(/ stopped\n$/);
      expect(stderr).not.toMatch(/error|at .*\.ts:\d+/i);
    } finally {
      child.kill("SIGKILL");
    }
  }, 180_000);
});
