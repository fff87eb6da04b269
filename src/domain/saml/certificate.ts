// Reads the facts breakglass needs from an X.509 certificate (DER): fingerprint, names, validity, key and signature algorithms.
import { createHash } from "node:crypto";
import type forge from "node-forge";
import asn1 from "node-forge/lib/asn1.js";
import util from "node-forge/lib/util.js";
import { BreakglassError } from "../errors.js";
import { formatDistinguishedName } from "./distinguished-name.js";

/** node-forge's typings predate fromDer's options object. */
const fromDer = asn1.fromDer as unknown as (
  bytes: string,
  options: { strict: boolean; parseAllBytes?: boolean; decodeBitStrings: boolean },
) => forge.asn1.Asn1;

export interface CertificateFacts {
  /** SHA-256 of the DER, lowercase hex without colons. */
  readonly sha256: string;
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly keyAlgorithm: string;
  readonly keyBits: number | null;
  readonly signatureAlgorithm: string;
  readonly derBytes: number;
}

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

/** Digest names (lowercase) whose collisions are practical, for CERT_WEAK_SIGNATURE. */
export function isWeakSignatureAlgorithm(name: string): boolean {
  return /^(md2|md5|sha1)with|^ecdsa-with-sha1$|^dsawithsha1$/i.test(name);
}

/** Minimum key sizes we accept, for CERT_WEAK_KEY. */
export function isWeakKey(keyAlgorithm: string, keyBits: number | null): boolean {
  if (keyBits === null) return false;
  if (keyAlgorithm === "RSA" || keyAlgorithm === "RSA-PSS" || keyAlgorithm === "DSA") return keyBits < 2048;
  if (keyAlgorithm === "EC") return keyBits < 256;
  return false;
}

/** Parses a DER certificate. Throws INPUT_ENCODING naming the malformed field; the caller names the certificate. */
export function parseCertificate(der: Buffer): CertificateFacts {
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
