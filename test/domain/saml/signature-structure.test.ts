// The one walk that reads a document's signature shape and the one-pass verifier's structure, against the two passes
// it replaces (test/support/signature-structure-oracle.ts): the same shape, and the same structure or the same refusal,
// on the corpus, signed documents of every variation, odd and hostile markup, and random mutations of signed documents.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { NamespaceScope } from "../../../src/domain/saml/exclusive-canonicalization.js";
import {
  measureSignatureShape,
  readSignatureLayout,
  type DocumentStructure,
  type SignedContainer,
} from "../../../src/domain/saml/signature-shape.js";
import { assertSafeXml } from "../../../src/domain/saml/xml-safety.js";
import { decodeXmlBytes } from "../../../src/domain/saml/xml-text.js";
import { entity, generateCertificates } from "../../../bench/generate-aggregate.js";
import { mutationArbitrary } from "../../support/byte-mutations.js";
import { mutatedDocument, passesSafetyScan } from "../../support/safe-mutations.js";
import { makeCertificate } from "../../support/certificates.js";
import { readCorpusFile, readManifest } from "../../support/corpus.js";
import { aggregateXml, entityXml } from "../../support/metadata-builder.js";
import * as oracle from "../../support/signature-structure-oracle.js";
import { ALGORITHM, signXml } from "../../support/xml-signing.js";

const MD = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS = "http://www.w3.org/2000/09/xmldsig#";

/** A namespace scope as the lookups see it: every prefix it resolves, inherited ones included. */
function resolved(scope: NamespaceScope): Record<string, string> {
  const prefixes: Record<string, string> = {};
  for (const prefix in scope) prefixes[prefix] = scope[prefix] as string;
  return prefixes;
}

function plainContainer(container: SignedContainer | oracle.Container) {
  return {
    start: container.start,
    end: container.end,
    id: container.id,
    isRoot: container.isRoot,
    signatures: container.signatures,
    inherited: resolved(container.inherited),
    scope: resolved(container.scope),
  };
}

function plainStructure(structure: DocumentStructure | oracle.DocumentStructure | undefined) {
  if (!structure) return undefined;
  return {
    root: plainContainer(structure.root),
    entities: structure.entities.map(plainContainer),
    rootIsTheEntity: structure.entities[0] === structure.root,
    idCounts: [...structure.idCounts],
  };
}

/** What reading returned, or the message of what it threw (a TypeError from a scope, for instance). */
function outcome<T>(read: () => T): { value: T } | { thrown: string } {
  try {
    return { value: read() };
  } catch (error) {
    return { thrown: String(error) };
  }
}

/**
 * The merged walk reads exactly what the two passes read, and throws what they threw: the shape's error at once, the
 * structure's only for the caller that uses it. Returns whether the oracle had a structure.
 */
function expectSameLayout(text: string, label: string): boolean {
  const expectedShape = outcome(() => oracle.measureSignatureShape(text));
  expect(
    outcome(() => measureSignatureShape(text)),
    label,
  ).toEqual(expectedShape);
  const layout = outcome(() => readSignatureLayout(text));
  if ("thrown" in expectedShape) {
    expect(layout, label).toEqual(expectedShape);
    return false;
  }
  if (!("value" in layout)) throw new TypeError(`${label}: ${layout.thrown}`);
  expect(layout.value.shape, label).toEqual(expectedShape.value);
  const expectedStructure = outcome(() => plainStructure(oracle.readStructure(text)));
  const failure = layout.value.structureFailure;
  expect(
    failure ? { thrown: String(failure.error) } : { value: plainStructure(layout.value.structure) },
    label,
  ).toEqual(expectedStructure);
  return "value" in expectedStructure && expectedStructure.value !== undefined;
}

const corpus = readManifest()
  .filter((document) => document.wellFormed)
  .map((document) => ({
    file: document.file,
    text: decodeXmlBytes(readCorpusFile(document.file), document.file).replace(/^\uFEFF/, ""),
  }));

const idp = makeCertificate({ commonName: "idp signing" });
const rsa = { privateKeyPem: idp.privateKeyPem, certificateBase64: idp.base64 };
const idpEntity = (id = "_idp", entityID = "https://idp.example.test/metadata") =>
  entityXml({ id, entityID, keys: [{ base64: idp.base64, use: "signing" }] });
