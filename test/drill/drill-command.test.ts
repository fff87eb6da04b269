// `breakglass drill` as a user runs it after install: the built command plays the whole outage on loopback and ends
// with the two figures; bin/breakglass.js runs the compiled dist/, which `npm test` builds first (`npm run -s build`).
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { exitCodeFor, EXIT } from "../../src/cli/exit-codes.js";
import { requireMoto } from "../../src/drill/drill-world.js";

const BIN = new URL("../../bin/breakglass.js", import.meta.url).pathname;

function breakglass(...argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const FIGURE = /^(FM[23]): emergency credentials (\d+(?:\.\d+)?) s after (.+), (\d+) human actions$/;

describe("breakglass drill", () => {
  it("plays the outage end to end and ends with the FM2 and FM3 figures, measured", async () => {
    const { code, stdout, stderr } = await breakglass("drill");
    expect(stderr).toBe("");
    const lines = stdout.trimEnd().split("\n");
    const figures = lines.slice(-2).map((line) => FIGURE.exec(line));
    expect(
      figures.map((figure) => [figure?.[1], figure?.[3]]),
      lines.slice(-3).join("\n"),
    ).toEqual([
      ["FM2", "the new certificate"],
      ["FM3", "Identity Center became unreachable"],
    ]);
    for (const figure of figures) expect(Number(figure?.[2])).toBeGreaterThan(0);
    // FM2: alice starts, bob approves and types the new certificate's fingerprint (a full key change no pinned signer
    // vouches for), alice signs in. FM3: alice starts, bob approves, dana signs in.
    expect(figures.map((figure) => Number(figure?.[4]))).toEqual([4, 3]);
    expect(stdout).toContain("the drill moves its clock 61 minutes forward");
    for (const phase of [1, 2, 3, 4, 5]) expect(stdout).toMatch(new RegExp(`✓ Phase ${phase} passed in \\d+\\.\\d s`));
    expect(stdout).toContain("posted to #alerts: IDENTITY_CENTER_UNREACHABLE");
    expect(stdout).toContain("AssumeRole EmergencyAccess in workload account");
    // With the watch: dana's sign-in and cross-account AssumeRole, as CloudTrail records them, reach serve's watcher
    // through its SQS queue and land on the incident's timeline, none as misuse.
    expect(stdout).toContain(
      "watch: 2 CloudTrail records of these calls (built by the drill: the emulator has no CloudTrail) delivered " +
        "through the SQS queue serve's watcher reads (watch.queueUrl)",
    );
    expect(stdout).toContain(
      "incident DRILL-FM3 timeline: 2 CloudTrail events (sts:AssumeRoleWithSAML, sts:AssumeRole), none judged misuse",
    );
    expect(stdout).toMatch(/incident DRILL-FM3 closed: its timeline holds \d+ entries, 2 of them the responder's/);
    expect(stdout).toContain("lease ended: dana removed from aws-emergency-operators, verified gone");
    expect(stdout).toMatch(/audit verify: \d+ records, chain intact/);
    // Each responder's fresh IdP response is preflighted against the emergency provider before STS is asked.
    expect(stdout.match(/preflight: accepted \(signature by the provider's certificate [0-9a-f]{16}…/g)).toHaveLength(
      2,
    );
    expect(stdout).toContain("Drill passed: every phase.");
    expect(code).toBe(EXIT.ok);
  }, 300_000);

  it("refuses to start without the AWS emulator, in one line saying how to install it", () => {
    let refusal: unknown;
    try {
      requireMoto("/nonexistent-folder", "/nonexistent-folder/moto_server");
    } catch (error) {
      refusal = error;
    }
    expect((refusal as Error).message).toBe(
      "moto_server: the AWS emulator is not installed: run `node scripts/ensure-moto.mjs` to install moto's server into .venv",
    );
    expect(exitCodeFor(refusal)).toBe(EXIT.usage);
  });
});
