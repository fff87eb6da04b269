// Micro-benchmark of the signed element's canonical form written in pieces, hashed and read for facts (the work
// signature-fast-path.ts's checkContainer does), over a signed aggregate: once cold, then warm (median of runs).
// Usage: npx tsx bench/canonical-facts.ts <signed aggregate.xml> [runs] [--oracle]
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
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

function once(withFacts: boolean): { ms: number; digest: string; entities: number } {
  const started = performance.now();
  const hash = createHash("sha256");
  const reader = useOracle ? new OracleReader() : new MetadataTextReader();
  const written = write(text, from, to, current.ROOT_NAMESPACE_SCOPE, { omit }, (piece) => {
    hash.update(piece, "utf8");
    if (withFacts) reader.read(piece);
  });
  const facts = withFacts ? reader.finish() : undefined;
  const ms = performance.now() - started;
  if (!written) throw new RangeError("not canonicalized");
  return { ms, digest: hash.digest("base64"), entities: facts?.entities.length ?? 0 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const cold = once(true);
const warmBoth: number[] = [];
const warmC14n: number[] = [];
for (let run = 0; run < Number(runsText); run++) {
  warmC14n.push(once(false).ms);
  warmBoth.push(once(true).ms);
}
console.log(
  `${useOracle ? "oracle" : "current"} ${path.split("/").at(-1)}: cold c14n+hash+facts ${cold.ms.toFixed(0)} ms; ` +
    `warm c14n+hash ${median(warmC14n).toFixed(0)} ms, c14n+hash+facts ${median(warmBoth).toFixed(0)} ms ` +
    `(digest ${cold.digest}, ${cold.entities} entities)`,
);
