// The offset reader (src/domain/saml/certificate.ts over der-reader.ts) against the node-forge tree it replaced
// (test/support/forge-certificate.ts): the same facts for every certificate the tree read, and for every one it
// refused the same refusal: the same INPUT_ENCODING message, or node-forge's own words after "DER: ".
import { createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BreakglassError } from "../../../src/domain/errors.js";
import { parseCertificate, type CertificateFacts } from "../../../src/domain/saml/certificate.js";
import { mutate, type Mutation } from "../../support/byte-mutations.js";
import { readCorpusFile, readManifest } from "../../support/corpus.js";
import {
  bitString,
  derCertificate,
  generalizedTime,
  integer,
  octetString,
  oid,
  sequence,
  set,
  tlv,
  utcTime,
} from "../../support/der-certificate.js";
import { parseCertificateWithForge } from "../../support/forge-certificate.js";
import { seededRandom } from "../../support/seeded-random.js";

type Outcome = { facts: CertificateFacts } | { code: string; message: string };

function outcome(read: (der: Buffer) => CertificateFacts, der: Buffer): Outcome {
  try {
    return { facts: read(der) };
  } catch (error) {
    if (error instanceof BreakglassError) return { code: error.code, message: error.message };
    // node-forge's structural errors (and only those) were plain Errors; the offset reader says the same after "DER: ".
    if (error instanceof Error && !(error instanceof TypeError) && !(error instanceof RangeError))
      return { code: "INPUT_ENCODING", message: `DER: ${error.message}` };
    throw error;
  }
}

/** Both readers on the same bytes; returns whether the certificate was accepted. */
function expectSameReading(der: Buffer, label = der.toString("hex")): boolean {
  const expected = outcome(parseCertificateWithForge, der);
  expect(outcome(parseCertificate, der), label).toEqual(expected);
  return "facts" in expected;
}

function corpusCertificates(): Buffer[] {
  const seen = new Set<string>();
  const certificates: Buffer[] = [];
  for (const document of readManifest()) {
    const text = readCorpusFile(document.file).toString("latin1");
    for (const match of text.matchAll(/<(?:\w+:)?X509Certificate(?:\s[^>]*)?>([^<]*)</g)) {
      const base64 = match[1]!.replace(/\s+/g, "");
      if (seen.has(base64)) continue;
      seen.add(base64);
      certificates.push(Buffer.from(base64, "base64"));
    }
  }
  return certificates;
}

const attribute = (type: string, value: Buffer) => sequence(oid(type), value);
const rdn = (...attributes: Buffer[]) => set(...attributes);
const nameOf = (...rdns: Buffer[]) => sequence(...rdns);
const cn = (value: Buffer) => rdn(attribute("2.5.4.3", value));
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, "utf8"));
const printable = (text: string) => tlv(0x13, Buffer.from(text, "latin1"));
const bmp = (text: string) => tlv(0x1e, Buffer.from(text, "utf16le").swap16());
const ucs4 = (char: string) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(char.codePointAt(0)!);
  return bytes;
};
const universal = (text: string) => tlv(0x1c, Buffer.concat([...text].map(ucs4)));

