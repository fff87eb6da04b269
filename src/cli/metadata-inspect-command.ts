// `breakglass metadata inspect <file|url>`: inspect IdP metadata, print the facts and findings, exit 0/1/2.
import { readFile } from "node:fs/promises";
import pc from "picocolors";
import { checkMetadata, DEFAULT_WARN_DAYS } from "../domain/checks/metadata-checks.js";
import { isBlocking } from "../domain/checks/finding.js";
import { BreakglassError } from "../domain/errors.js";
import { DEFAULT_MAX_SIGNED_BYTES, DEFAULT_MAX_SIGNED_ELEMENTS } from "../domain/saml/inspect-metadata.js";
import { DEFAULT_FETCH_OPTIONS } from "../adapters/metadata/metadata-fetch.js";
import { loadMetadataSigner } from "../adapters/metadata/metadata-signer.js";
import { inspectMetadataSource, isUrl } from "../adapters/metadata/metadata-source.js";
import type { InspectionCache } from "../adapters/metadata/metadata-source.js";
import { EXIT } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import { metadataReportJsonPieces } from "./metadata-report-json.js";
import { metadataReportTextPieces } from "./metadata-report-text.js";
import { writeInChunks } from "./metadata-report-writer.js";
import { parseInstant, parseNonNegativeInteger, parsePositiveNumber } from "./option-parsers.js";

export interface MetadataInspectOptions {
  readonly json?: boolean;
  readonly now?: string;
  readonly warnDays?: string;
  readonly metadataSigner?: string;
  readonly allowInsecureHttp?: boolean;
  readonly maxBytes?: string;
  readonly maxSignedBytes?: string;
  readonly maxSignedElements?: string;
  readonly timeout?: string;
  readonly ca?: string;
  readonly cache?: boolean;
  readonly cacheDir?: string;
}

export async function runMetadataInspect(source: string, options: MetadataInspectOptions, io: CliIo): Promise<number> {
  const now = options.now === undefined ? io.clock.now() : parseInstant(options.now, "--now");
  const warnDays =
    options.warnDays === undefined ? DEFAULT_WARN_DAYS : parseNonNegativeInteger(options.warnDays, "--warn-days");
  const maxBytes =
    options.maxBytes === undefined
      ? DEFAULT_FETCH_OPTIONS.maxBytes
      : parseNonNegativeInteger(options.maxBytes, "--max-bytes");
  const maxSignedBytes =
    options.maxSignedBytes === undefined
      ? DEFAULT_MAX_SIGNED_BYTES
      : parseNonNegativeInteger(options.maxSignedBytes, "--max-signed-bytes");
  const maxSignedElements =
    options.maxSignedElements === undefined
      ? DEFAULT_MAX_SIGNED_ELEMENTS
      : parseNonNegativeInteger(options.maxSignedElements, "--max-signed-elements");
  const timeoutMs =
    options.timeout === undefined
      ? DEFAULT_FETCH_OPTIONS.timeoutMs
      : parsePositiveNumber(options.timeout, "--timeout") * 1000;
  const signer = options.metadataSigner === undefined ? undefined : await loadMetadataSigner(options.metadataSigner);
  const ca = options.ca === undefined ? undefined : await readCa(options.ca);
  // Only a URL's inspection is cached (for a conditional GET next time); a file is read and parsed every time.
  const cache = options.cache === false || !isUrl(source) ? undefined : await inspectionCache(options.cacheDir, io);

  const { inspection, origin } = await inspectMetadataSource(source, {
    signer,
    cache,
    maxSignedBytes,
    maxSignedElements,
    fetch: { maxBytes, timeoutMs, allowInsecureHttp: options.allowInsecureHttp === true, ...(ca ? { ca } : {}) },
  });
  const findings = checkMetadata(inspection, { now, warnDays });
  const ok = !findings.some(isBlocking);
  if (options.json) {
    await writeInChunks(metadataReportJsonPieces(inspection, findings, ok, now), io.stdout);
  } else {
    const colors = pc.createColors(io.stdoutIsTty && !io.env["NO_COLOR"]);
    const context = { now, warnDays, colors, notModified: origin === "not-modified" };
    await writeInChunks(metadataReportTextPieces(inspection, findings, context), io.stdout);
  }
  return ok ? EXIT.ok : EXIT.findings;
}

async function inspectionCache(directory: string | undefined, io: CliIo): Promise<InspectionCache> {
  const { defaultCacheDirectory, FileInspectionCache } = await import("../adapters/store/file-inspection-cache.js");
  return new FileInspectionCache(directory ?? defaultCacheDirectory(io.env));
}

async function readCa(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch {
    throw new BreakglassError("USAGE", path, "cannot read the CA certificate file (--ca)");
  }
}
