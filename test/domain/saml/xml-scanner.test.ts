// The faster well-formedness scan against the scan it replaced (kept as the oracle in test/support): on the corpus, on
// odd and hostile documents and on thousands of seeded mutations, both accept, or both refuse with the same code and message.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BreakglassError } from "../../../src/domain/errors.js";
import { scanXmlDocument } from "../../../src/domain/saml/xml-scanner.js";
import { decodeXmlBytes } from "../../../src/domain/saml/xml-text.js";
import { readCorpusFile, readManifest } from "../../support/corpus.js";
import { entityXml } from "../../support/metadata-builder.js";
import { scanXmlDocumentOracle } from "../../support/xml-scanner-oracle.js";
import { seededRandom } from "../../support/seeded-random.js";

type Scan = (text: string, input: string, maxDepth: number) => void;

/** "accepted", or the refusal's code and message. */
function outcome(scan: Scan, text: string, maxDepth: number): string {
  try {
    scan(text, "doc.xml", maxDepth);
    return "accepted";
  } catch (error) {
    if (error instanceof BreakglassError) return `${error.code} ${error.message}`;
    throw error;
  }
}

function expectSameOutcome(text: string, maxDepth = 64): string {
  const expected = outcome(scanXmlDocumentOracle, text, maxDepth);
  expect(outcome(scanXmlDocument, text, maxDepth), JSON.stringify(text.slice(0, 200))).toBe(expected);
  return expected;
}

function decodeCorpusDocument(file: string): string {
  const bytes = readCorpusFile(file);
  try {
    return decodeXmlBytes(bytes, file);
  } catch {
    return bytes.toString("utf8");
  }
}

const corpus = readManifest().map((document) => ({ file: document.file, text: decodeCorpusDocument(document.file) }));

