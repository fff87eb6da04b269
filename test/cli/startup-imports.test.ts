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
// bin/breakglass.js runs the compiled dist/, which `npm test` builds first.
const BIN = new URL("../../bin/breakglass.js", import.meta.url).pathname;
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

/** Runs the installed command and returns the npm packages (and node:* built-ins) it loaded, each once. */
async function packagesLoadedBy(...argv: string[]): Promise<string[]> {
  calls += 1;
  const record = join(directory, `${calls}-${argv.join("-").replace(/\W+/g, "-")}.txt`);
  await run(process.execPath, ["--import", RECORDER, BIN, ...argv], {
    env: { ...process.env, RECORD_LOADED_MODULES: record, NO_COLOR: "1", XDG_CACHE_HOME: cacheHome },
  });
  const names = readFileSync(record, "utf8")
    .split("\n")
    .map((line) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line)?.[1] ?? (line.startsWith("node:") ? line : null))
    .filter((name): name is string => name !== null);
  return [...new Set(names)].sort();
}

const serviceLibrariesIn = (packages: string[]) =>
  packages.filter((name) => SERVICE_LIBRARIES.some((library) => name.startsWith(library)));

describe("what the installed command loads", () => {
  it("answers --help with commander alone", async () => {
    const packages = await packagesLoadedBy("--help");
    expect(packages.filter((name) => !name.startsWith("node:"))).toEqual(["commander"]);
  });

  it("inspects an unsigned metadata file with no AWS SDK, Slack, store driver, HTTP client or XML-DSig library", async () => {
    const packages = await packagesLoadedBy("metadata", "inspect", EXAMPLE, "--no-cache");
    expect(packages).toEqual(expect.arrayContaining(["fast-xml-parser", "node-forge"]));
    expect(serviceLibrariesIn(packages)).toEqual([]);
    expect(packages.filter((name) => ["xml-crypto", "@xmldom/xmldom", "xpath"].includes(name))).toEqual([]);
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
