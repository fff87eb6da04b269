// Signature verification is bounded by the document's shape: over a bound it is refused before xmldom or xml-crypto see the document.
import { DOMParser } from "@xmldom/xmldom";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { SignedXml } from "xml-crypto";
import { checkMetadata } from "../../../src/domain/checks/metadata-checks.js";
import { inspectMetadataText, type InspectOptions } from "../../../src/domain/saml/inspect-metadata.js";
import { DEFAULT_SIGNATURE_BOUNDS, exceededSignatureBound } from "../../../src/domain/saml/signature-bounds.js";
import { measureSignatureShape } from "../../../src/domain/saml/signature-shape.js";
import { decodeXmlBytes } from "../../../src/domain/saml/xml-text.js";
import { makeCertificate } from "../../support/certificates.js";
import { readCorpusFile, readManifest } from "../../support/corpus.js";
import { aggregateXml, entityXml, signDocument } from "../../support/metadata-builder.js";

const now = new Date();
const idpCertificate = makeCertificate({ commonName: "idp signing" });
const INCLUSIVE_C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
const signedIdp = (
  id = "_idp",
  entityID = "https://idp.example.test/metadata",
  declareNamespaces = true,
  canonicalization?: string,
): string =>
  signDocument(
    entityXml({ id, entityID, keys: [{ base64: idpCertificate.base64, use: "signing" }] }, declareNamespaces),
    idpCertificate.privateKeyPem,
    idpCertificate.base64,
    id,
    canonicalization,
  );
/** Signed with inclusive C14N: outside the profile signature-fast-path.ts verifies, so xml-crypto checks it, within the bounds. */
const signedIdpForXmlCrypto = (id?: string, entityID?: string, declareNamespaces?: boolean): string =>
  signedIdp(id, entityID, declareNamespaces, INCLUSIVE_C14N);
/** Puts `extension` inside the IdP's Extensions, after signing: the signature no longer matches, as in the attack. */
const pad = (xml: string, extension: string): string =>
  xml.replace("<md:IDPSSODescriptor", `<md:Extensions>${extension}</md:Extensions><md:IDPSSODescriptor`);
const inspect = (xml: string, options: InspectOptions = {}) => inspectMetadataText(xml, "hostile.xml", options);
const findingsOf = (xml: string, options: InspectOptions = {}) =>
  checkMetadata(inspect(xml, options), { now, warnDays: 30 }).map((finding) => [finding.code, finding.severity]);

let documentParses: MockInstance;
let signatureChecks: MockInstance;
beforeEach(() => {
  documentParses = vi.spyOn(DOMParser.prototype, "parseFromString");
  signatureChecks = vi.spyOn(SignedXml.prototype, "checkSignature");
});
afterEach(() => vi.restoreAllMocks());
/** Signing a test document parses it too: only what inspecting it does afterwards counts. */
function forgetSigning(): void {
  documentParses.mockClear();
  signatureChecks.mockClear();
}

describe("a document within the bounds", () => {
  it("is parsed by xmldom and checked by xml-crypto when its profile is not the fast one (the spies below see the work)", () => {
    const signed = signedIdpForXmlCrypto();
    forgetSigning();
    expect(inspect(signed).signature.valid).toBe(true);
    expect(documentParses).toHaveBeenCalled();
    expect(signatureChecks).toHaveBeenCalledTimes(1);
  });

  it("is verified in one pass, without xmldom or xml-crypto, when signed enveloped with exclusive C14N", () => {
    const signed = signedIdp();
    forgetSigning();
    expect(inspect(signed).signature.valid).toBe(true);
    expect(documentParses).not.toHaveBeenCalled();
    expect(signatureChecks).not.toHaveBeenCalled();
  });
});

describe("a document of the exclusive C14N profile over the element bound", () => {
  it("padded with 100,001 empty elements after signing is verified in one pass and found changed, never walked by xml-crypto", () => {
    const padded = pad(signedIdp(), "<a/>".repeat(100_001));
    forgetSigning();
    const inspection = inspect(padded);
    expect(inspection.signature).toMatchObject({
      present: true,
      valid: false,
      detail: "the signed content was changed after signing (digest mismatch)",
    });
    expect(documentParses).not.toHaveBeenCalled();
    expect(signatureChecks).not.toHaveBeenCalled();
  });

  it("is verified whatever --max-signed-elements says: the bound is on xml-crypto's walks", () => {
    expect(inspect(signedIdp(), { maxSignedElements: 10 }).signature.valid).toBe(true);
  });
});

