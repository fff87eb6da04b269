// The public key of a certificate carried in a signature's KeyInfo, and its SHA-256, as both signature verifiers read it.
import { createHash, createPublicKey, type KeyObject } from "node:crypto";

/** The key and SHA-256 of the certificate whose base64 text is `text`; undefined when it is no readable certificate. */
export function keyOfCertificateText(text: string | undefined): { key: KeyObject; sha256: string } | undefined {
  const base64 = text?.replace(/\s+/g, "");
  if (!base64) return undefined;
  try {
    const der = Buffer.from(base64, "base64");
    const key = createPublicKey({ key: toPem(der), format: "pem" });
    return { key, sha256: createHash("sha256").update(der).digest("hex") };
  } catch {
    return undefined;
  }
}

export function toPem(der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}
