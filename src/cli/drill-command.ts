// `breakglass drill`: the whole emergency path on loopback, no AWS account and no Slack workspace; each phase with its
// wall time and people's actions, then the two figures that matter: how soon emergency credentials arrive in FM2 and FM3.
import { BreakglassError } from "../domain/errors.js";
import { preflightNotAvailable, type PreflightSamlResponse } from "../drill/saml-preflight-seam.js";
import type { DrillReport, PhaseReport } from "../drill/run-drill.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";

export interface DrillOptions {
  readonly dir: string;
  readonly json?: boolean;
  /** A game day against the configured organisation instead (drill-live-command.ts). */
  readonly live?: boolean;
  readonly config?: string;
  readonly as?: string;
  readonly response?: string;
  readonly assume?: boolean;
  readonly report?: string;
}

const MARK: Readonly<Record<PhaseReport["outcome"], string>> = { passed: "✓", incomplete: "~", failed: "✗" };

/** Runs the drill; `preflight` is the SAML response preflight (the placeholder until it is wired in). */
export async function runDrillCommand(
  options: DrillOptions,
  io: CliIo,
  preflight: PreflightSamlResponse = preflightNotAvailable,
): Promise<number> {
  if (options.live) {
    if (options.as === undefined)
      throw new BreakglassError("USAGE", "--live", "needs --as <you>: the evidence report names who ran the drill");
    const { runLiveDrill } = await import("./drill-live-command.js");
    return runLiveDrill({ ...options, as: options.as }, io, preflight);
  }
  for (const option of ["config", "as", "response", "assume", "report"] as const)
    if (options[option] !== undefined)
      throw new BreakglassError("USAGE", `--${option}`, "belongs to a live drill: add --live");
  const { requireMoto } = await import("../drill/drill-world.js");
  requireMoto();
  const { runDrill } = await import("../drill/run-drill.js");
  const live = !options.json;
  if (live)
    io.stdout(
      "breakglass drill: an identity outage played on loopback (AWS emulator, a SAML IdP, a SCIM directory, Slack stand-ins).\n" +
        "Lease expiry is not waited for: the drill moves its own clock forward.\n",
    );
  const report = await runDrill({
    runbookDirectory: options.dir,
    preflight,
    ...(live
      ? {
          onPhaseStart: (number: number, title: string) => io.stdout(`\nPhase ${number}: ${title}\n`),
          onEvent: (line: string) => io.stdout(`  ${line}\n`),
          onPhaseEnd: (phase: PhaseReport) => io.stdout(`${phaseLine(phase)}\n`),
        }
      : {}),
  });
  if (options.json) io.stdout(`${JSON.stringify(drillJson(report), null, 2)}\n`);
  else io.stdout(`\n${closingLines(report).join("\n")}\n`);
  return report.passed ? EXIT.ok : EXIT.findings;
}

function phaseLine(phase: PhaseReport): string {
  const actions = `${phase.humanActions} human ${phase.humanActions === 1 ? "action" : "actions"}`;
  const head = `${MARK[phase.outcome]} Phase ${phase.number} ${phase.outcome} in ${phase.seconds.toFixed(1)} s, ${actions}`;
  return phase.problem === undefined ? head : `${head}: ${phase.problem}`;
}

/** The verdict, then exactly the two figure lines (a failure mode not reached says so instead). */
function closingLines(report: DrillReport): string[] {
  const failed = report.phases.find((phase) => phase.outcome === "failed");
  const incomplete = report.phases.filter((phase) => phase.outcome === "incomplete");
  const verdict = failed
    ? `Drill FAILED in phase ${failed.number} (${failed.title}): ${failed.problem ?? ""}`
    : incomplete.length > 0
      ? `Drill incomplete: ${incomplete.map((phase) => `phase ${phase.number}: ${phase.problem ?? ""}`).join("; ")}`
      : "Drill passed: every phase.";
  const figure = (name: string, trigger: string, value: DrillReport["fm2"]) =>
    value === null
      ? `${name}: not reached`
      : `${name}: emergency credentials ${value.seconds.toFixed(1)} s after ${trigger}, ${value.humanActions} human actions`;
  return [
    verdict,
    figure("FM2", "the new certificate", report.fm2),
    figure("FM3", "Identity Center became unreachable", report.fm3),
  ];
}

function drillJson(report: DrillReport) {
  return {
    passed: report.passed,
    phases: report.phases.map((phase) => ({
      number: phase.number,
      title: phase.title,
      outcome: phase.outcome,
      seconds: Number(phase.seconds.toFixed(3)),
      humanActions: phase.humanActions,
      events: phase.events,
      ...(phase.problem === undefined ? {} : { problem: phase.problem }),
    })),
    fm2: report.fm2 && { seconds: Number(report.fm2.seconds.toFixed(3)), humanActions: report.fm2.humanActions },
    fm3: report.fm3 && { seconds: Number(report.fm3.seconds.toFixed(3)), humanActions: report.fm3.humanActions },
  };
}
