// Honest signature verdicts: ECDSA and inclusive C14N verify, unsupported algorithms are "cannot verify", SHA-1 is weak.
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseMetadataSigner } from "../../../src/adapters/metadata/metadata-signer.js";
import { checkMetadata } from "../../../src/domain/checks/metadata-checks.js";
import { inspectMetadataText, type InspectOptions } from "../../../src/domain/saml/inspect-metadata.js";
import { makeCertificate } from "../../support/certificates.js";
import { aggregateXml, entityXml } from "../../support/metadata-builder.js";
import { ALGORITHM, signXml } from "../../support/xml-signing.js";

const now = new Date();
const idpCertificate = makeCertificate({ commonName: "idp signing" });
const idpEntity = (id = "_idp", entityID = "https://idp.example.test/metadata"): string =>
  entityXml({ id, entityID, keys: [{ base64: idpCertificate.base64, use: "signing" }] });
const findingsOf = (xml: string, options: InspectOptions = {}) =>
  checkMetadata(inspectMetadataText(xml, "signed.xml", options), { now, warnDays: 30 });
const codesOf = (xml: string, options: InspectOptions = {}): string[] =>
  findingsOf(xml, options)
    .map((finding) => finding.code)
    .sort();

function ecKeys(namedCurve: "P-256" | "P-384"): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve });
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

describe("ECDSA signatures", () => {
  it.each([
    ["ECDSA-SHA256 on P-256", "P-256", ALGORITHM.ecdsaSha256, ALGORITHM.sha256],
    ["ECDSA-SHA384 on P-384", "P-384", ALGORITHM.ecdsaSha384, ALGORITHM.sha384],
  ] as const)("verify %s against the pinned signer's key", (_name, curve, signatureAlgorithm, digestAlgorithm) => {
    const keys = ecKeys(curve);
    const signed = signXml(idpEntity(), {
      privateKeyPem: keys.privateKeyPem,
      signatureAlgorithm,
      digestAlgorithm,
      referenceId: "_idp",
    });
    const signer = parseMetadataSigner(keys.publicKeyPem, "signer.pem");
    expect(inspectMetadataText(signed, "signed.xml", { signer }).signature).toMatchObject({
      present: true,
      valid: true,
      detail: "verified against the pinned signer",
    });
    expect(codesOf(signed, { signer })).toEqual([]);
    const tampered = signed.replace("https://idp.example.test/sso", "https://attacker.example/sso");
    expect(codesOf(tampered, { signer })).toEqual(["METADATA_SIGNATURE_INVALID"]);
  });

  it("is invalid, and says why, against a pinned key of another family", () => {
    const keys = ecKeys("P-256");
    const signed = signXml(idpEntity(), {
      privateKeyPem: keys.privateKeyPem,
      signatureAlgorithm: ALGORITHM.ecdsaSha256,
      referenceId: "_idp",
    });
    const inspection = inspectMetadataText(signed, "signed.xml", {
      signer: parseMetadataSigner(idpCertificate.pem, "signer.pem"),
    });
    expect(inspection.signature).toMatchObject({
      valid: false,
      detail: "the signature uses ECDSA-SHA256 but the signer's key is RSA",
    });
  });
});

