// The XML front door: what XML 1.0 calls not well-formed is refused with one line naming the input; CDATA is never markup; the scan's work is linear.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BreakglassError } from "../../../src/domain/errors.js";
import { inspectMetadataText } from "../../../src/domain/saml/inspect-metadata.js";
import { assertSafeXml } from "../../../src/domain/saml/xml-safety.js";
import type { ScanMeter } from "../../../src/domain/saml/xml-scanner.js";
import { entityXml } from "../../support/metadata-builder.js";

function refusal(text: string): BreakglassError {
  try {
    assertSafeXml(text, "strict.xml");
  } catch (error) {
    expect(error).toBeInstanceOf(BreakglassError);
    return error as BreakglassError;
  }
  throw new BreakglassError("INTERNAL", "strict.xml", "expected the input to be refused");
}

/** `text` is refused as malformed, at `where` ("line L, column C: why"). */
function expectMalformedAt(text: string, where: string): void {
  const error = refusal(text);
  expect(error.code).toBe("XML_MALFORMED");
  expect(error.message).toBe(`strict.xml: not well-formed XML at ${where}`);
}

describe("what XML 1.0 calls not well-formed is refused, naming the input and the place", () => {
  it.each([
    ["a NUL character", "<a>\u0000</a>", "line 1, column 4: the NUL character (U+0000) is not allowed in XML"],
    [
      "a control character in text",
      "<a>bell\u0007</a>",
      "line 1, column 8: the control character U+0007 is not allowed in XML",
    ],
    [
      "a control character in an attribute value",
      `<a b="\u001b"/>`,
      "line 1, column 7: the control character U+001B is not allowed in XML",
    ],
    [
      "U+FFFE, which is not an XML character",
      "<a>\ufffe</a>",
      "line 1, column 4: the character U+FFFE is not allowed in XML",
    ],
    ["an unpaired surrogate", "<a>\ud800x</a>", "line 1, column 4: an unpaired surrogate U+D800 is not allowed in XML"],
    [
      "'<' in an attribute value",
      `<a b="x<y"/>`,
      "line 1, column 8: '<' is not allowed in the value of attribute b (write &lt;)",
    ],
    [
      "']]>' in text",
      "<a>x]]>y</a>",
      "line 1, column 5: ']]>' is not allowed in text (it only ends a CDATA section; write ]]&gt;)",
    ],
    [
      "a character reference beyond Unicode",
      "<a>&#x110000;</a>",
      "line 1, column 4: the character reference &#x110000; is not an XML character",
    ],
    [
      "a character reference to NUL",
      "<a>&#0;</a>",
      "line 1, column 4: the character reference &#0; is not an XML character",
    ],
    [
      "a character reference to a surrogate",
      `<a b="&#xD800;"/>`,
      "line 1, column 7: the character reference &#xD800; is not an XML character",
    ],
    [
      "a character reference with a million digits",
      `<a>&#${"9".repeat(1_000_000)};</a>`,
      `line 1, column 4: the character reference &#${"9".repeat(14)}… is not an XML character`,
    ],
    [
      "a character reference written &#X",
      "<a>&#X41;</a>",
      "line 1, column 4: a malformed character reference (write &#digits; or &#xhex;, or &amp; for a literal &)",
    ],
    ["'--' inside a comment", "<a><!-- a -- b --></a>", "line 1, column 11: '--' is not allowed inside a comment"],
    ["a comment ending in '--->'", "<a><!-- a ---></a>", "line 1, column 11: '--' is not allowed inside a comment"],
    [
      "a second XML declaration mid-document",
      `<?xml version="1.0"?><a><?xml version="1.0"?></a>`,
      "line 1, column 25: an XML declaration (<?xml … ?>) is allowed only at the very start of the document",
    ],
    [
      "an XML declaration after whitespace",
      ` <?xml version="1.0"?><a/>`,
      "line 1, column 2: an XML declaration (<?xml … ?>) is allowed only at the very start of the document",
    ],
    [
      "an XML declaration without a version",
      `<?xml encoding="UTF-8"?><a/>`,
      "line 1, column 7: malformed XML declaration: version is missing",
    ],
    [
      "an XML declaration of version 2.0",
      `<?xml version="2.0"?><a/>`,
      `line 1, column 16: malformed XML declaration: version="2.0" is not allowed`,
    ],
    ["a duplicate attribute", `<a b="1" b="2"/>`, "line 1, column 10: attribute b appears twice in <a>"],
    [
      "attributes without whitespace between them",
      `<a b="1"c="2"/>`,
      "line 1, column 9: attributes of <a> must be separated by whitespace",
    ],
    ["an attribute without quotes", "<a b=1/>", "line 1, column 6: the value of attribute b of <a> must be in quotes"],
    ["an attribute without a value", "<a b/>", "line 1, column 5: attribute b of <a> has no value (expected =)"],
    ["mismatched tags", "<a><b></a></b>", "line 1, column 7: the end tag </a> does not match the start tag <b>"],
    ["two root elements", "<a/><b/>", "line 1, column 5: a second root element (a document has one root element)"],
    [
      "text after the root element",
      "<a/>tail",
      "line 1, column 5: text after the root element ends (a document has one root element)",
    ],
    [
      "a CDATA section outside the root element",
      "<a/><![CDATA[x]]>",
      "line 1, column 5: a CDATA section outside the root element",
    ],
    [
      "a '<' that starts no tag",
      "<a>1 < 2</a>",
      "line 1, column 6: '<' does not start a tag (write a literal < as &lt;)",
    ],
    [
      "'<!' that starts neither a comment nor CDATA",
      "<a><!x></a>",
      "line 1, column 6: '<!' starts neither a comment nor a CDATA section",
    ],
    [
      "a processing instruction named XML in another case",
      "<a><?XmL x?></a>",
      "line 1, column 4: an XML declaration (<?xml … ?>) is allowed only at the very start of the document",
    ],
    [
      "a document cut inside a comment",
      "<a><!-- no end",
      "line 1, column 4: the document ends inside a comment (truncated?)",
    ],
    [
      "a document cut inside a CDATA section",
      "<a><![CDATA[ no end",
      "line 1, column 4: the document ends inside a CDATA section (truncated?)",
    ],
    [
      "a document cut inside an attribute value",
      `<a b="no end`,
      "line 1, column 13: the document ends inside the value of attribute b (truncated?)",
    ],
    [
      "a document cut before its elements close",
      "<a>\n<b>\n<c/>",
      "line 3, column 5: the document ends before elements a, b are closed (truncated?)",
    ],
  ])("refuses %s", (_name, text, where) => expectMalformedAt(text, where));

  it("accepts what XML 1.0 allows: character references, tabs and newlines, astral characters, PIs, names beyond ASCII", () => {
    const text =
      `<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<?xml-stylesheet href="a.xsl"?>\n<!-- a - ` +
      `b -->\n<é:a xmlns:é="urn:x" b = '1 &amp; &#x1F600; &#9;' c="&quot;&lt;&gt;&apos;">\t😀 &#10; ]] > ` +
      `]><![CDATA[ ]] <b> & ]]><é:b/></é:a  >\n<!---->`;
    expect(() => assertSafeXml(text, "fine.xml")).not.toThrow();
  });
});

