// Benchmark: how long the installed `breakglass` command takes to start and answer, and its peak memory, beside a bare
// `node -e 0` measured in the same rounds (issue 15: a person waits on every CLI call during an incident).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchNodes } from "./bench-nodes.js";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const ROOT = here("..");
const BIN = here("../bin/breakglass.js");
const GNU_TIME = "/usr/bin/time";
const ROUNDS = Number(process.env["BENCH_STARTUP_ROUNDS"] ?? 5);

interface Subject {
  readonly label: string;
  readonly args: readonly string[];
  /** The goal: this command's median wall time within `timeRatio` times bare Node's. */
  readonly timeRatio: number | null;
  /** Runs with an empty cache directory every time (`runbook list`'s summary cache starts cold). */
  readonly coldCache?: boolean;
}

/** Peak memory of each command within this many times bare Node's. */
const RSS_RATIO = 2;

const SUBJECTS: readonly Subject[] = [
  { label: "node -e 0", args: ["-e", "0"], timeRatio: null },
  { label: "breakglass --help", args: [BIN, "--help"], timeRatio: 2 },
  { label: "breakglass runbook list", args: [BIN, "runbook", "list"], timeRatio: 2 },
  { label: "breakglass runbook list (cold cache)", args: [BIN, "runbook", "list"], timeRatio: null, coldCache: true },
  {
    label: "breakglass metadata inspect <2 KB file>",
    args: [BIN, "metadata", "inspect", here("../examples/google-workspace-idp-metadata.xml")],
    timeRatio: 2.5,
  },
];

interface Run {
  readonly wallMs: number;
  /** Null where GNU time is absent: Node cannot read a child's peak memory by itself. */
  readonly peakRssKb: number | null;
}

/** The commands' cache home: their own, so a warm `runbook list` is measured warm and a cold one cold. */
const CACHE_HOME = mkdtempSync(join(tmpdir(), "breakglass-bench-cache-"));

/** One whole process, output discarded; GNU time (when installed) reports its peak RSS on stderr's last line. */
function runOnce(node: string, { args, coldCache }: Subject): Run {
  const cacheHome = coldCache ? mkdtempSync(join(tmpdir(), "breakglass-bench-cold-")) : CACHE_HOME;
  const timed = existsSync(GNU_TIME);
  const command = timed ? GNU_TIME : node;
  const commandArgs = timed ? ["-f", "%M", node, ...args] : [...args];
  const started = process.hrtime.bigint();
  const result = spawnSync(command, commandArgs, {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, XDG_CACHE_HOME: cacheHome },
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (coldCache) rmSync(cacheHome, { recursive: true, force: true });
  if (result.status !== 0) throw new Error(`${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  const peak = timed ? Number(result.stderr.trim().split("\n").at(-1)) : NaN;
  return { wallMs, peakRssKb: Number.isFinite(peak) ? peak : null };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** The bench measures the compiled command a user runs, so it builds it first as `npm run build` does. */
function build(): void {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
  execFileSync(process.execPath, [here("../scripts/bundle-cli.mjs")], { cwd: ROOT, stdio: "inherit" });
}

export function benchCliStartup(): void {
  build();
  try {
    for (const node of benchNodes()) benchWith(node);
  } finally {
    rmSync(CACHE_HOME, { recursive: true, force: true });
  }
}

function benchWith(node: string): void {
  const version = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
  console.log(`  Node ${version} (${node})`);
  const runs = new Map<Subject, Run[]>(SUBJECTS.map((subject) => [subject, []]));
  // One round untimed first (disk cache, Node's compile cache), then every round runs each command once, so that a
  // busy moment on the machine falls on all of them alike.
  for (const subject of SUBJECTS) runOnce(node, subject);
  for (let round = 0; round < ROUNDS; round++)
    for (const subject of SUBJECTS) runs.get(subject)!.push(runOnce(node, subject));

  const summary = (subject: Subject) => {
    const measured = runs.get(subject)!;
    const rss = measured.map((run) => run.peakRssKb).filter((kb): kb is number => kb !== null);
    return { wallMs: median(measured.map((run) => run.wallMs)), peakRssKb: rss.length > 0 ? median(rss) : null };
  };
  const bare = summary(SUBJECTS[0]!);
  console.log(
    `  median of ${ROUNDS} whole-process runs each, interleaved` +
      (bare.peakRssKb === null ? ` (peak RSS not measured: ${GNU_TIME} is absent; apt-get install time)` : "") +
      "; runbook list answers from its summary cache after the untimed first round, the cold line never does",
  );
  for (const subject of SUBJECTS) {
    const { wallMs, peakRssKb } = summary(subject);
    const timeRatio = wallMs / bare.wallMs;
    const time = `${wallMs.toFixed(0).padStart(5)} ms ${timeRatio.toFixed(2).padStart(5)}x`;
    const timeGoal =
      subject.timeRatio === null
        ? ""
        : ` (goal <= ${subject.timeRatio}x: ${timeRatio <= subject.timeRatio ? "met" : "MISSED"})`;
    let memory = "";
    if (peakRssKb !== null && bare.peakRssKb !== null) {
      const rssRatio = peakRssKb / bare.peakRssKb;
      memory =
        `   peak RSS ${(peakRssKb / 1024).toFixed(0).padStart(4)} MB ${rssRatio.toFixed(2).padStart(5)}x` +
        (subject.timeRatio === null ? "" : ` (goal <= ${RSS_RATIO}x: ${rssRatio <= RSS_RATIO ? "met" : "MISSED"})`);
    }
    console.log(`  ${subject.label.padEnd(42)} ${time}${timeGoal.padEnd(21)}${memory}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) benchCliStartup();