/** Names as issuers write them, and as they should not: every string type, escapes, odd encodings. */
const ODD_NAMES: ReadonlyArray<readonly [string, Buffer]> = [
  // Plain RDNs, which formatDistinguishedName reads in one step (formatPlainName), and the ones next to them it leaves
  // to the general walk: a longer length, an OID outside 2.5.4 or past arc 127, a third part, another string type.
  [
    "plain RDNs of each string type",
    nameOf(
      rdn(attribute("2.5.4.6", printable("FO"))),
      rdn(attribute("2.5.4.10", utf8("Bench University 0"))),
      cn(tlv(0x16, Buffer.from("idp0.bench.example"))),
    ),
  ],
  ["plain RDNs with a PrintableString of high bytes", nameOf(cn(tlv(0x13, Buffer.from([0x41, 0xe9, 0x42]))))],
  ["plain RDNs of the longest one-byte length", nameOf(cn(utf8("x".repeat(118))), cn(printable("y".repeat(118))))],
  ["plain RDNs but one a byte too long", nameOf(cn(utf8("x".repeat(118))), cn(printable("y".repeat(119))))],
  ["plain RDNs with an unnamed arc of 2.5.4", nameOf(rdn(attribute("2.5.4.99", utf8("x"))), cn(utf8("y")))],
  ["plain RDNs but an arc of 2.5.4 past 127", nameOf(cn(utf8("y")), rdn(attribute("2.5.4.200", utf8("x"))))],
  [
    "plain RDNs but an attribute of three parts",
    nameOf(cn(utf8("y")), rdn(sequence(oid("2.5.4.3"), utf8("x"), utf8("z")))),
  ],
  ["plain RDNs but an empty value", nameOf(cn(utf8("")), cn(utf8("y")))],
  ["a plain attribute followed by a SET in its RDN", nameOf(set(attribute("2.5.4.3", utf8("x")), cn(utf8("y"))))],
  ["an empty Name", nameOf()],
  ["an empty RDN", nameOf(rdn())],
  [
    "multi-valued RDNs",
    nameOf(
      rdn(attribute("2.5.4.6", printable("NZ"))),
      rdn(attribute("2.5.4.10", utf8("Example")), attribute("2.5.4.11", utf8("Ops"))),
      cn(utf8("a+b")),
    ),
  ],
  ["RFC 2253 specials", nameOf(cn(utf8(`#lead, "quoted" \\ <a>;b+c trail `)))],
  ["a leading and trailing space", nameOf(cn(utf8(" spaced ")))],
  ["control characters", nameOf(cn(utf8("tab\there\u0000nul\u007fdel")))],
  ["non-ASCII UTF-8", nameOf(cn(utf8("Zürich Å 東京 😀")), rdn(attribute("2.5.4.7", utf8("Ørsted"))))],
  ["invalid UTF-8", nameOf(cn(tlv(0x0c, Buffer.from([0x41, 0xc3, 0x28, 0xff, 0xe2, 0x82]))))],
  ["a BMPString", nameOf(cn(bmp("AB Zürich 東京")))],
  ["a BMPString with a surrogate pair", nameOf(cn(bmp("😀 x")))],
  ["an empty BMPString", nameOf(cn(tlv(0x1e, Buffer.alloc(0))))],
  ["a BMPString of odd length", nameOf(cn(tlv(0x1e, Buffer.from([0, 0x41, 0]))), cn(utf8("next")))],
  ["a UniversalString", nameOf(cn(universal("Ünï 😀")))],
  ["a UniversalString past U+10FFFF", nameOf(cn(tlv(0x1c, Buffer.from([0x7f, 0, 0, 0x41, 0, 0, 0, 0x42, 1]))))],
  ["a T61String with high bytes", nameOf(cn(tlv(0x14, Buffer.from([0x41, 0xe9, 0xa0, 0x42]))))],
  [
    "IA5, Visible and Numeric strings",
    nameOf(
      rdn(attribute("1.2.840.113549.1.9.1", tlv(0x16, Buffer.from("ops@example.org")))),
      rdn(attribute("2.5.4.5", tlv(0x12, Buffer.from("0042 17")))),
      cn(tlv(0x1a, Buffer.from("visible"))),
    ),
  ],
  [
    "unknown attribute types",
    nameOf(
      rdn(attribute("1.3.6.1.4.1.99999.1.2", utf8("private"))),
      rdn(attribute("2.999.12345678901", utf8("large arc"))),
      rdn(attribute("0.9.2342.19200300.100.1.25", tlv(0x16, Buffer.from("example")))),
    ),
  ],
  ["a BIT STRING value", nameOf(rdn(attribute("2.5.4.45", tlv(0x03, Buffer.from([0, 0xde, 0xad])))))],
  ["an OCTET STRING value", nameOf(cn(octetString(Buffer.from("octets"))))],
  ["an INTEGER value with a superfluous 00", nameOf(cn(integer("00017f")))],
  ["an INTEGER value with a superfluous FF", nameOf(cn(integer("ff80")))],
  ["a context-specific value", nameOf(cn(tlv(0x80, Buffer.from("context"))))],
  ["a constructed value", nameOf(cn(sequence(integer("01"), tlv(0x04, Buffer.alloc(200, 0x61)))))],
  ["an application BMPString of odd length", nameOf(cn(tlv(0x5e, Buffer.from([0, 0x41, 0]))))],
  [
    "an odd BMPString that takes the next byte",
    nameOf(rdn(sequence(oid("2.5.4.3"), tlv(0x1e, Buffer.from([0, 0x41, 0])), Buffer.from([0x42, 5, 0])))),
  ],
  [
    "a context-specific odd BMPString that takes the next byte",
    nameOf(rdn(sequence(oid("2.5.4.3"), tlv(0x9e, Buffer.from([0, 0x41, 0])), Buffer.from([0x42, 5, 0])))),
  ],
  ["a value over 127 bytes", nameOf(cn(utf8("x".repeat(300))))],
  ["an OID with no complete arc", nameOf(rdn(sequence(tlv(0x06, Buffer.from([0x81])), utf8("x"))))],
  ["an empty OID", nameOf(rdn(sequence(tlv(0x06, Buffer.alloc(0)), utf8("x"))))],
  ["an OID past 2^53", nameOf(rdn(sequence(tlv(0x06, Buffer.from([0x55, ...Array(9).fill(0xff), 1])), utf8("x"))))],
  ["an attribute without a value", nameOf(rdn(sequence(oid("2.5.4.3"))))],
  ["an RDN that is not a SET", nameOf(sequence(attribute("2.5.4.3", utf8("x"))))],
  ["an RDN that is primitive", nameOf(tlv(0x11, Buffer.from("x")))],
  ["a constructed attribute type", nameOf(rdn(sequence(sequence(oid("2.5.4.3")), utf8("x"))))],
  ["a Name that is primitive", tlv(0x10, Buffer.from("x"))],
  [
    "a non-minimal length",
    Buffer.from([0x30, 0x81, 0x0e, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x82, 0, 1, 0x41]),
  ],
  [
    "indefinite lengths",
    Buffer.concat([
      Buffer.from([0x30, 0x80, 0x31, 0x80]),
      attribute("2.5.4.3", utf8("indefinite")),
      Buffer.from([0, 0, 0, 0]),
    ]),
  ],
];

