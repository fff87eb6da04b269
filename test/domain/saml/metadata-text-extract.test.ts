// The one-pass extractor against the fast-xml-parser tree it replaces: identical facts on every document it reads,
// and every document the tree path refuses handed back to it (undefined), never read differently.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BreakglassError } from "../../../src/domain/errors.js";
import {
  canonicalizeExclusive,
  ROOT_NAMESPACE_SCOPE,
  writeExclusiveCanonicalization,
} from "../../../src/domain/saml/exclusive-canonicalization.js";
import { extractMetadata, type RawMetadata } from "../../../src/domain/saml/metadata-extract.js";
import { extractMetadataFromText, MetadataTextReader } from "../../../src/domain/saml/metadata-text-extract.js";
import { parseXmlDocument } from "../../../src/domain/saml/xml-document.js";
import { assertSafeXml } from "../../../src/domain/saml/xml-safety.js";
import { decodeXmlBytes } from "../../../src/domain/saml/xml-text.js";
import { entity, generateCertificates } from "../../../bench/generate-aggregate.js";
import { mutationArbitrary } from "../../support/byte-mutations.js";
import { mutatedDocument, passesSafetyScan } from "../../support/safe-mutations.js";
import { extractMetadataFromText as oracleExtract } from "../../support/metadata-text-extract-oracle.js";
import { readCorpusFile, readManifest } from "../../support/corpus.js";
import { aggregateXml, entityXml } from "../../support/metadata-builder.js";

const MD = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS = "http://www.w3.org/2000/09/xmldsig#";
const XSI = "http://www.w3.org/2001/XMLSchema-instance";

/** The tree path's facts, or the BreakglassError it throws. */
function treeFacts(text: string): RawMetadata | BreakglassError {
  try {
    return extractMetadata(parseXmlDocument(text, "doc.xml"), "doc.xml");
  } catch (error) {
    if (error instanceof BreakglassError) return error;
    throw error;
  }
}

/**
 * What the tree path reads, the one pass reads too; what the tree path refuses, the one pass hands back. And it reads
 * exactly what the one pass it replaced read (kept in test/support as the oracle), handing back the same documents.
 */
function expectAgreement(text: string): RawMetadata | undefined {
  const expected = treeFacts(text);
  const actual = extractMetadataFromText(text);
  expect(actual).toEqual(oracleExtract(text));
  if (expected instanceof BreakglassError) expect(actual).toBeUndefined();
  else if (actual !== undefined) expect(actual).toEqual(expected);
  return actual;
}

/** The exclusive canonical form of the whole document element, as the fast path hands its signed bytes on. */
function canonicalRoot(text: string): string | undefined {
  const start = text.search(/<(?![?!])/);
  return canonicalizeExclusive(text, start, text.lastIndexOf(">") + 1, ROOT_NAMESPACE_SCOPE);
}

const corpus = readManifest()
  .filter((document) => document.wellFormed)
  .map((document) => ({ file: document.file, text: decodeXmlBytes(readCorpusFile(document.file), document.file) }));

