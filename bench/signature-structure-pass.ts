// The walk that reads a signed aggregate's signature shape and the one-pass verifier's structure, beside the two
// passes it replaced (kept in test/support/signature-structure-oracle.ts): cold (the first call in a fresh process,
// before the JIT has warmed up, as in the CLI) and warm (median of several calls), in milliseconds of CPU time (user +
// system, all of the process's threads: fairer than wall time on a machine other work shares).
// Usage: npm run -s build (not needed) && npx tsx bench/signature-structure-pass.ts [file…]
// Each measurement runs in a process of its own, so that one implementation never warms the JIT for the other.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { readSignatureLayout } from "../src/domain/saml/signature-shape.js";
import { measureSignatureShape, readStructure } from "../test/support/signature-structure-oracle.js";

const WARM_RUNS = 7;
const here = fileURLToPath(import.meta.url);
const DEFAULT_FILES = [4, 60].map((megabytes) =>
  fileURLToPath(new URL(`./.cache/signed-aggregate-${megabytes}mb.xml`, import.meta.url)),
);

const passes = {
  two: (text: string) => [measureSignatureShape(text), readStructure(text)],
  one: (text: string) => readSignatureLayout(text),
} as const;
type Pass = keyof typeof passes;

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** In the child: one cold call, then warm calls; prints {cold, warm} in ms. */
function measure(pass: Pass, file: string): void {
  const text = readFileSync(file, "utf8");
  const read = passes[pass];
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1000;
  };
  let started = process.cpuUsage();
  read(text);
  const cold = cpuMs(started);
  const warm: number[] = [];
  for (let run = 0; run < WARM_RUNS + 3; run++) {
    started = process.cpuUsage();
    read(text);
    if (run >= 3) warm.push(cpuMs(started));
  }
  process.stdout.write(JSON.stringify({ cold, warm: median(warm) }));
}

const [mode, pass, file] = process.argv.slice(2);
if (mode === "--child" && (pass === "one" || pass === "two") && file) {
  measure(pass, file);
} else {
  const files = process.argv.length > 2 ? process.argv.slice(2) : DEFAULT_FILES;
  console.log("file\tpass\tcold CPU ms (median of 5 processes)\twarm CPU ms");
  for (const path of files) {
    for (const each of ["two", "one"] as const) {
      const results: { cold: number; warm: number }[] = [];
      for (let round = 0; round < 5; round++) {
        const child = spawnSync(process.execPath, [...process.execArgv, here, "--child", each, path], {
          encoding: "utf8",
        });
        results.push(JSON.parse(child.stdout) as { cold: number; warm: number });
      }
      const cold = median(results.map((result) => result.cold));
      const warm = median(results.map((result) => result.warm));
      console.log(`${path.split("/").at(-1)}\t${each}\t${cold.toFixed(1)}\t${warm.toFixed(1)}`);
    }
  }
}
