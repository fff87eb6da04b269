// Signed metadata: valid, tampered, wrapped and pinned-signer cases, with keys generated for the test.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkMetadata } from "../../../src/domain/checks/metadata-checks.js";
import { inspectMetadataText } from "../../../src/domain/saml/inspect-metadata.js";
import { parseMetadataSigner } from "../../../src/adapters/metadata/metadata-signer.js";
import { freshKeyPair, makeCertificate } from "../../support/certificates.js";
import { aggregateXml, entityXml, signDocument } from "../../support/metadata-builder.js";

const idpCertificate = makeCertificate({ commonName: "idp signing" });
const attackerCertificate = makeCertificate({ commonName: "attacker" }, freshKeyPair());
const now = new Date();
const codes = (xml: string, signerPem?: string): string[] =>
  checkMetadata(
    inspectMetadataText(xml, "signed.xml", signerPem ? { signer: parseMetadataSigner(signerPem, "signer.pem") } : {}),
    { now, warnDays: 30 },
  )
    .map((finding) => finding.code)
    .sort();

function signedIdp(options: { id?: string; uriIsEmpty?: boolean } = {}): string {
  const id = options.id ?? "_orig";
  const xml = entityXml({
    id,
    keys: [{ base64: idpCertificate.base64, use: "signing" }],
    ssoLocations: ["https://idp.example.test/sso"],
  });
  return signDocument(xml, idpCertificate.privateKeyPem, idpCertificate.base64, options.uriIsEmpty ? undefined : id);
}

const SIGNATURE = /<ds:Signature[\s\S]*?<\/ds:Signature>/;

describe("a correctly signed document", () => {
  it.each([
    ['Reference URI=""', true],
    ['Reference URI="#ID"', false],
  ])("verifies with %s against its embedded certificate, and says the check is integrity only", (_name, uriIsEmpty) => {
    const inspection = inspectMetadataText(signedIdp({ uriIsEmpty }), "signed.xml");
    expect(inspection.signature).toMatchObject({
      present: true,
      valid: true,
      key: "embedded",
      signerSha256: createHash("sha256").update(idpCertificate.der).digest("hex"),
    });
    expect(inspection.signature.detail).toContain("integrity only");
    expect(codes(signedIdp({ uriIsEmpty }))).toEqual([]);
  });

  it("verifies against a pinned signer certificate", () => {
    const inspection = inspectMetadataText(signedIdp(), "signed.xml", {
      signer: parseMetadataSigner(idpCertificate.pem, "signer.pem"),
    });
    expect(inspection.signature).toMatchObject({
      present: true,
      valid: true,
      key: "pinned",
      detail: "verified against the pinned signer",
    });
  });

  it("verifies against a pinned bare public key", () => {
    const inspection = inspectMetadataText(signedIdp(), "signed.xml", {
      signer: parseMetadataSigner(idpCertificate.publicKeyPem, "signer.pem"),
    });
    expect(inspection.signature.valid).toBe(true);
  });
});

