// The node-forge reader that src/domain/saml/certificate.ts replaced, kept as the oracle of the differential test
// (test/domain/saml/certificate-reader.test.ts): the certificate and name code as it was, with one fix, BMPString
// names read as the UCS-2 text node-forge already decoded (it swapped the low bytes of that text and showed "AB" as
// U+4142). Its structural errors are node-forge's own Errors; the new reader says the same words after "DER: ".
import { createHash } from "node:crypto";
import type forge from "node-forge";
import asn1 from "node-forge/lib/asn1.js";
import util from "node-forge/lib/util.js";
import type { CertificateFacts } from "../../src/domain/saml/certificate.js";
import { BreakglassError } from "../../src/domain/errors.js";

/** node-forge's typings predate fromDer's options object. */
const fromDer = asn1.fromDer as unknown as (
  bytes: string,
  options: { strict: boolean; parseAllBytes?: boolean; decodeBitStrings: boolean },
) => forge.asn1.Asn1;

const SIGNATURE_ALGORITHMS: Readonly<Record<string, string>> = {
  "1.2.840.113549.1.1.2": "md2WithRSAEncryption",
  "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
  "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
  "1.2.840.113549.1.1.10": "RSASSA-PSS",
  "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
  "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
  "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
  "1.2.840.113549.1.1.14": "sha224WithRSAEncryption",
  "1.2.840.10045.4.1": "ecdsa-with-SHA1",
  "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
  "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
  "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
  "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
  "1.2.840.10040.4.3": "dsaWithSHA1",
  "2.16.840.1.101.3.4.3.2": "dsa_with_SHA256",
  "1.3.101.112": "ED25519",
  "1.3.101.113": "ED448",
};

const KEY_ALGORITHMS: Readonly<Record<string, string>> = {
  "1.2.840.113549.1.1.1": "RSA",
  "1.2.840.113549.1.1.10": "RSA-PSS",
  "1.2.840.10045.2.1": "EC",
  "1.2.840.10040.4.1": "DSA",
  "1.3.101.112": "Ed25519",
  "1.3.101.113": "Ed448",
};

const CURVE_BITS: Readonly<Record<string, number>> = {
  "1.2.840.10045.3.1.7": 256, // P-256
  "1.3.132.0.34": 384, // P-384
  "1.3.132.0.35": 521, // P-521
  "1.3.132.0.10": 256, // secp256k1
  "1.2.840.10045.3.1.1": 192, // P-192
  "1.3.132.0.33": 224, // P-224
  "1.3.36.3.3.2.8.1.1.7": 256, // brainpoolP256r1
  "1.3.36.3.3.2.8.1.1.11": 384, // brainpoolP384r1
  "1.3.36.3.3.2.8.1.1.13": 512, // brainpoolP512r1
};

/** Parses a DER certificate. Throws INPUT_ENCODING naming the malformed field; the caller names the certificate. */
export function parseCertificateWithForge(der: Buffer): CertificateFacts {
  const root = fromDer(der.toString("latin1"), { strict: true, parseAllBytes: true, decodeBitStrings: false });
  const [tbs, outerAlgorithm] = children(root, "Certificate");
  const tbsFields = children(tbs, "TBSCertificate");
  // The version field is [0] EXPLICIT and optional (absent for v1 certificates).
  const offset = tbsFields[0]?.tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  const serial = tbsFields[offset];
  const issuer = tbsFields[offset + 2];
  const validity = children(tbsFields[offset + 3], "Validity");
  const subject = tbsFields[offset + 4];
  const publicKeyInfo = tbsFields[offset + 5];
  if (!serial || !issuer || !subject || !publicKeyInfo)
    throw new BreakglassError("INPUT_ENCODING", "TBSCertificate", "incomplete");
  const publicKey = readPublicKey(publicKeyInfo);
  const signatureOid = readAlgorithmOid(outerAlgorithm);
  return {
    sha256: createHash("sha256").update(der).digest("hex"),
    subject: formatDistinguishedName(subject),
    issuer: formatDistinguishedName(issuer),
    serialNumber: formatSerial(derInteger(serial, "serialNumber")),
    notBefore: readTime(validity[0], "notBefore"),
    notAfter: readTime(validity[1], "notAfter"),
    keyAlgorithm: publicKey.algorithm,
    keyBits: publicKey.bits,
    signatureAlgorithm: SIGNATURE_ALGORITHMS[signatureOid] ?? signatureOid,
    derBytes: der.length,
  };
}

