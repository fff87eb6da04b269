// Reads the facts breakglass needs from an X.509 certificate (DER): fingerprint, names, validity, key and signature algorithms.
import { createHash } from "node:crypto";
import forge from "node-forge";
import { BreakglassError } from "../errors.js";
import { formatDistinguishedName } from "./distinguished-name.js";

const { asn1 } = forge;

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
    serialNumber: Buffer.from(primitive(serial, "serialNumber"), "latin1").toString("hex").toUpperCase(),
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
  const oid = asn1.derToOid(forge.util.createBuffer(primitive(oidNode, "algorithm")));
  const algorithm = KEY_ALGORITHMS[oid] ?? oid;
  // A BIT STRING's first content byte counts unused bits; the key follows.
  const keyBytes = primitive(bitString, "subjectPublicKey").slice(1);
  switch (algorithm) {
    case "RSA":
    case "RSA-PSS": {
      const [modulus] = children(fromDer(keyBytes, { strict: true, decodeBitStrings: false }), "RSAPublicKey");
      return { algorithm, bits: integerBits(primitive(modulus, "modulus")) };
    }
    case "EC": {
      const curve =
        parameters && parameters.type === asn1.Type.OID
          ? asn1.derToOid(forge.util.createBuffer(primitive(parameters, "namedCurve")))
          : "";
      return { algorithm, bits: CURVE_BITS[curve] ?? null };
    }
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

function integerBits(bytes: string): number {
  let start = 0;
  while (start < bytes.length - 1 && bytes.charCodeAt(start) === 0) start++;
  const leading = bytes.charCodeAt(start);
  return (bytes.length - start - 1) * 8 + (leading === 0 ? 0 : Math.floor(Math.log2(leading)) + 1);
}

function readAlgorithmOid(node: forge.asn1.Asn1 | undefined): string {
  const [oidNode] = children(node, "AlgorithmIdentifier");
  return asn1.derToOid(forge.util.createBuffer(primitive(oidNode, "algorithm")));
}

function readTime(node: forge.asn1.Asn1 | undefined, what: string): Date {
  const text = primitive(node, what);
  const date =
    node?.type === asn1.Type.UTCTIME
      ? asn1.utcTimeToDate(text)
      : node?.type === asn1.Type.GENERALIZEDTIME
        ? asn1.generalizedTimeToDate(text)
        : undefined;
  if (!date || Number.isNaN(date.getTime())) throw new BreakglassError("INPUT_ENCODING", what, "not a valid time");
  return date;
}

function children(node: forge.asn1.Asn1 | undefined, what: string): forge.asn1.Asn1[] {
  if (!node || !Array.isArray(node.value)) throw new BreakglassError("INPUT_ENCODING", what, "malformed");
  return node.value;
}

function primitive(node: forge.asn1.Asn1 | undefined, what: string): string {
  if (!node || typeof node.value !== "string") throw new BreakglassError("INPUT_ENCODING", what, "malformed");
  return node.value;
}
