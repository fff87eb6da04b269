// xsd:dateTime values from metadata: real ones parse, and a hostile one is a finding naming the attribute, never a crash.
import { describe, expect, it } from "vitest";
import { checkMetadata } from "../../../src/domain/checks/metadata-checks.js";
import { inspectMetadataText } from "../../../src/domain/saml/inspect-metadata.js";
import { parseXsdDateTime } from "../../../src/domain/saml/xml-datetime.js";
import { makeCertificate } from "../../support/certificates.js";
import { entityXml } from "../../support/metadata-builder.js";

const millionsOfDigits = "1".repeat(10_000_000);

describe("parseXsdDateTime", () => {
  it("reads a UTC instant, a zoned one and one with a fraction", () => {
    expect(parseXsdDateTime("2027-03-01T12:30:00Z")?.toISOString()).toBe("2027-03-01T12:30:00.000Z");
    expect(parseXsdDateTime(" 2027-03-01T12:30:00+02:00 ")?.toISOString()).toBe("2027-03-01T10:30:00.000Z");
    expect(parseXsdDateTime("2027-03-01T12:30:00.123456789Z")?.toISOString()).toBe("2027-03-01T12:30:00.123Z");
  });

  it.each([
    ["millions of digits", millionsOfDigits],
    ["a year of millions of digits", `${millionsOfDigits}-01-01T00:00:00Z`],
    ["a negative year of millions of digits", `-${millionsOfDigits}-01-01T00:00:00Z`],
    ["a fraction of millions of digits", `2027-01-01T00:00:00.${millionsOfDigits}Z`],
  ])("says %s is not a date instead of exhausting the stack", (_name, value) => {
    expect(parseXsdDateTime(value)).toBeUndefined();
  });
});

describe("a validUntil of millions of digits", () => {
  it("is reported as a METADATA_MALFORMED finding that names the attribute", () => {
    const xml = entityXml({
      validUntil: millionsOfDigits,
      keys: [{ base64: makeCertificate().base64, use: "signing" }],
    });
    const findings = checkMetadata(inspectMetadataText(xml, "digits.xml"), {
      now: new Date("2027-01-01T00:00:00Z"),
      warnDays: 30,
    });
    const malformed = findings.filter((finding) => finding.code === "METADATA_MALFORMED");
    expect(malformed).toHaveLength(1);
    expect(malformed[0]?.message).toMatch(/^The validUntil of .* is not a date and time: "1{60}"\.$/);
  });
});
