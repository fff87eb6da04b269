// Identity Center's state, and the attested import against the IdP's current certificates.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkDefinition } from "../../../src/domain/checks/check-registry.js";
import { checkIdentityCenter, checkIdentityCenterImport } from "../../../src/domain/checks/identity-center.js";
import type { Attestation, IdentityCenterReader } from "../../../src/domain/checks/posture-facts.js";
import { inspectMetadataText } from "../../../src/domain/saml/inspect-metadata.js";
import { DAY, freshKeyPair, makeCertificate } from "../../support/certificates.js";
import { entityXml } from "../../support/metadata-builder.js";

const now = new Date("2026-11-25T12:00:00Z");
const INSTANCE = "arn:aws:sso:::instance/ssoins-1234567890abcdef";
const current = makeCertificate({
  notBefore: new Date(now.getTime() - 300 * DAY),
  notAfter: new Date(now.getTime() + 400 * DAY),
});
const idp = (...certificates: { base64: string }[]) =>
  inspectMetadataText(
    entityXml({ keys: certificates.map(({ base64 }) => ({ base64, use: "signing" as const })) }),
    "idp.xml",
  );
const sha256 = (certificate: { der: Buffer }) => createHash("sha256").update(certificate.der).digest("hex");
const attestation = (fingerprints: string[]): Attestation => ({
  instanceArn: INSTANCE,
  fingerprints,
  attestedAt: new Date(now.getTime() - 10 * DAY),
  attestedBy: "alice",
  source: "idp.xml",
});

describe("Identity Center health", () => {
  it("passes an ACTIVE instance", () => {
    expect(
      checkIdentityCenter({ instanceArn: INSTANCE, status: "found", instanceStatus: "ACTIVE", identityStoreId: "d-1" }),
    ).toEqual([]);
  });

  it("reports an instance that is not ACTIVE as critical", () => {
    const [finding] = checkIdentityCenter({
      instanceArn: INSTANCE,
      status: "found",
      instanceStatus: "DELETE_IN_PROGRESS",
      identityStoreId: null,
    });
    expect(finding).toMatchObject({
      code: "IDENTITY_CENTER_NOT_ACTIVE",
      severity: "critical",
      message: `IAM Identity Center ${INSTANCE} is DELETE_IN_PROGRESS, not ACTIVE.`,
    });
  });

  it("reports sso-admin failures as unreachable, with the error", () => {
    const [finding] = checkIdentityCenter({
      instanceArn: INSTANCE,
      status: "error",
      error: { code: "ServiceUnavailableException", message: "try later" },
      instanceStatus: null,
      identityStoreId: null,
    });
    expect(finding?.message).toBe(
      `IAM Identity Center ${INSTANCE} did not answer (ServiceUnavailableException: try later).`,
    );
  });

  const missing = (readAs?: IdentityCenterReader) => ({
    instanceArn: INSTANCE,
    status: "missing" as const,
    instanceStatus: null,
    identityStoreId: null,
    ...(readAs ? { readAs } : {}),
  });

  it("reports an instance the administering account's sso-admin does not list as not active", () => {
    const [finding] = checkIdentityCenter(
      missing({ accountId: "999999999999", administratorAccountId: "999999999999", via: "role" }),
    );
    expect(finding).toMatchObject({
      code: "IDENTITY_CENTER_NOT_ACTIVE",
      message:
        `IAM Identity Center ${INSTANCE} does not exist in its Region (sso-admin in account 999999999999, ` +
        "which administers it, lists no such instance).",
    });
  });

  it("never calls an instance not listed by another account not active: the read failed, and the key to set is named", () => {
    expect(
      checkIdentityCenter(
        missing({ accountId: "111111111111", administratorAccountId: "999999999999", via: "default-chain" }),
      ).map((finding) => [finding.code, finding.severity, finding.message]),
    ).toEqual([
      [
        "AWS_READ_FAILED",
        "high",
        `IAM Identity Center ${INSTANCE} was looked for with the credentials of account 111111111111, not of ` +
          "999999999999, which administers it (aws.identityCenter.accountId): set aws.identityCenter.roleArn to a " +
          "read role in 999999999999, or run with credentials there.",
      ],
    ]);
  });

  it("does not call an instance gone when STS could not say whose credentials asked", () => {
    const [finding] = checkIdentityCenter(
      missing({
        accountId: null,
        accountError: { code: "ExpiredToken", message: "The security token included in the request is expired" },
        administratorAccountId: "999999999999",
        via: "default-chain",
      }),
    );
    expect(finding).toMatchObject({
      code: "AWS_READ_FAILED",
      message:
        `IAM Identity Center ${INSTANCE} is not listed by sso-admin, and breakglass cannot tell which account it ` +
        "asked (sts:GetCallerIdentity: ExpiredToken: The security token included in the request is expired); " +
        "set aws.identityCenter.roleArn to a read role in the account that administers it.",
    });
  });
});

