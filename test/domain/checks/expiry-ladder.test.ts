// The expiry ladder: which warning a certificate is due at each number of days left, and once expired, one a day.
import { describe, expect, it } from "vitest";
import { DEFAULT_EXPIRY_LADDER } from "../../../src/config/config-schema.js";
import { expiryStep, stepUrgency, watchedCertificates } from "../../../src/domain/checks/expiry-ladder.js";
import { inspectMetadataText } from "../../../src/domain/saml/inspect-metadata.js";
import { DAY, makeCertificate } from "../../support/certificates.js";
import { entityXml } from "../../support/metadata-builder.js";

const LADDER = [...DEFAULT_EXPIRY_LADDER];
const NOT_AFTER = new Date("2027-03-01T12:00:00Z");
const daysBefore = (days: number, extraMs = 0) => new Date(NOT_AFTER.getTime() - days * DAY - extraMs);
const HOUR = 3_600_000;

describe("the expiry ladder", () => {
  it.each([
    [61, null],
    [60, "60d"],
    [59, "60d"],
    [31, "60d"],
    [30, "30d"],
    [29, "30d"],
    [15, "30d"],
    [14, "14d"],
    [8, "14d"],
    [7, "7d"],
    [4, "7d"],
    [3, "3d"],
    [2, "3d"],
    [1, "1d"],
  ])("with %i whole days left the certificate is on step %s", (days, step) => {
    // A few hours past the whole day, so the count is the floor of what is left.
    expect(expiryStep(NOT_AFTER, daysBefore(days, 5 * HOUR), LADDER)).toBe(step);
  });

  it("warns on the last rung when less than a day is left", () => {
    expect(expiryStep(NOT_AFTER, daysBefore(0, 5 * HOUR), LADDER)).toBe("1d");
    expect(expiryStep(NOT_AFTER, new Date(NOT_AFTER.getTime() - 1), LADDER)).toBe("1d");
  });

  it("says expired+0 from the moment of expiry, then one step per whole day since", () => {
    expect(expiryStep(NOT_AFTER, NOT_AFTER, LADDER)).toBe("expired+0");
    expect(expiryStep(NOT_AFTER, new Date(NOT_AFTER.getTime() + 23 * HOUR), LADDER)).toBe("expired+0");
    expect(expiryStep(NOT_AFTER, new Date(NOT_AFTER.getTime() + DAY), LADDER)).toBe("expired+1");
    expect(expiryStep(NOT_AFTER, new Date(NOT_AFTER.getTime() + 2 * DAY + HOUR), LADDER)).toBe("expired+2");
  });

  it("gives a certificate that jumped from 40 to 5 days left only the step it is on now", () => {
    expect(expiryStep(NOT_AFTER, daysBefore(40), LADDER)).toBe("60d");
    expect(expiryStep(NOT_AFTER, daysBefore(5), LADDER)).toBe("7d");
  });

  it("does not depend on the ladder being sorted, and with no rungs warns only once expired", () => {
    expect(expiryStep(NOT_AFTER, daysBefore(10), [1, 30, 14, 7, 30])).toBe("14d");
    expect(expiryStep(NOT_AFTER, daysBefore(1), [])).toBeNull();
    expect(expiryStep(NOT_AFTER, NOT_AFTER, [])).toBe("expired+0");
  });

  it("ranks later steps as more urgent", () => {
    const steps = ["60d", "30d", "14d", "7d", "3d", "1d", "expired+0", "expired+1", "expired+12"];
    const urgencies = steps.map(stepUrgency);
    expect([...urgencies].sort((a, b) => a - b)).toEqual(urgencies);
  });
});

describe("the certificates the ladder watches", () => {
  it("lists each certificate once, with the IdP and every IAM SAML provider that holds it", () => {
    const shared = makeCertificate({ commonName: "shared", notAfter: new Date("2027-01-01T00:00:00Z") });
    const next = makeCertificate({ commonName: "next", notAfter: new Date("2028-01-01T00:00:00Z") });
    const stale = makeCertificate({ commonName: "stale", notAfter: new Date("2026-12-01T00:00:00Z") });
    const idp = inspectMetadataText(
      entityXml({ keys: [{ base64: shared.base64 }, { base64: next.base64, use: "signing" }] }),
      "idp.xml",
    );
    const provider = (name: string, document: string | null, status: "found" | "error" = "found") => ({
      arn: `arn:aws:iam::111111111111:saml-provider/${name}`,
      status,
      validUntil: null,
      metadataDocument: document,
    });
    const facts = {
      emergencyAccountId: "111111111111",
      samlProviders: [
        provider("a", entityXml({ keys: [{ base64: shared.base64 }, { base64: stale.base64 }] })),
        provider("b", entityXml({ keys: [{ base64: shared.base64 }] })),
        provider("broken", "<not metadata"),
        provider("unread", null, "error"),
      ],
    };

    const watched = watchedCertificates(idp, facts);

    expect(
      watched.map((certificate) => [certificate.subject, certificate.publishedByIdp, certificate.samlProviders]),
    ).toEqual([
      ["CN=stale", false, ["arn:aws:iam::111111111111:saml-provider/a"]],
      ["CN=shared", true, ["arn:aws:iam::111111111111:saml-provider/a", "arn:aws:iam::111111111111:saml-provider/b"]],
      ["CN=next", true, []],
    ]);
  });

  it("ignores encryption certificates and watches the providers alone when the IdP could not be read", () => {
    const encryption = makeCertificate({ commonName: "encryption" });
    const idp = inspectMetadataText(entityXml({ keys: [{ base64: encryption.base64, use: "encryption" }] }), "idp.xml");
    expect(watchedCertificates(idp, undefined)).toEqual([]);

    const held = makeCertificate({ commonName: "held" });
    const facts = {
      emergencyAccountId: "111111111111",
      samlProviders: [
        {
          arn: "arn:aws:iam::111111111111:saml-provider/a",
          status: "found" as const,
          validUntil: null,
          metadataDocument: entityXml({ keys: [{ base64: held.base64 }] }),
        },
      ],
    };
    expect(
      watchedCertificates(undefined, facts).map((certificate) => [certificate.subject, certificate.publishedByIdp]),
    ).toEqual([["CN=held", false]]);
  });
});
