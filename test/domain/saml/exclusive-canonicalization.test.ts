// The one-pass exclusive C14N writer against the implementation it replaced (kept in test/support as the oracle) and
// against xml-crypto: the same canonical bytes, or the same refusal, on real documents, hostile ones and mutations.
import { DOMParser } from "@xmldom/xmldom";
import fc from "fast-check";
import { ExclusiveCanonicalization } from "xml-crypto";
import { describe, expect, it } from "vitest";
import {
  canonicalizeExclusive,
  declare,
  readStartTag,
  ROOT_NAMESPACE_SCOPE,
  writeExclusiveCanonicalization,
  type ExclusiveCanonicalizationOptions,
  type NamespaceScope,
} from "../../../src/domain/saml/exclusive-canonicalization.js";
import { assertSafeXml } from "../../../src/domain/saml/xml-safety.js";
import { decodeXmlBytes } from "../../../src/domain/saml/xml-text.js";
import { mutationArbitrary } from "../../support/byte-mutations.js";
import { mutatedDocument, passesSafetyScan } from "../../support/safe-mutations.js";
import { readCorpusFile, readManifest } from "../../support/corpus.js";
import * as oracle from "../../support/exclusive-canonicalization-oracle.js";

const MD = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS = "http://www.w3.org/2000/09/xmldsig#";

/** An element to canonicalize: [from, to) and the namespaces it inherits, as signature-fast-path.ts finds them. */
interface Apex {
  readonly from: number;
  readonly to: number;
  readonly inherited: NamespaceScope;
  readonly label: string;
}

/** The document element, and its first child element (inheriting the root's declarations) when it has one. */
function apexesOf(text: string): Apex[] {
  const rootStart = text.search(/<(?![?!])/);
  const rootEnd = text.lastIndexOf(">") + 1;
  const apexes: Apex[] = [{ from: rootStart, to: rootEnd, inherited: ROOT_NAMESPACE_SCOPE, label: "root" }];
  const rootTag = readStartTag(text, rootStart);
  const rootScope = rootTag && declare(ROOT_NAMESPACE_SCOPE, rootTag.attributes);
  if (!rootTag || !rootScope || rootTag.selfClosing) return apexes;
  const childStart = text.slice(rootTag.end).search(/<(?![?!/])/);
  if (childStart === -1) return apexes;
  const from = rootTag.end + childStart;
  const end = elementEnd(text, from);
  if (end !== -1) apexes.push({ from, to: end, inherited: rootScope, label: "first child" });
  return apexes;
}

/** Just past the end tag of the element starting at `from` (well-formed text); -1 when not found. */
function elementEnd(text: string, from: number): number {
  let depth = 0;
  let at = from;
  while (at < text.length) {
    const open = text.indexOf("<", at);
    if (open === -1) return -1;
    const next = text.charCodeAt(open + 1);
    if (next === 0x21 /* ! */) {
      at = text.startsWith("<!--", open) ? text.indexOf("-->", open) + 3 : text.indexOf("]]>", open) + 3;
      continue;
    }
    if (next === 0x3f /* ? */) {
      at = text.indexOf("?>", open) + 2;
      continue;
    }
    const tag = next === 0x2f ? undefined : readStartTag(text, open);
    const close = tag ? tag.end - 1 : text.indexOf(">", open);
    if (next === 0x2f) depth--;
    else if (!tag?.selfClosing) depth++;
    at = close + 1;
    if (depth === 0) return at;
  }
  return -1;
}

/** The first ds:Signature directly or anywhere inside [from, to), as the enveloped transform leaves one out. */
function signatureRange(text: string, apex: Apex): readonly [number, number] | undefined {
  const start = text.indexOf("<ds:Signature", apex.from + 1);
  if (start === -1 || start >= apex.to || !/[\s>/]/.test(text.charAt(start + 13))) return undefined;
  const end = elementEnd(text, start);
  return end === -1 || end > apex.to ? undefined : [start, end];
}

/** New and old agree on the canonical form (or on refusing it); the pieces are whole tags and join to it. */
function expectAgreement(text: string, apex: Apex, options: ExclusiveCanonicalizationOptions): string | undefined {
  const expected = oracle.canonicalizeExclusive(text, apex.from, apex.to, apex.inherited, options);
  const actual = canonicalizeExclusive(text, apex.from, apex.to, apex.inherited, options);
  expect(actual, apex.label).toBe(expected);
  const pieces: string[] = [];
  const written = writeExclusiveCanonicalization(text, apex.from, apex.to, apex.inherited, options, (piece) =>
    pieces.push(piece),
  );
  expect(written).toBe(expected !== undefined);
  if (expected === undefined) return undefined;
  expect(pieces.join("")).toBe(expected);
  // A piece never ends inside a tag: after its last "<" comes a ">".
  for (const piece of pieces) expect(piece.lastIndexOf(">")).toBeGreaterThanOrEqual(piece.lastIndexOf("<"));
  return actual;
}

/** Every apex, with and without the signature left out and with an InclusiveNamespaces list. */
function expectAgreementEverywhere(text: string): number {
  let canonicalized = 0;
  for (const apex of apexesOf(text)) {
    const omit = signatureRange(text, apex);
    for (const options of [{}, { omit }, { omit, inclusivePrefixes: ["md", "ds", "xsi"] }]) {
      if (expectAgreement(text, apex, options) !== undefined) canonicalized++;
    }
  }
  return canonicalized;
}

/** xml-crypto's exclusive canonical form of the document element. */
function xmlCryptoCanonical(text: string): string {
  const document = new DOMParser().parseFromString(text, "text/xml");
  const element = document.documentElement;
  if (!element) throw new TypeError("no document element");
  return new ExclusiveCanonicalization().process(element, {});
}