describe("what Namespaces in XML does not allow in names and declarations is refused, naming the rule", () => {
  const XML = "http://www.w3.org/XML/1998/namespace";
  const colon = "has a colon out of place (Namespaces in XML allow one, between a prefix and a local name)";
  it.each([
    ["an element name that starts with a colon", `<:a/>`, `line 1, column 2: the element name :a ${colon}`],
    [
      "an element name that ends with a colon",
      `<r>\n  <a: b="1"/></r>`,
      `line 2, column 4: the element name a: ${colon}`,
    ],
    [
      "an element name with two colons",
      `<p:a:b xmlns:p="urn:p"/>`,
      `line 1, column 2: the element name p:a:b ${colon}`,
    ],
    [
      "an attribute name with two colons",
      `<a p:b:c="1"/>`,
      `line 1, column 4: the attribute name p:b:c of <a> ${colon}`,
    ],
    [
      "a declaration of the empty prefix",
      `<a xmlns="urn:a" xmlns:="urn:b"/>`,
      `line 1, column 18: the attribute name xmlns: of <a> ${colon}`,
    ],
    [
      "a prefix undeclared",
      `<p:a xmlns:p="urn:p"><p:b xmlns:p=""/></p:a>`,
      `line 1, column 27: xmlns:p="" undeclares a prefix, which Namespaces in XML 1.0 does not allow`,
    ],
    [
      "the prefix xmlns declared",
      `<a xmlns:xmlns="urn:x"/>`,
      "line 1, column 4: the prefix xmlns is reserved and cannot be declared",
    ],
    [
      "the prefix xml bound elsewhere",
      `<a xmlns:xml="urn:x"/>`,
      `line 1, column 4: the prefix xml cannot be bound to a namespace other than ${XML}`,
    ],
    [
      "the XML namespace bound to another prefix, written with a character reference",
      `<a xmlns:x="&#x68;ttp://www.w3.org/XML/1998/namespace"/>`,
      `line 1, column 4: xmlns:x cannot be bound to ${XML}, which belongs to the prefix xml`,
    ],
    [
      "the XML namespace as the default",
      `<a xmlns='${XML}'/>`,
      `line 1, column 4: xmlns cannot be bound to ${XML}, which belongs to the prefix xml`,
    ],
    [
      "the xmlns namespace declared",
      `<a xmlns:x="http://www.w3.org/2000/xmlns/"/>`,
      "line 1, column 4: xmlns:x cannot be bound to http://www.w3.org/2000/xmlns/, which is reserved",
    ],
  ])("refuses %s", (_name, text, where) => expectMalformedAt(text, where));

  it("accepts the xml prefix bound to its own namespace, names that only start with xmlns, and one colon per name", () => {
    const text = `<p:a xmlns:p="urn:p" xmlns:xml="${XML}" xmlnsx="1" p:b="2" xml:lang="en"><p:c xmlns:p="urn:q"/></p:a>`;
    expect(() => assertSafeXml(text, "fine.xml")).not.toThrow();
  });

  it("gives metadata declaring the default namespace twice a clear error instead of failing inside a reader", () => {
    const text =
      `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns="urn:a" xmlns:="urn:b" ` +
      `entityID="https://idp.example.com"/>`;
    expect(() => inspectMetadataText(text, "idp.xml")).toThrow(
      new BreakglassError(
        "XML_MALFORMED",
        "idp.xml",
        `not well-formed XML at line 1, column 84: the attribute name xmlns: of <md:EntityDescriptor> ${colon}`,
      ),
    );
  });
});

