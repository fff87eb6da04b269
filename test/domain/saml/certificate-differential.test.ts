// Certificates read by breakglass and by OpenSSL (/usr/bin/openssl, as a child process) from the same generated DER:
// both accept or both refuse, and where both accept they agree on the fingerprint, names, dates, serial and key size.
import { spawnSync } from "node:child_process";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkMetadata } from "../../../src/domain/checks/metadata-checks.js";
import { parseCertificate, type CertificateFacts } from "../../../src/domain/saml/certificate.js";
import { inspectMetadataText } from "../../../src/domain/saml/inspect-metadata.js";
import { makeCertificate } from "../../support/certificates.js";
import { readCorpusFile, readManifest } from "../../support/corpus.js";
import {
  bitString,
  derCertificate,
  generalizedTime,
  integer,
  oid,
  sequence,
  set,
  tlv,
  utcTime,
  type RawTime,
} from "../../support/der-certificate.js";
import { entityXml } from "../../support/metadata-builder.js";
import { seededRandom } from "../../support/seeded-random.js";

const OPENSSL = "/usr/bin/openssl";
const workDirectory = mkdtempSync(join(tmpdir(), "breakglass-x509-"));
afterAll(() => rmSync(workDirectory, { recursive: true, force: true }));

interface OpensslFacts {
  readonly sha256: string;
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly keyBits: number | null;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "Feb 29 00:00:00 2028 GMT", as `openssl x509 -startdate` prints it. */
function opensslDate(text: string): Date {
  const match = /^(\w{3}) +(\d+) (\d{2}):(\d{2}):(\d{2}) (\d+) GMT$/.exec(text);
  if (!match) throw new Error(`unexpected OpenSSL date ${text}`);
  const date = new Date(
    Date.UTC(
      Number(match[6]),
      MONTHS.indexOf(match[1]!),
      Number(match[2]),
      Number(match[3]),
      Number(match[4]),
      Number(match[5]),
    ),
  );
  date.setUTCFullYear(Number(match[6]));
  return date;
}

/**
 * OpenSSL's verdict: refused when `x509` cannot read the DER or prints "Bad time value" (an impossible date), or when
 * `verify` (which checks times by RFC 5280's exact forms, X509_cmp_time) finds a format error in notBefore or notAfter.
 */
function readWithOpenssl(der: Buffer): { accepted: false; why: string } | { accepted: true; facts: OpensslFacts } {
  const derPath = join(workDirectory, "certificate.der");
  const pemPath = join(workDirectory, "certificate.pem");
  writeFileSync(derPath, der);
  writeFileSync(
    pemPath,
    `-----BEGIN CERTIFICATE-----\n${der
      .toString("base64")
      .match(/.{1,64}/g)!
      .join("\n")}\n-----END CERTIFICATE-----\n`,
  );
  const x509 = spawnSync(
    OPENSSL,
    [
      "x509",
      "-inform",
      "DER",
      "-in",
      derPath,
      "-noout",
      "-nameopt",
      "RFC2253",
      "-serial",
      "-startdate",
      "-enddate",
      "-subject",
      "-issuer",
      "-fingerprint",
      "-sha256",
      "-text",
    ],
    { encoding: "utf8" },
  );
  if (x509.status !== 0) return { accepted: false, why: x509.stderr.split("\n")[0] ?? "" };
  if (x509.stdout.includes("Bad time value")) return { accepted: false, why: "Bad time value" };
  const verify = spawnSync(OPENSSL, ["verify", "-partial_chain", "-no-CApath", "-CAfile", pemPath, pemPath], {
    encoding: "utf8",
  });
  const formatError = /format error in certificate's not(Before|After) field/.exec(verify.stdout + verify.stderr);
  if (formatError) return { accepted: false, why: formatError[0] };
  // Anything but "OK" or a verdict on the certificate would be this harness failing, not a verdict.
  if (!/: OK\n/.test(verify.stdout) && !/^error \d+ at 0 depth lookup/m.test(verify.stdout + verify.stderr))
    throw new Error(`openssl verify: ${verify.stdout}${verify.stderr}`);
  const line = (label: string) => new RegExp(`^${label}=(.*)$`, "m").exec(x509.stdout)?.[1] ?? "";
  const bits = /Public-Key: \((\d+) bit\)/.exec(x509.stdout);
  return {
    accepted: true,
    facts: {
      sha256: line("sha256 Fingerprint").replace(/:/g, "").toLowerCase(),
      subject: line("subject"),
      issuer: line("issuer"),
      serialNumber: line("serial"),
      notBefore: opensslDate(line("notBefore")),
      notAfter: opensslDate(line("notAfter")),
      keyBits: bits ? Number(bits[1]) : null,
    },
  };
}

function readWithBreakglass(
  der: Buffer,
): { accepted: false; why: string } | { accepted: true; facts: CertificateFacts } {
  try {
    return { accepted: true, facts: parseCertificate(der) };
  } catch (error) {
    return { accepted: false, why: (error as Error).message };
  }
}

function expectSameVerdictAndFacts(der: Buffer): void {
  const openssl = readWithOpenssl(der);
  const breakglass = readWithBreakglass(der);
  expect({ breakglass: breakglass.accepted, why: breakglass.accepted ? "" : breakglass.why }).toMatchObject({
    breakglass: openssl.accepted,
  });
  if (!openssl.accepted || !breakglass.accepted) return;
  const { sha256, subject, issuer, serialNumber, notBefore, notAfter, keyBits } = breakglass.facts;
  expect({ sha256, subject, issuer, serialNumber, notBefore, notAfter, keyBits }).toEqual(openssl.facts);
}

const pad = (value: number, width: number) => String(value).padStart(width, "0");

/** Times near the edges of each field: most exist, many do not (month 0 and 13, day 0 and 32, Feb 29 to 31, hour 24, second 60). */
function generatedTimes(count: number): RawTime[] {
  const random = seededRandom(11);
  const pick = (values: readonly number[]) => values[Math.floor(random() * values.length)]!;
  const times: RawTime[] = [];
  for (let index = 0; index < count; index++) {
    const fields =
      `${pad(pick([0, 1, 2, 4, 9, 12, 13]), 2)}${pad(pick([0, 1, 28, 29, 30, 31, 32]), 2)}` +
      `${pad(pick([0, 12, 23, 24, 25]), 2)}${pad(pick([0, 59, 60]), 2)}${pad(pick([0, 30, 59, 60]), 2)}Z`;
    times.push(
      index % 2 === 0
        ? utcTime(`${pad(pick([0, 24, 28, 49, 50, 99]), 2)}${fields}`)
        : generalizedTime(`${pick([1999, 2000, 2024, 2100, 2400])}${fields}`),
    );
  }
  return times;
}

/** Serials as written: minimal, padded with a superfluous 00 or FF byte, negative, zero, empty, long. */
function generatedSerials(count: number): string[] {
  const random = seededRandom(23);
  const serials: string[] = [];
  for (let index = 0; index < count; index++) {
    const length = 1 + Math.floor(random() * 20);
    const bytes = Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
    const hex = bytes.toString("hex");
    const variant = index % 4;
    serials.push(
      variant === 0 ? hex : variant === 1 ? `00${hex}` : variant === 2 ? `ff${hex}` : hex.replace(/^[89a-f]/, "7"),
    );
  }
  return serials;
}

const explicitEcKey = (namedCurve: string): KeyObject =>
  generateKeyPairSync("ec", { namedCurve, paramEncoding: "explicit" }).privateKey;

describe("breakglass and OpenSSL read the same certificates the same way", () => {
  it.each([
    ["RFC 5280 UTCTime", utcTime("260101000000Z")],
    ["a leap day", utcTime("280229120000Z")],
    ["the last second of a year", generalizedTime("20501231235959Z")],
    ["a 19YY UTCTime", utcTime("991231235959Z")],
    ["the first 20YY UTCTime", utcTime("000101000000Z")],
    ["month 13", utcTime("261301000000Z")],
    ["day 32", utcTime("260132000000Z")],
    ["day 0", utcTime("260100000000Z")],
    ["hour 25", utcTime("260101250000Z")],
    ["second 60", utcTime("260101000060Z")],
    ["Feb 30", utcTime("260230000000Z")],
    ["Feb 29 of a year that is not leap", generalizedTime("21000229000000Z")],
    ["a lowercase z", utcTime("260101000000z")],
    ["no Z", utcTime("260101000000")],
    ["no seconds", utcTime("2601010000Z")],
    ["an offset instead of Z", utcTime("260101000000+0100")],
    ["a letter in the year", utcTime("2A0101000000Z")],
    ["fractional seconds", generalizedTime("20500101000000.5Z")],
    ["GeneralizedTime without seconds", generalizedTime("205001010000Z")],
  ])("notBefore with %s", (_name, notBefore) => {
    expectSameVerdictAndFacts(derCertificate({ notBefore }));
  });

  it("over generated validity times", () => {
    for (const notAfter of generatedTimes(60)) expectSameVerdictAndFacts(derCertificate({ notAfter }));
  });

  it.each([
    ["a small serial", "01"],
    ["zero", "00"],
    ["a high bit padded with 00", "00a52fb8ab2f7f4d66"],
    ["a negative serial", "a98ac7"],
    ["a superfluous leading 00", "00017f"],
    ["a superfluous leading FF", "ff80"],
    ["no content", ""],
    ["a long serial", `01${"00".repeat(25)}`],
  ])("serial with %s", (_name, serialHex) => {
    expectSameVerdictAndFacts(derCertificate({ serialHex }));
  });

  it("over generated serials", () => {
    for (const serialHex of generatedSerials(40)) expectSameVerdictAndFacts(derCertificate({ serialHex }));
  });

  it.each([
    ["named P-256", () => generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey],
    ["named P-384", () => generateKeyPairSync("ec", { namedCurve: "secp384r1" }).privateKey],
    ["explicit P-256 parameters", () => explicitEcKey("prime256v1")],
    ["explicit 112-bit curve parameters", () => explicitEcKey("secp112r1")],
    ["explicit 128-bit curve parameters", () => explicitEcKey("secp128r1")],
  ])("an EC key with %s", (_name, makeKey) => {
    expectSameVerdictAndFacts(derCertificate({ signingKey: makeKey() }));
  });

  it.each([
    ["a BMPString", tlv(0x1e, Buffer.from("AB Zürich 東京", "utf16le").swap16())],
    ["a UniversalString", tlv(0x1c, Buffer.from([0, 0, 0, 0x41, 0, 0, 0, 0xfc, 0, 1, 0xf6, 0x00]))],
    ["a T61String with a high byte", tlv(0x14, Buffer.from([0x41, 0xe9]))],
  ])("a name with %s", (_name, value) => {
    const nameDer = sequence(set(sequence(oid("2.5.4.3"), value)), set(sequence(oid("2.5.4.10"), value)));
    expectSameVerdictAndFacts(derCertificate({ nameDer }));
  });

  it("certificates node-forge makes", () => {
    for (const serial of ["01", "7f", "00ff", "1a2b3c4d5e6f7081"])
      expectSameVerdictAndFacts(makeCertificate({ serial, commonName: `forge, serial ${serial}` }).der);
  });

  it("every certificate in the corpus, with the serial the manifest recorded", () => {
    for (const document of readManifest()) {
      const text = readCorpusFile(document.file).toString("utf8");
      for (const entity of document.entities) {
        for (const certificate of entity.certificates) {
          const base64 = /<(?:\w+:)?X509Certificate(?:\s[^>]*)?>([^<]*)</g;
          const ders = [...text.matchAll(base64)].map((match) => Buffer.from(match[1]!.replace(/\s+/g, ""), "base64"));
          const der = ders.find(
            (candidate) =>
              readWithBreakglass(candidate).accepted && parseCertificate(candidate).sha256 === certificate.sha256,
          );
          expect(der, `${document.file}: ${certificate.sha256}`).toBeDefined();
          expect(parseCertificate(der!).serialNumber).toBe((certificate as { serial?: string }).serial);
          expectSameVerdictAndFacts(der!);
        }
      }
    }
  });
});

describe("what breakglass refuses or reports, in words", () => {
  it("refuses an impossible date with a message naming the field and the text", () => {
    expect(() => parseCertificate(derCertificate({ notBefore: utcTime("260230000000Z") }))).toThrow(
      'notBefore: not a valid time: "260230000000Z" is not a date and time that exists',
    );
  });

  it("refuses a time without seconds, naming the form RFC 5280 requires", () => {
    expect(() => parseCertificate(derCertificate({ notAfter: utcTime("2601010000Z") }))).toThrow(
      'notAfter: not a valid time: "2601010000Z" is not YYMMDDHHMMSSZ (digits, seconds, and an uppercase Z, as RFC 5280 requires)',
    );
  });

  it("refuses a serial that is not DER", () => {
    expect(() => parseCertificate(derCertificate({ serialHex: "00017f" }))).toThrow(
      "serialNumber: not DER: the INTEGER 0001… has a superfluous leading byte",
    );
  });

  it("shows a negative serial as negative", () => {
    expect(parseCertificate(derCertificate({ serialHex: "a98ac7" })).serialNumber).toBe("-567539");
  });

  it("refuses an RSA key whose modulus is negative (OpenSSL's x509 reads it as a 2048-bit key)", () => {
    const negativeModulus = sequence(
      sequence(oid("1.2.840.113549.1.1.1"), Buffer.from([0x05, 0x00])),
      bitString(sequence(integer(`c1${"ab".repeat(255)}`), integer("010001"))),
    );
    expect(() => parseCertificate(derCertificate({ subjectPublicKeyInfo: negativeModulus }))).toThrow(
      "modulus: is negative: not an RSA key",
    );
  });

  it("refuses explicit EC parameters without the group's order, saying why", () => {
    const noOrder = sequence(
      sequence(oid("1.2.840.10045.2.1"), sequence(integer("01"))),
      bitString(Buffer.from([4, 1, 2])),
    );
    expect(() => parseCertificate(derCertificate({ subjectPublicKeyInfo: noOrder }))).toThrow(
      "ECParameters: explicit curve parameters without the group's order: the key's size cannot be known",
    );
  });

  it("gives a signing certificate on a 112-bit curve spelt out in explicit parameters the weak-key finding", () => {
    const der = derCertificate({ signingKey: explicitEcKey("secp112r1") });
    const inspection = inspectMetadataText(
      entityXml({ keys: [{ base64: der.toString("base64"), use: "signing" }] }),
      "idp.xml",
    );
    const findings = checkMetadata(inspection, { now: new Date("2026-11-24T12:00:00Z"), warnDays: 30 });
    expect(findings.filter((finding) => finding.code === "CERT_WEAK_KEY").map((finding) => finding.message)).toEqual([
      expect.stringContaining("weak EC 112-bit key"),
    ]);
  });
});
