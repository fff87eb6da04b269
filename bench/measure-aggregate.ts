// Runs one measurement of the aggregate in its own process, so peak RSS belongs to that work alone; prints JSON.
import { readFileSync } from "node:fs";
import { XMLParser } from "fast-xml-parser";
import { checkMetadata } from "../src/domain/checks/metadata-checks.js";
import { parseMetadataSigner } from "../src/adapters/metadata/metadata-signer.js";
import { inspectMetadataBytes } from "../src/domain/saml/inspect-metadata.js";

const [mode, path] = process.argv.slice(2);
if ((mode !== "bare-parse" && mode !== "inspect" && mode !== "inspect-signed") || !path) {
  console.error("usage: measure-aggregate.ts bare-parse|inspect|inspect-signed <file> [signer.pem]");
  process.exit(2);
}

const baselineRssKb = process.resourceUsage().maxRSS;
const bytes = readFileSync(path);
const started = performance.now();
let entities = 0;
let findings = 0;
let valid: boolean | null = null;
if (mode === "bare-parse") {
  // The bare parse: fast-xml-parser with attributes, in document order, on the decoded text.
  const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false });
  const tree = parser.parse(bytes.toString("utf8")) as unknown[];
  entities = tree.length;
} else if (mode === "inspect-signed") {
  // The engine alone on a signed aggregate: the signer pinned, the signature verified whatever its size.
  const signerPath = process.argv[4] ?? "";
  const signer = parseMetadataSigner(readFileSync(signerPath, "utf8"), signerPath);
  const inspection = inspectMetadataBytes(bytes, path, {
    signer,
    maxSignedBytes: Number.MAX_SAFE_INTEGER,
    maxSignedElements: Number.MAX_SAFE_INTEGER,
  });
  entities = inspection.entities.length;
  valid = inspection.signature.valid;
} else {
  const inspection = inspectMetadataBytes(bytes, path);
  entities = inspection.entities.length;
  findings = checkMetadata(inspection, { now: new Date("2026-11-25T00:00:00Z"), warnDays: 30 }).length;
}
const elapsedMs = performance.now() - started;
console.log(
  JSON.stringify({
    mode,
    elapsedMs,
    entities,
    findings,
    valid,
    bytes: bytes.length,
    baselineRssKb,
    peakRssKb: process.resourceUsage().maxRSS,
  }),
);