function readPublicKey(publicKeyInfo: forge.asn1.Asn1): { algorithm: string; bits: number | null } {
  const [algorithmIdentifier, bitString] = children(publicKeyInfo, "SubjectPublicKeyInfo");
  const [oidNode, parameters] = children(algorithmIdentifier, "AlgorithmIdentifier");
  const oid = asn1.derToOid(util.createBuffer(primitive(oidNode, "algorithm")));
  const algorithm = KEY_ALGORITHMS[oid] ?? oid;
  // A BIT STRING's first content byte counts unused bits; the key follows.
  const keyBytes = primitive(bitString, "subjectPublicKey").slice(1);
  switch (algorithm) {
    case "RSA":
    case "RSA-PSS": {
      const [modulus] = children(fromDer(keyBytes, { strict: true, decodeBitStrings: false }), "RSAPublicKey");
      const { negative, magnitude } = derInteger(modulus, "modulus");
      if (negative) throw new BreakglassError("INPUT_ENCODING", "modulus", "is negative: not an RSA key");
      return { algorithm, bits: integerBits(magnitude) };
    }
    case "EC":
      return { algorithm, bits: ecKeyBits(parameters) };
    case "DSA": {
      const [p] = children(parameters, "Dss-Parms");
      return { algorithm, bits: integerBits(primitive(p, "p")) };
    }
    case "Ed25519":
      return { algorithm, bits: 256 };
    case "Ed448":
      return { algorithm, bits: 456 };
    default:
      return { algorithm, bits: null };
  }
}

/**
 * The size of an EC key: a named curve's, or for explicit parameters (RFC 3279 ECParameters) the bit length of the
 * group's order, as OpenSSL counts it. Without this a 112-bit curve spelt out in full escaped the weak-key finding.
 */
function ecKeyBits(parameters: forge.asn1.Asn1 | undefined): number | null {
  if (parameters === undefined || parameters.type === asn1.Type.NULL) return null;
  if (parameters.type === asn1.Type.OID)
    return CURVE_BITS[asn1.derToOid(util.createBuffer(primitive(parameters, "namedCurve")))] ?? null;
  if (parameters.type !== asn1.Type.SEQUENCE)
    throw new BreakglassError(
      "INPUT_ENCODING",
      "ECParameters",
      "are neither a named curve nor explicit curve parameters",
    );
  // ECParameters ::= SEQUENCE { version, fieldID, curve, base, order INTEGER, cofactor INTEGER OPTIONAL }
  const order = children(parameters, "ECParameters")[4];
  if (order?.type !== asn1.Type.INTEGER)
    throw new BreakglassError(
      "INPUT_ENCODING",
      "ECParameters",
      "explicit curve parameters without the group's order: the key's size cannot be known",
    );
  const { negative, magnitude } = derInteger(order, "ECParameters order");
  if (negative || integerBits(magnitude) === 0)
    throw new BreakglassError("INPUT_ENCODING", "ECParameters order", "is not a positive number");
  return integerBits(magnitude);
}

/**
 * An INTEGER read by DER's rules: at least one content byte, and minimal (no leading 0x00 before a byte below 0x80,
 * no leading 0xFF before one above), which node-forge does not check. Two's complement: the magnitude comes back
 * with the sign apart.
 */
function derInteger(node: forge.asn1.Asn1 | undefined, what: string): { negative: boolean; magnitude: string } {
  if (node?.type !== asn1.Type.INTEGER) throw new BreakglassError("INPUT_ENCODING", what, "malformed: not an INTEGER");
  const bytes = Buffer.from(primitive(node, what), "latin1");
  if (bytes.length === 0) throw new BreakglassError("INPUT_ENCODING", what, "not DER: an INTEGER with no content");
  if (bytes.length > 1 && ((bytes[0] === 0x00 && bytes[1]! < 0x80) || (bytes[0] === 0xff && bytes[1]! >= 0x80))) {
    throw new BreakglassError(
      "INPUT_ENCODING",
      what,
      `not DER: the INTEGER ${bytes.subarray(0, 2).toString("hex").toUpperCase()}… has a superfluous leading byte`,
    );
  }
  const negative = bytes[0]! >= 0x80;
  if (!negative) return { negative, magnitude: bytes.toString("latin1") };
  const value = (1n << BigInt(bytes.length * 8)) - BigInt(`0x${bytes.toString("hex")}`);
  const hex = value.toString(16);
  return { negative, magnitude: Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, "hex").toString("latin1") };
}

