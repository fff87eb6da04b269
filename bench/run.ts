// `npm run bench`: prints start-up, throughput and memory figures. Figures, not pass/fail: targets are printed beside them.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import forge from "node-forge";
import { SignedXml } from "xml-crypto";
import { checkMetadata } from "../src/domain/checks/metadata-checks.js";
import { parseCertificate } from "../src/domain/saml/certificate.js";
import { inspectMetadataBytes } from "../src/domain/saml/inspect-metadata.js";
import { benchCliStartup } from "./cli-startup.js";
import { ensureAggregate, generateCertificates } from "./generate-aggregate.js";
import { benchHostileDocuments } from "./hostile-documents.js";
import { benchHostileXml } from "./hostile-xml.js";
import { benchOrgSweep } from "./org-sweep.js";
import { benchSignedAggregates } from "./signed-aggregate-verify.js";
import { benchSlackAck } from "./slack-ack.js";
import { benchFailover } from "./failover.js";
import { benchStoreLatency } from "./store-latency.js";
import { benchWatchBurst } from "./watch-burst.js";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const ENTITIES = Number(process.env["BENCH_ENTITIES"] ?? 20_000);
const MB = 1024 * 1024;

function section(title: string): void {
  console.log(`\n== ${title}`);
}

/** Runs `work` repeatedly for about `seconds` and returns operations per second. */
function rate(work: () => void, seconds = 2): number {
  for (let i = 0; i < 20; i++) work(); // warm-up
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    work();
    count++;
  }
  return count / ((performance.now() - started) / 1000);
}

function singleDocuments(): void {
  section("Single IdP documents: inspections per second (inspect + checks)");
  const documents = [
    ["Google Workspace, unsigned, 2 KB", here("../examples/google-workspace-idp-metadata.xml")],
    [
      "Entra ID app, signed (xml-crypto verify), 17 KB",
      here("../../shared/corpus/saml-metadata/entra-id-app-rollover-bom.xml"),
    ],
    ["AD FS, signed, 73 KB", here("../../shared/corpus/saml-metadata/adfs-lsuc-osgfed.xml")],
  ] as const;
  const now = new Date();
  for (const [label, path] of documents) {
    if (!existsSync(path)) {
      console.log(`  ${label}: skipped (${path} not present)`);
      continue;
    }
    const bytes = readFileSync(path);
    const perSecond = rate(() => checkMetadata(inspectMetadataBytes(bytes, path), { now, warnDays: 30 }));
    console.log(
      `  ${label.padEnd(48)} ${perSecond.toFixed(0).padStart(7)} inspections/s  (${(1000 / perSecond).toFixed(2)} ms each)`,
    );
  }
}

function measure(
  mode: "bare-parse" | "inspect",
  path: string,
): { elapsedMs: number; peakRssKb: number; baselineRssKb: number; entities: number } {
  const output = execFileSync(process.execPath, ["--import", "tsx", here("./measure-aggregate.ts"), mode, path], {
    encoding: "utf8",
    maxBuffer: MB,
  });
  return JSON.parse(output.trim().split("\n").at(-1) ?? "{}") as {
    elapsedMs: number;
    peakRssKb: number;
    baselineRssKb: number;
    entities: number;
  };
}

function aggregate(): void {
  section(`Aggregate of ${ENTITIES.toLocaleString("en")} IdP entities, each with its own certificate`);
  const file = ensureAggregate(here(`./.cache/aggregate-${ENTITIES}.xml`), ENTITIES);
  const sizeMb = file.bytes / MB;
  console.log(
    `  file: ${sizeMb.toFixed(1)} MB${file.generatedMs === null ? " (cached in bench/.cache)" : ` (generated in ${(file.generatedMs / 1000).toFixed(1)} s)`}`,
  );
  // Median of three runs each, every run in a fresh process.
  const median = (mode: "bare-parse" | "inspect") => {
    const runs = [measure(mode, file.path), measure(mode, file.path), measure(mode, file.path)].sort(
      (a, b) => a.elapsedMs - b.elapsedMs,
    );
    return runs[1]!;
  };
  const bare = median("bare-parse");
  const inspect = median("inspect");
  const line = (label: string, run: { elapsedMs: number; peakRssKb: number }) =>
    console.log(
      `  ${label.padEnd(34)} ${(run.elapsedMs / 1000).toFixed(2).padStart(6)} ` +
        `s  ${(sizeMb / (run.elapsedMs / 1000)).toFixed(1).padStart(5)} MB/s  peak ` +
        `RSS ${(run.peakRssKb / 1024).toFixed(0).padStart(4)} MB ` +
        `(${((run.peakRssKb * 1024) / file.bytes).toFixed(1)}x the file)`,
    );
  line("bare fast-xml-parser parse", bare);
  line(`breakglass inspect (${inspect.entities} entities)`, inspect);
  const ratio = inspect.elapsedMs / bare.elapsedMs;
  const rss = (inspect.peakRssKb * 1024) / file.bytes;
  console.log(`  inspect / bare parse time: ${ratio.toFixed(2)}x (target <= 3x: ${ratio <= 3 ? "met" : "MISSED"})`);
  console.log(
    `  inspect peak RSS / file size: ${rss.toFixed(1)}x (target <= ` +
      `10x: ${rss <= 10 ? "met" : "MISSED"}); process baseline ${(inspect.baselineRssKb / 1024).toFixed(0)} MB`,
  );
}

