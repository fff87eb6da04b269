// Reads the facts breakglass needs from an X.509 certificate (DER): fingerprint, names, validity, key and signature algorithms.
import * as crypto from "node:crypto";
import { BreakglassError } from "../errors.js";
import {
  checkDer,
  childrenOf,
  contentEndOf,
  contentStartOf,
  contentUnitsOf,
  oidAt,
  primitiveAt,
  TAG_CLASS_CONTEXT_SPECIFIC,
  tagNumberOf,
  textOf,
  type DerUnits,
} from "./der-reader.js";
import { formatDistinguishedName } from "./distinguished-name.js";

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

const INTEGER = 2;
const NULL = 5;
const OBJECT_IDENTIFIER = 6;
const SEQUENCE = 16;
const UTC_TIME = 23;
const GENERALIZED_TIME = 24;

/**
 * Parses a DER certificate. Throws INPUT_ENCODING naming the malformed field; the caller names the certificate.
 * The whole encoding is checked first, then each field is read at its offset; the checks and their order are those
 * of the node-forge tree this replaced (test/support/forge-certificate.ts), and the facts are the same.
 */
export function parseCertificate(der: Buffer): CertificateFacts {
  checkDer(der, 0, der.length);
  const [tbs, outerAlgorithm] = childrenOf(der, 0, "Certificate");
  const tbsFields = childrenOf(der, tbs, "TBSCertificate");
  // The version field is [0] EXPLICIT and optional (absent for v1 certificates).
  const first = tbsFields[0];
  const offset = first !== undefined && (der[first]! & 0xc0) === TAG_CLASS_CONTEXT_SPECIFIC ? 1 : 0;
  const serial = tbsFields[offset];
  const issuer = tbsFields[offset + 2];
  const validity = childrenOf(der, tbsFields[offset + 3], "Validity");
  const subject = tbsFields[offset + 4];
  const publicKeyInfo = tbsFields[offset + 5];
  if (serial === undefined || issuer === undefined || subject === undefined || publicKeyInfo === undefined)
    throw new BreakglassError("INPUT_ENCODING", "TBSCertificate", "incomplete");
  const publicKey = readPublicKey(der, publicKeyInfo);
  const signatureOid = readAlgorithmOid(der, outerAlgorithm);
  return {
    sha256: sha256Hex(der),
    subject: formatDistinguishedName(der, subject),
    issuer: formatDistinguishedName(der, issuer),
    serialNumber: formatSerial(der, serial),
    notBefore: readTime(der, validity[0], "notBefore"),
    notAfter: readTime(der, validity[1], "notAfter"),
    keyAlgorithm: publicKey.algorithm,
    keyBits: publicKey.bits,
    signatureAlgorithm: SIGNATURE_ALGORITHMS[signatureOid as string] ?? (signatureOid as string),
    derBytes: der.length,
  };
}

/** crypto.hash (Node 20.12 and later) digests without a Hash object; createHash where it is missing. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: Buffer, encoding: "hex") => string }).hash;

function sha256Hex(der: Buffer): string {
  return oneShotHash ? oneShotHash("sha256", der, "hex") : crypto.createHash("sha256").update(der).digest("hex");
}

/** A primitive value's OID text (undefined when no arc ends in it, as node-forge's derToOid had it). */
function readOid(units: DerUnits, at: number | undefined, what: string): string | undefined {
  return oidAt(units, primitiveAt(units, at, what));
}

