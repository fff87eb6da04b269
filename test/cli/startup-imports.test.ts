// The installed command loads only what the command it runs needs: a person waits on every call during an incident,
// and an AWS SDK, Slack or a store driver loaded for nothing costs them a second (issue 15).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { createSamlIdp } from "../support/saml-idp.js";

const run = promisify(execFile);
// bin/breakglass.js runs the bundle in dist/bundle/, which `npm test` builds first (`npm run build`).
const BIN = new URL("../../bin/breakglass.js", import.meta.url).pathname;
/** The npm packages the bundle holds in each of its files (scripts/bundle-cli.mjs writes it). */
const BUNDLE_CONTENTS = new URL("../../dist/bundle/contents.json", import.meta.url).pathname;
const RECORDER = new URL("../support/record-loaded-modules.mjs", import.meta.url).pathname;
const EXAMPLE = new URL("../../examples/google-workspace-idp-metadata.xml", import.meta.url).pathname;
const directory = mkdtempSync(join(tmpdir(), "breakglass-startup-"));
// Each test file gets its own cache, so `runbook list` starts cold here whatever ran before.
const cacheHome = join(directory, "cache");
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** The libraries only the AWS, Slack, serve and store commands need. */
const SERVICE_LIBRARIES = [
  "@aws-sdk/",
  "@smithy/",
  "@slack/",
  "better-sqlite3",
  "node:sqlite",
  "prom-client",
  "express",
  "undici",
];

let calls = 0;

interface Loaded {
  /** The npm packages (and node:* built-ins imported as ES modules) the command loaded, each once. */
  readonly packages: string[];
  /** breakglass's own JavaScript files it read: bin/breakglass.js, dist/bundle/*.js and dist/bundle/*.cjs. */
  readonly ownFiles: string[];
}

/** Runs the installed command and says what it loaded: a bundle file counts as the packages bundled into it. */
async function loadedBy(...argv: string[]): Promise<Loaded> {
  calls += 1;
  const record = join(directory, `${calls}-${argv.join("-").replace(/\W+/g, "-")}.txt`);
  await run(process.execPath, ["--import", RECORDER, BIN, ...argv], {
    env: { ...process.env, RECORD_LOADED_MODULES: record, NO_COLOR: "1", XDG_CACHE_HOME: cacheHome },
  });
  const bundled = JSON.parse(readFileSync(BUNDLE_CONTENTS, "utf8")) as Record<string, string[]>;
  const lines = [...new Set(readFileSync(record, "utf8").split("\n"))];
  const ownFiles = lines.filter((line) => !line.includes("/node_modules/") && /\/(bin|dist)\/.*\.c?js$/.test(line));
  const names = lines.flatMap((line) => {
    const inBundle = /\/dist\/bundle\/([^/]+\.c?js)$/.exec(line)?.[1];
    if (inBundle !== undefined) return bundled[inBundle] ?? [];
    return /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line)?.[1] ?? (line.startsWith("node:") ? line : []);
  });
  return { packages: [...new Set(names)].sort(), ownFiles };
}

async function packagesLoadedBy(...argv: string[]): Promise<string[]> {
  return (await loadedBy(...argv)).packages;
}

const serviceLibrariesIn = (packages: string[]) =>
  packages.filter((name) => SERVICE_LIBRARIES.some((library) => name.startsWith(library)));

describe("what the installed command loads", () => {
  it("answers --help with commander alone, from three files of its own", async () => {
    const { packages, ownFiles } = await loadedBy("--help");
    expect(packages.filter((name) => !name.startsWith("node:"))).toEqual(["commander"]);
    // bin/breakglass.js, the bundle's entry and the one chunk every command starts with.
    expect(ownFiles).toHaveLength(3);
  });

  it("inspects an unsigned metadata file with no AWS SDK, Slack, store driver, HTTP client or XML-DSig library", async () => {
    const { packages, ownFiles } = await loadedBy("metadata", "inspect", EXAMPLE);
    // The one-pass reader reads the whole document: no XML tree, so no fast-xml-parser (issue 15).
    expect(packages).not.toContain("fast-xml-parser");
    // Certificates are read from their DER bytes by breakglass's own reader (src/domain/saml/der-reader.ts).
    expect(packages).not.toContain("node-forge");
    expect(serviceLibrariesIn(packages)).toEqual([]);
    expect(packages.filter((name) => ["xml-crypto", "@xmldom/xmldom", "xpath"].includes(name))).toEqual([]);
    // A handful of bundle files, never tsc's tree of a hundred modules (dist/cli, dist/domain…).
    expect(ownFiles.length).toBeLessThanOrEqual(12);
    expect(ownFiles.filter((file) => !/\/bin\/breakglass\.js$|\/dist\/bundle\//.test(file))).toEqual([]);
  });

  it("loads fast-xml-parser for a document the one-pass reader hands to the XML tree, and reads it the same", async () => {
    // An attribute name holding "valueOf" is one the one-pass reader leaves to fast-xml-parser's tree.
    const handedBack = join(directory, "handed-back.xml");
    writeFileSync(
      handedBack,
      readFileSync(EXAMPLE, "utf8").replace("<md:EntityDescriptor ", '<md:EntityDescriptor data-valueOf="x" '),
    );
    const { packages } = await loadedBy("metadata", "inspect", handedBack);
    expect(packages).toContain("fast-xml-parser");
    const report = async (file: string) =>
      JSON.parse((await run(process.execPath, [BIN, "metadata", "inspect", file, "--json"])).stdout) as {
        entities: unknown[];
      };
    expect((await report(handedBack)).entities).toEqual((await report(EXAMPLE)).entities);
  });

  it("preflights a SAML response offline (--provider-metadata) with no AWS SDK, Slack, store driver or HTTP client", async () => {
    const idp = createSamlIdp();
    const role = "arn:aws:iam::111111111111:role/EmergencyAdmin,arn:aws:iam::111111111111:saml-provider/EmergencyIdP";
    const { base64 } = await idp.respond({ issuedAt: new Date("2026-11-24T12:00:00Z"), roles: [role] });
    const response = join(directory, "response.b64");
    const metadata = join(directory, "provider-metadata.xml");
    writeFileSync(response, base64);
    writeFileSync(metadata, idp.metadata);
    const packages = await packagesLoadedBy(
      "saml",
      "preflight",
      response,
      "--provider-metadata",
      metadata,
      "--now",
      "2026-11-24T12:01:00Z",
    );
    expect(packages).toEqual(expect.arrayContaining(["xml-crypto", "@xmldom/xmldom"]));
    expect(serviceLibrariesIn(packages)).toEqual([]);
  });

  it("lists the runbooks with the YAML and schema libraries the first time, and with commander alone once they are cached", async () => {
    const first = await packagesLoadedBy("runbook", "list");
    expect(first.filter((name) => !name.startsWith("node:"))).toEqual(["commander", "yaml", "zod"]);
    const second = await packagesLoadedBy("runbook", "list");
    expect(second.filter((name) => !name.startsWith("node:"))).toEqual(["commander"]);
  });
});