function certificateParsing(): void {
  section("Certificate parsing (the same 2,000 distinct RSA-2048 certificates)");
  const certificates = [...generateCertificates(2000)];
  const perCertificate = (work: (der: Buffer) => void) => rate(() => certificates.forEach(work)) * certificates.length;
  const ours = perCertificate((der) => parseCertificate(der));
  const x509 = perCertificate((der) => {
    const certificate = new X509Certificate(der);
    const fields = [
      certificate.subject,
      certificate.issuer,
      certificate.validFrom,
      certificate.validTo,
      certificate.fingerprint256,
      certificate.publicKey.asymmetricKeyDetails,
    ];
    if (fields.length === 0) throw new Error("unreachable");
  });
  const forgeFull = perCertificate((der) => {
    const certificate = forge.pki.certificateFromAsn1(forge.asn1.fromDer(der.toString("latin1")));
    if (certificate.subject.attributes.length === 0 || !certificate.validity.notAfter)
      throw new Error("unreadable certificate");
  });
  console.log(`  breakglass DER reader (used)                   ${ours.toFixed(0).padStart(8)} certs/s`);
  console.log(`  crypto.X509Certificate (same fields)           ${x509.toFixed(0).padStart(8)} certs/s`);
  console.log(`  node-forge pki.certificateFromAsn1 (full)      ${forgeFull.toFixed(0).padStart(8)} certs/s`);
}

function signedAggregate(): void {
  const count = 2000;
  section(`Signed aggregate of ${count.toLocaleString("en")} IdP entities (signature verification cost)`);
  const path = here(`./.cache/aggregate-${ENTITIES}.xml`);
  const source = readFileSync(path, "utf8").replace(/^<\?xml[^>]*>\n/, "");
  const parts = source.split("  <md:EntityDescriptor");
  const unsigned = `${parts.slice(0, count + 1).join("  <md:EntityDescriptor")}</md:EntitiesDescriptor>\n`;
  const key = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const [certificate] = [...generateCertificates(1)];
  const signer = new SignedXml({
    privateKey: key.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    signatureAlgorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    canonicalizationAlgorithm: "http://www.w3.org/2001/10/xml-exc-c14n#",
  });
  signer.getKeyInfoContent = () =>
    `<ds:X509Data><ds:X509Certificate>${certificate!.toString("base64")}</ds:X509Certificate></ds:X509Data>`;
  signer.addReference({
    xpath: "/*",
    isEmptyUri: true,
    transforms: ["http://www.w3.org/2000/09/xmldsig#enveloped-signature", "http://www.w3.org/2001/10/xml-exc-c14n#"],
    digestAlgorithm: "http://www.w3.org/2001/04/xmlenc#sha256",
  });
  signer.computeSignature(unsigned, { prefix: "ds", location: { reference: "/*/*[1]", action: "before" } });
  const signed = Buffer.from(signer.getSignedXml());
  const pinned = { key: key.publicKey, sha256: null };
  const started = performance.now();
  const inspection = inspectMetadataBytes(signed, "signed-aggregate.xml", { signer: pinned });
  const elapsed = performance.now() - started;
  console.log(
    `  ${(signed.length / MB).toFixed(1)} MB, ` +
      `signature ${inspection.signature.valid ? "valid" : "NOT valid"}: ` +
      `inspect ${(elapsed / 1000).toFixed(2)} s (${(signed.length / MB / (elapsed / 1000)).toFixed(1)} MB/s)`,
  );
}

function cliStartup(): void {
  section("CLI start-up: the installed command (compiled first) beside a bare `node -e 0`, wall time and peak RSS");
  benchCliStartup();
}

function signedAggregatesBesideXmlsec1(): void {
  section(
    "Signed aggregates (enveloped, exclusive C14N, RSA-SHA256, pinned signer): breakglass beside xmlsec1 --verify, median of 3",
  );
  benchSignedAggregates();
}

function hostileDocuments(): void {
  section("Hostile documents of issue 11 through inspect + checks (work bounds, not byte bounds)");
  benchHostileDocuments();
}

function hostileXml(): void {
  section("Hostile XML (issue 11): the pre-parse scan and the whole inspection on the worst inputs");
  benchHostileXml();
}

async function orgSweep(): Promise<void> {
  const accounts = Number(process.env["BENCH_ACCOUNTS"] ?? 1000);
  section(
    `Organization sweep of ${accounts.toLocaleString("en")} workload accounts against the AWS emulator (real SDK adaptive retries)`,
  );
  await benchOrgSweep(accounts);
}

async function slackAck(): Promise<void> {
  section(
    "Slack slash-command acknowledgement latency on loopback: breakglass serve vs a bare Bolt app, idle and with a full check running",
  );
  await benchSlackAck();
}

async function failover(): Promise<void> {
  section(
    "Failover among serve replicas (the compiled command, built by the CLI start-up section): leader killed or paused until another is elected and checking",
  );
  await benchFailover();
}

async function storeLatency(): Promise<void> {
  const rounds = Number(process.env["BENCH_STORE_ROUNDS"] ?? 200);
  section("Store latency per operation: SQLite beside DynamoDB (the AWS emulator), through the synchronous store port");
  await benchStoreLatency(rounds);
}

async function watchBurst(): Promise<void> {
  const events = Number(process.env["BENCH_WATCH_EVENTS"] ?? 10_000);
  section(
    `Emergency-account watcher: ${events.toLocaleString("en")} CloudTrail events through the SQS queue (AWS emulator) into serve, alerts to a Slack stand-in`,
  );
  await benchWatchBurst(events);
}

console.log(`breakglass benchmarks — Node ${process.version}, ${process.platform}/${process.arch}`);
cliStartup();
singleDocuments();
hostileXml();
certificateParsing();
aggregate();
signedAggregate();
signedAggregatesBesideXmlsec1();
hostileDocuments();
await orgSweep();
await slackAck();
await failover();
await storeLatency();
await watchBurst();
