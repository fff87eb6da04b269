// The XML-DSig algorithms breakglass verifies, which of them are weak, and the key each signature algorithm needs.
import { constants, createHash, createPrivateKey, KeyObject, sign, verify, type KeyLike } from "node:crypto";
import type { HashAlgorithm, SignatureAlgorithm } from "xml-crypto";
import { BreakglassError } from "../errors.js";
import { xmlCrypto } from "./xml-signature-libraries.js";

/** The key family a signature algorithm verifies with; a key of another family never verifies it. */
export type KeyFamily = "RSA" | "ECDSA";

interface SignatureAlgorithmSpec {
  readonly name: string;
  readonly digest: string;
  readonly family: KeyFamily;
  /** RSASSA-PSS (RFC 6931 "-MGF1"); otherwise PKCS#1 v1.5 for RSA. */
  readonly pss?: boolean;
}

const XMLDSIG = "http://www.w3.org/2000/09/xmldsig#";
const XMLDSIG_MORE = "http://www.w3.org/2001/04/xmldsig-more#";

const SIGNATURE_ALGORITHMS: Readonly<Record<string, SignatureAlgorithmSpec>> = {
  [`${XMLDSIG}rsa-sha1`]: { name: "RSA-SHA1", digest: "sha1", family: "RSA" },
  [`${XMLDSIG_MORE}rsa-sha256`]: { name: "RSA-SHA256", digest: "sha256", family: "RSA" },
  [`${XMLDSIG_MORE}rsa-sha384`]: { name: "RSA-SHA384", digest: "sha384", family: "RSA" },
  [`${XMLDSIG_MORE}rsa-sha512`]: { name: "RSA-SHA512", digest: "sha512", family: "RSA" },
  ["http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"]: {
    name: "RSA-PSS-SHA256",
    digest: "sha256",
    family: "RSA",
    pss: true,
  },
  [`${XMLDSIG_MORE}ecdsa-sha1`]: { name: "ECDSA-SHA1", digest: "sha1", family: "ECDSA" },
  [`${XMLDSIG_MORE}ecdsa-sha256`]: { name: "ECDSA-SHA256", digest: "sha256", family: "ECDSA" },
  [`${XMLDSIG_MORE}ecdsa-sha384`]: { name: "ECDSA-SHA384", digest: "sha384", family: "ECDSA" },
  [`${XMLDSIG_MORE}ecdsa-sha512`]: { name: "ECDSA-SHA512", digest: "sha512", family: "ECDSA" },
};

const DIGEST_ALGORITHMS: Readonly<Record<string, string>> = {
  [`${XMLDSIG}sha1`]: "sha1",
  ["http://www.w3.org/2001/04/xmlenc#sha256"]: "sha256",
  [`${XMLDSIG_MORE}sha384`]: "sha384",
  ["http://www.w3.org/2001/04/xmlenc#sha512"]: "sha512",
};

/** SHA-1 collisions are practical (SHAttered, 2017): a SHA-1 signature or digest no longer protects what it covers. */
const WEAK_ALGORITHMS: ReadonlySet<string> = new Set([
  `${XMLDSIG}rsa-sha1`,
  `${XMLDSIG_MORE}ecdsa-sha1`,
  `${XMLDSIG}dsa-sha1`,
  `${XMLDSIG}sha1`,
  `${XMLDSIG}hmac-sha1`,
]);

/** Exactly the canonicalizations xml-crypto implements (its CanonicalizationAlgorithms), inclusive and exclusive, with and without comments. */
const CANONICALIZATION_ALGORITHMS: ReadonlySet<string> = new Set([
  "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
  "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
  "http://www.w3.org/2001/10/xml-exc-c14n#",
  "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
]);

const ENVELOPED_SIGNATURE = `${XMLDSIG}enveloped-signature`;

export function isSupportedSignatureAlgorithm(uri: string): boolean {
  return Object.hasOwn(SIGNATURE_ALGORITHMS, uri);
}

export function isSupportedDigestAlgorithm(uri: string): boolean {
  return Object.hasOwn(DIGEST_ALGORITHMS, uri);
}

export function isSupportedCanonicalization(uri: string): boolean {
  return CANONICALIZATION_ALGORITHMS.has(uri);
}

/** A Reference transform: a canonicalization, or the enveloped-signature transform. */
export function isSupportedTransform(uri: string): boolean {
  return uri === ENVELOPED_SIGNATURE || isSupportedCanonicalization(uri);
}

export function isWeakAlgorithm(uri: string): boolean {
  return WEAK_ALGORITHMS.has(uri);
}

