// Runs one measurement of the aggregate in its own process, so peak RSS belongs to that work alone; prints JSON.
import { readFileSync } from "node:fs";
import { XMLParser } from "fast-xml-parser";
import { checkMetadata } from "../src/domain/checks/metadata-checks.js";
import { inspectMetadataBytes } from "../src/domain/saml/inspect-metadata.js";

const [mode, path] = process.argv.slice(2);
if ((mode !== "bare-parse" && mode !== "inspect") || !path) {
  console.error("usage: measure-aggregate.ts bare-parse|inspect <file>");
  process.exit(2);
}

const baselineRssKb = process.resourceUsage().maxRSS;
const bytes = readFileSync(path);
const started = performance.now();
let entities = 0;
let findings = 0;
if (mode === "bare-parse") {
  // The bare parse: fast-xml-parser with attributes, in document order, on the decoded text.
  const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false });
  const tree = parser.parse(bytes.toString("utf8")) as unknown[];
  entities = tree.length;
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
    bytes: bytes.length,
    baselineRssKb,
    peakRssKb: process.resourceUsage().maxRSS,
  }),
);