/** The odd and hostile documents of the scan's own tests, and more of the same kind. */
const oddDocuments = [
  "<a>\u0000</a>",
  "<a>bell\u0007</a>",
  `<a b="\u001b"/>`,
  "<a>\ufffe</a>",
  "<a>\uffff</a>",
  "<a>\ud800x</a>",
  "<a>\udc00</a>",
  "<a>\ud83d\ude00</a>",
  `<a b="\ud800"/>`,
  `<a b="x<y"/>`,
  "<a>x]]>y</a>",
  "<a>x]]y]>]]</a>",
  "<a>&#x110000;</a>",
  "<a>&#0;</a>",
  `<a b="&#xD800;"/>`,
  `<a>&#${"9".repeat(1000)};</a>`,
  "<a>&#X41;</a>",
  "<a>&#x;</a>",
  "<a>&#;</a>",
  "<a>&amp</a>",
  "<a>&nbsp;</a>",
  `<a>&${"x".repeat(50)};</a>`,
  "<a>&é;</a>",
  "<a><!-- a -- b --></a>",
  "<a><!-- a ---></a>",
  "<a><!----></a>",
  "<a><!-- \u0001 --></a>",
  `<?xml version="1.0"?><a><?xml version="1.0"?></a>`,
  ` <?xml version="1.0"?><a/>`,
  `<?xml encoding="UTF-8"?><a/>`,
  `<?xml version="2.0"?><a/>`,
  `<?xml version="1.0" encoding="UTF-8" standalone="maybe"?><a/>`,
  `<?xml version="1.0"encoding="UTF-8"?><a/>`,
  `<?xml version='1.0' ?><a/>`,
  `<a b="1" b="2"/>`,
  `<a b="1" c="2" d="3" e="4" f="5" b="6"/>`,
  `<a b="1" c="2" d="3" e="4" f="5" f="6"/>`,
  `<a b="1" c="2" d="3" e="4" d="5"/>`,
  `<a xmlns:x="1" xmlns:y="2" xmlns:x="3"/>`,
  `<a ab="1" a="2" abc="3" ab="4"/>`,
  `<a b="1"c="2"/>`,
  "<a b=1/>",
  "<a b/>",
  "<a b =\t'1'\n/>",
  "<a b='1' / >",
  "<a/ >",
  "<a><b></a></b>",
  "<a><b></b ></a >",
  "<a><b></b\n></a>",
  "<a><ab></a></ab>",
  "<ab><a></ab></a>",
  "<a></ab>",
  "<ab></a>",
  "<a></a b>",
  "<a></>",
  "</a>",
  "<a></",
  "<a></a",
  "<é:a></é:a>",
  "<é:a></é:b>",
  "<a\u00b7b></a\u00b7b>",
  "<\u00b7a/>",
  "<a\u0300/>",
  "<\ud800\udc00/>",
  "<\ud800\udc00></\ud800\udc00>",
  "<\udb80\udc00/>",
  "<a \ud800\udc00='1'/>",
  "<a 😀='1'/>",
  "<a\u2070 b\u2040='1'/>",
  "<a/><b/>",
  "<a/>tail",
  "<a/></a>",
  "<a/><![CDATA[x]]>",
  "<a/><!-- ok --><?pi ok?> \n",
  "<a>1 < 2</a>",
  "<a>< b/></a>",
  "<a><!x></a>",
  "<a><!DOCTYPE a></a>",
  "<!doctype a><a/>",
  "<a><!EnTiTy x 'y'></a>",
  `<a><![CDATA[ x ]]><!ENTITY x "y"></a>`,
  "<a><![CDATA[<!ENTITY x> &x; <b> ]]></a>",
  "<a><![CDATA[]]]></a>",
  "<a><![CDATA[ \u0000 ]]></a>",
  "<a><?XmL x?></a>",
  "<a><?x?></a>",
  "<a><?x\u0001?></a>",
  "<a><?x-y z ?></a>",
  "<a><?xy?></a>",
  "<a><?-x?></a>",
  "<a><? x?></a>",
  "<a><!-- no end",
  "<a><![CDATA[ no end",
  "<a><?pi no end",
  `<a b="no end`,
  "<a>\n<b>\n<c/>",
  `${"<a>".repeat(8)}${"</a>".repeat(8)}`,
  `${"<abcdefghij>".repeat(7)}`,
  "<",
  "<a",
  "<a ",
  "<a b",
  "<a b=",
  "<a b='",
  "<a/",
  "<a>",
  "<a>&",
  "<a>&#",
  "<a>&#x",
  "<a>&#x41",
  "",
  " ",
  "x",
  "<?xml version='1.0'?>",
  "<!-- only -->",
  // Runs long enough to leave the scan's loop for its regular expressions, ending in what the run must stop at.
  `<a><![CDATA[${"x&<".repeat(20)}\u0001]]></a>`,
  `<a><![CDATA[${"x".repeat(40)}]${"y".repeat(40)}]]></a>`,
  `<a><!-- ${"a<&]".repeat(20)}\ud800 --></a>`,
  `<a><!--${"x".repeat(40)}-${"y".repeat(40)}--></a>`,
  `<a><?pi ${"x".repeat(50)}\uffff?></a>`,
  `<a><?pi ${"x".repeat(40)}?${"y".repeat(40)}?></a>`,
  `<a b="${"é".repeat(50)}\u0000"/>`,
  `<a b='${"x".repeat(40)}"${"y".repeat(40)}'/>`,
  `<a b="${"x".repeat(40)}'${"y".repeat(40)}"/>`,
  `<a b="${"x".repeat(40)}<"/>`,
  `<a b="${"x".repeat(40)}&amp;${"y".repeat(40)}"/>`,
  `<a>${"x".repeat(40)}]]>${"y".repeat(40)}</a>`,
  `<a>${"\u3000".repeat(40)}\ufffe</a>`,
  `<a>${"x".repeat(40)}\ud83d\ude00${"y".repeat(40)}\udfff</a>`,
  `<a>${"x\t\r\n\u007f".repeat(40)}</a>`,
  // Start tags at the edges of the plain ones checked whole by one regular expression: one to three attributes, a
  // repeated name in each place, names that are prefixes of one another, a fourth attribute, and what is not plain.
  `<a b="1" c="2" d="3"><e f='4'/></a>`,
  `<a b="1" c="2" b="3"/>`,
  `<a b="1" c="2" c="3"/>`,
  `<a b="1" b="2" c="3"/>`,
  `<a bc="1" b="2" bcd="3"/>`,
  `<a b="1" c="2" d="3" b="4"/>`,
  `<a b="1" c="2" d="3" e="4"></a>`,
  `<a\n\tb\r=\n"1"\tc = '2'\r\n></a\n>`,
  `<a b="\u0085\u00a0é\ud7ff\ue000\ufffd ]]> >"></a>`,
  `<a b="\ud83d\ude00"/>`,
  `<a b="\u0009\u000a\u000d"/>`,
  `<a b="\u000b"/>`,
  `<a b="\ufffe"></a>`,
  `<a b="x" \u00a0c="y"/>`,
  `<a\u00a0b="x"/>`,
  `<a b="1"c="2" d="3"/>`,
  `<a b="1" c="2"/ >`,
  `<a.b-c_d:e1 f.g-h_i:j2="1"></a.b-c_d:e1>`,
  `<a b="1"></a><a/>`,
  `<-a/>`,
  `<1a/>`,
  `<a 1b="x"/>`,
  `<ab\u00e9 c="1"></ab\u00e9>`,
  `<a bé="1" b="2"/>`,
  `<a b="1" c="2" d="&amp;"/>`,
  `<r>${"<a b='1' c='2'>x</a>".repeat(40)}</r>`,
  `<a b='1'${" ".repeat(100)}c="2" d='3' e="4"${" ".repeat(100)}/>`,
  `<a b${" ".repeat(50)}=${"\n".repeat(50)}'1'${"\t".repeat(50)}c="2"${" ".repeat(50)}b='3'/>`,
  entityXml(),
];

