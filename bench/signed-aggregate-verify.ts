// Signed federation aggregates of 4, 15 and 60 MB: breakglass (whole CLI process, and the engine alone) beside
// `xmlsec1 --verify` on the same file, with time ratios and peak RSS over file size.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { canonicalizeExclusive, ROOT_NAMESPACE_SCOPE } from "../src/domain/saml/exclusive-canonicalization.js";
import { benchNodes } from "./bench-nodes.js";
import { entity, generateCertificates } from "./generate-aggregate.js";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const MB = 1024 * 1024;
const MD = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS = "http://www.w3.org/2000/09/xmldsig#";
const SIZES_MB = (process.env["BENCH_SIGNED_MB"] ?? "4,15,60").split(",").map(Number);
const RUNS = Number(process.env["BENCH_SIGNED_RUNS"] ?? 3);

interface Run {
  readonly seconds: number;
  /** User + system CPU seconds: fairer than wall time on a machine other work shares. */
  readonly cpuSeconds: number | null;
  readonly peakRssKb: number | null;
  readonly ok: boolean;
  readonly output: string;
}

/** Writes (once, cached in bench/.cache) an aggregate of at least `megabytes`, signed enveloped with exclusive C14N and RSA-SHA256. */
function ensureSignedAggregate(megabytes: number): { path: string; publicKeyPath: string; bytes: number } {
  const path = here(`./.cache/signed-aggregate-${megabytes}mb.xml`);
  const publicKeyPath = `${path}.pub.pem`;
  if (existsSync(path) && existsSync(publicKeyPath)) return { path, publicKeyPath, bytes: statSync(path).size };
  mkdirSync(here("./.cache"), { recursive: true });
  const head =
    `<?xml version="1.0" encoding="UTF-8"?>\n<md:EntitiesDescriptor xmlns:md="${MD}" xmlns:ds="${DS}" ` +
    `Name="urn:bench:federation" validUntil="2099-01-01T00:00:00Z">\n`;
  const parts = [head];
  let size = head.length;
  let index = 0;
  for (const certificate of generateCertificates(Number.MAX_SAFE_INTEGER)) {
    const next = entity(index++, certificate);
    parts.push(next);
    size += next.length;
    if (size >= megabytes * MB) break;
  }
  parts.push("</md:EntitiesDescriptor>\n");
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const unsigned = parts.join("");
  const insertAt = unsigned.indexOf(">", unsigned.indexOf("<md:EntitiesDescriptor")) + 1;
  // The Signature goes in first with the digest still unknown: the enveloped transform leaves it out of the digest.
  const skeleton = (digest: string, value: string) =>
    `<ds:Signature>${signedInfo(digest).replace(` xmlns:ds="${DS}"`, "")}<ds:SignatureValue>${value}</ds:SignatureValue></ds:Signature>`;
  const placeholder = `${unsigned.slice(0, insertAt)}\n  ${skeleton("", "")}${unsigned.slice(insertAt)}`;
  const rootStart = placeholder.indexOf("<md:EntitiesDescriptor");
  const signatureStart = insertAt + 3;
  const signatureEnd = signatureStart + skeleton("", "").length;
  const canonical = canonicalizeExclusive(
    placeholder,
    rootStart,
    placeholder.lastIndexOf(">") + 1,
    ROOT_NAMESPACE_SCOPE,
    {
      omit: [signatureStart, signatureEnd],
    },
  );
  if (canonical === undefined) throw new RangeError("the generated aggregate is outside the exclusive C14N profile");
  const digest = createHash("sha256").update(canonical, "utf8").digest("base64");
  // SignedInfo is written in its canonical form (exclusive C14N adds only xmlns:ds), so signing it as text is exact.
  const value = sign("sha256", Buffer.from(signedInfo(digest), "utf8"), privateKey).toString("base64");
  writeFileSync(path, `${unsigned.slice(0, insertAt)}\n  ${skeleton(digest, value)}${unsigned.slice(insertAt)}`);
  writeFileSync(publicKeyPath, publicKey.export({ type: "spki", format: "pem" }));
  return { path, publicKeyPath, bytes: statSync(path).size };
}

function signedInfo(digest: string): string {
  return (
    `<ds:SignedInfo xmlns:ds="${DS}"><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:CanonicalizationMethod>` +
    `<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"></ds:SignatureMethod>` +
    `<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="${DS}enveloped-signature"></ds:Transform>` +
    `<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:Transform></ds:Transforms>` +
    `<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></ds:DigestMethod>` +
    `<ds:DigestValue>${digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>`
  );
}