/** As OpenSSL prints it (`openssl x509 -serial`): uppercase hex of the magnitude in whole bytes, "-" before a negative one. */
function formatSerial({ negative, magnitude }: { negative: boolean; magnitude: string }): string {
  const bytes = Buffer.from(magnitude, "latin1");
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return `${negative ? "-" : ""}${bytes.subarray(start).toString("hex").toUpperCase()}`;
}

function integerBits(bytes: string): number {
  let start = 0;
  while (start < bytes.length - 1 && bytes.charCodeAt(start) === 0) start++;
  const leading = bytes.charCodeAt(start);
  return (bytes.length - start - 1) * 8 + (leading === 0 ? 0 : Math.floor(Math.log2(leading)) + 1);
}

function readAlgorithmOid(node: forge.asn1.Asn1 | undefined): string {
  const [oidNode] = children(node, "AlgorithmIdentifier");
  return asn1.derToOid(util.createBuffer(primitive(oidNode, "algorithm")));
}

/** RFC 5280 4.1.2.5: UTCTime YYMMDDHHMMSSZ, GeneralizedTime YYYYMMDDHHMMSSZ; digits, seconds, and an uppercase Z, nothing else. */
const TIME_FORMATS = {
  utc: /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/,
  generalized: /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/,
} as const;

/**
 * A validity time read strictly. node-forge rolled impossible fields into real dates (month 13, Feb 30) and read a
 * letter as a digit; OpenSSL refuses them, and so does breakglass: a certificate's dates decide its expiry findings.
 */
function readTime(node: forge.asn1.Asn1 | undefined, what: string): Date {
  const text = primitive(node, what);
  const kind =
    node?.type === asn1.Type.UTCTIME ? "utc" : node?.type === asn1.Type.GENERALIZEDTIME ? "generalized" : undefined;
  if (kind === undefined)
    throw new BreakglassError("INPUT_ENCODING", what, "not a valid time: neither UTCTime nor GeneralizedTime");
  const shown = JSON.stringify(text.slice(0, 40));
  const fields = TIME_FORMATS[kind].exec(text);
  if (fields === null) {
    const form = kind === "utc" ? "YYMMDDHHMMSSZ" : "YYYYMMDDHHMMSSZ";
    throw new BreakglassError(
      "INPUT_ENCODING",
      what,
      `not a valid time: ${shown} is not ${form} (digits, seconds, and an uppercase Z, as RFC 5280 requires)`,
    );
  }
  const [year, month, day, hour, minute, second] = fields.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // RFC 5280: a two-digit year of 50 or more is 19YY, below 50 is 20YY.
  const fullYear = kind === "utc" ? (year >= 50 ? 1900 + year : 2000 + year) : year;
  const daysInMonth = month >= 1 && month <= 12 ? daysIn(fullYear, month) : 0;
  if (daysInMonth === 0 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    throw new BreakglassError("INPUT_ENCODING", what, `not a valid time: ${shown} is not a date and time that exists`);
  }
  const date = new Date(Date.UTC(fullYear, month - 1, day, hour, minute, second));
  // Date.UTC reads years 0 to 99 as 1900 to 1999.
  date.setUTCFullYear(fullYear);
  return date;
}

/** Days in a month of the proleptic Gregorian calendar (Date.UTC cannot say it for years below 100). */
function daysIn(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function children(node: forge.asn1.Asn1 | undefined, what: string): forge.asn1.Asn1[] {
  if (!node || !Array.isArray(node.value)) throw new BreakglassError("INPUT_ENCODING", what, "malformed");
  return node.value;
}

function primitive(node: forge.asn1.Asn1 | undefined, what: string): string {
  if (!node || typeof node.value !== "string") throw new BreakglassError("INPUT_ENCODING", what, "malformed");
  return node.value;
}

const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  "2.5.4.3": "CN",
  "2.5.4.4": "SN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "street",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.12": "title",
  "2.5.4.13": "description",
  "2.5.4.15": "businessCategory",
  "2.5.4.17": "postalCode",
  "2.5.4.42": "GN",
  "2.5.4.43": "initials",
  "2.5.4.44": "generationQualifier",
  "2.5.4.46": "dnQualifier",
  "2.5.4.65": "pseudonym",
  "2.5.4.97": "organizationIdentifier",
  "0.9.2342.19200300.100.1.1": "UID",
  "0.9.2342.19200300.100.1.25": "DC",
  "1.2.840.113549.1.9.1": "emailAddress",
  "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL",
  "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST",
  "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
};