describe("an algorithm breakglass does not implement", () => {
  const signed = signXml(idpEntity(), {
    privateKeyPem: idpCertificate.privateKeyPem,
    certificateBase64: idpCertificate.base64,
    signatureAlgorithm: ALGORITHM.rsaSha256,
    referenceId: "_idp",
  });

  it.each([
    [
      "signature algorithm",
      `SignatureMethod Algorithm="${ALGORITHM.rsaSha256}"`,
      "http://www.w3.org/2009/xmldsig11#dsa-sha256",
    ],
    ["digest algorithm", `DigestMethod Algorithm="${ALGORITHM.sha256}"`, "http://www.w3.org/2001/04/xmldsig-more#md5"],
    [
      "canonicalization",
      `CanonicalizationMethod Algorithm="${ALGORITHM.exclusiveC14n}"`,
      "http://www.w3.org/2006/12/xml-c14n11",
    ],
  ])("gets its own finding, 'cannot verify', never 'invalid' (%s)", (_what, attribute, uri) => {
    const unknown = signed.replace(attribute, attribute.replace(/"[^"]*"$/, `"${uri}"`));
    expect(unknown).not.toBe(signed);
    const inspection = inspectMetadataText(unknown, "signed.xml");
    expect(inspection.signature).toMatchObject({
      present: true,
      valid: null,
      detail: `cannot verify: ${uri}`,
      unverifiedReason: "unsupported-algorithm",
    });
    const findings = findingsOf(unknown);
    expect(findings.map((finding) => [finding.code, finding.severity])).toEqual([
      ["METADATA_SIGNATURE_UNSUPPORTED", "high"],
    ]);
    expect(findings[0]?.message).toBe(`The document's signature was not checked (cannot verify: ${uri}).`);
  });
});

describe("inclusive C14N", () => {
  it("verifies the second entity signature of an aggregate with its own SignedInfo's namespaces, not the first one's", () => {
    const keys = {
      privateKeyPem: idpCertificate.privateKeyPem,
      certificateBase64: idpCertificate.base64,
      signatureAlgorithm: ALGORITHM.rsaSha256,
      canonicalization: ALGORITHM.inclusiveC14n,
    };
    const first = signXml(idpEntity("_a", "https://a.example/idp"), { ...keys, referenceId: "_a" });
    // The second entity declares a namespace the first does not: inclusive C14N renders it in its SignedInfo.
    const second = signXml(
      idpEntity("_b", "https://b.example/idp").replace(
        "<md:EntityDescriptor ",
        `<md:EntityDescriptor xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui" `,
      ),
      { ...keys, referenceId: "_b" },
    );
    const aggregate = aggregateXml([first, second]);
    const inspection = inspectMetadataText(aggregate, "aggregate.xml");
    expect(
      inspection.entities.map((entity) => [entity.entityID, entity.signature.valid, entity.signatureScope]),
    ).toEqual([
      ["https://a.example/idp", true, "entity"],
      ["https://b.example/idp", true, "entity"],
    ]);
    expect(codesOf(aggregate)).toEqual([]);
    expect(
      inspectMetadataText(aggregate.replace("https://b.example/idp", "https://attacker.example/idp"), "aggregate.xml")
        .entities[1]?.signature.valid,
    ).toBe(false);
  });
});

describe("SHA-1", () => {
  it("raises a weak-algorithm finding for a SHA-1 signature and digest, though the signature verifies", () => {
    const signed = signXml(idpEntity(), {
      privateKeyPem: idpCertificate.privateKeyPem,
      certificateBase64: idpCertificate.base64,
      signatureAlgorithm: ALGORITHM.rsaSha1,
      digestAlgorithm: ALGORITHM.sha1,
      referenceId: "_idp",
    });
    const inspection = inspectMetadataText(signed, "signed.xml");
    expect(inspection.signature).toMatchObject({ valid: true, weakAlgorithms: [ALGORITHM.rsaSha1, ALGORITHM.sha1] });
    const findings = findingsOf(signed);
    expect(findings.map((finding) => [finding.code, finding.severity])).toEqual([
      ["METADATA_SIGNATURE_WEAK", "medium"],
    ]);
    expect(findings[0]?.message).toBe(
      `The document's signature uses SHA-1 (${ALGORITHM.rsaSha1}, ${ALGORITHM.sha1}); it verifies, but proves less than it seems.`,
    );
  });

  it("is weak for a SHA-1 digest under a SHA-256 signature too", () => {
    const signed = signXml(idpEntity(), {
      privateKeyPem: idpCertificate.privateKeyPem,
      certificateBase64: idpCertificate.base64,
      signatureAlgorithm: ALGORITHM.rsaSha256,
      digestAlgorithm: ALGORITHM.sha1,
      referenceId: "_idp",
    });
    expect(codesOf(signed)).toEqual(["METADATA_SIGNATURE_WEAK"]);
  });
});
