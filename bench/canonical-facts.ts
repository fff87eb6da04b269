// Micro-benchmark of the signed element's canonical form written in pieces, hashed and read for facts (the work
// signature-fast-path.ts's checkContainer does), over a signed aggregate: once cold, then warm (min and median of
// runs). Times are the process's CPU time (user + system), steadier than wall time on a machine others share.
// Usage: npx tsx bench/canonical-facts.ts <signed aggregate.xml> [runs] [--oracle]
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as current from "../src/domain/saml/exclusive-canonicalization.js";
import { MetadataTextReader } from "../src/domain/saml/metadata-text-extract.js";
import * as oracle from "../test/support/exclusive-canonicalization-oracle.js";
import { MetadataTextReader as OracleReader } from "../test/support/metadata-text-extract-oracle.js";

const [path = "", runsText = "5", flag] = process.argv.slice(2);
const useOracle = flag === "--oracle";
const write = useOracle ? oracle.writeExclusiveCanonicalization : current.writeExclusiveCanonicalization;
const text = readFileSync(path, "utf8");
const from = text.indexOf("<md:EntitiesDescriptor");
const to = text.lastIndexOf(">") + 1;
const signatureStart = text.indexOf("<ds:Signature>");
const omit = [signatureStart, text.indexOf("</ds:Signature>") + "</ds:Signature>".length] as const;

/** Milliseconds of CPU time since `since` (from process.cpuUsage()). */
function cpuMs(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
}

function once(withFacts: boolean): { ms: number; digest: string; entities: number } {
  const started = process.cpuUsage();
  const hash = createHash("sha256");
  const reader = useOracle ? new OracleReader() : new MetadataTextReader();
  const written = write(text, from, to, current.ROOT_NAMESPACE_SCOPE, { omit }, (piece) => {
    hash.update(piece, "utf8");
    if (withFacts) reader.read(piece);
  });
  const facts = withFacts ? reader.finish() : undefined;
  const ms = cpuMs(started);
  if (!written) throw new RangeError("not canonicalized");
  return { ms, digest: hash.digest("base64"), entities: facts?.entities.length ?? 0 };
}

/** The facts reader alone over pieces written beforehand. */
function readerOnly(pieces: readonly string[]): number {
  const started = process.cpuUsage();
  const reader = useOracle ? new OracleReader() : new MetadataTextReader();
  for (const piece of pieces) reader.read(piece);
  if (!reader.finish()) throw new RangeError("facts not read");
  return cpuMs(started);
}

const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `${(sorted[0] ?? NaN).toFixed(0)}/${(sorted[Math.floor(sorted.length / 2)] ?? NaN).toFixed(0)}`;
};
const cold = once(true);
const pieces: string[] = [];
write(text, from, to, current.ROOT_NAMESPACE_SCOPE, { omit }, (piece) => pieces.push(piece));
const warmBoth: number[] = [];
const warmC14n: number[] = [];
const warmReader: number[] = [];
for (let run = 0; run < Number(runsText); run++) {
  warmC14n.push(once(false).ms);
  warmReader.push(readerOnly(pieces));
  warmBoth.push(once(true).ms);
}
console.log(
  `${useOracle ? "oracle " : "current"} ${path.split("/").at(-1)}: cold all ${cold.ms.toFixed(0)} ms; warm min/median: ` +
    `c14n+hash ${summary(warmC14n)} ms, reader ${summary(warmReader)} ms, all ${summary(warmBoth)} ms ` +
    `(${pieces.length} pieces, digest ${cold.digest}, ${cold.entities} entities)`,
);