describe("a document over a bound (signed outside the fast profile for the element bound)", () => {
  it("padded with 100,001 empty elements and a bogus signature is not verified, with its own finding, and never walked", () => {
    const padded = pad(signedIdpForXmlCrypto(), "<a/>".repeat(100_001));
    forgetSigning();
    const inspection = inspect(padded);
    expect(inspection.signature).toMatchObject({ present: true, valid: null, unverifiedReason: "too-complex" });
    expect(inspection.signature.detail).toMatch(
      /^not verified: the document has 100,0\d\d elements, over the 100,000 bound for signature verification \(--max-signed-elements\)$/,
    );
    expect(findingsOf(padded)).toEqual([["METADATA_SIGNATURE_TOO_COMPLEX", "high"]]);
    expect(documentParses).not.toHaveBeenCalled();
    expect(signatureChecks).not.toHaveBeenCalled();
    // The facts are still read, from the parser that needs no signature walk.
    expect(inspection.entities.map((entity) => entity.entityID)).toEqual(["https://idp.example.test/metadata"]);
  });

  it("takes the element bound as an option (--max-signed-elements)", () => {
    const signed = signedIdpForXmlCrypto();
    forgetSigning();
    const inspection = inspect(signed, { maxSignedElements: 10 });
    expect(inspection.signature.detail).toMatch(
      /^not verified: the document has \d+ elements, over the 10 bound for signature verification/,
    );
    expect(signatureChecks).not.toHaveBeenCalled();
  });

  it("counts the document once per signature to check, since xml-crypto re-reads all of it for each", () => {
    const strip = (xml: string) => xml.replace(/ xmlns:(md|ds)="[^"]*"/g, "");
    const aggregate = aggregateXml([
      strip(signedIdpForXmlCrypto("_a", "https://a.example/idp")),
      strip(signedIdpForXmlCrypto("_b", "https://b.example/idp")),
    ]);
    const elements = measureSignatureShape(aggregate).elements;
    forgetSigning();
    const inspection = inspect(aggregate, { maxSignedElements: elements + 1 });
    expect(inspection.entities.map((entity) => entity.signature.detail)).toEqual([
      `not verified: checking 2 signatures over ${elements} elements walks ${elements * 2}, over ` +
        `the ${elements + 1} bound for signature verification (--max-signed-elements)`,
      `not verified: checking 2 signatures over ${elements} elements walks ${elements * 2}, over ` +
        `the ${elements + 1} bound for signature verification (--max-signed-elements)`,
    ]);
    expect(findingsOf(aggregate, { maxSignedElements: elements + 1 })).toEqual([
      ["METADATA_SIGNATURE_TOO_COMPLEX", "high"],
      ["METADATA_SIGNATURE_TOO_COMPLEX", "high"],
    ]);
    expect(documentParses).not.toHaveBeenCalled();
  });

  it.each([
    [
      "5 Transforms in a Reference",
      (xml: string) =>
        xml.replace(
          /<ds:Transforms>/,
          `<ds:Transforms>${'<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'.repeat(3)}`,
        ),
      "a Reference has 5 Transforms, over the bound of 4",
    ],
    [
      "5 References in a Signature",
      (xml: string) => xml.replace(/(<ds:Reference[\s\S]*?<\/ds:Reference>)/, "$1$1$1$1$1"),
      "a Signature has 5 References, over the bound of 4",
    ],
    [
      "65 Signatures",
      (xml: string) =>
        pad(
          xml,
          (
            `<md:EntityDescriptor entityID="https://hidden.example/idp">` +
            `${/<ds:Signature[\s\S]*?<\/ds:Signature>/.exec(xml)?.[0] ?? ""}</md:EntityDescriptor>`
          ).repeat(64),
        ),
      "the document has 65 Signature elements, over the bound of 64",
    ],
    [
      "elements nested 33 deep",
      (xml: string) => pad(xml, `${"<a>".repeat(31)}${"</a>".repeat(31)}`),
      "elements are nested 33 deep, over the bound of 32 for signature verification",
    ],
  ])("refuses %s before any walk", (_name, distort, reason) => {
    const hostile = distort(signedIdp());
    forgetSigning();
    const inspection = inspect(hostile);
    expect(inspection.signature).toMatchObject({
      valid: null,
      unverifiedReason: "too-complex",
      detail: `not verified: ${reason}`,
    });
    expect(findingsOf(hostile)).toContainEqual(["METADATA_SIGNATURE_TOO_COMPLEX", "high"]);
    expect(documentParses).not.toHaveBeenCalled();
    expect(signatureChecks).not.toHaveBeenCalled();
  });
});

describe("the bounds and real metadata", () => {
  it.each(readManifest().map((document) => [document.file] as const))(
    "%s is within every bound with a wide margin",
    (file) => {
      const shape = measureSignatureShape(decodeXmlBytes(readCorpusFile(file), file));
      const margin = {
        maxSignedElements: DEFAULT_SIGNATURE_BOUNDS.maxSignedElements / 100,
        maxSignatures: 1,
        maxReferencesPerSignature: 1,
        maxTransformsPerReference: 2,
        maxDepth: DEFAULT_SIGNATURE_BOUNDS.maxDepth / 3,
      };
      expect(exceededSignatureBound(shape, Math.max(shape.signatures, 1), margin)).toBeUndefined();
    },
  );
});
