// `breakglass metadata inspect` as scripts and admins use it: the JSON contract, the readable report, exit codes, one-line errors.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { main } from "../../src/cli/main.js";
import { corpusPath } from "../support/corpus.js";
import { DAY, makeCertificate } from "../support/certificates.js";
import { entityXml } from "../support/metadata-builder.js";

const run = promisify(execFile);
const NOW = "2026-11-24T12:00:00Z";

async function cli(args: string[], options: { tty?: boolean } = {}) {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    stdoutIsTty: options.tty ?? false,
    env: { XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), "breakglass-cli-")) },
    clock: fixedClock(new Date(NOW)),
  });
  return { code, stdout, stderr };
}

function writeTemp(name: string, content: string | Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), "breakglass-cli-")), name);
  writeFileSync(path, content);
  return path;
}

describe("--json", () => {
  it("prints exactly one JSON object with the documented fields", async () => {
    const { code, stdout, stderr } = await cli([
      "metadata",
      "inspect",
      corpusPath("google-workspace-rollover.xml"),
      "--json",
      "--now",
      NOW,
    ]);
    expect(stderr).toBe("");
    expect(code).toBe(1); // the older certificate expires within 30 days
    const report = JSON.parse(stdout);
    expect(Object.keys(report).sort()).toEqual(["document", "entities", "findings", "ok"]);
    expect(report.ok).toBe(false);
    const [entity] = report.entities;
    expect(entity).toMatchObject({
      entityID: "https://accounts.google.com/o/saml2?idpid=C023zw3x8",
      roles: ["idp"],
      validUntil: "2026-12-16T17:18:02.000Z",
      signature: { present: false, valid: null },
      ssoServices: [
        {
          binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
          location: "https://accounts.google.com/o/saml2/idp?idpid=C023zw3x8",
        },
        {
          binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
          location: "https://accounts.google.com/o/saml2/idp?idpid=C023zw3x8",
        },
      ],
    });
    expect(entity.certificates).toHaveLength(2);
    for (const certificate of entity.certificates) {
      expect(certificate).toMatchObject({
        use: "signing",
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        subject: expect.any(String),
        issuer: expect.any(String),
        notBefore: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        notAfter: expect.stringMatching(/Z$/),
        daysLeft: expect.any(Number),
        keyAlgorithm: "RSA",
        keyBits: 2048,
        signatureAlgorithm: "sha256WithRSAEncryption",
      });
    }
    expect(entity.certificates[0].daysLeft).toBe(22);
    expect(
      report.findings.map((finding: { code: string; severity: string }) => [finding.code, finding.severity]),
    ).toEqual([
      ["CERT_EXPIRING", "high"],
      ["ROLLOVER_IN_PROGRESS", "info"],
    ]);
    expect(report.findings[0]).toMatchObject({
      entityID: entity.entityID,
      sha256: entity.certificates[0].sha256,
      message: expect.stringContaining("in 22 days"),
    });
  });

  it("is reproducible with --now", async () => {
    const first = await cli([
      "metadata",
      "inspect",
      corpusPath("entra-id-app-rollover-bom.xml"),
      "--json",
      "--now",
      NOW,
    ]);
    const second = await cli([
      "metadata",
      "inspect",
      corpusPath("entra-id-app-rollover-bom.xml"),
      "--json",
      "--now",
      NOW,
    ]);
    expect(second.stdout).toBe(first.stdout);
  });

  it("exits 0 when nothing is high or critical, and honours --warn-days", async () => {
    const quiet = await cli([
      "metadata",
      "inspect",
      corpusPath("google-workspace-rollover.xml"),
      "--json",
      "--now",
      NOW,
      "--warn-days",
      "14",
    ]);
    expect(quiet.code).toBe(0);
    expect(JSON.parse(quiet.stdout).ok).toBe(true);
  });
});

