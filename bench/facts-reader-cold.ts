// The facts reader's cost on its first call in a process (cold) and on later calls (warm), over a signed aggregate's
// canonical pieces written beforehand, as main-thread CPU time: steadier on a machine others share than wall time,
// and unlike process CPU time it leaves out what compiler and GC helper threads spend beside the main thread.
// Run it also under `node --no-turbofan --import tsx` to see the interpreter and baseline tiers alone.
// Usage: npx tsx bench/facts-reader-cold.ts <signed aggregate.xml> [runs] [--oracle]
import { readFileSync } from "node:fs";
import { ROOT_NAMESPACE_SCOPE, writeExclusiveCanonicalization } from "../src/domain/saml/exclusive-canonicalization.js";
import { MetadataTextReader } from "../src/domain/saml/metadata-text-extract.js";
import { MetadataTextReader as OracleReader } from "../test/support/metadata-text-extract-oracle.js";

const [path = "", runsText = "4", flag] = process.argv.slice(2);
const text = readFileSync(path, "utf8");
const signature = text.indexOf("<ds:Signature>");
const omit = [signature, text.indexOf("</ds:Signature>") + "</ds:Signature>".length] as const;
const pieces: string[] = [];
const from = text.indexOf("<md:EntitiesDescriptor");
writeExclusiveCanonicalization(text, from, text.lastIndexOf(">") + 1, ROOT_NAMESPACE_SCOPE, { omit }, (piece) => {
  pieces.push(piece);
});

/** CPU time the calling thread has run, in milliseconds (Linux: /proc/thread-self/schedstat, in nanoseconds). */
function threadCpuMs(): number {
  return Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]) / 1e6;
}

const runs: string[] = [];
for (let run = 0; run < Number(runsText); run++) {
  const started = threadCpuMs();
  const reader = flag === "--oracle" ? new OracleReader() : new MetadataTextReader();
  for (const piece of pieces) reader.read(piece);
  if (!reader.finish()) throw new RangeError("facts not read");
  runs.push((threadCpuMs() - started).toFixed(1));
}
console.log(
  `${flag === "--oracle" ? "oracle " : "current"} reader, main-thread ms per run (first cold): ${runs.join(" ")}`,
);
