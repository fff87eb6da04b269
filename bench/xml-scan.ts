// Benchmark: the pre-parse well-formedness scan alone (scanXmlDocument) on generated federation aggregates of 4 and
// 60 MB (BENCH_SCAN_MB): the first call and the median of the calls after it, in CPU ms. The first call of the first
// size runs before the JIT has warmed up (BENCH_SCAN_MB=60 for a cold figure at 60 MB). `npx tsx bench/xml-scan.ts`.
import { fileURLToPath } from "node:url";
import { DEFAULT_XML_LIMITS } from "../src/domain/saml/xml-safety.js";
import { scanXmlDocument, type ScanMeter } from "../src/domain/saml/xml-scanner.js";
import { entity, generateCertificates } from "./generate-aggregate.js";

const MB = 1024 * 1024;
const WARM_RUNS = 5;

/** An aggregate of at least `megabytes`, its entities cycling through a few certificates (the scan reads no DER). */
function aggregateOf(megabytes: number, certificates: readonly Buffer[]): string {
  const parts = [
    `<?xml version="1.0" encoding="UTF-8"?>\n<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ` +
      `xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Name="urn:bench:federation">\n`,
  ];
  let size = parts[0]!.length;
  for (let index = 0; size < megabytes * MB; index++) {
    const next = entity(index, certificates[index % certificates.length]!);
    parts.push(next);
    size += next.length;
  }
  parts.push("</md:EntitiesDescriptor>\n");
  return parts.join("");
}

/** CPU milliseconds (all threads, as /usr/bin/time counts them) of one scan. */
function cpuMilliseconds(text: string, meter?: ScanMeter): number {
  const started = process.cpuUsage();
  scanXmlDocument(text, "aggregate.xml", DEFAULT_XML_LIMITS.maxDepth, meter);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

export function benchXmlScan(): void {
  const sizes = (process.env["BENCH_SCAN_MB"] ?? "4,60").split(",").map(Number);
  const certificates = [...generateCertificates(16)];
  for (const megabytes of sizes) {
    const text = aggregateOf(megabytes, certificates);
    const meter: ScanMeter = { charactersRead: 0 };
    const first = cpuMilliseconds(text, meter);
    const warm = Array.from({ length: WARM_RUNS }, () => cpuMilliseconds(text)).sort((a, b) => a - b);
    const median = warm[Math.floor(WARM_RUNS / 2)]!;
    console.log(
      `  scanXmlDocument ${(text.length / MB).toFixed(1).padStart(5)} MB: first call ${first.toFixed(0).padStart(4)} ms, ` +
        `then ${median.toFixed(0).padStart(4)} ms (median of ${WARM_RUNS}, ${((text.length / MB / median) * 1000).toFixed(0)} MB/s), ` +
        `${(meter.charactersRead / text.length).toFixed(2)} reads/char`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) benchXmlScan();