describe("the faster scan accepts and refuses exactly what the scan it replaced did", () => {
  it.each(corpus.map((document) => [document.file, document.text] as const))("agrees on %s", (_file, text) => {
    expectSameOutcome(text);
  });

  it.each(oddDocuments.map((text) => [JSON.stringify(text.slice(0, 60)), text] as const))(
    "agrees on %s",
    (_name, text) => {
      expectSameOutcome(text);
      expectSameOutcome(text, 3);
    },
  );

  it("agrees on thousands of seeded mutations of the corpus with XML-significant, non-ASCII and control characters", () => {
    const random = seededRandom(15);
    const outcomes = new Map<string, number>();
    const reasons = new Set<string>();
    for (let run = 0; run < 4000; run++) {
      const original = corpus[Math.floor(random() * corpus.length)]!.text;
      const mutated = mutateText(original, 1 + Math.floor(random() * 4), random);
      const result = expectSameOutcome(mutated, run % 5 === 0 ? 6 : 64);
      const kind = result.slice(0, result.indexOf(":") + 1 || result.length);
      outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
      reasons.add(result.replace(/line \d+, column \d+: /, ""));
    }
    // The mutations reach the accepting path and every kind of refusal, not just one of them.
    expect(outcomes.get("accepted")).toBeGreaterThan(100);
    expect(outcomes.get("XML_MALFORMED doc.xml:")).toBeGreaterThan(1000);
    expect(outcomes.get("XML_UNSAFE doc.xml:")).toBeGreaterThan(10);
    expect(outcomes.get("XML_TOO_DEEP doc.xml:")).toBeGreaterThan(10);
    expect(reasons.size).toBeGreaterThan(100);
    expect([...reasons].filter((reason) => reason.includes("colon out of place")).length).toBeGreaterThan(5);
  });

  it("agrees on documents made of the pieces that stress every state of the scan", () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), fc.integer({ min: 1, max: 12 }), (pieces, maxDepth) => {
        const body = pieces.join("");
        for (const text of [`<r>${body}</r>`, body, `<?xml version="1.0"?>\n<r a="1">${body}`]) {
          expectSameOutcome(text, maxDepth);
        }
      }),
      { numRuns: 3000, seed: 15 },
    );
  });
});

