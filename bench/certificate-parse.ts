// parseCertificate alone, in CPU µs per certificate, over the distinct X509Certificate values of a document: once cold
// (the first pass of a fresh process, as `metadata inspect` meets them) and warm (the median of later passes). Each
// reader runs in its own child process so that neither warms the other's code:
//   npx tsx bench/certificate-parse.ts [file ...]   (default: the cached signed aggregates of 4 and 60 MB)
// "forge" is the node-forge tree reader it replaced, kept as the test oracle (test/support/forge-certificate.ts).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseCertificate } from "../src/domain/saml/certificate.js";
import { parseCertificateWithForge } from "../test/support/forge-certificate.js";

const here = fileURLToPath(import.meta.url);
const WARM_PASSES = Number(process.env["BENCH_CERT_WARM_PASSES"] ?? 7);
const READERS = { offsets: parseCertificate, forge: parseCertificateWithForge } as const;
type ReaderName = keyof typeof READERS;

function distinctCertificates(path: string): Buffer[] {
  const text = readFileSync(path, "latin1");
  const seen = new Set<string>();
  for (const match of text.matchAll(/<(?:\w+:)?X509Certificate(?:\s[^>]*)?>([^<]*)</g))
    seen.add(match[1]!.replace(/\s+/g, ""));
  return [...seen].map((base64) => Buffer.from(base64, "base64"));
}

/** CPU time (user + system) per certificate: wall time on a shared machine counts the other processes too. */
function pass(read: (der: Buffer) => unknown, certificates: readonly Buffer[]): number {
  const start = process.cpuUsage();
  for (const der of certificates) {
    try {
      read(der);
    } catch {
      // A refused certificate costs its time too.
    }
  }
  const { user, system } = process.cpuUsage(start);
  return (user + system) / certificates.length;
}

/** In the child: one reader over one file, printed as JSON. */
function measure(reader: ReaderName, path: string): void {
  const certificates = distinctCertificates(path);
  const read = READERS[reader];
  const cold = pass(read, certificates);
  const warm = Array.from({ length: WARM_PASSES }, () => pass(read, certificates)).sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ count: certificates.length, cold, warm: warm[WARM_PASSES >> 1] ?? null }));
}

if (process.env["BENCH_CERT_CHILD"]) {
  const [reader, path] = process.env["BENCH_CERT_CHILD"].split("|") as [ReaderName, string];
  measure(reader, path);
} else {
  const files = process.argv.slice(2);
  const defaults = [4, 60].map((mb) =>
    fileURLToPath(new URL(`./.cache/signed-aggregate-${mb}mb.xml`, import.meta.url)),
  );
  for (const path of files.length > 0 ? files : defaults) {
    for (const reader of Object.keys(READERS) as ReaderName[]) {
      const child = spawnSync(process.execPath, [...process.execArgv, here], {
        env: { ...process.env, BENCH_CERT_CHILD: `${reader}|${path}` },
        encoding: "utf8",
      });
      if (child.status !== 0) throw new Error(`${reader} on ${path}: ${child.stderr}`);
      const { count, cold, warm } = JSON.parse(child.stdout) as { count: number; cold: number; warm: number };
      console.log(
        `${path.split("/").pop()}: ${reader.padEnd(7)} ${count} certificates, cold ${cold.toFixed(1)} µs, warm ${warm.toFixed(1)} µs per certificate`,
      );
    }
  }
}
