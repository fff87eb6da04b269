// The metadata checks on documents built for each case: what an admin would be told, and when.
import { describe, expect, it } from "vitest";
import { checkMetadata } from "../../../src/domain/checks/metadata-checks.js";
import { FINDING_CODES } from "../../../src/domain/checks/finding-codes.js";
import { inspectMetadataText } from "../../../src/domain/saml/inspect-metadata.js";
import { DAY, makeCertificate } from "../../support/certificates.js";
import { aggregateXml, entityXml, type EntitySpec } from "../../support/metadata-builder.js";

const now = new Date("2026-11-25T12:00:00Z");
const certificateValidFor = (days: number, spec: Parameters<typeof makeCertificate>[0] = {}) =>
  makeCertificate({
    notBefore: new Date(now.getTime() - 100 * DAY),
    notAfter: new Date(now.getTime() + days * DAY),
    ...spec,
  });
const healthy = certificateValidFor(400);

function findingsFor(spec: EntitySpec, warnDays = 30) {
  return checkMetadata(inspectMetadataText(entityXml(spec), "idp.xml"), { now, warnDays });
}
const codesFor = (spec: EntitySpec, warnDays = 30) =>
  findingsFor(spec, warnDays)
    .map((finding) => finding.code)
    .sort();

describe("signing certificates", () => {
  it("passes an IdP with one healthy signing certificate", () => {
    expect(codesFor({ keys: [{ base64: healthy.base64, use: "signing" }] })).toEqual([]);
  });

  it("warns inside the warning window with the days left, and not outside it", () => {
    const soon = certificateValidFor(10.5);
    const [finding] = findingsFor({ keys: [{ base64: soon.base64, use: "signing" }] });
    expect(finding).toMatchObject({
      code: "CERT_EXPIRING",
      severity: "high",
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(finding?.message).toContain("in 10 days");
    expect(codesFor({ keys: [{ base64: soon.base64, use: "signing" }] }, 7)).toEqual([]);
  });

  it("reports an expired only signing certificate as critical, twice over: expired, and no valid certificate left", () => {
    const expired = certificateValidFor(-3);
    const findings = findingsFor({ keys: [{ base64: expired.base64, use: "signing" }] });
    expect(findings.map((finding) => [finding.code, finding.severity])).toEqual([
      ["CERT_EXPIRED", "critical"],
      ["NO_VALID_SIGNING_CERT", "critical"],
    ]);
    expect(findings[0]?.message).toMatch(/expired on 2026-11-2\d \(3 days ago\)/);
  });

  it("reports a certificate that is not valid yet", () => {
    const future = makeCertificate({
      notBefore: new Date(now.getTime() + 2 * DAY),
      notAfter: new Date(now.getTime() + 500 * DAY),
    });
    expect(codesFor({ keys: [{ base64: future.base64, use: "signing" }] })).toEqual([
      "CERT_NOT_YET_VALID",
      "NO_VALID_SIGNING_CERT",
    ]);
    // Published ahead of its notBefore beside a certificate that expires within two years, it is the successor.
    expect(
      codesFor({
        keys: [
          { base64: future.base64, use: "signing" },
          { base64: certificateValidFor(200).base64, use: "signing" },
        ],
      }),
    ).toEqual(["CERT_NOT_YET_VALID", "ROLLOVER_IN_PROGRESS"]);
  });

  it("flags an RSA key under 2048 bits and a SHA-1 signature", () => {
    const weak = certificateValidFor(400, { keyBits: 1024, digest: "sha1" });
    const findings = findingsFor({ keys: [{ base64: weak.base64, use: "signing" }] });
    expect(findings.map((finding) => [finding.code, finding.severity])).toEqual([
      ["CERT_WEAK_KEY", "high"],
      ["CERT_WEAK_SIGNATURE", "medium"],
    ]);
    expect(findings[0]?.message).toContain("weak RSA 1024-bit key");
    expect(findings[1]?.message).toContain("sha1WithRSAEncryption");
  });

  it("announces a rollover when the IdP publishes the successor of a certificate that expires within two years", () => {
    const outgoing = certificateValidFor(200, { commonName: "current" });
    const next = makeCertificate({
      commonName: "next",
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + 900 * DAY),
    });
    const findings = findingsFor({
      keys: [
        { base64: outgoing.base64, use: "signing" },
        { base64: next.base64, use: "signing" },
      ],
    });
    expect(findings.map((finding) => [finding.code, finding.severity])).toEqual([["ROLLOVER_IN_PROGRESS", "info"]]);
    expect(findings[0]?.message).toMatch(
      new RegExp(
        String.raw`is rolling its signing certificate over: sha256 \w{8}…\w{4} \(until 2027-06-13, 200 days left\) ` +
          String.raw`is to be replaced by sha256 \w{8}…\w{4} \(2026-11-24 to 2029-05-13\)\.$`,
      ),
    );
  });

  it("sees no rollover in two certificates with the same validity, nor beside one that is far from expiry", () => {
    const twin = certificateValidFor(200, { commonName: "back-channel" });
    expect(
      codesFor({
        keys: [
          { base64: certificateValidFor(200).base64, use: "signing" },
          { base64: twin.base64, use: "signing" },
        ],
      }),
    ).toEqual([]);
    const longLivedSuccessor = makeCertificate({
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + 7300 * DAY),
    });
    expect(
      codesFor({
        keys: [
          { base64: certificateValidFor(5000).base64, use: "signing" },
          { base64: longLivedSuccessor.base64, use: "signing" },
        ],
      }),
    ).toEqual([]);
  });

  it("counts a certificate repeated across KeyDescriptors once", () => {
    expect(codesFor({ keys: [{ base64: healthy.base64, use: "signing" }, { base64: healthy.base64 }] })).toEqual([]);
  });

  it("treats a KeyDescriptor without use as signing, but an encryption-only one as no signing certificate", () => {
    expect(codesFor({ keys: [{ base64: healthy.base64 }] })).toEqual([]);
    expect(codesFor({ keys: [{ base64: healthy.base64, use: "encryption" }] })).toEqual(["NO_SIGNING_CERT"]);
    expect(codesFor({ keys: [] })).toEqual(["NO_SIGNING_CERT"]);
  });

  it("does not judge encryption certificates: AWS never encrypts to the IdP", () => {
    expect(
      codesFor({
        keys: [
          { base64: healthy.base64, use: "signing" },
          { base64: certificateValidFor(-10).base64, use: "encryption" },
        ],
      }),
    ).toEqual([]);
  });
});