describe("facts read in one pass are the tree's facts", () => {
  it.each(corpus.map((document) => [document.file, document.text] as const))(
    "reads %s exactly as the tree does, and its canonical signed bytes too",
    (_file, text) => {
      expect(expectAgreement(text)).toBeDefined();
      const canonical = canonicalRoot(text);
      if (canonical !== undefined) expect(expectAgreement(canonical)).toBeDefined();
    },
  );

  it.each(corpus.map((document) => [document.file, document.text] as const))(
    "reads %s's canonical form piece by piece, as the signature check writes it, exactly as whole",
    (_file, text) => {
      const start = text.search(/<(?![?!])/);
      const reader = new MetadataTextReader();
      let pieces = 0;
      const written = writeExclusiveCanonicalization(
        text,
        start,
        text.lastIndexOf(">") + 1,
        ROOT_NAMESPACE_SCOPE,
        {},
        (piece) => {
          pieces++;
          reader.read(piece);
        },
      );
      if (!written) return;
      const whole = extractMetadataFromText(canonicalRoot(text) ?? "");
      expect(reader.finish()).toEqual(whole);
      expect(pieces).toBeGreaterThan(0);
      // Short documents come in one piece: cut before every tag as well, the smallest pieces the writer may hand on.
      const tagByTag = new MetadataTextReader();
      for (const piece of (canonicalRoot(text) ?? "").split(/(?=<)/)) tagByTag.read(piece);
      expect(tagByTag.finish()).toEqual(whole);
    },
  );

  it("reads a signed element longer than one piece, handed on in several, exactly as whole", () => {
    const certificates = [...generateCertificates(40)];
    const text =
      `<md:EntitiesDescriptor xmlns:md="${MD}" xmlns:ds="${DS}">` +
      certificates.map((certificate, index) => entity(index, certificate)).join("") +
      "</md:EntitiesDescriptor>";
    const reader = new MetadataTextReader();
    const pieces: string[] = [];
    const written = writeExclusiveCanonicalization(text, 0, text.length, ROOT_NAMESPACE_SCOPE, {}, (piece) => {
      pieces.push(piece);
      reader.read(piece);
    });
    expect(written).toBe(true);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join("")).toBe(canonicalRoot(text));
    expect(reader.finish()?.entities).toHaveLength(40);
    expect(reader.finish()).toEqual(extractMetadataFromText(pieces.join("")));
  });

  it("reads a generated federation aggregate (the bench's entities) exactly as the tree does", () => {
    const certificates = [...generateCertificates(3)];
    const text =
      `<?xml version="1.0"?>\n<md:EntitiesDescriptor xmlns:md="${MD}" xmlns:ds="${DS}" validUntil="2099-01-01T00:00:00Z">\n` +
      certificates.map((certificate, index) => entity(index, certificate)).join("") +
      "</md:EntitiesDescriptor>\n";
    const facts = expectAgreement(text);
    expect(facts?.entities).toHaveLength(3);
    expect(facts?.entities[2]?.nameIDFormats).toHaveLength(2);
    expect(expectAgreement(canonicalRoot(text) ?? "")).toBeDefined();
  });

  const key = { base64: "MIIBxTCCAW+gAwIBAgIJAL" };
  const documents: Record<string, string> = {
    "a single entity": entityXml({ keys: [key, { ...key, use: "encryption" }] }),
    "an aggregate with nested aggregates and inherited validity": aggregateXml(
      [
        entityXml({ entityID: "https://a.test" }, false),
        `<md:EntitiesDescriptor validUntil="2030-01-01T00:00:00Z">${entityXml({ entityID: "https://b.test", validUntil: "2029-01-01T00:00:00Z" }, false)}` +
          `<md:EntitiesDescriptor>${entityXml({ entityID: "https://c.test", role: "sp" }, false)}</md:EntitiesDescriptor></md:EntitiesDescriptor>`,
      ],
      ' validUntil="2031-01-01T00:00:00Z" cacheDuration="PT6H"',
    ),
    "attribute values with spaces, tabs, CR LF and references": entityXml({
      entityID: "  https://idp.example.test/?a=1&amp;b=&#x32;&#51;&lt;&gt;&quot;&apos; \t",
      ssoLocations: ["https://idp.example.test/sso?x=1&amp;y=2\r\n", "&#x1F600;&#128512;"],
    }),
    "a reference longer than the parser's window": entityXml({ entityID: "x&#00000000000000000000000000000000065;y" }),
    "text split by comments, with CR LF and references": `<md:EntityDescriptor xmlns:md="${MD}" xmlns:ds="${DS}" entityID="e"><md:IDPSSODescriptor>
      <md:NameIDFormat> urn:a<!-- c -->:b&amp;c&#x20;d\r\n </md:NameIDFormat><md:NameIDFormat><!-- only a comment --></md:NameIDFormat><md:NameIDFormat/>
      <md:KeyDescriptor><ds:KeyInfo><ds:X509Data>
      <ds:X509Certificate>\r\n AAAA<!-- x -->BBBB&#10;CC==\r\n</ds:X509Certificate><ds:X509Certificate/>
      </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    </md:IDPSSODescriptor></md:EntityDescriptor>`,
    "CDATA and a processing instruction in text":
      `<md:EntityDescriptor xmlns:md="${MD}" entityID="e"><md:IDPSSODescriptor><md:NameIDFormat>` +
      `<![CDATA[a&amp;]]><?pi x?></md:NameIDFormat></md:IDPSSODescriptor></md:EntityDescriptor>`,
    "CDATA and processing instructions elsewhere":
      `<?xml version="1.0"?><?pi before?><md:EntityDescriptor xmlns:md="${MD}" entityID="e"><md:Extensions>` +
      `<x><![CDATA[<md:IDPSSODescriptor>]]></x><?pi inside?></md:Extensions></md:EntityDescriptor>` +
      `<!-- after -->`,
    "an element inside text that is read":
      `<md:EntityDescriptor xmlns:md="${MD}" entityID="e"><md:IDPSSODescriptor>` +
      `<md:NameIDFormat>a<b>c</b>d</md:NameIDFormat></md:IDPSSODescriptor></md:EntityDescriptor>`,
    "default and redeclared namespaces":
      `<EntitiesDescriptor xmlns="${MD}"><EntityDescriptor entityID="one">` +
      `<IDPSSODescriptor xmlns:md="urn:other"><md:KeyDescriptor/>` +
      `<SingleSignOnService Binding="b" Location="l"/></IDPSSODescriptor></EntityDescriptor>` +
      `<x:EntityDescriptor xmlns:x="${MD}" xmlns="urn:elsewhere" entityID="two"><IDPSSODescriptor/><x:SPSSODescriptor/></x:EntityDescriptor>` +
      `<EntityDescriptor xmlns="" entityID="three"/></EntitiesDescriptor>`,
    "role descriptors with and without xsi:type":
      `<md:EntityDescriptor xmlns:md="${MD}" entityID="e">` +
      `<md:RoleDescriptor xmlns:xsi="${XSI}" xmlns:fed="urn:fed" xsi:type="fed:SecurityTokenServiceType" validUntil="2030-01-01T00:00:00Z"/>` +
      `<md:RoleDescriptor xmlns:t="urn:not-xsi" t:type="x"/><md:AuthnAuthorityDescriptor/>` +
      `<md:PDPDescriptor/><md:AttributeAuthorityDescriptor/></md:EntityDescriptor>`,
    "signatures at the root, on entities, and deeper":
      `<md:EntitiesDescriptor xmlns:md="${MD}" xmlns:ds="${DS}"><ds:Signature/>` +
      `<md:EntityDescriptor entityID="a"><ds:Signature/></md:EntityDescriptor>` +
      `<md:EntityDescriptor entityID="b"><md:Extensions><ds:Signature/></md:Extensions></md:EntityDescriptor></md:EntitiesDescriptor>`,
    "a signed single entity": `<md:EntityDescriptor xmlns:md="${MD}" xmlns:ds="${DS}" entityID="a"><ds:Signature/></md:EntityDescriptor>`,
    // An undeclared prefix, on a visited element or deep in an extension, never gets here: the safety scan refuses it.
    "an entity without entityID": aggregateXml([`<md:EntityDescriptor entityID=" "/>`]),
    "a root that is not metadata": `<md:Other xmlns:md="${MD}"/>`,
    "a root in another namespace": `<EntityDescriptor xmlns="urn:not-saml" entityID="e"/>`,
    "an attribute named like an object property":
      `<md:EntityDescriptor xmlns:md="${MD}" entityID="e"><md:Extensions><x constructor="1"/>` +
      `</md:Extensions></md:EntityDescriptor>`,
    // An empty prefixed declaration (xmlns:e="") never gets here: the safety scan refuses it (Namespaces in XML 1.0).
    "attributes spaced by tabs and line ends around =":
      `<md:EntityDescriptor\txmlns:md="${MD}"\r\n entityID \t=\n "e" validUntil=\t'2030-01-01T00:00:00Z'\n>` +
      `<md:IDPSSODescriptor><md:SingleSignOnService\nBinding = "b"\tLocation="l&#x41;" /></md:IDPSSODescriptor></md:EntityDescriptor>`,
    "non-ASCII names and values, and a name holding U+FEFF":
      `<md:EntityDescriptor xmlns:md="${MD}" xmlns:ü="urn:ü" entityID="é😀"><md:IDPSSODescriptor ü:a="ä">` +
      `<ü:Thing\uFEFFx b="1"/><md:SingleSignOnService Binding="ß" Location="€"/></md:IDPSSODescriptor></md:EntityDescriptor>`,
    "single-quoted attributes": `<md:EntityDescriptor xmlns:md='${MD}' entityID='it&apos;s "quoted"' validUntil = '2030-01-01T00:00:00Z'/>`,
  };

  it.each(Object.entries(documents))("agrees with the tree on %s", (_name, text) => {
    assertSafeXml(text, "doc.xml");
    expectAgreement(text);
  });

  it("reads the ordinary documents itself instead of handing them back", () => {
    for (const name of [
      "a single entity",
      "an aggregate with nested aggregates and inherited validity",
      "attribute values with spaces, tabs, CR LF and references",
      "text split by comments, with CR LF and references",
      "CDATA and processing instructions elsewhere",
      "default and redeclared namespaces",
      "role descriptors with and without xsi:type",
      "signatures at the root, on entities, and deeper",
    ]) {
      expect(extractMetadataFromText(documents[name] ?? ""), name).toBeDefined();
    }
  });
});

