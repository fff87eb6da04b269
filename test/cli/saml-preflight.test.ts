// `breakglass saml preflight --provider-metadata`: responses a real IdP library signs, judged offline as AWS would.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { freshKeyPair, makeCertificate } from "../support/certificates.js";
import { createSamlIdp, formPostBody, serveSamlIdp, type ResponseSpec } from "../support/saml-idp.js";

const ISSUED = new Date("2026-11-24T12:00:00Z");
const JUDGED = "2026-11-24T12:01:00Z";
const ROLE = "arn:aws:iam::111111111111:role/EmergencyAdmin";
const PROVIDER = "arn:aws:iam::111111111111:saml-provider/EmergencyIdP";
const idp = createSamlIdp();
const directory = mkdtempSync(join(tmpdir(), "breakglass-preflight-"));
const metadataPath = join(directory, "provider-metadata.xml");
writeFileSync(metadataPath, idp.metadata);

const good: ResponseSpec = { issuedAt: ISSUED, roles: [`${ROLE},${PROVIDER}`], sessionDuration: "3600" };

interface Report {
  accepted: boolean;
  findings: { code: string; message: string; remedy: string }[];
  skipped: string[];
  facts: Record<string, unknown> & { roles: { roleArn: string | null; accepted: boolean }[] };
}

async function cli(args: string[], stdin?: string) {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    stdoutIsTty: false,
    env: {},
    clock: fixedClock(new Date(JUDGED)),
    readStdin: () => Promise.resolve(Buffer.from(stdin ?? "")),
  });
  return { code, stdout, stderr };
}

function write(name: string, content: string): string {
  const path = join(directory, name);
  writeFileSync(path, content);
  return path;
}

async function preflight(content: string, ...extra: string[]): Promise<Report & { code: number }> {
  const path = write(`response-${Math.random().toString(36).slice(2)}.txt`, content);
  const { code, stdout, stderr } = await cli([
    "saml",
    "preflight",
    path,
    "--provider-metadata",
    metadataPath,
    "--json",
    ...extra,
  ]);
  expect(stderr).toBe("");
  return { code, ...(JSON.parse(stdout) as Report) };
}

const codes = (report: Report) => report.findings.map((finding) => finding.code).sort();

describe("a good response", () => {
  it("is accepted as base64, with the facts read from the signed assertion and the AWS checks listed as skipped", async () => {
    const { base64 } = await idp.respond(good);
    const report = await preflight(base64);
    expect(report.code).toBe(0);
    expect(report.accepted).toBe(true);
    expect(report.findings).toEqual([]);
    expect(report.facts).toMatchObject({
      form: "base64",
      signedElement: "Assertion",
      signingCertificateSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      verified: true,
      issuer: idp.entityId,
      nameId: "alice@example.test",
      audiences: ["https://signin.aws.amazon.com/saml"],
      recipient: "https://signin.aws.amazon.com/saml",
      sessionName: "alice@example.test",
      sessionDuration: 3600,
      roles: [{ roleArn: ROLE, providerArn: PROVIDER, accepted: true, findings: [] }],
    });
    expect(report.skipped.join("\n")).toMatch(/role trust.*--provider-metadata/);
  });

  it("is accepted as raw XML, from standard input, and signed on the Response instead of the Assertion", async () => {
    const { xml } = await idp.respond({ ...good, sign: "response" });
    const { code, stdout } = await cli(["saml", "preflight", "-", "--provider-metadata", metadataPath, "--json"], xml);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ accepted: true, facts: { form: "xml", signedElement: "Response" } });
  });

  it("is accepted as the URL-encoded form body a SAML tracer shows, fetched from the IdP on loopback", async () => {
    const server = await serveSamlIdp(idp, () => ({ ...good, sign: "both" }));
    try {
      const html = await (await fetch(server.url)).text();
      const report = await preflight(formPostBody(html));
      expect(report.code).toBe(0);
      expect(report.facts).toMatchObject({ form: "url-encoded-base64", signedElement: "Response and Assertion" });
    } finally {
      await server.stop();
    }
  });

  it("prints a readable report that says what was not checked and that AWS would accept it", async () => {
    const { base64 } = await idp.respond(good);
    const path = write("good.b64", base64);
    const { code, stdout } = await cli(["saml", "preflight", path, "--provider-metadata", metadataPath]);
    expect(code).toBe(0);
    expect(stdout).toContain(`issuer           ${idp.entityId}`);
    expect(stdout).toContain("valid — the Assertion is signed by sha256");
    expect(stdout).toContain("clock skew allowed: 300 s");
    expect(stdout).toContain("Not checked");
    expect(stdout).toContain(`AWS would accept this response for ${ROLE}.`);
  });
});