/** The key family a supported signature algorithm needs; undefined when the algorithm is not supported. */
export function keyFamilyOf(signatureAlgorithm: string): KeyFamily | undefined {
  return Object.hasOwn(SIGNATURE_ALGORITHMS, signatureAlgorithm)
    ? SIGNATURE_ALGORITHMS[signatureAlgorithm]?.family
    : undefined;
}

/** The family of a public key, as the signature algorithms name it; undefined for a key no supported algorithm uses. */
export function familyOfKey(key: KeyObject): KeyFamily | undefined {
  const type = key.asymmetricKeyType;
  return type === "rsa" || type === "rsa-pss" ? "RSA" : type === "ec" ? "ECDSA" : undefined;
}

/** The short name admins know ("ECDSA-SHA256"), or the URI itself for an algorithm breakglass does not implement. */
export function describeSignatureAlgorithm(uri: string): string {
  return Object.hasOwn(SIGNATURE_ALGORITHMS, uri) ? (SIGNATURE_ALGORITHMS[uri]?.name ?? uri) : uri;
}

/** The node:crypto name of a supported digest algorithm ("sha256"); undefined for any other URI. */
export function digestNameOf(uri: string): string | undefined {
  return Object.hasOwn(DIGEST_ALGORITHMS, uri) ? DIGEST_ALGORITHMS[uri] : undefined;
}

/**
 * Whether `signatureValue` is the signature of `material` (canonical SignedInfo) under `key` with the algorithm `uri`:
 * the same check xml-crypto runs through signatureAlgorithmRegistry. False for an unsupported algorithm or a key of
 * another family.
 */
export function verifySignatureValue(uri: string, key: KeyObject, material: string, signatureValue: Buffer): boolean {
  const spec = Object.hasOwn(SIGNATURE_ALGORITHMS, uri) ? SIGNATURE_ALGORITHMS[uri] : undefined;
  if (!spec || familyOfKey(key) !== spec.family) return false;
  return verify(spec.digest, Buffer.from(material, "utf8"), verifyOptions(spec, key), signatureValue);
}

function verifyOptions(spec: SignatureAlgorithmSpec, key: KeyObject) {
  // XML-DSig carries ECDSA signatures as r || s (RFC 4050, RFC 6931), not DER; RSA-PSS salts with the digest's length.
  return spec.family === "ECDSA"
    ? { key, dsaEncoding: "ieee-p1363" as const }
    : spec.pss
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
      : { key, padding: constants.RSA_PKCS1_PADDING };
}

/** The signature algorithm classes to hand to xml-crypto: exactly the supported set, every one able to verify with a KeyObject. */
export function signatureAlgorithmRegistry(): Record<string, new () => SignatureAlgorithm> {
  const registry: Record<string, new () => SignatureAlgorithm> = {};
  for (const [uri, spec] of Object.entries(SIGNATURE_ALGORITHMS)) registry[uri] = signatureAlgorithmClass(uri, spec);
  return registry;
}

export function digestAlgorithmRegistry(): Record<string, new () => HashAlgorithm> {
  const registry: Record<string, new () => HashAlgorithm> = {};
  for (const [uri, digest] of Object.entries(DIGEST_ALGORITHMS)) {
    registry[uri] = class implements HashAlgorithm {
      getAlgorithmName = (): string => uri;
      getHash = (xml: string): string => createHash(digest).update(xml, "utf8").digest("base64");
    };
  }
  return registry;
}

function signatureAlgorithmClass(uri: string, spec: SignatureAlgorithmSpec): new () => SignatureAlgorithm {
  const options = (key: KeyObject) => verifyOptions(spec, key);
  const { createOptionalCallbackFunction } = xmlCrypto();
  return class implements SignatureAlgorithm {
    getAlgorithmName = (): string => uri;
    getSignature = createOptionalCallbackFunction(
      (signedInfo: Parameters<typeof sign>[1], privateKey: KeyLike): string => {
        return sign(
          spec.digest,
          signedInfo,
          options(privateKey instanceof KeyObject ? privateKey : createPrivateKey(privateKey)),
        ).toString("base64");
      },
    );
    verifySignature = createOptionalCallbackFunction(
      (material: string, key: KeyLike, signatureValue: string): boolean => {
        if (!(key instanceof KeyObject)) {
          throw new BreakglassError("INTERNAL", spec.name, "signature verification needs a public key object");
        }
        // A key of the wrong family must not verify: node would read an RSA URI with an EC key as ECDSA.
        if (familyOfKey(key) !== spec.family) return false;
        return verify(spec.digest, Buffer.from(material, "utf8"), options(key), Buffer.from(signatureValue, "base64"));
      },
    );
  };
}