describe("a prefix must be declared where it is used, and an attribute is written once by namespace and local name", () => {
  it.each([
    [
      "an element prefix nothing declares",
      `<p:a xmlns:p="urn:p">\n  <q:b/></p:a>`,
      "line 2, column 4: the element <q:b> uses the undeclared namespace prefix q",
    ],
    [
      "an element prefix declared only on a sibling that has ended",
      `<a><b xmlns:p="urn:p"></b><p:c/></a>`,
      "line 1, column 28: the element <p:c> uses the undeclared namespace prefix p",
    ],
    [
      "an element prefix whose declaration ended after a child used it",
      `<a><b xmlns:p="urn:p"><p:c/></b><p:d/></a>`,
      "line 1, column 34: the element <p:d> uses the undeclared namespace prefix p",
    ],
    [
      "an element prefix declared only on a self-closing sibling",
      `<a><b xmlns:p="urn:p"/><p:c/></a>`,
      "line 1, column 25: the element <p:c> uses the undeclared namespace prefix p",
    ],
    [
      "an attribute prefix nothing declares, on a tag the plain path would take",
      `<a><b p:c="1"/></a>`,
      "line 1, column 7: the attribute p:c of <b> uses the undeclared namespace prefix p",
    ],
    [
      "an attribute prefix nothing declares, on a tag with declarations",
      `<a xmlns:p="urn:p" p:x="1" q:y="2"/>`,
      "line 1, column 28: the attribute q:y of <a> uses the undeclared namespace prefix q",
    ],
    [
      "the prefix xmlns on an element",
      `<xmlns:a/>`,
      "line 1, column 2: the element <xmlns:a> uses the undeclared namespace prefix xmlns",
    ],
    [
      "one attribute twice under two prefixes of one namespace",
      `<a xmlns:p="urn:same" xmlns:q="urn:same" p:id="1" q:id="2"/>`,
      "line 1, column 51: the attributes p:id and q:id of <a> are both id in the namespace urn:same " +
        "(Namespaces in XML allow an attribute once per tag)",
    ],
  ])("refuses %s", (_name, text, where) => expectMalformedAt(text, where));

  it("accepts a prefix declared later in the same tag, by an ancestor, again deeper, and the xml prefix undeclared", () => {
    const text =
      `<p:a p:x="1" xmlns:p="urn:p"><b><p:c/><q:d xmlns:q="urn:q" q:e="2"><q:f/></q:d></b>` +
      `<p:g xmlns:p="urn:other"><p:h/></p:g><p:i xml:lang="en"/><xml:j/>` +
      `<k xmlns:r="urn:r" xmlns:s="urn:s" r:id="1" s:id="2" id="3"/></p:a>`;
    expect(() => assertSafeXml(text, "fine.xml")).not.toThrow();
  });

  it("refuses metadata whose extension uses an undeclared prefix, which the facts reader never visits", () => {
    const text =
      `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com">` +
      `<md:Extensions><mdui:UIInfo/></md:Extensions></md:EntityDescriptor>`;
    expect(() => inspectMetadataText(text, "idp.xml")).toThrow(
      new BreakglassError(
        "XML_MALFORMED",
        "idp.xml",
        "not well-formed XML at line 1, column 121: the element <mdui:UIInfo> uses the undeclared namespace prefix mdui",
      ),
    );
  });
});