describe("a response AWS would refuse", () => {
  it("signed by a key the provider does not hold is SIGNER_UNKNOWN, naming the IdP's certificate", async () => {
    const impostor = createSamlIdp({
      entityId: idp.entityId,
      certificate: makeCertificate({ commonName: "rotated key" }, freshKeyPair()),
    });
    const report = await preflight((await impostor.respond(good)).base64);
    expect(report.code).toBe(1);
    expect(codes(report)).toEqual(["SAML_RESPONSE_SIGNER_UNKNOWN"]);
    expect(report.findings[0]?.remedy).toMatch(/UpdateSAMLProvider/);
    expect(report.facts.verified).toBe(false);
  });

  it("expired beyond the clock skew is EXPIRED; within the skew it is still accepted", async () => {
    const { base64 } = await idp.respond(good);
    const late = await preflight(base64, "--now", "2026-11-24T12:10:01Z");
    expect(codes(late)).toEqual(["SAML_RESPONSE_EXPIRED", "SAML_RESPONSE_EXPIRED"]);
    expect(late.findings[0]?.message).toContain("more than 300 s before 2026-11-24T12:10:01.000Z");
    expect((await preflight(base64, "--now", "2026-11-24T12:09:59Z")).accepted).toBe(true);
  });

  it("issued by a clock more than the skew ahead is NOT_YET_VALID", async () => {
    const { base64 } = await idp.respond({ ...good, issuedAt: new Date("2026-11-24T12:10:00Z") });
    expect(codes(await preflight(base64, "--now", "2026-11-24T12:04:00Z"))).toEqual(["SAML_RESPONSE_NOT_YET_VALID"]);
  });

  it("for another service provider is AUDIENCE_WRONG; sent to another ACS is RECIPIENT_WRONG", async () => {
    const audience = await preflight(
      (await idp.respond({ ...good, audience: "https://app.example.test/saml" })).base64,
    );
    expect(codes(audience)).toEqual(["SAML_RESPONSE_AUDIENCE_WRONG"]);
    expect(audience.findings[0]?.message).toContain('"https://app.example.test/saml"');
    const recipient = await preflight(
      (await idp.respond({ ...good, recipient: "https://app.example.test/acs" })).base64,
    );
    expect(codes(recipient)).toEqual(["SAML_RESPONSE_RECIPIENT_WRONG", "SAML_RESPONSE_RECIPIENT_WRONG"]);
  });

  it("accepts a regional sign-in endpoint and AWS's entity ID as the audience", async () => {
    const regional = "https://eu-west-1.signin.aws.amazon.com/saml";
    const { base64 } = await idp.respond({ ...good, recipient: regional, audience: "urn:amazon:webservices" });
    expect((await preflight(base64)).accepted).toBe(true);
  });

  it("without the Role attribute is ROLE_MISSING; a value that is not two ARNs is ROLE_INVALID", async () => {
    expect(codes(await preflight((await idp.respond({ ...good, roles: [] })).base64))).toEqual([
      "SAML_RESPONSE_ROLE_MISSING",
    ]);
    expect(codes(await preflight((await idp.respond({ ...good, roles: ["EmergencyAdmin"] })).base64))).toEqual([
      "SAML_RESPONSE_ROLE_INVALID",
    ]);
  });

  it("takes the Role value in either order, and with --role judges only that one", async () => {
    const other = "arn:aws:iam::111111111111:role/ReadOnly";
    const { base64 } = await idp.respond({ ...good, roles: [`${PROVIDER},${ROLE}`, "not-a-role"] });
    const all = await preflight(base64);
    expect(all.accepted).toBe(true); // one usable role is enough for the console's role picker
    expect(all.facts.roles.map((role) => role.accepted)).toEqual([true, false]);
    expect((await preflight(base64, "--role", ROLE)).facts.roles).toHaveLength(1);
    const missing = await preflight(base64, "--role", other);
    expect(codes(missing)).toEqual(["SAML_RESPONSE_ROLE_MISSING"]);
    expect(missing.findings[0]?.message).toContain(other);
  });

  it("with a bad or missing session name is SESSION_NAME_INVALID", async () => {
    const spaced = await preflight((await idp.respond({ ...good, sessionName: "alice smith" })).base64);
    expect(codes(spaced)).toEqual(["SAML_RESPONSE_SESSION_NAME_INVALID"]);
    expect(spaced.findings[0]?.message).toContain('"alice smith"');
    expect(codes(await preflight((await idp.respond({ ...good, sessionName: null })).base64))).toEqual([
      "SAML_RESPONSE_SESSION_NAME_INVALID",
    ]);
  });

  it("asking for a session longer than AWS allows is DURATION_INVALID even offline", async () => {
    const report = await preflight((await idp.respond({ ...good, sessionDuration: "86400" })).base64);
    expect(codes(report)).toEqual(["SAML_RESPONSE_DURATION_INVALID"]);
  });
});

