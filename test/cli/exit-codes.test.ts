// What a script sees when `breakglass` fails: an exit code per kind of error and one line on stderr naming the input.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT, exitCodeFor } from "../../src/cli/exit-codes.js";
import { main } from "../../src/cli/main.js";
import { BreakglassError, ERROR_KIND_OF_CODE, ERROR_KINDS, type ErrorCode } from "../../src/domain/errors.js";
import { fixedClock } from "../../src/domain/shared/clock.js";

const NOW = new Date("2026-11-24T12:00:00Z");

async function breakglass(...args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    stdoutIsTty: false,
    env: { XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), "breakglass-exit-")) },
    clock: fixedClock(NOW),
  });
  return { code, stdout, stderr };
}

/** A configuration whose store is a fresh file in a temporary directory. */
function temporaryConfig(): string {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-exit-"));
  writeFileSync(join(directory, "idp.xml"), "<EntityDescriptor/>");
  const path = join(directory, "breakglass.yaml");
  writeFileSync(
    path,
    ["idp:", "  name: Test IdP", "  metadata: idp.xml", "store:", "  path: breakglass.db", ""].join("\n"),
  );
  return path;
}

/** A loopback port nothing listens on: taken from the system, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("exit codes by kind of error", () => {
  it("tells a typo, a run that does not exist and an unreachable IdP apart, each in one line naming the input", async () => {
    const typo = await breakglass("metadata", "inspect", "idp.xml", "--warn-days", "soon");
    expect(typo).toEqual({
      code: 2,
      stdout: "",
      stderr: `breakglass: --warn-days: "soon" is not a whole number of 0 or more\n`,
    });

    const missing = await breakglass("runbook", "status", "run-that-never-was", "--config", temporaryConfig());
    expect(missing).toEqual({
      code: 3,
      stdout: "",
      stderr: "breakglass: run run-that-never-was: no run has this id in the store\n",
    });

    const url = `https://127.0.0.1:${await closedPort()}/x`;
    const unreachable = await breakglass("metadata", "inspect", url, "--no-cache");
    expect(unreachable).toEqual({ code: 6, stdout: "", stderr: `breakglass: ${url}: connection refused\n` });
  });

  it("exits 2 for an unknown option, as before", async () => {
    const { code, stderr } = await breakglass("runbook", "status", "--bogus");
    expect(code).toBe(2);
    expect(stderr).toContain("unknown option '--bogus'");
  });

  it("lists every exit status in --help", async () => {
    const { code, stdout } = await breakglass("--help");
    expect(code).toBe(0);
    const table = stdout.slice(stdout.indexOf("Exit status:"));
    for (const line of [
      "2   usage",
      "3   not found",
      "4   conflict",
      "5   refused",
      "6   unavailable",
      "7   integrity",
      "70  internal",
    ])
      expect(table).toContain(line);
  });
});

describe("exitCodeFor", () => {
  it("gives each kind of error an exit code of its own, none of them a verdict (0 or 1)", () => {
    const codeOfKind = new Map(
      ERROR_KINDS.map((kind) => {
        const errorCode = (Object.keys(ERROR_KIND_OF_CODE) as ErrorCode[]).find(
          (candidate) => ERROR_KIND_OF_CODE[candidate] === kind,
        )!;
        return [kind, exitCodeFor(new BreakglassError(errorCode, "input", "reason"))];
      }),
    );
    expect(Object.fromEntries(codeOfKind)).toEqual({
      usage: 2,
      "not-found": 3,
      conflict: 4,
      refused: 5,
      unavailable: 6,
      integrity: 7,
      internal: 70,
    });
    expect([...codeOfKind.values()]).not.toContain(EXIT.ok);
    expect([...codeOfKind.values()]).not.toContain(EXIT.findings);
  });

  it("treats anything that is not a BreakglassError as internal", () => {
    expect(exitCodeFor(new TypeError("x is undefined"))).toBe(70);
  });

  it("tells the cases RUN_FAILED used to lump together apart", () => {
    const exit = (errorCode: ErrorCode) => exitCodeFor(new BreakglassError(errorCode, "run r-1", "reason"));
    expect(exit("APPROVAL_REFUSED")).toBe(EXIT.refused);
    expect(exit("RUN_STATE")).toBe(EXIT.conflict);
    expect(exit("INCIDENT_ALREADY_OPEN")).toBe(EXIT.conflict);
    expect(exit("NO_OPEN_INCIDENT")).toBe(EXIT.conflict);
    expect(exit("INCIDENT_CLOSED")).toBe(EXIT.conflict);
    expect(exit("INCIDENT_NOT_FOUND")).toBe(EXIT.notFound);
    expect(exit("RUNBOOK_CHANGED")).toBe(EXIT.integrity);
  });
});