const spki = (key: KeyObject) => Buffer.from(createPublicKey(key).export({ type: "spki", format: "der" }));

/** Keys of every kind breakglass sizes, as their SubjectPublicKeyInfo. */
function keyInfos(): Array<readonly [string, Buffer]> {
  const ec = (namedCurve: string, explicit = false) =>
    spki(generateKeyPairSync("ec", { namedCurve, ...(explicit ? { paramEncoding: "explicit" } : {}) }).privateKey);
  return [
    ["RSA 1024", spki(generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey)],
    ["EC P-256", ec("prime256v1")],
    ["EC P-521", ec("secp521r1")],
    ["EC secp256k1", ec("secp256k1")],
    ["EC explicit P-384", ec("secp384r1", true)],
    ["EC explicit secp112r1", ec("secp112r1", true)],
    ["DSA", spki(generateKeyPairSync("dsa", { modulusLength: 1024, divisorLength: 160 }).privateKey)],
    ["Ed25519", spki(generateKeyPairSync("ed25519").privateKey)],
    ["Ed448", spki(generateKeyPairSync("ed448").privateKey)],
    ["an unknown algorithm", sequence(sequence(oid("1.2.3.4")), bitString(Buffer.from([1, 2, 3])))],
    ["EC without parameters", sequence(sequence(oid("1.2.840.10045.2.1")), bitString(Buffer.from([4])))],
    [
      "EC with NULL parameters",
      sequence(sequence(oid("1.2.840.10045.2.1"), Buffer.from([5, 0])), bitString(Buffer.from([4]))),
    ],
    [
      "EC with an unknown curve",
      sequence(sequence(oid("1.2.840.10045.2.1"), oid("1.3.132.0.1")), bitString(Buffer.from([4]))),
    ],
    [
      "EC with parameters of another type",
      sequence(sequence(oid("1.2.840.10045.2.1"), integer("01")), bitString(Buffer.from([4]))),
    ],
    [
      "EC with a negative order",
      sequence(
        sequence(
          oid("1.2.840.10045.2.1"),
          sequence(integer("01"), sequence(), sequence(), octetString(Buffer.from([4])), integer("80")),
        ),
        bitString(Buffer.from([4])),
      ),
    ],
    [
      "RSA whose key is not DER",
      sequence(sequence(oid("1.2.840.113549.1.1.1"), Buffer.from([5, 0])), bitString(Buffer.from([0x30, 0x05, 2]))),
    ],
    [
      "RSA whose key is trailed by bytes",
      sequence(
        sequence(oid("1.2.840.113549.1.1.1"), Buffer.from([5, 0])),
        bitString(Buffer.concat([sequence(integer("00c1"), integer("03")), Buffer.from([0])])),
      ),
    ],
    [
      "RSA whose modulus is not an INTEGER",
      sequence(sequence(oid("1.2.840.113549.1.1.1")), bitString(sequence(octetString(Buffer.from([1]))))),
    ],
    ["RSA with an empty key", sequence(sequence(oid("1.2.840.113549.1.1.1")), tlv(0x03, Buffer.alloc(0)))],
    [
      "DSA with an empty p",
      sequence(sequence(oid("1.2.840.10040.4.1"), sequence(integer(""))), bitString(Buffer.from([2, 1, 1]))),
    ],
    [
      "a key in a BMPString-tagged BIT STRING",
      sequence(
        sequence(oid("1.2.840.113549.1.1.1")),
        tlv(0x1e, Buffer.concat([Buffer.from([0]), sequence(integer("00c1"), integer("03"))])),
      ),
    ],
    [
      "a key in a BMPString-tagged BIT STRING that reads as DER in 16-bit units",
      sequence(
        sequence(oid("1.2.840.113549.1.1.1")),
        tlv(0x1e, Buffer.from([0, 0, 0, 0x30, 0, 0x03, 0, 0x02, 0, 0x01, 0, 0x41])),
      ),
    ],
  ];
}