const entitySignedAggregate = aggregateXml(
  ["_a", "_b"].map((id) =>
    signXml(idpEntity(id, `https://${id.slice(1)}.example/idp`), {
      ...rsa,
      signatureAlgorithm: ALGORITHM.rsaSha256,
      referenceId: id,
    }).replace(/ xmlns:(md|ds)="[^"]*"/g, ""),
  ),
);
const certificates = generateCertificates(6);
const benchAggregate = (count: number, signedAt: "root" | "entities" | "none"): string => {
  const entities = Array.from({ length: count }, (_, index) =>
    entity(index, certificates.next().value ?? Buffer.alloc(0)),
  );
  const head = `<?xml version="1.0" encoding="UTF-8"?>\n<md:EntitiesDescriptor xmlns:md="${MD}" xmlns:ds="${DS}" Name="urn:bench" ID="_bench">\n`;
  const aggregate = `${head}${entities.join("")}</md:EntitiesDescriptor>\n`;
  if (signedAt === "none") return aggregate;
  if (signedAt === "root")
    return signXml(aggregate, { ...rsa, signatureAlgorithm: ALGORITHM.rsaSha256, referenceId: "_bench" });
  return aggregate.replace(/<md:EntityDescriptor entityID="([^"]*)">/g, (whole, entityID: string) =>
    whole.replace(">", ` ID="_${entityID.length}"><ds:Signature/>`),
  );
};

/** Signed documents of the profile the one pass verifies, and of the variations it hands on. */
const signed: [string, string][] = [
  [
    "RSA-SHA256, URI=#ID",
    signXml(idpEntity(), { ...rsa, signatureAlgorithm: ALGORITHM.rsaSha256, referenceId: "_idp" }),
  ],
  ["RSA-SHA1, URI=''", signXml(idpEntity(), { ...rsa, signatureAlgorithm: ALGORITHM.rsaSha1 })],
  [
    "an InclusiveNamespaces PrefixList",
    signXml(idpEntity(), { ...rsa, signatureAlgorithm: ALGORITHM.rsaSha256, inclusiveNamespaces: ["md", "ds"] }),
  ],
  [
    "inclusive C14N",
    signXml(idpEntity(), {
      ...rsa,
      signatureAlgorithm: ALGORITHM.rsaSha256,
      canonicalization: ALGORITHM.inclusiveC14n,
    }),
  ],
  ["an aggregate whose entities are signed", entitySignedAggregate],
  [
    "a signed aggregate of entities signed themselves",
    signXml(entitySignedAggregate.replace("<md:EntitiesDescriptor", '<md:EntitiesDescriptor ID="_all"'), {
      ...rsa,
      signatureAlgorithm: ALGORITHM.rsaSha256,
      referenceId: "_all",
    }),
  ],
  ["a bench aggregate signed on its root", benchAggregate(5, "root")],
  ["a bench aggregate with a signature in each entity", benchAggregate(4, "entities")],
  ["an unsigned bench aggregate", benchAggregate(3, "none")],
];

const entityOf = (body: string, attributes = "") =>
  `<md:EntityDescriptor xmlns:md="${MD}" entityID="https://idp.example/x"${attributes}>${body}</md:EntityDescriptor>`;
const aggregateOf = (body: string, attributes = "") =>
  `<md:EntitiesDescriptor xmlns:md="${MD}" xmlns:ds="${DS}"${attributes}>${body}</md:EntitiesDescriptor>`;
const reference = `<ds:Reference><ds:Transforms>${"<ds:Transform/>".repeat(5)}</ds:Transforms></ds:Reference>`;
const manyPrefixes = Array.from({ length: 40 }, (_, index) => `<p${index}:E xmlns:p${index}="urn:p${index}"/>`).join(
  "",
);
/** The 40 prefixes of manyPrefixes declared once more, around elements that use them after their first declarations end. */
const manyPrefixDeclarations = Array.from({ length: 40 }, (_, index) => ` xmlns:p${index}="urn:p${index}"`).join("");

