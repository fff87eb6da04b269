// Reads the shared corpus of real IdP metadata and its independently derived MANIFEST.json, in place.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const CORPUS_DIRECTORY = fileURLToPath(new URL("../../../shared/corpus/saml-metadata/", import.meta.url));

export interface ManifestCertificate {
  role: string;
  use: "signing" | "encryption" | null;
  sha256: string;
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  keyAlg: string;
  keyBits: number;
  sigAlg: string;
}

export interface ManifestEntity {
  entityID: string;
  idpDescriptors: number;
  roleDescriptors: string[];
  validUntil: string | null;
  cacheDuration: string | null;
  signed: boolean;
  ssoServices: { binding: string; location: string }[];
  nameIDFormats: string[];
  certificates: ManifestCertificate[];
}

export interface ManifestDocument {
  file: string;
  producer: string;
  wellFormed: boolean;
  rootElement: string;
  documentSigned: boolean;
  documentSignatureCheck: { valid: boolean; detail: string } | null;
  documentValidUntil: string | null;
  documentCacheDuration: string | null;
  entityCount: number;
  entities: ManifestEntity[];
}

export function readManifest(): ManifestDocument[] {
  return JSON.parse(readFileSync(`${CORPUS_DIRECTORY}MANIFEST.json`, "utf8")) as ManifestDocument[];
}

export function corpusPath(file: string): string {
  return `${CORPUS_DIRECTORY}${file}`;
}

export function readCorpusFile(file: string): Buffer {
  return readFileSync(corpusPath(file));
}