describe("a tampered or wrongly signed document", () => {
  it("is invalid when a sign-in URL was changed after signing", () => {
    const tampered = signedIdp().replace("https://idp.example.test/sso", "https://attacker.example/sso");
    const inspection = inspectMetadataText(tampered, "signed.xml");
    expect(inspection.signature).toMatchObject({
      present: true,
      valid: false,
      detail: "the signed content was changed after signing (digest mismatch)",
    });
    expect(codes(tampered)).toEqual(["METADATA_SIGNATURE_INVALID"]);
  });

  it("is invalid when the signing certificate was swapped after signing", () => {
    const swapped = signedIdp().replace(
      `<ds:X509Certificate>${idpCertificate.base64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
      `<ds:X509Certificate>${attackerCertificate.base64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
    );
    expect(swapped).not.toBe(signedIdp());
    expect(inspectMetadataText(swapped, "signed.xml").signature.valid).toBe(false);
  });

  it("is invalid against a pinned signer when someone else signed it, even though it verifies against its own certificate", () => {
    const forged = signDocument(
      entityXml({ id: "_f", keys: [{ base64: attackerCertificate.base64, use: "signing" }] }),
      attackerCertificate.privateKeyPem,
      attackerCertificate.base64,
      "_f",
    );
    expect(inspectMetadataText(forged, "forged.xml").signature.valid).toBe(true);
    const pinned = inspectMetadataText(forged, "forged.xml", {
      signer: parseMetadataSigner(idpCertificate.pem, "signer.pem"),
    });
    expect(pinned.signature).toMatchObject({
      valid: false,
      detail: "the signature value does not match the signer's key",
    });
    expect(codes(forged, idpCertificate.pem)).toContain("METADATA_SIGNATURE_INVALID");
  });

  it("is flagged when a signer is pinned but the document is not signed at all", () => {
    const unsigned = entityXml({ keys: [{ base64: idpCertificate.base64, use: "signing" }] });
    expect(codes(unsigned)).toEqual([]);
    expect(codes(unsigned, idpCertificate.pem)).toEqual(["METADATA_SIGNATURE_INVALID"]);
  });

  it("refuses two signatures on one element", () => {
    const signed = signedIdp();
    const signature = SIGNATURE.exec(signed)![0];
    const doubled = signed.replace(signature, signature + signature);
    expect(inspectMetadataText(doubled, "signed.xml").signature).toMatchObject({
      valid: false,
      detail: "more than one Signature element on the same element",
    });
  });
});

describe("signature wrapping", () => {
  const signed = signedIdp();
  const signature = SIGNATURE.exec(signed)![0];
  const original = signed.replace(signature, "");
  const attackerEntity = (id: string): string =>
    entityXml({
      entityID: "https://attacker.example/idp",
      id,
      keys: [{ base64: attackerCertificate.base64, use: "signing" }],
      ssoLocations: ["https://attacker.example/sso"],
    }).replace(/<md:IDPSSODescriptor/, `${signature}<md:Extensions>${original}</md:Extensions><md:IDPSSODescriptor`);

  it("does not let a valid signature over a hidden copy vouch for the element around it", () => {
    const wrapped = attackerEntity("_evil");
    const inspection = inspectMetadataText(wrapped, "wrapped.xml");
    expect(inspection.entities.map((entity) => entity.entityID)).toEqual(["https://attacker.example/idp"]);
    expect(inspection.signature).toMatchObject({
      present: true,
      valid: false,
      detail: `the signature references "#_orig", not the element that contains it`,
    });
    expect(codes(wrapped)).toContain("METADATA_SIGNATURE_INVALID");
  });

  it("refuses a document where two elements carry the signed ID", () => {
    const wrapped = attackerEntity("_orig");
    const inspection = inspectMetadataText(wrapped, "wrapped.xml");
    expect(inspection.signature.valid).toBe(false);
    expect(inspection.signature.detail).toContain("multiple elements with the same value for the ID");
  });

  it("reports an entity added beside a signed one in an unsigned aggregate as unsigned", () => {
    const strip = (xml: string) => xml.replace(/ xmlns:(md|ds)="[^"]*"/g, "");
    const aggregate = aggregateXml([
      strip(signed),
      strip(
        entityXml({
          entityID: "https://attacker.example/idp",
          keys: [{ base64: attackerCertificate.base64, use: "signing" }],
        }),
      ),
    ]);
    const inspection = inspectMetadataText(aggregate, "aggregate.xml");
    expect(
      inspection.entities.map((entity) => [
        entity.entityID,
        entity.signature.present,
        entity.signature.valid,
        entity.signatureScope,
      ]),
    ).toEqual([
      ["https://idp.example.test/metadata", true, true, "entity"],
      ["https://attacker.example/idp", false, null, null],
    ]);
    // With the signer pinned, the unsigned newcomer is a critical finding.
    const findings = checkMetadata(
      inspectMetadataText(aggregate, "aggregate.xml", {
        signer: parseMetadataSigner(idpCertificate.pem, "signer.pem"),
      }),
      { now, warnDays: 30 },
    );
    expect(findings.map((finding) => [finding.code, finding.entityID])).toEqual([
      ["METADATA_SIGNATURE_INVALID", "https://attacker.example/idp"],
    ]);
  });

  it("reads the facts of a signed aggregate from the signed bytes, covering every entity inside", () => {
    const aggregate = signDocument(
      aggregateXml([
        entityXml(
          { entityID: "https://a.example/idp", keys: [{ base64: idpCertificate.base64, use: "signing" }] },
          false,
        ),
        entityXml(
          { entityID: "https://b.example/idp", keys: [{ base64: idpCertificate.base64, use: "signing" }] },
          false,
        ),
      ]),
      idpCertificate.privateKeyPem,
      idpCertificate.base64,
    );
    const inspection = inspectMetadataText(aggregate, "aggregate.xml");
    expect(inspection.signature.valid).toBe(true);
    expect(
      inspection.entities.map((entity) => [entity.entityID, entity.signature.valid, entity.signatureScope]),
    ).toEqual([
      ["https://a.example/idp", true, "document"],
      ["https://b.example/idp", true, "document"],
    ]);
    const tampered = aggregate.replace("https://b.example/idp", "https://attacker.example/idp");
    expect(
      inspectMetadataText(tampered, "aggregate.xml").entities.every((entity) => entity.signature.valid === false),
    ).toBe(true);
  });
});

describe("the pinned signer file", () => {
  it("refuses a private key, so nobody copies signing keys onto the monitor", () => {
    expect(() => parseMetadataSigner(idpCertificate.privateKeyPem, "key.pem")).toThrow(
      "key.pem: contains a private key; give the signer's certificate or public key instead",
    );
  });

  it("refuses something that is not PEM", () => {
    expect(() => parseMetadataSigner("hello", "signer.pem")).toThrow(
      "signer.pem: is not a PEM certificate or public key (--metadata-signer)",
    );
  });
});

describe("documents too large to verify", () => {
  it("are reported signed but unverified, with a finding that says why, instead of running for minutes", () => {
    const inspection = inspectMetadataText(signedIdp(), "big.xml", { maxSignedBytes: 1000 });
    expect(inspection.signature).toMatchObject({ present: true, valid: null });
    expect(inspection.signature.detail).toMatch(
      /^not verified: the document is [\d.]+ KB, over the 1000 bytes limit for signature verification$/,
    );
    const findings = checkMetadata(inspection, { now, warnDays: 30 });
    expect(findings.map((finding) => [finding.code, finding.severity])).toEqual([
      ["METADATA_SIGNATURE_UNVERIFIED", "high"],
    ]);
  });
});