const corpus = readManifest()
  .filter((document) => document.wellFormed)
  .map((document) => ({ file: document.file, text: decodeXmlBytes(readCorpusFile(document.file), document.file) }));

describe("the canonical form of real metadata", () => {
  it.each(corpus.map((document) => [document.file, document.text] as const))(
    "is written for %s byte for byte as before and as xml-crypto writes it",
    (_file, text) => {
      expect(expectAgreementEverywhere(text)).toBeGreaterThan(0);
      const root = apexesOf(text)[0];
      const canonical = root && canonicalizeExclusive(text, root.from, root.to, root.inherited);
      if (canonical !== undefined) expect(canonical).toBe(xmlCryptoCanonical(text));
    },
  );
});

const tags: Record<string, string> = {
  "xml:lang and attributes of rendered prefixes, in order": `<md:X a="1" b="2" ds:Id="i" xml:lang="en"/>`,
  "xml:lang before an attribute whose namespace sorts first": `<md:X a="1" xml:lang="en" ds:Id="i"/>`,
  "prefixed attributes out of order": `<md:X ds:b="1" xml:a="2" md:c="3"></md:X>`,
  "an unprefixed attribute after a prefixed one": `<md:X xml:lang="en" a="1"></md:X>`,
  "attributes out of code-unit order": `<md:X b="1" B="2" a="3"/>`,
  "a prefix declared on the element itself": `<md:X xmlns:p="urn:p" p:a="1"><p:Y/></md:X>`,
  "a prefix declared but not rendered above": `<md:Extensions><p:Y xmlns:p="urn:p" q:z="1" xmlns:q="urn:q"/></md:Extensions>`,
  "a prefix redeclared to another namespace": `<md:X xmlns:md="urn:other" md:a="1"><md:Y md:b="2"/></md:X>`,
  "a default namespace in and out": `<X xmlns="urn:d" a="1"><Y xmlns="" b="2"/><Z/></X>`,
  // An empty prefix-looking attribute (a:="1") never gets here: the safety scan refuses a name that is no QName.
  "an attribute named like a declaration": `<md:X xmlnsx="1"/>`,
  "values needing escapes or normalization": `<md:X a="&amp;&lt;&gt;&quot;" b="t\tn\nr\r" c='"q"' d="&#x9;&#10;&#13;"/>`,
  "a value holding > and /": `<md:X a="a>b/" b="/"/>`,
  "spaced and newline-separated attributes": `<md:X  a="1"\n b = "2" ></md:X >`,
  "self-closing tags spaced and not": `<md:X/><md:Y a="1"/><md:Z a="1" /><md:W\n/>`,
  "end tags with trailing whitespace": `<md:X><md:Y></md:Y\n></md:X\t>`,
  "text with references, CR and >": `<md:X>a &amp; b &gt; c &#13; d\r\n e > f</md:X>`,
  "CDATA, empty and not": `<md:X><![CDATA[a<b>&]]></md:X><md:Y><![CDATA[]]></md:Y>`,
  "comments and a processing instruction": `<md:X><!-- c --></md:X><md:Y><?pi x?></md:Y>`,
  "nested same-named elements": `<md:X><md:X a="1"><md:X/></md:X></md:X>`,
  "non-ASCII names and values": `<md:Ünï a="é€😀" xml:lang="ü"><p:Ä xmlns:p="urn:ä"/></md:Ünï>`,
  "attributes sorting differently by namespace and by concatenation": `<md:X xmlns:a="urn:ab" xmlns:b="urn:a" a:c="1" b:bc="2"/>`,
  // An undeclared prefix (<u:Y/>) never gets here: the safety scan refuses it (xml-safety.test.ts).
  "an xml-prefixed element": `<md:X><xml:Y/></md:X>`,
};

describe("hand-made hostile and odd elements", () => {
  it.each(Object.entries(tags))("%s: written as before", (_name, inner) => {
    const text = `<md:EntitiesDescriptor xmlns:md="${MD}" xmlns:ds="${DS}">${inner}</md:EntitiesDescriptor>`;
    assertSafeXml(text, "doc.xml");
    expectAgreementEverywhere(text);
  });
});

const fragment = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    ' xml:lang="en"',
    ' ds:Id="x"',
    ' md:a="1"',
    ' xmlns:p="urn:p"',
    ' xmlns="urn:d"',
    ' xmlns=""',
    ' p:a="2"',
    ' a="&amp;"',
    ' b="\t"',
    ' Z="1"',
    "/",
    " ",
    "\r\n",
    "&gt;",
    "<![CDATA[x]]>",
    "<!-- c -->",
    "<md:X/>",
    "<p:Y xmlns:p='urn:p'/>",
    "</md:X >",
    "<ds:Signature/>",
  ),
);

const mutation = mutationArbitrary({
  fragment,
  flip: { min: 0x20, max: 0x7e },
  truncate: false,
  maxDelete: 40,
  maxDuplicate: 300,
});

describe("mutated real documents", () => {
  const small = corpus.filter((document) => document.text.length < 40_000).map((document) => document.text);

  it("are written byte for byte as before, or refused as before, whenever they pass the safety scan", () => {
    let compared = 0;
    fc.assert(
      fc.property(mutatedDocument(small, mutation, 4), ({ text }) => {
        if (!passesSafetyScan(text)) return;
        compared++;
        expectAgreementEverywhere(text);
      }),
      { numRuns: 1500, seed: 15 },
    );
    expect(compared).toBeGreaterThan(100);
  });
});
