// Loads the pinned metadata signer (--metadata-signer): a PEM certificate or public key the operator trusts.
import { createPublicKey, X509Certificate, createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { BreakglassError } from "../../domain/errors.js";
import type { MetadataSigner } from "../../domain/saml/metadata-signature.js";

export async function loadMetadataSigner(path: string): Promise<MetadataSigner> {
  let pem: string;
  try {
    pem = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new BreakglassError(
      "SIGNER_UNREADABLE",
      path,
      code === "ENOENT" ? "no such file (--metadata-signer)" : `cannot be read (${code ?? "unknown error"})`,
    );
  }
  return parseMetadataSigner(pem, path);
}

export function parseMetadataSigner(pem: string, input: string): MetadataSigner {
  if (pem.includes("PRIVATE KEY")) {
    throw new BreakglassError(
      "SIGNER_UNREADABLE",
      input,
      "contains a private key; give the signer's certificate or public key instead (and keep the private key off this machine)",
    );
  }
  try {
    if (pem.includes("BEGIN CERTIFICATE")) {
      const certificate = new X509Certificate(pem);
      return { key: certificate.publicKey, sha256: createHash("sha256").update(certificate.raw).digest("hex") };
    }
    return { key: createPublicKey({ key: pem, format: "pem" }), sha256: null };
  } catch {
    throw new BreakglassError("SIGNER_UNREADABLE", input, "is not a PEM certificate or public key (--metadata-signer)");
  }
}