/** Markup the two passes each read their own way: the merged walk must keep every difference. */
const odd: [string, string][] = [
  ["a self-closing root", `<md:EntityDescriptor xmlns:md="${MD}" ID="_x"/>`],
  ["a self-closing Signature on the root", entityOf(`<ds:Signature xmlns:ds="${DS}"/>`, ' ID="_x"')],
  // An undeclared prefix, inside a Signature or not, never gets here: the safety scan refuses it (xml-safety.test.ts).
  ["a processing instruction inside the root", entityOf("<?pi data?>")],
  ["a processing instruction after the root", `${entityOf("")}<?pi after?><!-- after -->`],
  ["a prolog of declarations, instructions and comments", `<?xml version="1.0"?><!-- a -->\n<?pi?>${entityOf("")}`],
  // Empty prefixed declarations (xmlns:x="") never get here: the safety scan refuses them (Namespaces in XML 1.0).
  ["a root of another kind", `<md:Other xmlns:md="${MD}"><ds:Signature xmlns:ds="${DS}"/></md:Other>`],
  ["a root in no namespace", `<EntityDescriptor><Signature/></EntityDescriptor>`],
  [
    "a default namespace",
    `<EntitiesDescriptor xmlns="${MD}"><EntityDescriptor ID="a"><Signature xmlns="${DS}"/></EntityDescriptor></EntitiesDescriptor>`,
  ],
  [
    "a namespace URI written with a character reference",
    aggregateOf(`<ds:Signature xmlns:ds="${DS.slice(0, -1)}&#35;"/>`),
  ],
  ["an xmlns inside an attribute value", aggregateOf(`<md:E a=" xmlns:ds='urn:not'"><ds:Signature/></md:E>`)],
  ["an xmlns inside text", aggregateOf(`<md:E>xmlns:ds="urn:x"<ds:Signature/></md:E>`)],
  ["a redeclared prefix", aggregateOf(`<md:E xmlns:ds="urn:other"><ds:Signature/><ds:Reference/></md:E>`)],
  ["a namespace declared with apostrophes", aggregateOf(`<x:Signature xmlns:x='${DS}'/>`)],
  ["spaces around =", aggregateOf(`<md:EntityDescriptor ID = "a" xmlns:x = "urn:x"><x:Y/></md:EntityDescriptor>`)],
  [
    "IDs in every form",
    aggregateOf(
      `<md:EntityDescriptor ID="a"/><md:EntityDescriptor x:Id='a' xmlns:x="urn:x"/><md:EntityDescriptor\n\tid="b"/>` +
        `<md:EntityDescriptor ID="a" data="x ID='c'"/><md:EntityDescriptor ID\r\n=\r\n"d"/><md:E iD="z" xID="z" IDs="z"/>`,
    ),
  ],
  ["an ID only inside a value", aggregateOf(`<md:EntityDescriptor note=" ID='q' id=q"/>`)],
  [
    "> and quotes inside values",
    aggregateOf(`<md:EntityDescriptor a="x>y" b='it"s>' ID="q>"><ds:Signature/></md:EntityDescriptor>`),
  ],
  ["quotes and > in text, comments and CDATA", aggregateOf(`"'><!-- "'> --><![CDATA[ "'<> ]]><md:E ID="x'"/>it's`)],
  [
    "nested aggregates and Signatures in places breakglass does not verify",
    aggregateOf(
      `<md:EntitiesDescriptor><md:EntityDescriptor ID="i"><ds:Signature/><md:Extensions><ds:Signature/></md:Extensions>` +
        `<md:EntityDescriptor><ds:Signature/></md:EntityDescriptor></md:EntityDescriptor><ds:Signature/></md:EntitiesDescriptor>` +
        `<md:X><md:EntityDescriptor><ds:Signature/></md:EntityDescriptor></md:X><ds:Signature/><ds:Signature/>`,
    ),
  ],
  [
    "References and Transforms",
    aggregateOf(
      `<ds:Signature><ds:SignedInfo><ds:Reference><ds:Transforms><ds:Transform/><ds:Transform/><ds:Transform/>` +
        `</ds:Transforms></ds:Reference><ds:Reference/><ds:Reference><ds:Transform/></ds:Reference></ds:SignedInfo>` +
        `</ds:Signature><ds:Reference/><ds:Transform/>`,
    ),
  ],
  [
    "names outside ASCII",
    aggregateOf(`<md:EntityDescriptor ID="é"><é:Signature xmlns:é="${DS}"/><ds:Sïgnature/></md:EntityDescriptor>`),
  ],
  ["names outside ASCII without a prefix", aggregateOf(`<é/><aé b="c"/><md:é/><aé:Signature xmlns:aé="${DS}"/>`)],
  ["a name ending at a slash", aggregateOf(`<ds:Signature/><md:EntityDescriptor/><md:EntityDescriptor />`)],
  [
    "more prefixes than the walk remembers",
    aggregateOf(`${manyPrefixes}<md:X${manyPrefixDeclarations}><p39:E/><ds:Signature/><p2:Signature/></md:X>`),
  ],
  [
    "an unprefixed Signature in the metadata namespace",
    `<EntityDescriptor xmlns="${MD}"><Signature/></EntityDescriptor>`,
  ],
  ["deep nesting", aggregateOf(`${"<md:X>".repeat(60)}<ds:Signature/>${"</md:X>".repeat(60)}`)],
  ["many Signatures", entityOf(`<md:Extensions>${`<ds:Signature xmlns:ds="${DS}"/>`.repeat(70)}</md:Extensions>`)],
  [
    "many References and Transforms",
    aggregateOf(`<ds:Signature><ds:SignedInfo>${reference.repeat(10)}</ds:SignedInfo></ds:Signature>`),
  ],
  // A declaration named xmlns: beside xmlns never gets here: the safety scan refuses a name that is no QName.
  ["attributes spread over lines", `<md:EntityDescriptor\n  xmlns:md="${MD}"\n  ID="_x"\n/>`],
];

