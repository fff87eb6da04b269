// Keeps metadata inspections of URLs on disk between CLI runs, so a repeated check costs a conditional GET and no parse.
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { CachedInspection, InspectionCache } from "../metadata/metadata-source.js";

/** Bump when the shape of MetadataInspection changes, so old entries are ignored rather than misread. */
const FORMAT = 1;

const DATE_KEYS: ReadonlySet<string> = new Set(["notBefore", "notAfter"]);

export function defaultCacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return join(env["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "breakglass");
}

export class FileInspectionCache implements InspectionCache {
  constructor(private readonly directory: string) {}

  async get(key: string): Promise<CachedInspection | undefined> {
    try {
      const text = await readFile(this.pathOf(key), "utf8");
      const stored = JSON.parse(text, (name, value: unknown) =>
        DATE_KEYS.has(name) && typeof value === "string" ? new Date(value) : value,
      ) as {
        format?: number;
        key?: string;
        entry?: CachedInspection;
      };
      // A damaged or foreign entry is a cache miss, never an error: the document is simply fetched again.
      return stored.format === FORMAT && stored.key === key ? stored.entry : undefined;
    } catch {
      return undefined;
    }
  }

  async set(key: string, entry: CachedInspection): Promise<void> {
    try {
      await mkdir(this.directory, { recursive: true, mode: 0o700 });
      const path = this.pathOf(key);
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify({ format: FORMAT, key, entry }), { mode: 0o600 });
      await rename(temporary, path);
    } catch {
      // The cache only saves work; failing to write it must not fail the inspection.
    }
  }

  private pathOf(key: string): string {
    return join(this.directory, `${createHash("sha256").update(key).digest("hex")}.json`);
  }
}