const fragment = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom(
    "<!-- c -->",
    "<![CDATA[x]]>",
    "&amp;",
    "&#x41;",
    "&#10;",
    "\r\n",
    ' xmlns:md="urn:other"',
    ' xmlns="urn:oasis:names:tc:SAML:2.0:metadata"',
    "<ds:Signature/>",
    "<md:EntityDescriptor entityID='x'/>",
    "<md:IDPSSODescriptor>",
    "</md:IDPSSODescriptor>",
    "<md:NameIDFormat>n</md:NameIDFormat>",
    '<md:KeyDescriptor use="signing">',
    "<?pi x?>",
  ),
);

const mutation = mutationArbitrary({
  fragment,
  flip: { min: 0x20, max: 0x7e },
  truncate: false,
  maxDelete: 60,
  maxDuplicate: 400,
});

describe("mutated real documents", () => {
  const small = corpus.filter((document) => document.text.length < 40_000).map((document) => document.text);

  it("are read identically, or handed back to the tree, whenever they pass the safety scan", () => {
    let compared = 0;
    fc.assert(
      fc.property(mutatedDocument(small, mutation, 3), ({ text }) => {
        if (!passesSafetyScan(text)) return;
        compared++;
        expectAgreement(text);
      }),
      { numRuns: 1500 },
    );
    expect(compared).toBeGreaterThan(100);
  });
});

