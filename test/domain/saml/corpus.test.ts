// Every real IdP document in ../shared/corpus is inspected and must match the facts xmllint, OpenSSL and xmlsec1 derived.
import { describe, expect, it } from "vitest";
import { checkMetadata } from "../../../src/domain/checks/metadata-checks.js";
import { inspectMetadataBytes } from "../../../src/domain/saml/inspect-metadata.js";
import { readCorpusFile, readManifest } from "../../support/corpus.js";

const manifest = readManifest();
const instant = (value: string | null): number | null => (value === null ? null : new Date(value).getTime());

describe("the real IdP metadata corpus", () => {
  it("holds the documents the manifest lists", () => {
    expect(manifest.length).toBeGreaterThanOrEqual(24);
  });

  describe.each(manifest.map((document) => [document.file, document] as const))("%s", (file, expected) => {
    const inspection = inspectMetadataBytes(readCorpusFile(file), file);

    it("finds every EntityDescriptor, in document order", () => {
      expect(inspection.rootElement).toBe(expected.rootElement);
      expect(inspection.entities.map((entity) => entity.entityID)).toEqual(
        expected.entities.map((entity) => entity.entityID),
      );
    });

    it("reports the document's validity and signature as xmlsec1 judged it", () => {
      expect(instant(inspection.validUntil)).toBe(instant(expected.documentValidUntil));
      expect(inspection.cacheDuration).toBe(expected.documentCacheDuration);
      expect(inspection.signature.present).toBe(expected.documentSigned);
      expect(inspection.signature.valid).toBe(expected.documentSignatureCheck?.valid ?? null);
    });

    it.each(expected.entities.map((entity, index) => [entity.entityID, index] as const))(
      "reads entity %s exactly",
      (_entityID, index) => {
        const entity = inspection.entities[index]!;
        const wanted = expected.entities[index]!;
        expect(entity.roles.filter((role) => role.kind === "idp")).toHaveLength(wanted.idpDescriptors);
        expect(entity.roles.map((role) => role.label)).toEqual(wanted.roleDescriptors);
        expect(instant(entity.validUntil)).toBe(instant(wanted.validUntil));
        expect(entity.cacheDuration).toBe(wanted.cacheDuration);
        expect(entity.ssoServices).toEqual(wanted.ssoServices);
        expect(entity.nameIDFormats).toEqual(wanted.nameIDFormats);
        // An entity inside a signed aggregate is covered by the aggregate's signature.
        expect(entity.signature.present).toBe(wanted.signed || expected.documentSigned);
        if (expected.documentSigned) expect(entity.signature.valid).toBe(expected.documentSignatureCheck?.valid);

        expect(entity.certificates).toHaveLength(wanted.certificates.length);
        entity.certificates.forEach((certificate, position) => {
          const want = wanted.certificates[position]!;
          expect(certificate.role).toBe(want.role);
          expect(certificate.use).toBe(want.use ?? "both");
          expect(certificate.facts).not.toBeNull();
          const facts = certificate.facts!;
          expect(facts.sha256).toBe(want.sha256);
          expect(facts.subject).toBe(want.subject);
          expect(facts.issuer).toBe(want.issuer);
          expect(facts.notBefore.getTime()).toBe(instant(want.notBefore));
          expect(facts.notAfter.getTime()).toBe(instant(want.notAfter));
          expect(facts.keyAlgorithm).toBe(want.keyAlg);
          expect(facts.keyBits).toBe(want.keyBits);
          expect(facts.signatureAlgorithm).toBe(want.sigAlg);
        });
      },
    );
  });
});

describe("findings on real documents (judged as of 2026-11-24, the manifest's date)", () => {
  const now = new Date("2026-11-24T12:00:00Z");
  const codesOf = (file: string): string[] =>
    checkMetadata(inspectMetadataBytes(readCorpusFile(file), file), { now, warnDays: 30 })
      .map((finding) => finding.code)
      .sort();

  it("warns that Google's older signing certificate expires within 30 days while a rollover is under way", () => {
    expect(codesOf("google-workspace-rollover.xml")).toEqual(["CERT_EXPIRING", "ROLLOVER_IN_PROGRESS"]);
  });

  it("flags metadata re-indented after signing as tampered", () => {
    expect(codesOf("entra-id-app-prettyprinted.xml")).toEqual(["METADATA_SIGNATURE_INVALID"]);
  });

  it("sees Entra's finished rollover: the other signing certificate expired long ago, so no rollover is under way", () => {
    // b8235443 expired on 2025-09-28, 422 days before the manifest's date; d407d95e alone signs now.
    expect(codesOf("entra-id-app-rollover-bom.xml")).toEqual(["CERT_EXPIRED"]);
  });

  it("sees no rollover in Shibboleth's two 20-year certificates with the same validity", () => {
    expect(codesOf("shibboleth-samltest-id.xml")).not.toContain("ROLLOVER_IN_PROGRESS");
    expect(codesOf("shibboleth-unibuc.xml")).not.toContain("ROLLOVER_IN_PROGRESS");
  });

  it("reports an IdP whose only signing certificate expired as unable to federate", () => {
    expect(codesOf("openam-ssocircle.xml")).toEqual(["CERT_EXPIRED", "NO_VALID_SIGNING_CERT"]);
  });

  it("reports SHA-1 signed certificates as weak", () => {
    expect(codesOf("onelogin-rhombus-sha1.xml")).toEqual([
      "CERT_EXPIRED",
      "CERT_WEAK_SIGNATURE",
      "NO_VALID_SIGNING_CERT",
    ]);
  });

  it("treats a passed validUntil on the IDPSSODescriptor as expired metadata", () => {
    expect(codesOf("zitadel-cloud.xml")).toEqual(["CERT_EXPIRED", "METADATA_EXPIRED", "NO_VALID_SIGNING_CERT"]);
  });

  it("passes a healthy IdP document with no finding", () => {
    expect(codesOf("google-workspace-aws-federation.xml")).toEqual([]);
    expect(codesOf("keycloak-gap-sso-aws.xml")).toEqual([]);
  });

  it("judges only the IdP of an aggregate, and its invalid aggregate signature once", () => {
    const findings = checkMetadata(
      inspectMetadataBytes(readCorpusFile("aggregate-samleiki-test-federation.xml"), "samleiki"),
      { now, warnDays: 30 },
    );
    expect(findings.map((finding) => finding.code).sort()).toEqual([
      "CERT_EXPIRED",
      "METADATA_SIGNATURE_INVALID",
      "NO_VALID_SIGNING_CERT",
    ]);
    expect(new Set(findings.filter((finding) => finding.entityID).map((finding) => finding.entityID))).toEqual(
      new Set(["https://innrita.test1.samleiki.fo/idp/shibboleth"]),
    );
  });
});