describe("CDATA content is never markup", () => {
  it("accepts the text <!ENTITY and <!DOCTYPE inside a CDATA section, and a comment", () => {
    const xml = entityXml().replace(
      "</md:NameIDFormat>",
      `<![CDATA[<!ENTITY x SYSTEM "file:///etc/passwd"> <!DOCTYPE y> &x;]]></md:NameIDFormat><!-- <!ENTITY z "z"> -->`,
    );
    expect(inspectMetadataText(xml, "cdata.xml").entities[0]?.nameIDFormats).toEqual([
      `urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress<!ENTITY x SYSTEM "file:///etc/passwd"> <!DOCTYPE y> &x;`,
    ]);
  });

  it("still refuses an ENTITY declaration just after a CDATA section ends", () => {
    const error = refusal(`<a><![CDATA[ x ]]><!ENTITY x "y"></a>`);
    expect(error.code).toBe("XML_UNSAFE");
    expect(error.message).toBe(
      "strict.xml: refused: the document contains a <!ENTITY> declaration (DTDs and entities are not allowed in metadata)",
    );
  });
});

/** Characters the scan read per character of input; the bound is what "linear" means here, checked without a clock. */
/** A fixed allowance for the scan's own look-ahead (`<![CDATA[`, `<?xml`), which dominates only in tiny documents. */
const SCAN_OVERHEAD = 16;

/** The characters read per character of the text, once the fixed overhead is set aside: linear work keeps this bounded. */
function workPerCharacter(text: string): number {
  const meter: ScanMeter = { charactersRead: 0 };
  try {
    assertSafeXml(text, "generated.xml", { maxDepth: 64 }, meter);
  } catch (error) {
    if (!(error instanceof BreakglassError)) throw error;
  }
  return Math.max(meter.charactersRead - SCAN_OVERHEAD, 0) / Math.max(text.length, 1);
}

// Pieces that stress every state of the scan: the quadratic scan of issue 11 searched backwards from each & in CDATA.
const piece = fc.constantFrom(
  "<![CDATA[&]]>",
  "<![CDATA[",
  "]]>",
  "]]",
  "]",
  "<!--",
  "-->",
  "--",
  "-",
  "&",
  "&amp;",
  "&#x41;",
  "&#",
  "<a>",
  "</a>",
  "<b/>",
  `<c d="1" e='&lt;'>`,
  // A tag the plain-tag expression reads to its end before it gives way to the careful path.
  `<c d='1'  e="2"\n f='3' g="4"   >`,
  "</c>",
  "<?pi x?>",
  "<?",
  "?>",
  '"',
  "'",
  "<",
  ">",
  "x",
  " ",
  "\n",
  "é",
  "😀",
);

describe("the pre-parse scan does linear work", () => {
  it("reads each character a bounded number of times, whatever the document holds", () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 400 }), fc.integer({ min: 1, max: 200 }), (pieces, repeat) => {
        const body = pieces.join("").repeat(repeat);
        for (const text of [`<r>${body}</r>`, body, `<r>${"<a>".repeat(40)}${body}`]) {
          expect(workPerCharacter(text)).toBeLessThanOrEqual(4);
        }
      }),
      { numRuns: Number(process.env["FC_RUNS"] ?? 200) },
    );
  });

  it.each([
    ["1 MB of <![CDATA[&]]> sections", `<r>${"<![CDATA[&]]>".repeat(80_000)}</r>`],
    ["1 MB of comments holding &", `<r>${"<!-- & -->".repeat(100_000)}</r>`],
    ["one 1 MB CDATA section of &", `<r><![CDATA[${"&".repeat(1_000_000)}]]></r>`],
    [
      "64 nested elements around 1 MB of CDATA",
      `${"<a>".repeat(64)}${"<![CDATA[&]]>".repeat(80_000)}${"</a>".repeat(64)}`,
    ],
    ["a 1 MB attribute value of references", `<r a="${"&amp;".repeat(200_000)}"/>`],
  ])("accepts %s reading each character at most twice", (_name, text) => {
    const meter: ScanMeter = { charactersRead: 0 };
    assertSafeXml(text, "big.xml", { maxDepth: 64 }, meter);
    expect(meter.charactersRead).toBeLessThanOrEqual(2 * text.length);
  });
});
