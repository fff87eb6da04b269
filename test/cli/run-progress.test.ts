// What a responder sees on the CLI while a check step retries: a live countdown on a terminal, one plain line per failed
// attempt in a log, and JSON Lines on stderr with --json while stdout keeps its one JSON document.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CliIo } from "../../src/cli/io.js";
import { main } from "../../src/cli/main.js";
import { runProgressOutput, type Ticker } from "../../src/cli/run-progress-output.js";
import type { RetryWaitEvent } from "../../src/domain/runbooks/run-progress.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { DAY, makeCertificate, type TestCertificate } from "../support/certificates.js";
import { publishIdpMetadata } from "../support/serve-harness.js";
import { SteppingClock } from "../support/stepping-clock.js";

const NOW = new Date("2026-11-24T12:00:00Z");

const RETRYING_RUNBOOK = `id: retry-drill
title: Wait for good metadata
failureMode: recovery
summary: Checks the IdP metadata until it is clean.
inputs: []
steps:
  - id: inspect-metadata
    title: Inspect the IdP metadata
    kind: check
    checks: [metadata]
    expect: clean
    retry: { attempts: 3, interval: 30s }
`;

const expired = makeCertificate({
  commonName: "Okta signing (old)",
  notBefore: new Date(NOW.getTime() - 400 * DAY),
  notAfter: new Date(NOW.getTime() - DAY),
});
const current = makeCertificate({
  commonName: "Okta signing",
  notBefore: new Date(NOW.getTime() - DAY),
  notAfter: new Date(NOW.getTime() + 400 * DAY),
});

/** A config and runbook folder whose IdP publishes an expired certificate until the second wait, then a good one. */
function retryingSetUp() {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-progress-"));
  const runbooks = join(directory, "runbooks");
  mkdirSync(runbooks);
  writeFileSync(join(runbooks, "retry-drill.yaml"), RETRYING_RUNBOOK);
  const config = join(directory, "breakglass.yaml");
  writeFileSync(
    config,
    `idp:\n  name: Okta\n  metadata: ${join(directory, "idp-metadata.xml")}\nstore:\n  path: ${join(directory, "breakglass.db")}\n`,
  );
  const publish = (certificate: TestCertificate) => publishIdpMetadata(directory, certificate);
  publish(expired);
  const sleeps: number[] = [];
  const sleep = (milliseconds: number) => {
    sleeps.push(milliseconds);
    if (sleeps.length === 2) publish(current);
    return Promise.resolve();
  };
  return { config, runbooks, sleeps, sleep };
}

async function runRetrying(options: { json: boolean; stderrIsTty: boolean }) {
  const { config, runbooks, sleeps, sleep } = retryingSetUp();
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    stdoutIsTty: false,
    stderrIsTty: options.stderrIsTty,
    env: {},
    clock: fixedClock(NOW),
    runbookSeams: { sleep },
  };
  const args = ["runbook", "run", "retry-drill", "--as", "alice", "--config", config, "--dir", runbooks];
  const code = await main(options.json ? [...args, "--json"] : args, io);
  return { code, stdout, stderr, sleeps };
}

describe("a retrying check on the CLI", () => {
  it("prints one plain line per failed attempt on stderr when it is not a terminal", async () => {
    const { code, stdout, stderr, sleeps } = await runRetrying({ json: false, stderrIsTty: false });
    expect(sleeps).toEqual([30_000, 30_000]);
    expect(code).toBe(0);
    expect(stderr.split("\n")).toEqual([
      "inspect-metadata: attempt 1 of 3 failed (CERT_EXPIRED, NO_VALID_SIGNING_CERT); next try in 30 s (at 12:00:30 UTC)",
      "inspect-metadata: attempt 2 of 3 failed (CERT_EXPIRED, NO_VALID_SIGNING_CERT); next try in 30 s (at 12:00:30 UTC)",
      "",
    ]);
    expect(stdout).toContain("Inspect the IdP metadata");
    expect(stdout).not.toContain("attempt 1 of 3");
  });

  it("with --json writes one JSON object per event on stderr, and stdout stays one JSON document", async () => {
    const { code, stdout, stderr } = await runRetrying({ json: true, stderrIsTty: true });
    expect(code).toBe(0);
    const run = JSON.parse(stdout) as { id: string; status: string };
    expect(run.status).toBe("succeeded");
    const step = {
      runId: run.id,
      runbookId: "retry-drill",
      stepId: "inspect-metadata",
      stepTitle: "Inspect the IdP metadata",
    };
    const wait = (attempt: number) => ({
      event: "retry-wait",
      ...step,
      attempt,
      attempts: 3,
      intervalSeconds: 30,
      nextAttemptAt: "2026-11-24T12:00:30.000Z",
      waitingFor: {
        summary: "failed: not clean: CERT_EXPIRED, NO_VALID_SIGNING_CERT",
        codes: ["CERT_EXPIRED", "NO_VALID_SIGNING_CERT"],
      },
    });
    const lines = stderr.trimEnd().split("\n");
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual([
      wait(1),
      wait(2),
      { event: "waits-ended", ...step, status: "succeeded" },
    ]);
  });

  it("on a terminal rewrites one line in place and erases it once the step has ended", async () => {
    const { code, stdout, stderr } = await runRetrying({ json: false, stderrIsTty: true });
    expect(code).toBe(0);
    expect(stderr).not.toContain("\n");
    expect(
      stderr.startsWith(
        "\r\x1b[2Kinspect-metadata: attempt 1 of 3 failed (CERT_EXPIRED, NO_VALID_SIGNING_CERT); next try in 30 s",
      ),
    ).toBe(true);
    expect(stderr).toContain(
      "\r\x1b[2Kinspect-metadata: attempt 2 of 3 failed (CERT_EXPIRED, NO_VALID_SIGNING_CERT); next try in 30 s",
    );
    expect(stderr.endsWith("\r\x1b[2K")).toBe(true);
    expect(stdout).toContain("Inspect the IdP metadata");
  });
});

