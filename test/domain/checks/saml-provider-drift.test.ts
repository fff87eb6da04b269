// The emergency IAM SAML provider against the IdP's current metadata, as an admin would be warned about it.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkSamlProviders } from "../../../src/domain/checks/saml-provider-drift.js";
import type { SamlProviderFacts } from "../../../src/domain/checks/posture-facts.js";
import { inspectMetadataText } from "../../../src/domain/saml/inspect-metadata.js";
import { DAY, freshKeyPair, makeCertificate } from "../../support/certificates.js";
import { entityXml } from "../../support/metadata-builder.js";

const now = new Date("2026-11-25T12:00:00Z");
const ARN = "arn:aws:iam::111111111111:saml-provider/EmergencyIdP";
const current = makeCertificate({
  commonName: "current",
  notBefore: new Date(now.getTime() - 300 * DAY),
  notAfter: new Date(now.getTime() + 400 * DAY),
});
const next = makeCertificate(
  { commonName: "next", notBefore: new Date(now.getTime() - 2 * DAY), notAfter: new Date(now.getTime() + 800 * DAY) },
  freshKeyPair(),
);
const metadata = (...base64: string[]) =>
  entityXml({ keys: base64.map((value) => ({ base64: value, use: "signing" as const })) });
const provider = (document: string, overrides: Partial<SamlProviderFacts> = {}): SamlProviderFacts => ({
  arn: ARN,
  status: "found",
  validUntil: null,
  metadataDocument: document,
  ...overrides,
});
const check = (facts: SamlProviderFacts, idp = metadata(current.base64)) =>
  checkSamlProviders([facts], inspectMetadataText(idp, "idp.xml"), { now, warnDays: 30 });

describe("the emergency IAM SAML provider", () => {
  it("passes when it holds exactly the IdP's signing certificates", () => {
    expect(check(provider(metadata(current.base64)))).toEqual([]);
  });

  it("reports a provider that does not exist", () => {
    expect(check({ arn: ARN, status: "missing", validUntil: null, metadataDocument: null })).toMatchObject([
      { code: "SAML_PROVIDER_MISSING", severity: "critical", resource: ARN },
    ]);
  });

  it("reports a provider it could not read, with the AWS error", () => {
    const [finding] = check({
      arn: ARN,
      status: "error",
      error: { code: "AccessDenied", message: "not authorized to perform iam:GetSAMLProvider" },
      validUntil: null,
      metadataDocument: null,
    });
    expect(finding).toMatchObject({
      code: "AWS_READ_FAILED",
      message: `Could not read the IAM SAML provider ${ARN}: AccessDenied: not authorized to perform iam:GetSAMLProvider.`,
    });
  });

  it("gives the early warning when the IdP starts a rollover the provider does not know yet", () => {
    const [finding, ...rest] = check(provider(metadata(current.base64)), metadata(current.base64, next.base64));
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      code: "SAML_PROVIDER_DRIFT",
      severity: "high",
      missingOnProvider: [createHash("sha256").update(next.der).digest("hex")],
      unknownToIdp: [],
    });
    expect(finding?.message).toContain("(the IdP's new rollover certificate)");
    expect(finding?.message).not.toContain("fails now");
  });

  it("says federation fails now when the provider holds only a certificate the IdP dropped", () => {
    const [finding] = check(provider(metadata(current.base64)), metadata(next.base64));
    expect(finding).toMatchObject({ code: "SAML_PROVIDER_LACKS_CURRENT_CERT", severity: "critical" });
    expect(finding?.missingOnProvider).toHaveLength(1);
    expect(finding?.unknownToIdp).toHaveLength(1);
    expect(finding?.message).toMatch(
      new RegExp(
        "lacks the IdP's signing certificate sha256 .* and still holds sha256 .*, which the IdP no longer publishes; " +
          "direct federation through this provider fails now\\.$",
      ),
    );
  });

  it("is critical when the provider lacks the certificate the IdP signs with now, though it holds the next one", () => {
    // The IdP publishes current and its successor and still signs with current: assertions fail on this provider.
    const [finding, ...rest] = check(provider(metadata(next.base64)), metadata(current.base64, next.base64));
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      code: "SAML_PROVIDER_LACKS_CURRENT_CERT",
      severity: "critical",
      missingOnProvider: [createHash("sha256").update(current.der).digest("hex")],
      unknownToIdp: [],
    });
    expect(finding?.message).toMatch(/; direct federation through this provider fails now\.$/);
  });

  it("counts each of two certificates with the same validity as one the IdP may sign with now", () => {
    const twin = makeCertificate(
      {
        commonName: "twin",
        notBefore: new Date(now.getTime() - 300 * DAY),
        notAfter: new Date(now.getTime() + 400 * DAY),
      },
      freshKeyPair(),
    );
    const [finding] = check(provider(metadata(current.base64)), metadata(current.base64, twin.base64));
    expect(finding).toMatchObject({ code: "SAML_PROVIDER_LACKS_CURRENT_CERT", severity: "critical" });
  });

  it("reports a provider whose ValidUntil has passed", () => {
    const findings = check(provider(metadata(current.base64), { validUntil: new Date("2026-11-01T00:00:00Z") }));
    expect(findings.map((finding) => [finding.code, finding.message])).toEqual([
      ["SAML_PROVIDER_EXPIRED", `The IAM SAML provider ${ARN} expired on 2026-11-01 (ValidUntil, 24 days ago).`],
    ]);
  });

  it("warns when the certificate the provider holds is about to expire", () => {
    const ending = makeCertificate(
      {
        commonName: "ending",
        notBefore: new Date(now.getTime() - 700 * DAY),
        notAfter: new Date(now.getTime() + 5 * DAY),
      },
      freshKeyPair(),
    );
    const findings = check(provider(metadata(ending.base64)), metadata(ending.base64));
    expect(findings.map((finding) => finding.code)).toEqual(["SAML_PROVIDER_CERT_EXPIRING"]);
    expect(findings[0]?.message).toContain("in 5 days");
  });

  it("reports metadata for another IdP entity as drift", () => {
    const other = entityXml({
      entityID: "https://other.example/idp",
      keys: [{ base64: current.base64, use: "signing" }],
    });
    expect(check(provider(other))[0]?.message).toBe(
      `The IAM SAML provider ${ARN} holds metadata for https://other.example/idp, but the IdP is https://idp.example.test/metadata.`,
    );
  });

  it("reports metadata in the provider that cannot be read", () => {
    expect(check(provider("<not-metadata/>"))[0]).toMatchObject({
      code: "SAML_PROVIDER_DRIFT",
      message: expect.stringContaining("holds metadata breakglass cannot read"),
    });
  });

  it("still judges the provider's own expiry when the IdP metadata is unavailable", () => {
    const findings = checkSamlProviders(
      [provider(metadata(current.base64), { validUntil: new Date("2026-01-01T00:00:00Z") })],
      undefined,
      { now, warnDays: 30 },
    );
    expect(findings.map((finding) => finding.code)).toEqual(["SAML_PROVIDER_EXPIRED"]);
  });
});