describe("the attested Identity Center import", () => {
  it("asks for an attestation when there is none", () => {
    expect(
      checkIdentityCenterImport(INSTANCE, idp(current), null, { now, warnDays: 30 }).map((finding) => finding.code),
    ).toEqual(["IDENTITY_CENTER_IMPORT_UNATTESTED"]);
  });

  it("passes when the attested certificate is the IdP's current one", () => {
    expect(
      checkIdentityCenterImport(INSTANCE, idp(current), attestation([sha256(current)]), { now, warnDays: 30 }),
    ).toEqual([]);
  });

  it("reports an import of a certificate the IdP no longer uses", () => {
    const old = makeCertificate({ commonName: "old" }, freshKeyPair());
    const [finding] = checkIdentityCenterImport(INSTANCE, idp(current), attestation([sha256(old)]), {
      now,
      warnDays: 30,
    });
    expect(finding).toMatchObject({ code: "IDENTITY_CENTER_IMPORT_STALE", missingOnProvider: [sha256(current)] });
    expect(finding?.message).toContain("the import attested by alice 10 days ago is out of date");
  });

  it("warns to import the successor before the imported certificate expires", () => {
    const ending = makeCertificate(
      {
        commonName: "ending",
        notBefore: new Date(now.getTime() - 700 * DAY),
        notAfter: new Date(now.getTime() + 6 * DAY),
      },
      freshKeyPair(),
    );
    const [finding] = checkIdentityCenterImport(INSTANCE, idp(ending, current), attestation([sha256(ending)]), {
      now,
      warnDays: 30,
    });
    expect(finding?.code).toBe("IDENTITY_CENTER_IMPORT_STALE");
    expect(finding?.message).toMatch(/expires in 6 days; import the IdP's new one \(sha256 /);
  });
});

describe("an IdP change reported by CloudTrail", () => {
  const changedAt = (daysBeforeNow: number) => ({
    instanceArn: INSTANCE,
    eventId: "4c1b7a3e-6f2d-4e0a-9b8c-1d2e3f405162",
    eventName: "DisableExternalIdPConfigurationForDirectory",
    changedAt: new Date(now.getTime() - daysBeforeNow * DAY),
    changedBy: "arn:aws:sts::999999999999:assumed-role/AWSReservedSSO_Admin_0123/mallory@example.com",
    sourceIp: "203.0.113.7",
  });

  it("makes the attested import untrustworthy: the change is reported instead of a comparison with the IdP", () => {
    const changed = { ...attestation([sha256(current)]), lastIdpChange: changedAt(2) };
    const findings = checkIdentityCenterImport(INSTANCE, idp(current), changed, { now, warnDays: 30 });
    expect(findings.map((finding) => [finding.code, finding.severity])).toEqual([
      ["IDENTITY_CENTER_IDP_CHANGED", "high"],
    ]);
    expect(findings[0]?.message).toContain(
      "mallory@example.com changed the external IdP configuration of IAM Identity Center " +
        `${INSTANCE} at 2026-11-23T12:00:00.000Z (DisableExternalIdPConfigurationForDirectory from 203.0.113.7`,
    );
  });

  it("leaves an attestation made after the change alone", () => {
    const attestedAfter = { ...attestation([sha256(current)]), lastIdpChange: changedAt(12) };
    expect(checkIdentityCenterImport(INSTANCE, idp(current), attestedAfter, { now, warnDays: 30 })).toEqual([]);
  });

  it("is reported even when sso-admin does not answer: CloudTrail, not sso-admin, saw it", () => {
    const findings = checkDefinition("identity-center").judge({
      facts: {
        emergencyAccountId: "111111111111",
        identityCenter: {
          instanceArn: INSTANCE,
          status: "error",
          error: { code: "ServiceUnavailableException", message: "try later" },
          instanceStatus: null,
          identityStoreId: null,
        },
        attestation: { ...attestation([sha256(current)]), lastIdpChange: changedAt(2) },
      },
      idp: undefined,
      samlProviderArns: [],
      emergencyRoleArns: [],
      now,
      warnDays: 30,
    });
    expect(findings.map((finding) => finding.code)).toEqual([
      "IDENTITY_CENTER_UNREACHABLE",
      "IDENTITY_CENTER_IDP_CHANGED",
    ]);
  });
});