/** Certificates built at test time to cover every branch: odd names, keys, versions, serials and times. */
function generatedCertificates(): Array<readonly [string, Buffer]> {
  const certificates: Array<readonly [string, Buffer]> = [];
  for (const [label, nameDer] of ODD_NAMES) certificates.push([`a name with ${label}`, derCertificate({ nameDer })]);
  for (const [label, subjectPublicKeyInfo] of keyInfos())
    certificates.push([`a key: ${label}`, derCertificate({ subjectPublicKeyInfo })]);
  certificates.push(
    ["a v1 certificate without a version", derCertificate({ withoutVersion: true })],
    ["a negative serial", derCertificate({ serialHex: "a98ac7" })],
    ["a serial 00FF", derCertificate({ serialHex: "00ff" })],
    ["a serial FF7F", derCertificate({ serialHex: "ff7f" })],
    ["a serial with a superfluous 00", derCertificate({ serialHex: "00017f" })],
    ["an empty serial", derCertificate({ serialHex: "" })],
    ["GeneralizedTime", derCertificate({ notAfter: generalizedTime("20991231235959Z") })],
    ["a year before 100", derCertificate({ notBefore: generalizedTime("00440229000000Z") })],
    ["a UTCTime of 1950", derCertificate({ notBefore: utcTime("500101000000Z") })],
    ["an impossible date", derCertificate({ notBefore: utcTime("260230000000Z") })],
    ["a time with an offset", derCertificate({ notAfter: utcTime("260101000000+0100") })],
    ["a long time text", derCertificate({ notAfter: utcTime(`${"9".repeat(60)}Z`) })],
    ["a one-character time", derCertificate({ notAfter: { kind: "utc", text: "x" } })],
    ["a letter for a digit", derCertificate({ notAfter: utcTime("26O101000000Z") })],
    ["a lowercase z", derCertificate({ notAfter: utcTime("260101000000z") })],
    ["a newline after the Z", derCertificate({ notAfter: utcTime("260101000000Z\n") })],
    ["a GeneralizedTime with fractional seconds", derCertificate({ notAfter: generalizedTime("20260101000000.5Z") })],
    ["a GeneralizedTime of 31 December 9999", derCertificate({ notAfter: generalizedTime("99991231235959Z") })],
  );
  return certificates;
}

const BASE_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