/** The reader fed `text` cut before the tags at the given indices (modulo the tag count): as the writer hands it on. */
function readInPieces(text: string, cuts: readonly number[]): RawMetadata | undefined {
  const tags = text.split(/(?=<)/);
  const at = new Set(cuts.map((cut) => cut % Math.max(tags.length, 1)));
  const reader = new MetadataTextReader();
  let piece = "";
  tags.forEach((tag, index) => {
    if (at.has(index) && piece !== "") {
      reader.read(piece);
      piece = "";
    }
    piece += tag;
  });
  reader.read(piece);
  return reader.finish();
}

describe("canonical forms, read whole and in pieces as the signature check hands them on", () => {
  const small = corpus.filter((document) => document.text.length < 40_000).map((document) => document.text);

  it("read mutated real documents' canonical forms, whole and in pieces, exactly as the reader before them", () => {
    let compared = 0;
    fc.assert(
      fc.property(mutatedDocument(small, mutation, 3), fc.array(fc.nat(), { maxLength: 6 }), ({ text }, cuts) => {
        if (!passesSafetyScan(text)) return;
        const canonical = canonicalRoot(text);
        if (canonical === undefined) return;
        compared++;
        const expected = oracleExtract(canonical);
        expect(extractMetadataFromText(canonical)).toEqual(expected);
        expect(readInPieces(canonical, cuts)).toEqual(expected);
      }),
      { numRuns: 800 },
    );
    expect(compared).toBeGreaterThan(100);
  });

  // Names and values at the edges of the canonical form (values holding ">", "/", references; odd names and prefixes).
  const name = fc.constantFrom(
    "md:X",
    "x",
    "_a.b-c1",
    "md:Key.Descriptor",
    "a:b:c",
    ":x",
    "1x",
    "md:",
    "é:x",
    "x\u00a0y",
  );
  const value = fc.constantFrom(
    "",
    "v",
    "a>b",
    "a/",
    "&amp;&lt;&quot;",
    "&#xD;&#xA;&#x9;",
    "it's",
    " x ",
    "é😀",
    "&#65;=",
  );
  const attributeName = fc.constantFrom(
    "a",
    "Binding",
    "Location",
    "use",
    "validUntil",
    "x:y",
    "a.b-c",
    "xmlns:q",
    "é",
  );
  const attributes = fc
    .uniqueArray(fc.tuple(attributeName, value), { maxLength: 3, selector: ([key]) => key })
    .map((list) => list.map(([key, text]) => ` ${key}="${text}"`).join(""));
  const element = fc.tuple(name, attributes).map(([tag, list]) => `<${tag}${list}></${tag}>`);
  const role = fc
    .tuple(attributes, fc.array(element, { maxLength: 3 }), attributes, attributes)
    .map(
      ([roleAttributes, children, ssoAttributes, keyAttributes]) =>
        `<md:IDPSSODescriptor${roleAttributes}>${children.join("")}` +
        `<md:SingleSignOnService${ssoAttributes}></md:SingleSignOnService>` +
        `<md:KeyDescriptor${keyAttributes}><ds:KeyInfo xmlns:ds="${DS}"><ds:X509Data><ds:X509Certificate>QUJD` +
        `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor></md:IDPSSODescriptor>`,
    );

  it("read generated tags of every shape near the canonical form exactly as the reader before them", () => {
    fc.assert(
      fc.property(
        fc.array(role, { minLength: 1, maxLength: 3 }),
        value,
        fc.array(fc.nat(), { maxLength: 4 }),
        (roles, id, cuts) => {
          const text =
            `<md:EntitiesDescriptor xmlns:md="${MD}"><md:EntityDescriptor entityID="e${id}">` +
            `${roles.join("")}</md:EntityDescriptor></md:EntitiesDescriptor>`;
          const expected = oracleExtract(text);
          expect(extractMetadataFromText(text)).toEqual(expected);
          expect(readInPieces(text, cuts)).toEqual(expected);
        },
      ),
      { numRuns: 600 },
    );
  });

  it("reads the attributes of a canonical SingleSignOnService and KeyDescriptor, decoded", () => {
    const text =
      `<md:EntityDescriptor xmlns:md="${MD}" entityID="e"><md:IDPSSODescriptor>` +
      `<md:SingleSignOnService Binding="b&amp;c" Location="https://x.test/a>b?c=&quot;d&quot;&#xD;"></md:SingleSignOnService>` +
      `</md:IDPSSODescriptor></md:EntityDescriptor>`;
    expect(extractMetadataFromText(text)?.entities[0]?.ssoServices).toEqual([
      { binding: "b&c", location: 'https://x.test/a>b?c="d"\r' },
    ]);
  });
});
