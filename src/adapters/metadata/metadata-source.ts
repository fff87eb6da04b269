// Loads and inspects metadata from a file path or an https URL; a URL answered 304 reuses the cached inspection instead of parsing again.
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { BreakglassError } from "../../domain/errors.js";
import {
  DEFAULT_MAX_SIGNED_BYTES,
  inspectMetadataBytes,
  type InspectOptions,
} from "../../domain/saml/inspect-metadata.js";
import { formatBytes } from "../../domain/shared/format-bytes.js";
import { DEFAULT_FETCH_OPTIONS, fetchMetadata, type FetchOptions, type HttpValidators } from "./metadata-fetch.js";
import type { MetadataInspection } from "../../domain/saml/metadata-model.js";

export interface CachedInspection {
  readonly validators: HttpValidators;
  readonly inspection: MetadataInspection;
}

/** Where inspections of URLs are kept between polls (memory in the service, a file for the CLI). */
export interface InspectionCache {
  get(key: string): Promise<CachedInspection | undefined>;
  set(key: string, entry: CachedInspection): Promise<void>;
}

export interface SourceOptions extends InspectOptions {
  readonly fetch?: Partial<Omit<FetchOptions, "validators">>;
  readonly cache?: InspectionCache | undefined;
}

export interface SourceInspection {
  readonly inspection: MetadataInspection;
  /** "file", "fetched" (HTTP 200) or "not-modified" (HTTP 304, inspection from the cache). */
  readonly origin: "file" | "fetched" | "not-modified";
}

export function isUrl(location: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location);
}

export async function inspectMetadataSource(location: string, options: SourceOptions = {}): Promise<SourceInspection> {
  const fetchOptions: Omit<FetchOptions, "validators"> = { ...DEFAULT_FETCH_OPTIONS, ...options.fetch };
  if (!isUrl(location)) {
    const bytes = await readMetadataFile(location, fetchOptions.maxBytes);
    return { inspection: inspectMetadataBytes(bytes, location, options), origin: "file" };
  }
  const cacheKey = inspectionCacheKey(location, options);
  const cached = await options.cache?.get(cacheKey);
  const result = await fetchMetadata(location, {
    ...fetchOptions,
    ...(cached ? { validators: cached.validators } : {}),
  });
  if (result.kind === "not-modified" && cached) {
    return { inspection: cached.inspection, origin: "not-modified" };
  }
  if (result.kind === "not-modified") {
    throw new BreakglassError(
      "FETCH_FAILED",
      location,
      "the server answered 304 Not Modified but no cached copy exists",
    );
  }
  const inspection = inspectMetadataBytes(result.bytes, location, options);
  if (options.cache && (result.validators.etag || result.validators.lastModified)) {
    await options.cache.set(cacheKey, { validators: result.validators, inspection });
  }
  return { inspection, origin: "fetched" };
}

/** Everything that changes an inspection's verdict is part of the key: a 304 must not replay another signer's verdict. */
function inspectionCacheKey(location: string, options: SourceOptions): string {
  const signer = options.signer
    ? createHash("sha256")
        .update(options.signer.key.export({ type: "spki", format: "der" }))
        .digest("hex")
    : "no-signer";
  return [
    location,
    signer,
    options.maxSignedBytes ?? DEFAULT_MAX_SIGNED_BYTES,
    options.limits?.maxDepth ?? "default-depth",
  ].join("\n");
}

export async function readMetadataFile(path: string, maxBytes: number): Promise<Buffer> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new BreakglassError("INPUT_UNREADABLE", path, "is a directory, not a metadata file");
    if (info.size > maxBytes) {
      throw new BreakglassError(
        "INPUT_TOO_LARGE",
        path,
        `refused: the file is ${formatBytes(info.size)}, over the ${formatBytes(maxBytes)} limit`,
        {
          hint: "raise it with --max-bytes if the document is genuine",
        },
      );
    }
    const bytes = await readFile(path);
    // The file may have grown between stat and read.
    if (bytes.length > maxBytes)
      throw new BreakglassError(
        "INPUT_TOO_LARGE",
        path,
        `refused: the file is over the ${formatBytes(maxBytes)} limit`,
      );
    return bytes;
  } catch (error) {
    if (error instanceof BreakglassError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied"
          : `cannot be read (${code ?? "unknown error"})`;
    throw new BreakglassError("INPUT_UNREADABLE", path, reason, { cause: error });
  }
}

/** Keeps inspections in memory for a long-running process. */
export class MemoryInspectionCache implements InspectionCache {
  private readonly entries = new Map<string, CachedInspection>();

  get(key: string): Promise<CachedInspection | undefined> {
    return Promise.resolve(this.entries.get(key));
  }

  set(key: string, entry: CachedInspection): Promise<void> {
    this.entries.set(key, entry);
    return Promise.resolve();
  }
}
