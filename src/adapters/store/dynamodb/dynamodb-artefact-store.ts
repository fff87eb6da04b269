// A run's artefact contents in DynamoDB: an item is at most 400 KB, so the content is cut into binary chunks under the
// artefact's own partition, written before the item that names their digest, and read back whole and digest-checked.
import { BreakglassError } from "../../../domain/errors.js";
import {
  artefactDigestMismatch,
  refuseOversizedArtefact,
  sha256Of,
  type ArtefactContentStore,
  type ContentName,
  type StoredArtefact,
} from "../../../domain/ports/artefact-store.js";
import { backOff, CONFLICT_RETRIES, type DynamoTable, type TransactItem } from "./dynamodb-table.js";

/** One chunk's bytes: under DynamoDB's 400 KB item limit with its keys and attribute names. */
export const CHUNK_BYTES = 350 * 1024;
/** Chunks per TransactWriteItems: 10 × 350 KB stays under its 4 MB, with room for a fenced view's ConditionCheck. */
const CHUNKS_PER_TRANSACTION = 10;
const HEAD = "CONTENT";

/** The artefact's partition: its head item (digest, size, chunk count) and its chunks. */
export const artefactPartition = (runId: string, name: ContentName): string => `ARTEFACT#${runId}#${name}`;
/** A chunk's sort key: under the digest of the content it belongs to, so a newer content never overwrites an older one's. */
export const chunkKey = (sha256: string, index: number): string => `CHUNK#${sha256}#${String(index).padStart(6, "0")}`;

export class DynamoArtefactStore implements ArtefactContentStore {
  constructor(private readonly table: DynamoTable) {}

  putArtefact(runId: string, name: ContentName, content: Uint8Array): { readonly sha256: string } {
    refuseOversizedArtefact(runId, name, content.byteLength);
    const sha256 = sha256Of(content);
    const pk = artefactPartition(runId, name);
    const chunks = Math.max(1, Math.ceil(content.byteLength / CHUNK_BYTES));
    // The chunks first, the head naming their digest last: a reader sees the old content or the new, never part of one.
    for (let first = 0; first < chunks; first += CHUNKS_PER_TRANSACTION) {
      const items: TransactItem[] = [];
      for (let index = first; index < Math.min(chunks, first + CHUNKS_PER_TRANSACTION); index++) {
        const data = content.subarray(index * CHUNK_BYTES, (index + 1) * CHUNK_BYTES);
        items.push({ Put: { Item: { pk, sk: chunkKey(sha256, index), data } } });
      }
      this.write(runId, name, items);
    }
    this.write(runId, name, [
      { Put: { Item: { pk, sk: HEAD, runId, name, sha256, size: content.byteLength, chunks } } },
    ]);
    return { sha256 };
  }

  artefactContent(runId: string, name: ContentName): StoredArtefact | null {
    const pk = artefactPartition(runId, name);
    const head = this.table.get(pk, HEAD);
    if (head === null) return null;
    const sha256 = String(head["sha256"]);
    const parts = this.table.query(pk, chunkKey(sha256, 0).slice(0, -6)).map((item) => item["data"]);
    const bytes = parts.filter((part): part is Uint8Array => part instanceof Uint8Array);
    const content = new Uint8Array(Buffer.concat(bytes));
    if (bytes.length !== Number(head["chunks"])) {
      throw new BreakglassError(
        "ARTEFACT_INTEGRITY",
        `artefact ${name} of run ${runId}`,
        `${this.table.description} holds ${bytes.length} of its ${String(head["chunks"])} chunks ` +
          `(${content.byteLength} of ${String(head["size"])} bytes); nothing uses it`,
      );
    }
    const actual = sha256Of(content);
    if (actual !== sha256) throw artefactDigestMismatch(this.table.description, runId, name, sha256, actual);
    return { content, sha256 };
  }

  /** Unconditional puts: only a concurrent transaction on the same items cancels them, and trying again fixes that. */
  private write(runId: string, name: ContentName, items: readonly TransactItem[]): void {
    for (let attempt = 0; ; attempt++) {
      const outcome = this.table.transact(items);
      if (outcome.written) return;
      if (attempt >= CONFLICT_RETRIES) throw this.refused(runId, name, outcome.reasons);
      backOff(attempt);
    }
  }

  private refused(runId: string, name: ContentName, reasons: readonly string[]): BreakglassError {
    return new BreakglassError(
      "STORE_FAILED",
      `artefact ${name} of run ${runId}`,
      `${this.table.description} did not write its content (${reasons.join(", ")}); try again`,
    );
  }
}
