// Generates keys and X.509 certificates at run time, for the drill and the tests (nothing secret is committed).
import { generateKeyPairSync } from "node:crypto";
import forge from "node-forge";

export interface TestCertificate {
  readonly pem: string;
  readonly der: Buffer;
  /** Base64 of the DER, as it appears in <ds:X509Certificate>. */
  readonly base64: string;
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

export interface CertificateSpec {
  readonly commonName?: string;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly keyBits?: number;
  readonly digest?: "sha1" | "sha256";
  readonly serial?: string;
  /** Subject alternative DNS names (for TLS server certificates). */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

const DEFAULT_NOT_BEFORE = new Date("2020-01-01T00:00:00Z");

const keyCache = new Map<number, { privateKeyPem: string; publicKeyPem: string }>();

/** RSA keys are slow to make; tests share one per size. */
function keyPair(bits: number): { privateKeyPem: string; publicKeyPem: string } {
  let pair = keyCache.get(bits);
  if (!pair) {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
    pair = {
      privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
      publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    };
    keyCache.set(bits, pair);
  }
  return pair;
}

/** A fresh (non-cached) key pair, for tests where two keys must differ. */
export function freshKeyPair(bits = 2048): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
  return {
    privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

export function makeCertificate(spec: CertificateSpec = {}, keys = keyPair(spec.keyBits ?? 2048)): TestCertificate {
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  certificate.serialNumber =
    spec.serial ?? forge.util.bytesToHex(forge.random.getBytesSync(8)).replace(/^[89a-f]/, "1");
  // A fixed, long-past start: tests pin "now" to fixed dates, and a start derived from the wall clock
  // would make their certificates "not yet valid" once the real date passes those pinned dates.
  certificate.validity.notBefore = spec.notBefore ?? DEFAULT_NOT_BEFORE;
  certificate.validity.notAfter = spec.notAfter ?? new Date(Date.now() + 365 * 86_400_000);
  const attributes = [{ shortName: "CN", value: spec.commonName ?? "breakglass test IdP" }];
  certificate.setSubject(attributes);
  certificate.setIssuer(attributes);
  if (spec.dnsNames || spec.ipAddresses) {
    certificate.setExtensions([
      {
        name: "subjectAltName",
        altNames: [
          ...(spec.dnsNames ?? []).map((value) => ({ type: 2, value })),
          ...(spec.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
        ],
      },
    ]);
  }
  certificate.sign(
    forge.pki.privateKeyFromPem(keys.privateKeyPem),
    spec.digest === "sha1" ? forge.md.sha1.create() : forge.md.sha256.create(),
  );
  const pem = forge.pki.certificateToPem(certificate);
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(certificate)).getBytes(), "latin1");
  return { pem, der, base64: der.toString("base64"), ...keys };
}

export const DAY = 86_400_000;
