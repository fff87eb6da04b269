// Builds X.509 certificates byte by byte at test time, so a test can put exactly the time, serial or key encoding it
// means into the DER (node-forge and OpenSSL both normalise what they write).
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";

/** One DER TLV: the tag byte, the definite length, the content. */
export function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), content]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.concat([Buffer.from([tag, 0x80 | bytes.length, ...bytes]), content]);
}

export const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
export const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
/** An INTEGER with exactly these content bytes (hex), minimal or not. */
export const integer = (hex: string) => tlv(0x02, Buffer.from(hex, "hex"));
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, "utf8"));
const nullValue = () => Buffer.from([0x05, 0x00]);
export const bitString = (bytes: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));
export const octetString = (bytes: Buffer) => tlv(0x04, bytes);

export function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split(".").map(Number);
  const bytes = [first! * 40 + second!];
  for (const arc of rest) {
    const group: number[] = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128))
      group.unshift((value & 0x7f) | 0x80);
    bytes.push(...group);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** A time as written in the certificate: UTCTime or GeneralizedTime, its text taken as is. */
export interface RawTime {
  readonly kind: "utc" | "generalized";
  readonly text: string;
}

export const utcTime = (text: string): RawTime => ({ kind: "utc", text });
export const generalizedTime = (text: string): RawTime => ({ kind: "generalized", text });
const encodeTime = (time: RawTime) => tlv(time.kind === "utc" ? 0x17 : 0x18, Buffer.from(time.text, "latin1"));

const name = (commonName: string) => sequence(set(sequence(oid("2.5.4.3"), utf8(commonName))));

export interface DerCertificateSpec {
  /** The serial's content bytes in hex, as written (default a positive 8-byte serial). */
  readonly serialHex?: string;
  readonly notBefore?: RawTime;
  readonly notAfter?: RawTime;
  readonly commonName?: string;
  /** The SubjectPublicKeyInfo DER (default the signing key's own). */
  readonly subjectPublicKeyInfo?: Buffer;
  /** The key that signs; its kind picks sha256WithRSAEncryption or ecdsa-with-SHA256. */
  readonly signingKey?: KeyObject;
  /** The subject and issuer Name DER, as written (default a Name of one CN, `commonName`). */
  readonly nameDer?: Buffer;
  /** Leave out the [0] version, as a v1 certificate does. */
  readonly withoutVersion?: boolean;
}

let defaultKey: KeyObject | undefined;
/** One RSA key shared by the certificates that do not care which key they carry (RSA keys are slow to make). */
export function sharedRsaKey(): KeyObject {
  defaultKey ??= createPrivateKey(
    generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }),
  );
  return defaultKey;
}

/** A v3 certificate, self-issued, signed by `signingKey` (an RSA or EC key). */
export function derCertificate(spec: DerCertificateSpec = {}): Buffer {
  const key = spec.signingKey ?? sharedRsaKey();
  const rsa = key.asymmetricKeyType === "rsa";
  const signatureAlgorithm = rsa
    ? sequence(oid("1.2.840.113549.1.1.11"), nullValue())
    : sequence(oid("1.2.840.10045.4.3.2"));
  const publicKeyInfo = spec.subjectPublicKeyInfo ?? createPublicKeyDer(key);
  const commonName = spec.commonName ?? "breakglass differential test";
  const subject = spec.nameDer ?? name(commonName);
  const tbs = sequence(
    spec.withoutVersion ? Buffer.alloc(0) : tlv(0xa0, integer("02")),
    integer(spec.serialHex ?? "1a2b3c4d5e6f7081"),
    signatureAlgorithm,
    subject,
    sequence(
      encodeTime(spec.notBefore ?? utcTime("260101000000Z")),
      encodeTime(spec.notAfter ?? utcTime("361231235959Z")),
    ),
    subject,
    publicKeyInfo,
  );
  const signature = sign("sha256", tbs, key);
  return sequence(tbs, signatureAlgorithm, bitString(signature));
}

function createPublicKeyDer(privateKey: KeyObject): Buffer {
  return Buffer.from(createPublicKey(privateKey).export({ type: "spki", format: "der" }));
}