function readPublicKey(der: Buffer, publicKeyInfo: number): { algorithm: string; bits: number | null } {
  const [algorithmIdentifier, bitString] = childrenOf(der, publicKeyInfo, "SubjectPublicKeyInfo");
  const [oidNode, parameters] = childrenOf(der, algorithmIdentifier, "AlgorithmIdentifier");
  const oid = readOid(der, oidNode, "algorithm");
  // An OID with no complete arc leaves the algorithm undefined, as the node-forge reader did (the report omits it).
  const algorithm = (KEY_ALGORITHMS[oid as string] ?? oid) as string;
  // A BIT STRING's first content byte counts unused bits; the key follows.
  const [keyUnits, keyStart, keyEnd] = contentUnitsOf(der, primitiveAt(der, bitString, "subjectPublicKey"));
  switch (algorithm) {
    case "RSA":
    case "RSA-PSS": {
      const start = Math.min(keyStart + 1, keyEnd);
      checkDer(keyUnits, start, keyEnd);
      const [modulus] = childrenOf(keyUnits, start, "RSAPublicKey");
      if (isNegativeInteger(keyUnits, modulus, "modulus"))
        throw new BreakglassError("INPUT_ENCODING", "modulus", "is negative: not an RSA key");
      return { algorithm, bits: positiveIntegerBits(keyUnits, modulus!) };
    }
    case "EC":
      return { algorithm, bits: ecKeyBits(der, parameters) };
    case "DSA": {
      const [p] = childrenOf(der, parameters, "Dss-Parms");
      const [units, start, end] = contentUnitsOf(der, primitiveAt(der, p, "p"));
      return { algorithm, bits: integerBits(units, start, end) };
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
function ecKeyBits(der: Buffer, parameters: number | undefined): number | null {
  if (parameters === undefined) return null;
  const type = tagNumberOf(der, parameters);
  if (type === NULL) return null;
  if (type === OBJECT_IDENTIFIER) return CURVE_BITS[readOid(der, parameters, "namedCurve") as string] ?? null;
  if (type !== SEQUENCE)
    throw new BreakglassError(
      "INPUT_ENCODING",
      "ECParameters",
      "are neither a named curve nor explicit curve parameters",
    );
  // ECParameters ::= SEQUENCE { version, fieldID, curve, base, order INTEGER, cofactor INTEGER OPTIONAL }
  const order = childrenOf(der, parameters, "ECParameters")[4];
  if (order === undefined || tagNumberOf(der, order) !== INTEGER)
    throw new BreakglassError(
      "INPUT_ENCODING",
      "ECParameters",
      "explicit curve parameters without the group's order: the key's size cannot be known",
    );
  const negative = isNegativeInteger(der, order, "ECParameters order");
  const bits = negative ? 0 : positiveIntegerBits(der, order);
  if (negative || bits === 0)
    throw new BreakglassError("INPUT_ENCODING", "ECParameters order", "is not a positive number");
  return bits;
}

/**
 * Checks an INTEGER by DER's rules, which node-forge does not: at least one content byte, and minimal (no leading
 * 0x00 before a byte below 0x80, no leading 0xFF before one above). Returns whether it is negative (two's complement).
 */
function isNegativeInteger(units: DerUnits, at: number | undefined, what: string): boolean {
  if (at === undefined || tagNumberOf(units, at) !== INTEGER)
    throw new BreakglassError("INPUT_ENCODING", what, "malformed: not an INTEGER");
  primitiveAt(units, at, what);
  const start = contentStartOf(units, at);
  const length = contentEndOf(units, at) - start;
  if (length === 0) throw new BreakglassError("INPUT_ENCODING", what, "not DER: an INTEGER with no content");
  // An INTEGER's content is bytes: node-forge's latin1 strings kept the low byte of each unit.
  const leading = units[start]! & 0xff;
  const next = length > 1 ? units[start + 1]! & 0xff : -1;
  if ((leading === 0x00 && next >= 0 && next < 0x80) || (leading === 0xff && next >= 0x80)) {
    const shown = ((leading << 8) | next).toString(16).toUpperCase().padStart(4, "0");
    throw new BreakglassError("INPUT_ENCODING", what, `not DER: the INTEGER ${shown}… has a superfluous leading byte`);
  }
  return leading >= 0x80;
}

/** An INTEGER's content bytes, copied (only a negative serial, or a key read from 16-bit units, needs them). */
function integerBytes(units: DerUnits, at: number): Uint8Array {
  const start = contentStartOf(units, at);
  const end = contentEndOf(units, at);
  const bytes = new Uint8Array(end - start);
  for (let index = start; index < end; index++) bytes[index - start] = units[index]! & 0xff;
  return bytes;
}

/** The bit length of a checked, non-negative INTEGER. */
function positiveIntegerBits(units: DerUnits, at: number): number {
  if (!(units instanceof Uint8Array)) return integerBits(integerBytes(units, at), 0);
  return integerBits(units, contentStartOf(units, at), contentEndOf(units, at));
}

/** The magnitude of a negative two's-complement INTEGER in whole bytes of hex (never with a leading zero byte). */
function negativeMagnitudeHex(bytes: Uint8Array): string {
  const value = (1n << BigInt(bytes.length * 8)) - BigInt(`0x${Buffer.from(bytes).toString("hex")}`);
  const hex = value.toString(16);
  return hex.length % 2 === 0 ? hex : `0${hex}`;
}

/** As OpenSSL prints it (`openssl x509 -serial`): uppercase hex of the magnitude in whole bytes, "-" before a negative one. */
function formatSerial(der: Buffer, serial: number): string {
  if (isNegativeInteger(der, serial, "serialNumber")) {
    return `-${negativeMagnitudeHex(integerBytes(der, serial)).toUpperCase()}`;
  }
  let start = contentStartOf(der, serial);
  const end = contentEndOf(der, serial);
  while (start < end - 1 && der[start] === 0) start++;
  return textOf(der, "hex", start, end).toUpperCase();
}

/** The bit length of a big-endian unsigned number (node-forge's units may exceed a byte; they count as they did). */
function integerBits(units: DerUnits, start: number, end = units.length): number {
  while (start < end - 1 && units[start] === 0) start++;
  const leading = start < end ? units[start]! : NaN;
  return (end - start - 1) * 8 + (leading === 0 ? 0 : Math.floor(Math.log2(leading)) + 1);
}

function readAlgorithmOid(der: Buffer, at: number | undefined): string | undefined {
  const [oidNode] = childrenOf(der, at, "AlgorithmIdentifier");
  return readOid(der, oidNode, "algorithm");
}

/**
 * A validity time read strictly: RFC 5280 4.1.2.5, UTCTime YYMMDDHHMMSSZ and GeneralizedTime YYYYMMDDHHMMSSZ, digits,
 * seconds, and an uppercase Z, nothing else. node-forge rolled impossible fields into real dates (month 13, Feb 30)
 * and read a letter as a digit; OpenSSL refuses them, and so does breakglass: a certificate's dates decide its
 * expiry findings.
 */
function readTime(der: Buffer, at: number | undefined, what: string): Date {
  primitiveAt(der, at, what);
  const type = tagNumberOf(der, at!);
  if (type !== UTC_TIME && type !== GENERALIZED_TIME)
    throw new BreakglassError("INPUT_ENCODING", what, "not a valid time: neither UTCTime nor GeneralizedTime");
  const start = contentStartOf(der, at!);
  const end = contentEndOf(der, at!);
  const utc = type === UTC_TIME;
  const yearDigits = utc ? 2 : 4;
  if (!isTimeText(der, start, end, yearDigits)) {
    const shown = JSON.stringify(der.toString("latin1", start, Math.min(end, start + 40)));
    throw new BreakglassError(
      "INPUT_ENCODING",
      what,
      `not a valid time: ${shown} is not ${utc ? "YYMMDDHHMMSSZ" : "YYYYMMDDHHMMSSZ"} (digits, seconds, and an uppercase Z, as RFC 5280 requires)`,
    );
  }
  const year = digits(der, start, yearDigits);
  let at2 = start + yearDigits;
  const month = digits(der, at2, 2);
  const day = digits(der, (at2 += 2), 2);
  const hour = digits(der, (at2 += 2), 2);
  const minute = digits(der, (at2 += 2), 2);
  const second = digits(der, (at2 += 2), 2);
  // RFC 5280: a two-digit year of 50 or more is 19YY, below 50 is 20YY.
  const fullYear = utc ? (year >= 50 ? 1900 + year : 2000 + year) : year;
  const daysInMonth = month >= 1 && month <= 12 ? daysIn(fullYear, month) : 0;
  if (daysInMonth === 0 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    const shown = JSON.stringify(der.toString("latin1", start, end));
    throw new BreakglassError("INPUT_ENCODING", what, `not a valid time: ${shown} is not a date and time that exists`);
  }
  const date = new Date(Date.UTC(fullYear, month - 1, day, hour, minute, second));
  // Date.UTC reads years 0 to 99 as 1900 to 1999.
  date.setUTCFullYear(fullYear);
  return date;
}

/** Exactly the year's digits, ten more digits, and "Z". */
function isTimeText(bytes: Buffer, start: number, end: number, yearDigits: number): boolean {
  if (end - start !== yearDigits + 11 || bytes[end - 1] !== 0x5a) return false;
  for (let index = start; index < end - 1; index++) {
    const byte = bytes[index]!;
    if (byte < 0x30 || byte > 0x39) return false;
  }
  return true;
}

function digits(bytes: Buffer, start: number, count: number): number {
  let value = 0;
  for (let index = start; index < start + count; index++) value = value * 10 + bytes[index]! - 0x30;
  return value;
}

/** Days in a month of the proleptic Gregorian calendar (Date.UTC cannot say it for years below 100). */
function daysIn(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
