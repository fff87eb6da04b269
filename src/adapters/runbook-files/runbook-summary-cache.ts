// Remembers, between CLI runs, the id, failure mode and title of each valid runbook file by a digest of its name and
// text, so `breakglass runbook list` answers without loading the YAML parser and the schema when no file changed.
// The digest also covers this build of breakglass (the parser module's size and time), so a new version re-parses.
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Bump when the entry shape changes, so old caches are ignored rather than misread. */
const FORMAT = 1;
/** Enough for every runbook of several directories; the oldest entries go first beyond it. */
const MAX_ENTRIES = 500;
const FILE_NAME = "runbook-summaries.json";

export interface RunbookSummary {
  readonly id: string;
  readonly failureMode: string;
  readonly title: string;
}

interface CacheFile {
  readonly format: number;
  readonly entries: Record<string, RunbookSummary>;
}

export class RunbookSummaryCache {
  private entries: Record<string, RunbookSummary> = {};
  private changed = false;

  private constructor(
    private readonly directory: string,
    /** Null when this build cannot be identified (sources run by a test runner): then nothing is cached. */
    private readonly build: string | null,
  ) {}

  /** The cache in `directory` (made when first written); a missing or damaged cache is an empty one, never an error. */
  static async open(directory: string): Promise<RunbookSummaryCache> {
    const cache = new RunbookSummaryCache(directory, await buildIdentity());
    if (cache.build === null) return cache;
    try {
      const stored = JSON.parse(await readFile(join(directory, FILE_NAME), "utf8")) as Partial<CacheFile>;
      if (stored.format === FORMAT && typeof stored.entries === "object" && stored.entries !== null)
        cache.entries = stored.entries;
    } catch {
      // Absent or unreadable: every runbook is parsed, as without a cache.
    }
    return cache;
  }

  get(path: string, text: string): RunbookSummary | undefined {
    if (this.build === null) return undefined;
    const entry = this.entries[this.key(path, text)];
    return isSummary(entry) ? entry : undefined;
  }

  set(path: string, text: string, summary: RunbookSummary): void {
    if (this.build === null) return;
    const key = this.key(path, text);
    // Re-inserted last, so the newest entries survive the cap.
    delete this.entries[key];
    this.entries[key] = { id: summary.id, failureMode: summary.failureMode, title: summary.title };
    this.changed = true;
  }

  /** Writes the cache when something was added; failing to write only costs the next run a parse. */
  async save(): Promise<void> {
    if (!this.changed || this.build === null) return;
    const keys = Object.keys(this.entries);
    const kept = Object.fromEntries(keys.slice(-MAX_ENTRIES).map((key) => [key, this.entries[key]!]));
    try {
      await mkdir(this.directory, { recursive: true, mode: 0o700 });
      const path = join(this.directory, FILE_NAME);
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify({ format: FORMAT, entries: kept } satisfies CacheFile), {
        mode: 0o600,
      });
      await rename(temporary, path);
    } catch {
      // The cache only saves work.
    }
  }

  /** The file name is part of the key: a runbook is valid only where its id matches its file name. */
  private key(path: string, text: string): string {
    return createHash("sha256")
      .update(`${this.build}\0${basename(path)}\0${text}`)
      .digest("hex");
  }
}

/** This build of the runbook parser: the compiled modules' sizes and times, or null when they are not compiled files. */
async function buildIdentity(): Promise<string | null> {
  const modules = ["../../domain/runbooks/parse-runbook.js", "../../domain/runbooks/runbook-schema.js"];
  try {
    const stamps = await Promise.all(
      modules.map(async (module) => {
        const stats = await stat(fileURLToPath(new URL(module, import.meta.url)));
        return `${stats.size}:${stats.mtimeMs}`;
      }),
    );
    return `${FORMAT}:${stamps.join(",")}`;
  } catch {
    return null;
  }
}

function isSummary(value: unknown): value is RunbookSummary {
  if (typeof value !== "object" || value === null) return false;
  const entry = value as Record<string, unknown>;
  return (
    typeof entry["id"] === "string" && typeof entry["failureMode"] === "string" && typeof entry["title"] === "string"
  );
}
