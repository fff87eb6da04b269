import { describe, expect, it } from "vitest";
import type { CertificateFacts } from "../../../src/domain/saml/certificate.js";
import {
  groupedFingerprint,
  judgeKeyContinuity,
  matchConfirmedFingerprint,
  requiresFingerprintConfirmation,
} from "../../../src/domain/saml/key-continuity.js";

const certificate = (sha256: string, commonName: string): CertificateFacts => ({
  sha256,
  subject: `CN=${commonName}`,
  issuer: `CN=${commonName}`,
  serialNumber: "01",
  notBefore: new Date("2026-01-01T00:00:00Z"),
  notAfter: new Date("2028-01-01T00:00:00Z"),
  keyAlgorithm: "RSA",
  keyBits: 2048,
  signatureAlgorithm: "sha256WithRSAEncryption",
  derBytes: 800,
});
const OLD = "0a".repeat(32);
const NEXT = "3f9c01ab".padEnd(64, "1");
const OTHER = "77e2d0c4".padEnd(64, "2");
const PROVIDER = "arn:aws:iam::111122223333:saml-provider/EmergencyIdP";

describe("judgeKeyContinuity", () => {
  it("asks nothing when the new metadata keeps a key the provider trusts (a rollover)", () => {
    const judged = judgeKeyContinuity({
      providers: [{ arn: PROVIDER, fingerprints: [OLD] }],
      incoming: [certificate(OLD, "old"), certificate(NEXT, "next")],
      signedByPinnedSigner: false,
    });
    expect(judged.verdict).toBe("shares-key");
    expect(requiresFingerprintConfirmation(judged)).toBe(false);
    expect(judged.certificates.map((each) => [each.subject, each.isNew])).toEqual([
      ["CN=old", false],
      ["CN=next", true],
    ]);
  });

  it("notes a full key change signed by the pinned metadata signer, without asking for a fingerprint", () => {
    const judged = judgeKeyContinuity({
      providers: [{ arn: PROVIDER, fingerprints: [OLD] }],
      incoming: [certificate(NEXT, "next")],
      signedByPinnedSigner: true,
    });
    expect(judged.verdict).toBe("full-change-signed");
    expect(judged.note).toContain("signed by the pinned metadata signer");
    expect(requiresFingerprintConfirmation(judged)).toBe(false);
  });

  it("asks for a fingerprint when no key is shared and nothing vouches for the document, naming the provider", () => {
    const judged = judgeKeyContinuity({
      providers: [{ arn: PROVIDER, fingerprints: [OLD] }],
      incoming: [certificate(NEXT, "next")],
      signedByPinnedSigner: false,
    });
    expect(judged.verdict).toBe("full-change-unsigned");
    expect(judged.providersWithoutSharedKey).toEqual([PROVIDER]);
    expect(judged.note).toContain("type the first 8 hex characters of the new signing certificate's SHA-256");
    expect(requiresFingerprintConfirmation(judged)).toBe(true);
  });

  it("treats a provider whose document cannot be read as sharing no key", () => {
    const judged = judgeKeyContinuity({
      providers: [{ arn: PROVIDER, fingerprints: null }],
      incoming: [certificate(NEXT, "next")],
      signedByPinnedSigner: false,
    });
    expect(judged.verdict).toBe("full-change-unsigned");
  });
});

describe("matchConfirmedFingerprint", () => {
  const certificates = judgeKeyContinuity({
    providers: [{ arn: PROVIDER, fingerprints: [OLD] }],
    incoming: [certificate(NEXT, "next"), certificate(OTHER, "other")],
    signedByPinnedSigner: false,
  }).certificates;

  it("accepts the first 8 hex characters whatever their case, spaces and colons, and says which certificate", () => {
    for (const typed of ["3f9c01ab", "3F:9C:01:AB", " 3F 9C 01 AB ", "3f9c 01ab 1111"]) {
      const match = matchConfirmedFingerprint(typed, certificates);
      expect(match.ok && match.certificate.subject).toBe("CN=next");
    }
    const other = matchConfirmedFingerprint("77E2D0C4", certificates);
    expect(other.ok && other.certificate.subject).toBe("CN=other");
  });

  it("refuses a wrong or short value, naming the certificates without giving their fingerprint away", () => {
    const wrong = matchConfirmedFingerprint("3f9c01ac", certificates);
    expect(wrong.ok).toBe(false);
    const problem = wrong.ok ? "" : wrong.problem;
    expect(problem).toContain('"3f9c01ac" is not the start of the SHA-256 of the new signing certificate CN=next');
    expect(problem).toContain("CN=other, expires 2028-01-01");
    expect(problem).not.toContain("3f9c01ab");
    const short = matchConfirmedFingerprint("3f9c", certificates);
    expect(short.ok ? "" : short.problem).toMatch(/^expected the first 8 hex characters/);
  });

  it("shows a fingerprint in colon-separated pairs, as IdP consoles do", () => {
    expect(groupedFingerprint("3f9c01ab")).toBe("3F:9C:01:AB");
  });
});
