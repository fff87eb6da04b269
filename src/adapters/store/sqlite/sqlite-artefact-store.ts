// A run's artefact contents in SQLite: one BLOB row per run and artefact name, with its SHA-256, checked on the way out.
import {
  artefactDigestMismatch,
  refuseOversizedArtefact,
  sha256Of,
  type ArtefactContentStore,
  type ContentName,
  type StoredArtefact,
} from "../../../domain/ports/artefact-store.js";
import { guarded } from "./sqlite-connection.js";
import type { SqlDatabase } from "./sql-database.js";

export class SqliteArtefactStore implements ArtefactContentStore {
  constructor(private readonly database: SqlDatabase) {}

  putArtefact(runId: string, name: ContentName, content: Uint8Array): { readonly sha256: string } {
    refuseOversizedArtefact(runId, name, content.byteLength);
    const sha256 = sha256Of(content);
    guarded(this.database, () =>
      this.database
        .prepare(
          "INSERT OR REPLACE INTO run_artefact_contents (run_id, name, sha256, size, content) VALUES (?, ?, ?, ?, ?)",
        )
        .run(
          runId,
          name,
          sha256,
          content.byteLength,
          Buffer.from(content.buffer, content.byteOffset, content.byteLength),
        ),
    );
    return { sha256 };
  }

  artefactContent(runId: string, name: ContentName): StoredArtefact | null {
    const row = guarded(
      this.database,
      () =>
        this.database
          .prepare("SELECT sha256, content FROM run_artefact_contents WHERE run_id = ? AND name = ?")
          .get(runId, name) as { sha256: string; content: Buffer } | undefined,
    );
    if (row === undefined) return null;
    const content = new Uint8Array(row.content);
    const actual = sha256Of(content);
    if (actual !== row.sha256) {
      throw artefactDigestMismatch(`SQLite store ${this.database.name}`, runId, name, row.sha256, actual);
    }
    return { content, sha256: actual };
  }
}