describe("signature wrapping", () => {
  it("a second, unsigned assertion beside the signed one is refused as WRAPPED and no fact is trusted", async () => {
    const { xml } = await idp.respond(good);
    const assertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(xml)?.[0] ?? "";
    const forged = assertion
      .replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, "")
      .replace(/ID="[^"]+"/, 'ID="_forged"')
      .replace("alice@example.test</saml:NameID>", "mallory@example.test</saml:NameID>");
    const report = await preflight(xml.replace("<saml:Assertion", `${forged}<saml:Assertion`));
    expect(report.code).toBe(1);
    expect(codes(report)).toEqual(["SAML_RESPONSE_WRAPPED"]);
    expect(report.findings[0]?.message).toContain("2 Assertions");
    expect(report.facts.nameId).toBeNull();
  });

  it("the signed assertion moved into Extensions, a forged one in its place, is refused as WRAPPED", async () => {
    const { xml } = await idp.respond({ ...good, sign: "response" });
    const assertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(xml)?.[0] ?? "";
    const forged = assertion.replace("alice@example.test</saml:NameID>", "mallory@example.test</saml:NameID>");
    const moved = xml
      .replace(assertion, forged)
      .replace("<samlp:Status>", `<samlp:Extensions>${assertion}</samlp:Extensions><samlp:Status>`);
    expect(codes(await preflight(moved))).toEqual(["SAML_RESPONSE_WRAPPED"]);
  });

  it("a signed assertion edited after signing is SIGNATURE_INVALID (digest mismatch)", async () => {
    const { xml } = await idp.respond(good);
    const edited = xml.replace("alice@example.test</saml:NameID>", "mallory@example.test</saml:NameID>");
    const report = await preflight(edited);
    expect(codes(report)).toEqual(["SAML_RESPONSE_SIGNATURE_INVALID"]);
    expect(report.findings[0]?.message).toContain("digest mismatch");
  });

  it("an unsigned response is UNSIGNED", async () => {
    const { xml } = await idp.respond(good);
    expect(codes(await preflight(xml.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, "")))).toEqual([
      "SAML_RESPONSE_UNSIGNED",
    ]);
  });
});

describe("unusable input", () => {
  const unusable = async (content: string) => {
    const path = write(`bad-${Math.random().toString(36).slice(2)}.txt`, content);
    const result = await cli(["saml", "preflight", path, "--provider-metadata", metadataPath]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain(path);
    return result.stderr;
  };

  it("refuses a DTD with entities (billion laughs) before parsing, with exit 2 and one line", async () => {
    const { xml } = await idp.respond(good);
    const hostile = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>${xml}`;
    expect(await unusable(hostile)).toMatch(/DTD|DOCTYPE/i);
  });

  it("refuses text that is neither XML nor base64, and metadata pasted by mistake", async () => {
    expect(await unusable("hello, this is not a response")).toContain("neither XML nor base64");
    expect(await unusable(idp.metadata)).toContain("not samlp:Response");
  });

  it("says clearly that encrypted assertions are not supported", async () => {
    const { xml } = await idp.respond(good);
    const encrypted = xml.replace(
      /<saml:Assertion[\s\S]*<\/saml:Assertion>/,
      '<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"/></saml:EncryptedAssertion>',
    );
    expect(await unusable(encrypted)).toContain("EncryptedAssertion, which the preflight does not support");
  });

  it("names --role when it is not a role ARN", async () => {
    const { stderr, code } = await cli(["saml", "preflight", metadataPath, "--role", "admin"]);
    expect(code).toBe(2);
    expect(stderr).toContain("--role");
  });
});