describe("the document and its roles", () => {
  it("reports metadata past its validUntil", () => {
    const findings = findingsFor({
      validUntil: "2026-11-20T00:00:00Z",
      keys: [{ base64: healthy.base64, use: "signing" }],
    });
    expect(findings.map((finding) => finding.code)).toEqual(["METADATA_EXPIRED"]);
    expect(findings[0]?.message).toBe(
      "The validUntil of https://idp.example.test/metadata passed on 2026-11-20 00:00 UTC (5 days ago).",
    );
  });

  it("reads a validUntil without a time zone as UTC, not local time", () => {
    expect(codesFor({ validUntil: "2026-11-25T11:59:59", keys: [{ base64: healthy.base64, use: "signing" }] })).toEqual(
      ["METADATA_EXPIRED"],
    );
    expect(codesFor({ validUntil: "2026-11-25T12:00:01", keys: [{ base64: healthy.base64, use: "signing" }] })).toEqual(
      [],
    );
  });

  it("reports a validUntil that is not a date", () => {
    const findings = findingsFor({ validUntil: "next tuesday", keys: [{ base64: healthy.base64, use: "signing" }] });
    expect(findings.map((finding) => [finding.code, finding.message])).toEqual([
      [
        "METADATA_MALFORMED",
        'The validUntil of https://idp.example.test/metadata is not a date and time: "next tuesday".',
      ],
    ]);
  });

  it("keeps a finding on one line when the value it quotes holds a line break", () => {
    const findings = findingsFor({
      validUntil: "2027-01-01\nT00:00:00Z",
      keys: [{ base64: healthy.base64, use: "signing" }],
    });
    expect(findings.map((finding) => finding.message)).toEqual([
      'The validUntil of https://idp.example.test/metadata is not a date and time: "2027-01-01 T00:00:00Z".',
    ]);
  });

  it("reports an IdP without a SingleSignOnService", () => {
    expect(codesFor({ ssoLocations: [], keys: [{ base64: healthy.base64, use: "signing" }] })).toEqual([
      "NO_SSO_SERVICE",
    ]);
  });

  it("reports service-provider metadata given where IdP metadata was expected", () => {
    const findings = findingsFor({ role: "sp", keys: [{ base64: healthy.base64 }] });
    expect(findings.map((finding) => [finding.code, finding.message])).toEqual([
      [
        "NOT_AN_IDP",
        "https://idp.example.test/metadata is not an identity provider (it has SPSSODescriptor, no IDPSSODescriptor).",
      ],
    ]);
  });

  it("judges only the identity providers of an aggregate", () => {
    const xml = aggregateXml([
      entityXml(
        { entityID: "https://sp.example/sp", role: "sp", keys: [{ base64: certificateValidFor(-30).base64 }] },
        false,
      ),
      entityXml(
        { entityID: "https://idp.example/idp", keys: [{ base64: certificateValidFor(5).base64, use: "signing" }] },
        false,
      ),
    ]);
    const findings = checkMetadata(inspectMetadataText(xml, "aggregate.xml"), { now, warnDays: 30 });
    expect(findings.map((finding) => [finding.code, finding.entityID])).toEqual([
      ["CERT_EXPIRING", "https://idp.example/idp"],
    ]);
  });

  it("judges a passed validUntil on the aggregate once, for the whole document", () => {
    const xml = aggregateXml(
      [entityXml({ keys: [{ base64: healthy.base64, use: "signing" }] }, false)],
      ' validUntil="2026-01-01T00:00:00Z"',
    );
    const findings = checkMetadata(inspectMetadataText(xml, "aggregate.xml"), { now, warnDays: 30 });
    expect(findings.map((finding) => finding.code)).toEqual(["METADATA_EXPIRED"]);
    expect(findings[0]?.message).toContain("The validUntil of the document passed");
  });
});

describe("the finding registry", () => {
  it("gives every code a severity and a one-sentence remedy", () => {
    for (const [code, entry] of Object.entries(FINDING_CODES)) {
      expect(["critical", "high", "medium", "low", "info"], code).toContain(entry.severity);
      expect(entry.remedy, code).toMatch(/^[A-Z].*\.$/);
      expect(entry.remedy, code).not.toMatch(/\n/);
    }
  });
});