/** Formats a forge ASN.1 `Name` (SEQUENCE OF RDN) as RFC 2253: last RDN first, "+" within an RDN. */
function formatDistinguishedName(name: forge.asn1.Asn1): string {
  const rdns = asSequence(name, "Name");
  const parts: string[] = [];
  for (let i = rdns.length - 1; i >= 0; i--) {
    const attributes = asSequence(rdns[i], "RelativeDistinguishedName");
    parts.push(attributes.map(formatAttribute).join("+"));
  }
  return parts.join(",");
}

function formatAttribute(attribute: forge.asn1.Asn1): string {
  const [type, value] = asSequence(attribute, "AttributeTypeAndValue");
  if (!type || !value || typeof type.value !== "string")
    throw new BreakglassError("INPUT_ENCODING", "AttributeTypeAndValue", "malformed");
  const oid = asn1.derToOid(util.createBuffer(type.value));
  const label = ATTRIBUTE_NAMES[oid] ?? oid;
  const text = decodeDirectoryString(value);
  return `${label}=${text === undefined ? `#${hexOfDer(value)}` : escapeRfc2253(text)}`;
}

/** Decodes the string types a Name may hold; undefined for types OpenSSL dumps as hex. */
function decodeDirectoryString(value: forge.asn1.Asn1): string | undefined {
  if (value.tagClass !== asn1.Class.UNIVERSAL || typeof value.value !== "string") return undefined;
  const raw = value.value;
  switch (Number(value.type)) {
    case 12: // UTF8String
      return Buffer.from(raw, "latin1").toString("utf8");
    case 19: // PrintableString
    case 22: // IA5String
    case 26: // VisibleString
    case 18: // NumericString
    case 20: // T61String: OpenSSL reads it as Latin-1
      return raw;
    case 30: // BMPString: node-forge already read it as UCS-2 units (the old swap16 of their low bytes was a bug)
      return raw;
    case 28: // UniversalString (UCS-4 big-endian)
      return decodeUcs4(raw);
    default:
      return undefined;
  }
}

function decodeUcs4(raw: string): string {
  let text = "";
  for (let i = 0; i + 3 < raw.length; i += 4) {
    const codePoint =
      ((raw.charCodeAt(i) << 24) |
        (raw.charCodeAt(i + 1) << 16) |
        (raw.charCodeAt(i + 2) << 8) |
        raw.charCodeAt(i + 3)) >>>
      0;
    text += codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : "\ufffd";
  }
  return text;
}

/** Printable ASCII without , + " \\ < > ; that neither starts with # or a space nor ends with a space. */
const PLAIN_VALUE = /^(?:[!$-*\--:=?-[\]-~](?:[ !$-*\--:=?-[\]-~]*[!$-*\--:=?-[\]-~])?)?$/;

/** OpenSSL's ESC_2253 | ESC_CTRL | ESC_MSB on the UTF-8 bytes of the value. */
function escapeRfc2253(text: string): string {
  // Most values are plain printable ASCII that needs no escape: returned as they are, without a byte-wise pass.
  if (PLAIN_VALUE.test(text)) return text;
  const bytes = Buffer.from(text, "utf8");
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    const char = String.fromCharCode(byte);
    const first = i === 0;
    const last = i === bytes.length - 1;
    if (byte > 0x7e || byte < 0x20) {
      out += `\\${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    } else if (',+"\\<>;'.includes(char) || (first && (char === "#" || char === " ")) || (last && char === " ")) {
      out += `\\${char}`;
    } else {
      out += char;
    }
  }
  return out;
}

function hexOfDer(value: forge.asn1.Asn1): string {
  return Buffer.from(asn1.toDer(value).getBytes(), "latin1").toString("hex").toUpperCase();
}

function asSequence(node: forge.asn1.Asn1 | undefined, what: string): forge.asn1.Asn1[] {
  if (!node || !Array.isArray(node.value)) throw new BreakglassError("INPUT_ENCODING", what, "malformed");
  return node.value;
}
