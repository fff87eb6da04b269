// What signatures leave uncovered: an unsigned copy of a signed IdP, signed and unsigned IdPs side by side, duplicate entityIDs, stray signatures.
import { describe, expect, it } from "vitest";
import { parseMetadataSigner } from "../../../src/adapters/metadata/metadata-signer.js";
import { checkMetadata } from "../../../src/domain/checks/metadata-checks.js";
import { inspectMetadataText, type InspectOptions } from "../../../src/domain/saml/inspect-metadata.js";
import { freshKeyPair, makeCertificate } from "../../support/certificates.js";
import { aggregateXml, entityXml, signDocument } from "../../support/metadata-builder.js";

const now = new Date();
const idpCertificate = makeCertificate({ commonName: "idp signing" });
const attackerCertificate = makeCertificate({ commonName: "attacker" }, freshKeyPair());
const strip = (xml: string): string => xml.replace(/ xmlns:(md|ds)="[^"]*"/g, "");
const signedEntity = (entityID: string, id: string): string =>
  signDocument(
    entityXml({ entityID, id, keys: [{ base64: idpCertificate.base64, use: "signing" }] }),
    idpCertificate.privateKeyPem,
    idpCertificate.base64,
    id,
  );
const unsignedEntity = (entityID: string): string =>
  entityXml({
    entityID,
    keys: [{ base64: attackerCertificate.base64, use: "signing" }],
    ssoLocations: ["https://attacker.example/sso"],
  });
const findingsOf = (xml: string, options: InspectOptions = {}) =>
  checkMetadata(inspectMetadataText(xml, "metadata.xml", options), { now, warnDays: 30 }).map((finding) => ({
    code: finding.code,
    severity: finding.severity,
    message: finding.message,
    entityID: finding.entityID,
  }));

describe("without a pinned signer", () => {
  it("flags an unsigned IdP entity that claims the entityID of a signed one", () => {
    const aggregate = aggregateXml([
      strip(signedEntity("https://idp.example.test/metadata", "_a")),
      strip(unsignedEntity("https://idp.example.test/metadata")),
    ]);
    expect(findingsOf(aggregate)).toEqual([
      {
        code: "METADATA_UNSIGNED_DUPLICATE",
        severity: "critical",
        message:
          "https://idp.example.test/metadata appears 2 times: 1 signed, and 1 unsigned IdP copy claiming the same entityID.",
        entityID: "https://idp.example.test/metadata",
      },
    ]);
  });

  it("flags IdP entities signed and unsigned side by side", () => {
    const aggregate = aggregateXml([
      strip(signedEntity("https://a.example/idp", "_a")),
      strip(unsignedEntity("https://b.example/idp")),
    ]);
    expect(findingsOf(aggregate)).toEqual([
      {
        code: "METADATA_MIXED_SIGNING",
        severity: "medium",
        message: "Some IdP entities are signed and 1 is not: https://b.example/idp.",
        entityID: undefined,
      },
    ]);
  });

  it("flags two entities with one entityID, signed or not", () => {
    const aggregate = aggregateXml([
      strip(unsignedEntity("https://b.example/idp")),
      strip(unsignedEntity("https://b.example/idp")),
    ]);
    expect(findingsOf(aggregate)).toEqual([
      {
        code: "METADATA_DUPLICATE_ENTITY_ID",
        severity: "high",
        message: "https://b.example/idp appears 2 times in the document.",
        entityID: "https://b.example/idp",
      },
    ]);
  });

  it("flags a signed EntityDescriptor hidden inside Extensions, where no signature is verified", () => {
    const hidden = signedEntity("https://idp.example.test/metadata", "_hidden");
    const document = unsignedEntity("https://attacker.example/idp").replace(
      "<md:IDPSSODescriptor",
      `<md:Extensions>${hidden}</md:Extensions><md:IDPSSODescriptor`,
    );
    const inspection = inspectMetadataText(document, "metadata.xml");
    expect(inspection.straySignatures).toEqual({
      count: 1,
      places: ["md:EntityDescriptor/md:Extensions/md:EntityDescriptor"],
    });
    expect(findingsOf(document)).toEqual([
      {
        code: "METADATA_SIGNATURE_STRAY",
        severity: "high",
        message:
          "1 Signature sits where breakglass verifies none, on <md:EntityDescriptor/md:Extensions/md:EntityDescriptor>: it vouches for nothing reported here.",
        entityID: undefined,
      },
    ]);
  });

  it("raises none of these for a signed aggregate or an ordinary signed entity", () => {
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
    expect(findingsOf(aggregate)).toEqual([]);
    expect(findingsOf(signedEntity("https://a.example/idp", "_a"))).toEqual([]);
  });
});

describe("with a pinned signer", () => {
  it("reports the unsigned copy as not covered by the signer, and the duplicate entityID, without repeating it", () => {
    const aggregate = aggregateXml([
      strip(signedEntity("https://idp.example.test/metadata", "_a")),
      strip(unsignedEntity("https://idp.example.test/metadata")),
    ]);
    const signer = parseMetadataSigner(idpCertificate.pem, "signer.pem");
    expect(findingsOf(aggregate, { signer }).map((finding) => finding.code)).toEqual([
      "METADATA_DUPLICATE_ENTITY_ID",
      "METADATA_SIGNATURE_INVALID",
    ]);
  });
});