describe("the live line", () => {
  const wait: RetryWaitEvent = {
    event: "retry-wait",
    runId: "run-1",
    runbookId: "fm2-reimport-metadata",
    stepId: "verify-clean",
    stepTitle: "Verify that AWS and the IdP agree",
    attempt: 3,
    attempts: 10,
    intervalMilliseconds: 30_000,
    nextAttemptAt: new Date(NOW.getTime() + 30_000),
    waitingFor: { summary: "failed: not clean: SAML_PROVIDER_DRIFT", codes: ["SAML_PROVIDER_DRIFT"] },
  };

  /** A ticker the test ticks by hand, recording whether it still runs. */
  function manualTicker() {
    const state = { tick: undefined as (() => void) | undefined, every: 0 };
    const ticker: Ticker = (every, tick) => {
      state.every = every;
      state.tick = tick;
      return () => {
        state.tick = undefined;
      };
    };
    return { state, ticker };
  }

  function terminal(clock: SteppingClock) {
    const output = { stderr: "" };
    const io: CliIo = {
      stdout: () => undefined,
      stderr: (text) => void (output.stderr += text),
      stdoutIsTty: true,
      stderrIsTty: true,
      env: {},
      clock,
    };
    return { io, output };
  }

  it("counts down every second from the next try's instant, and stops counting once the step ends", () => {
    const clock = new SteppingClock(NOW);
    const { io, output } = terminal(clock);
    const { state, ticker } = manualTicker();
    const progress = runProgressOutput(io, false, ticker);

    progress.listener(wait);
    expect(state.every).toBe(1_000);
    clock.advance(6_000);
    state.tick?.();
    clock.advance(24_000);
    state.tick?.();
    progress.listener({ ...wait, event: "waits-ended", status: "succeeded" });
    expect(state.tick).toBeUndefined();

    expect(output.stderr.split("\r\x1b[2K")).toEqual([
      "",
      "verify-clean: attempt 3 of 10 failed (SAML_PROVIDER_DRIFT); next try in 30 s",
      "verify-clean: attempt 3 of 10 failed (SAML_PROVIDER_DRIFT); next try in 24 s",
      "verify-clean: attempt 3 of 10 failed (SAML_PROVIDER_DRIFT); trying again now",
      "",
    ]);
  });

  it("is erased and its countdown stopped when the command ends in the middle of a wait", () => {
    const clock = new SteppingClock(NOW);
    const { io, output } = terminal(clock);
    const { state, ticker } = manualTicker();
    const progress = runProgressOutput(io, false, ticker);
    progress.listener(wait);
    progress.stop();
    expect(state.tick).toBeUndefined();
    expect(output.stderr.endsWith("\r\x1b[2K")).toBe(true);
    progress.stop();
    expect(output.stderr.split("\r\x1b[2K")).toHaveLength(3);
  });

  it("names the failure instead of codes when no finding is to blame", () => {
    const clock = new SteppingClock(NOW);
    const { io, output } = terminal(clock);
    const progress = runProgressOutput({ ...io, stderrIsTty: false }, false);
    progress.listener({
      ...wait,
      waitingFor: { summary: "failed: the checks could not run: metadata unreachable", codes: [] },
    });
    expect(output.stderr).toBe(
      "verify-clean: attempt 3 of 10 failed (the checks could not run: metadata unreachable); next try in 30 s (at 12:00:30 UTC)\n",
    );
  });
});