/** Mutations that hit DER's structure often: header bytes rewritten to lengths and tags that mean something. */
function randomMutations(random: () => number, length: number): Mutation[] {
  const STRUCTURAL = [0x00, 0x01, 0x02, 0x1e, 0x30, 0x31, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0xa0, 0xff];
  const count = 1 + Math.floor(random() * 3);
  const mutations: Mutation[] = [];
  for (let index = 0; index < count; index++) {
    const at = Math.floor(random() * length);
    const roll = random();
    if (roll < 0.45) {
      const value = random() < 0.6 ? STRUCTURAL[Math.floor(random() * STRUCTURAL.length)]! : Math.floor(random() * 256);
      mutations.push({ kind: "flip", at, value });
    } else if (roll < 0.6) mutations.push({ kind: "truncate", at });
    else if (roll < 0.75) mutations.push({ kind: "delete", at, length: 1 + Math.floor(random() * 4) });
    else if (roll < 0.9) mutations.push({ kind: "insert", at, text: String.fromCharCode(Math.floor(random() * 128)) });
    else mutations.push({ kind: "duplicate", at, length: 1 + Math.floor(random() * 6) });
  }
  return mutations;
}

describe("the offset reader reads certificates as the node-forge tree did", () => {
  it("on every certificate in the corpus", () => {
    const certificates = corpusCertificates();
    expect(certificates.length).toBeGreaterThan(20);
    for (const der of certificates) expect(expectSameReading(der)).toBe(true);
  });

  it.each(generatedCertificates())("on %s", (label, der) => {
    expectSameReading(der, label);
  });

  it("reads a BMPString name as its text, where the old reader garbled it", () => {
    const facts = parseCertificate(derCertificate({ nameDer: nameOf(cn(bmp("AB Zürich"))) }));
    expect(facts.subject).toBe("CN=AB Z\\C3\\BCrich");
  });

  it("names node-forge's structural errors after DER:", () => {
    const der = derCertificate();
    expect(() => parseCertificate(der.subarray(0, der.length - 1))).toThrow("DER: Too few bytes to read ASN.1 value.");
    expect(() => parseCertificate(Buffer.concat([der, Buffer.from([0])]))).toThrow(
      "DER: Unparsed DER bytes remain after ASN.1 parsing.",
    );
  });

  it("on thousands of seeded random mutations of real and generated certificates", () => {
    const bases = [
      ...corpusCertificates().slice(0, 6),
      ...generatedCertificates()
        .filter(([label]) =>
          /plain RDNs of each|multi-valued|BMPString|indefinite|hex|DSA|explicit P-384|Ed25519|v1/.test(label),
        )
        .map(([, der]) => der),
    ];
    let accepted = 0;
    let total = 0;
    for (const seed of BASE_SEEDS) {
      const random = seededRandom(seed);
      for (let index = 0; index < 500; index++) {
        const base = bases[Math.floor(random() * bases.length)]!;
        const mutations = randomMutations(random, base.length);
        const der = mutate(base, mutations);
        total++;
        if (expectSameReading(der, `seed ${seed}, case ${index}: ${JSON.stringify(mutations)}`)) accepted++;
      }
    }
    // Both outcomes are exercised: some mutations leave a readable certificate (a changed name, serial or date).
    expect(total).toBe(4000);
    expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(total);
  });

  it("on nested and deep encodings", () => {
    const deep = (depth: number) => {
      let value: Buffer = Buffer.from([5, 0]);
      for (let level = 0; level < depth; level++) value = sequence(value);
      return value;
    };
    for (const depth of [250, 254, 255, 256, 300]) {
      const nameDer = nameOf(rdn(attribute("2.5.4.3", deep(depth))));
      expectSameReading(derCertificate({ nameDer }), `depth ${depth}`);
    }
    expectSameReading(Buffer.from([0x30, 0x84, 0x80, 0, 0, 0]), "a negative length");
    expectSameReading(Buffer.from([0x30, 0x85, 0, 0, 0, 0, 1]), "a five-byte length");
    expectSameReading(Buffer.from([0x04, 0x80, 0, 0]), "an indefinite primitive");
    expectSameReading(Buffer.from([0x30, 0x80, 0x05, 0x00]), "an unterminated indefinite value");
    expectSameReading(Buffer.alloc(0), "nothing");
    expectSameReading(Buffer.from([0x30]), "one byte");
  });
});