describe("the merged walk reads what the two passes read", () => {
  it.each(corpus.map((document) => [document.file, document.text] as const))("%s", (file, text) => {
    expectSameLayout(text, file);
  });

  it.each(signed)("%s", (label, text) => {
    assertSafeXml(text, label);
    expect(expectSameLayout(text, label)).toBe(true);
  });

  it.each(odd)("%s", (label, text) => {
    assertSafeXml(text, label);
    expectSameLayout(text, label);
  });

  it("reads the signed corpus documents' structures (none is refused)", () => {
    const signedCorpus = readManifest().filter((document) => document.documentSigned);
    expect(signedCorpus.length).toBeGreaterThanOrEqual(5);
    for (const { file } of signedCorpus) {
      const text = decodeXmlBytes(readCorpusFile(file), file).replace(/^\uFEFF/, "");
      expect(readSignatureLayout(text).structure?.root.signatures, file).toHaveLength(1);
    }
  });
});

const fragment = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    "<ds:Signature/>",
    `<ds:Signature xmlns:ds="${DS}">`,
    "</ds:Signature>",
    "<ds:Reference>",
    "<ds:Transform/>",
    `<md:EntityDescriptor ID="_idp">`,
    "</md:EntityDescriptor>",
    `<md:EntitiesDescriptor xmlns:md="${MD}">`,
    ' ID="_idp"',
    " Id='x'",
    ' xmlns:ds="urn:x"',
    ` xmlns="${MD}"`,
    ' xmlns:md=""',
    "<?pi?>",
    "<!-- c -->",
    "<![CDATA[<x>]]>",
    "<q:X/>",
    '"',
    "'",
    ">",
    "/",
    ":",
  ),
);
const mutation = mutationArbitrary({
  fragment,
  flip: { min: 0x20, max: 0x7e },
  truncate: false,
  maxDelete: 60,
  maxDuplicate: 400,
});

describe("random mutations of signed documents that still pass the safety scan", () => {
  const originals = [
    ...signed.map(([, text]) => text),
    ...odd.map(([, text]) => text),
    ...corpus.filter(({ text }) => text.length < 40_000).map(({ text }) => text),
  ];

  it("are read alike by the merged walk and the two passes", () => {
    let safe = 0;
    fc.assert(
      fc.property(mutatedDocument(originals, mutation, 4), ({ text, index, mutations }) => {
        if (!passesSafetyScan(text)) return;
        safe++;
        expectSameLayout(text, `mutation ${JSON.stringify(mutations)} of document ${index}`);
      }),
      { numRuns: Number(process.env["FC_RUNS"] ?? 3000), seed: Number(process.env["FC_SEED"] ?? 15) },
    );
    // Most mutations break well-formedness; enough must survive the scan for the comparison to mean something.
    expect(safe).toBeGreaterThanOrEqual(300);
  });
});