const piece = fc.constantFrom(
  ...[
    ...["<![CDATA[", "]]>", "]]", "]", "<!--", "-->", "--", "-", "&", "&amp;", "&#x41;", "&#", "&#0;", "&lt", ";"],
    ...[
      "<a>",
      "</a>",
      "<a",
      "</a",
      "<b/>",
      "</b>",
      "<b>",
      "<ab>",
      "</ab>",
      `<c d="1" e='&lt;'>`,
      "</c>",
      `<p:q xmlns:p="urn:p" p:r='1'>`,
      "</p:q>",
      "<:q>",
      "<q:>",
      "<p:q:r>",
      `<c xmlns:="urn:x">`,
      `<c xmlns:p="">`,
      `<c xmlns="http://www.w3.org/XML/1998/namespace">`,
      "<é>",
      "</é>",
    ],
    ...[`<c d="1" d="2">`, `<c d="1" e="2" f="3" g="4" h="5" e="6">`, "<?pi x?>", "<?", "?>", "<!DOCTYPE", "<!"],
    ...[
      '"',
      "'",
      "<",
      ">",
      "/",
      "=",
      "x",
      " ",
      "\n",
      "\t",
      "é",
      "😀",
      "\ud800",
      "\udc00",
      "\u0000",
      "\u0007",
      "\ufffe",
    ],
  ],
);

/** XML-significant characters and strings, non-ASCII, surrogates and control characters that mutations insert. */
const INSERTIONS = [
  ...["<", ">", "&", ";", '"', "'", "]", "=", "/", "?", "!", "-", " ", "\t", "\r", "\n", "#", "x", ":", "."],
  ...["é", "\u00b7", "\u0300", "\u203f", "\u2070", "\u3000", "\ufdd0", "\ufffe", "\uffff", "\u00a0", "😀"],
  ...["\ud800", "\udbff", "\udc00", "\udfff", "\u0000", "\u0001", "\u0007", "\u000b", "\u001f", "\u007f", "\u0085"],
  ...["<!--", "-->", "--", "<![CDATA[", "]]>", "<?", "?>", "&#x", "&#", "&amp;", "&lt", "</", "/>", "<!DOCTYPE x>"],
  ...["<!ENTITY", "<a>", "</a>", "<a/>", ` b="1"`, ` xmlns:md="urn:x"`, "<?xml ", "&#x110000;", "&#9;", "&foo;"],
];

/** `count` edits of `text` at random places: insert, delete a span, replace a character, duplicate a span, truncate. */
function mutateText(text: string, count: number, random: () => number): string {
  let mutated = text;
  for (let edit = 0; edit < count; edit++) {
    const at = Math.floor(random() * (mutated.length + 1));
    const span = 1 + Math.floor(random() * 12);
    const insertion = INSERTIONS[Math.floor(random() * INSERTIONS.length)]!;
    const choice = random();
    if (choice < 0.4) mutated = mutated.slice(0, at) + insertion + mutated.slice(at);
    else if (choice < 0.6) mutated = mutated.slice(0, at) + mutated.slice(at + span);
    else if (choice < 0.8) mutated = mutated.slice(0, at) + insertion + mutated.slice(at + 1);
    else if (choice < 0.95) mutated = mutated.slice(0, at + span) + mutated.slice(at);
    else mutated = mutated.slice(0, at);
  }
  return mutated;
}