describe("the readable report", () => {
  it("shows each entity with its certificates, days left and findings with remedies", async () => {
    const { code, stdout } = await cli([
      "metadata",
      "inspect",
      corpusPath("google-workspace-rollover.xml"),
      "--now",
      NOW,
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain("https://accounts.google.com/o/saml2?idpid=C023zw3x8");
    expect(stdout).toContain("expires 2026-12-16 (22 days left)");
    expect(stdout).toMatch(/HIGH\s+CERT_EXPIRING/);
    expect(stdout).toContain("→ Roll the IdP signing certificate over now");
    expect(stdout).not.toContain("\u001b["); // no colour codes when stdout is not a terminal
  });

  it("colours severities on a terminal", async () => {
    const { stdout } = await cli(["metadata", "inspect", corpusPath("openam-ssocircle.xml"), "--now", NOW], {
      tty: true,
    });
    expect(stdout).toContain("\u001b[");
  });

  it("says plainly when there is nothing to fix", async () => {
    const { code, stdout } = await cli(["metadata", "inspect", corpusPath("keycloak-gap-sso-aws.xml"), "--now", NOW]);
    expect(code).toBe(0);
    expect(stdout).toContain("none — the metadata is fit for federation today.");
  });
});

describe("unusable input: exit 2, one line on stderr naming the input, nothing on stdout", () => {
  it.each([
    ["a missing file", ["/no/such/idp.xml"], "breakglass: /no/such/idp.xml: no such file\n"],
    [
      "a bad --now",
      [corpusPath("okta-scaleft-app.xml"), "--now", "yesterday"],
      `breakglass: --now: "yesterday" is not an ISO-8601 date or date and time (e.g. 2026-11-25 or 2026-11-25T09:00:00Z)\n`,
    ],
    [
      "a bad --warn-days",
      [corpusPath("okta-scaleft-app.xml"), "--warn-days", "-3"],
      `breakglass: --warn-days: "-3" is not a whole number of 0 or more\n`,
    ],
    [
      "a missing signer file",
      [corpusPath("okta-scaleft-app.xml"), "--metadata-signer", "/no/signer.pem"],
      "breakglass: /no/signer.pem: no such file (--metadata-signer)\n",
    ],
    [
      "plain http",
      ["http://127.0.0.1:9/metadata"],
      "breakglass: http://127.0.0.1:9/metadata: refused to fetch metadata over plain http " +
        "(http://127.0.0.1:9/metadata); use https, or pass --allow-insecure-http\n",
    ],
  ])("%s", async (_name, args, message) => {
    const { code, stdout, stderr } = await cli(["metadata", "inspect", ...args]);
    expect({ code, stdout, stderr }).toEqual({ code: 2, stdout: "", stderr: message });
  });

  it("refuses XML with a DTD", async () => {
    const path = writeTemp("xxe.xml", `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>`);
    const { code, stdout, stderr } = await cli(["metadata", "inspect", path]);
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toBe(
      `breakglass: ${path}: refused: the document contains a <!DOCTYPE> declaration (DTDs and entities are not allowed in metadata)\n`,
    );
  });

  it("refuses a document over --max-bytes, with the hint to raise it", async () => {
    const { code, stderr } = await cli([
      "metadata",
      "inspect",
      corpusPath("adfs-lsuc-osgfed.xml"),
      "--max-bytes",
      "1000",
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /: refused: the file is 71\.4 KB, over the 1000 bytes limit \(raise it with --max-bytes if the document is genuine\)\n$/,
    );
  });

  it("rejects an unknown option", async () => {
    const { code, stderr } = await cli(["metadata", "inspect", corpusPath("okta-scaleft-app.xml"), "--jsn"]);
    expect(code).toBe(2);
    expect(stderr).toContain("breakglass: unknown option '--jsn'");
  });
});

describe("the pinned signer from the command line", () => {
  it("accepts metadata signed by the pinned certificate and rejects the same document with another signer pinned", async () => {
    const { signDocument } = await import("../support/metadata-builder.js");
    const signing = makeCertificate({ notAfter: new Date(Date.parse(NOW) + 400 * DAY) });
    const other = makeCertificate(
      { commonName: "someone else" },
      (await import("../support/certificates.js")).freshKeyPair(),
    );
    const document = writeTemp(
      "signed.xml",
      signDocument(
        entityXml({ id: "_s", keys: [{ base64: signing.base64, use: "signing" }] }),
        signing.privateKeyPem,
        signing.base64,
        "_s",
      ),
    );
    const good = await cli([
      "metadata",
      "inspect",
      document,
      "--now",
      NOW,
      "--json",
      "--metadata-signer",
      writeTemp("signer.pem", signing.pem),
    ]);
    expect(JSON.parse(good.stdout).entities[0].signature).toMatchObject({ present: true, valid: true });
    expect(good.code).toBe(0);
    const bad = await cli([
      "metadata",
      "inspect",
      document,
      "--now",
      NOW,
      "--json",
      "--metadata-signer",
      writeTemp("other.pem", other.pem),
    ]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).findings[0].code).toBe("METADATA_SIGNATURE_INVALID");
  });
});

describe("--max-signed-elements", () => {
  it("reports a signature xml-crypto would check (inclusive C14N) over the bound as not verified, with its own finding, never as invalid", async () => {
    const { signDocument } = await import("../support/metadata-builder.js");
    const signing = makeCertificate({ notAfter: new Date(Date.parse(NOW) + 400 * DAY) });
    const document = writeTemp(
      "signed.xml",
      signDocument(
        entityXml({ id: "_s", keys: [{ base64: signing.base64, use: "signing" }] }),
        signing.privateKeyPem,
        signing.base64,
        "_s",
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
      ),
    );
    const json = await cli(["metadata", "inspect", document, "--now", NOW, "--json", "--max-signed-elements", "5"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).findings.map((finding: { code: string }) => finding.code)).toEqual([
      "METADATA_SIGNATURE_TOO_COMPLEX",
    ]);
    const text = await cli(["metadata", "inspect", document, "--now", NOW, "--max-signed-elements", "5"]);
    expect(text.stdout).toMatch(
      /NOT VERIFIED — not verified: the document has \d+ elements, over the 5 bound for signature verification/,
    );
    expect(text.stdout).not.toContain("INVALID");
    expect((await cli(["metadata", "inspect", document, "--now", NOW, "--json"])).code).toBe(0);
  });

  it("does not hold back the enveloped exclusive-C14N profile, which is verified in one linear pass", async () => {
    const { signDocument } = await import("../support/metadata-builder.js");
    const signing = makeCertificate({ notAfter: new Date(Date.parse(NOW) + 400 * DAY) });
    const document = writeTemp(
      "signed-exclusive.xml",
      signDocument(
        entityXml({ id: "_s", keys: [{ base64: signing.base64, use: "signing" }] }),
        signing.privateKeyPem,
        signing.base64,
        "_s",
      ),
    );
    const json = await cli(["metadata", "inspect", document, "--now", NOW, "--json", "--max-signed-elements", "5"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).entities[0].signature).toMatchObject({ present: true, valid: true });
  });
});

describe("the installed command", () => {
  it("runs from bin/breakglass.js and prints no stack trace on bad input", async () => {
    const bin = new URL("../../bin/breakglass.js", import.meta.url).pathname;
    const ok = await run(process.execPath, [
      bin,
      "metadata",
      "inspect",
      corpusPath("okta-aws-iam-identity-center.xml"),
      "--json",
      "--now",
      NOW,
    ]);
    expect(JSON.parse(ok.stdout).entities[0].entityID).toMatch(/^http/);
    const failure = await run(process.execPath, [bin, "metadata", "inspect", writeTemp("empty.xml", "")]).catch(
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 2, stdout: "" });
    expect(failure.stderr.trim().split("\n")).toHaveLength(1);
    expect(failure.stderr).toMatch(/^breakglass: .*empty\.xml: the document is empty\n$/);
  });
});

describe("usage", () => {
  it("prints help and exits 0 for --help, but exits 2 when a subcommand is missing", async () => {
    expect((await cli(["--help"])).code).toBe(0);
    expect((await cli(["--version"])).code).toBe(0);
    const missing = await cli(["metadata"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("inspect");
  });
});