/** Runs a command under /usr/bin/time for its wall time and peak RSS (or wall time alone without it). */
function timed(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Run {
  const hasTime = existsSync("/usr/bin/time");
  const started = performance.now();
  const result = hasTime
    ? spawnSync("/usr/bin/time", ["-f", "BENCH_TIME %e %M %U %S", command, ...args], {
        encoding: "utf8",
        maxBuffer: 512 * MB,
        env,
      })
    : spawnSync(command, args, { encoding: "utf8", maxBuffer: 512 * MB, env });
  const seconds = (performance.now() - started) / 1000;
  const stderr = result.stderr ?? "";
  const measured = /BENCH_TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
  return {
    seconds,
    cpuSeconds: measured ? Number(measured[3]) + Number(measured[4]) : null,
    peakRssKb: measured ? Number(measured[2]) : null,
    ok: result.status === 0,
    output: `${result.stdout ?? ""}${stderr.replace(/BENCH_TIME.*\n?/, "")}`.slice(0, 400),
  };
}

function median(runs: Run[]): Run {
  return [...runs].sort((left, right) => left.seconds - right.seconds)[Math.floor(runs.length / 2)]!;
}

function hasXmlsec1(): boolean {
  try {
    execFileSync("xmlsec1", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * `node bin/breakglass.js` needs the compiled CLI; without dist/ the source runs through tsx (slower to start).
 * BENCH_BREAKGLASS_BIN runs another build's entry point instead, to compare two builds on one machine in one sitting.
 */
function breakglassCommand(): string[] {
  const other = process.env["BENCH_BREAKGLASS_BIN"];
  if (other !== undefined && other !== "") return [other];
  return existsSync(here("../dist/cli/bin.js"))
    ? [here("../bin/breakglass.js")]
    : ["--import", "tsx", here("../src/cli/bin.ts")];
}

export function benchSignedAggregates(): void {
  const xmlsec1 = hasXmlsec1();
  if (!xmlsec1) console.log("  xmlsec1 not installed (Debian: apt-get install xmlsec1): its column is skipped");
  if (!existsSync(here("../dist/cli/bin.js")))
    console.log("  dist/ not built (npm run build): the CLI runs through tsx, which adds its start-up to each run");
  // The CLI on each Node measured (the running one, then BENCH_NODE or .ci/run's Node 24), the engine on the running one.
  // Node 20 reads NODE_EXTRA_CA_CERTS's whole bundle at every start (60 ms on this project's machines, where it is set
  // for the package registry), so with it set the CLI is measured once more without it, as most users run it.
  const { NODE_EXTRA_CA_CERTS: extraCaCerts, ...withoutExtraCaCerts } = process.env;
  const variants = benchNodes().map((node) => ({ node, env: process.env, note: "" }));
  if (extraCaCerts !== undefined)
    variants.splice(1, 0, { node: process.execPath, env: withoutExtraCaCerts, note: ", no EXTRA_CA" });
  const versions = variants.map(
    ({ node, note }) => `${execFileSync(node, ["--version"], { encoding: "utf8" }).trim()}${note}`,
  );
  console.log(
    `  ${"file".padEnd(8)} ${"entities".padStart(8)}  ${"what".padEnd(38)} ${"wall, peak RSS (÷ file)".padStart(24)}  ` +
      `vs xmlsec1, wall (cpu)`,
  );
  for (const megabytes of SIZES_MB) {
    const file = ensureSignedAggregate(megabytes);
    const entities = (readFileSync(file.path, "latin1").match(/<md:EntityDescriptor /g) ?? []).length;
    const cliArgs = [
      ...breakglassCommand(),
      "metadata",
      "inspect",
      file.path,
      "--metadata-signer",
      file.publicKeyPath,
      "--json",
      "--no-cache",
    ];
    const engineArgs = [
      "--import",
      "tsx",
      here("./measure-aggregate.ts"),
      "inspect-signed",
      file.path,
      file.publicKeyPath,
    ];
    // Interleaved rounds, so that a machine other work shares slows every column alike.
    const rounds = Array.from({ length: RUNS }, () => ({
      cli: variants.map(({ node, env }) => timed(node, cliArgs, env)),
      engine: timed(process.execPath, engineArgs),
      reference: xmlsec1 ? timed("xmlsec1", ["--verify", "--pubkey-pem", file.publicKeyPath, file.path]) : undefined,
    }));
    const cli = variants.map((_, index) => median(rounds.map((round) => round.cli[index]!)));
    const engine = median(rounds.map((round) => round.engine));
    const reference = xmlsec1 ? median(rounds.map((round) => round.reference!)) : undefined;
    const valid = cli.every((run) => /"valid":\s*true/.test(run.output)) && /"valid":\s*true/.test(engine.output);
    const cell = (run: Run): string => {
      const rss =
        run.peakRssKb === null
          ? ""
          : `${(run.peakRssKb / 1024).toFixed(0).padStart(5)} MB (${((run.peakRssKb * 1024) / file.bytes).toFixed(1)}x)`;
      return `${run.seconds.toFixed(2).padStart(6)} s ${rss}`.padStart(24);
    };
    const ratio = (run: Run) => {
      if (!reference) return "-";
      const cpu =
        run.cpuSeconds !== null && reference.cpuSeconds
          ? ` (cpu ${(run.cpuSeconds / reference.cpuSeconds).toFixed(1)}x)`
          : "";
      return `${(run.seconds / reference.seconds).toFixed(1)}x${cpu}`;
    };
    const label = `${(file.bytes / MB).toFixed(1)} MB`.padEnd(8);
    const rows: [string, Run, string][] = [
      ...cli.map((run, index): [string, Run, string] => [`breakglass CLI, ${versions[index]}`, run, ratio(run)]),
      [`engine alone, ${versions[0]}`, engine, ratio(engine)],
      ...(reference ? [["xmlsec1 --verify", reference, ""] as [string, Run, string]] : []),
    ];
    rows.forEach(([what, run, against], index) =>
      console.log(
        `  ${index === 0 ? label : "".padEnd(8)} ${(index === 0 ? String(entities) : "").padStart(8)}  ${what.padEnd(38)} ` +
          `${cell(run)}  ${against}`.trimEnd(),
      ),
    );
    if (!valid) console.log("  SIGNATURE NOT VALID");
    if (reference && !reference.ok) console.log("  xmlsec1 FAILED");
  }
  console.log("  targets: breakglass within 3x of xmlsec1; peak RSS within 10x of the file");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) benchSignedAggregates();
