// The port a run's artefact contents are kept through: the bytes a step produced (inspected IdP metadata, an activity
// summary) with their SHA-256, so that a process on another host executes a later step on exactly those bytes.
import { createHash } from "node:crypto";
import { basename, dirname, normalize } from "node:path";
import { BreakglassError } from "../errors.js";
import type { Artefact } from "../runbooks/runbook-schema.js";

/** The largest artefact a store keeps: a metadata aggregate of thousands of entities is tens of MB; past this is not one. */
export const MAX_ARTEFACT_BYTES = 64 * 1024 * 1024;

/**
 * The name a document a step saved before replacing it is kept under (the metadata a provider held before an import):
 * `saved/<file name>` within its run, the same on every host whatever its artefact folder.
 */
export type SavedDocumentName = `saved/${string}`;
/** What a content is kept under within its run: a run's artefact, or a document one of its steps saved. */
export type ContentName = Artefact | SavedDocumentName;

/** An artefact's content as the store kept it, its digest checked on the way out. */
export interface StoredArtefact {
  readonly content: Uint8Array;
  /** SHA-256 of `content`, lower-case hex. */
  readonly sha256: string;
}

/**
 * One content per run and artefact name: a newer put replaces it (a check step run again after a crash inspects again).
 * A put is whole or absent to a reader: the store never answers a half-written content.
 */
export interface ArtefactContentStore {
  /** Keeps `content` as the run's artefact `name`; over MAX_ARTEFACT_BYTES it is refused (INPUT_TOO_LARGE naming it). */
  putArtefact(runId: string, name: ContentName, content: Uint8Array): { readonly sha256: string };
  /**
   * The content kept for the run's artefact `name`, or null when none was. Content that does not hash to the digest
   * kept with it (a chunk lost or altered) is refused with ARTEFACT_INTEGRITY naming the run, the artefact and the store.
   */
  artefactContent(runId: string, name: ContentName): StoredArtefact | null;
}

/**
 * Documents a step saves before it replaces them (what an IAM SAML provider held before an import), kept in the store
 * with their SHA-256 so that a rollback executed on any host puts back exactly those bytes.
 */
export interface SavedDocuments {
  /** Keeps the file just saved at `path` (in this host's artefact folder) in the store, before the change it guards. */
  keep(path: string): void;
  /**
   * A file on this host holding the saved document `path` names (a path recorded on any host): the store's bytes,
   * written into this host's artefact folder when missing or different here. One the store keeps nothing for is used
   * only from this host's folder (saved before the store kept them: it is kept now); else ARTEFACT_INTEGRITY.
   */
  resolve(path: string): string;
}

/** Where a saved document's content is kept: its run (the folder it was saved in) and its name, from the path alone. */
export function savedDocumentKey(path: string): { readonly runId: string; readonly name: SavedDocumentName } {
  // Normalised first: `<folder>/x/../<file>` names no run `..`.
  const normalised = normalize(path);
  return { runId: basename(dirname(normalised)), name: `saved/${basename(normalised)}` };
}

export function sha256Of(content: Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

/** What a store's description says when an artefact is too large to keep. */
export function refuseOversizedArtefact(runId: string, name: ContentName, size: number): void {
  if (size <= MAX_ARTEFACT_BYTES) return;
  throw new BreakglassError(
    "INPUT_TOO_LARGE",
    `artefact ${name} of run ${runId}`,
    `${size} bytes, more than the ${MAX_ARTEFACT_BYTES / 1024 / 1024} MB a store keeps of one artefact`,
  );
}

/** Content kept under a digest it does not have: refused, naming the run, the artefact and the store. */
export function artefactDigestMismatch(store: string, runId: string, name: ContentName, kept: string, actual: string) {
  return new BreakglassError(
    "ARTEFACT_INTEGRITY",
    `artefact ${name} of run ${runId}`,
    `the content in ${store} hashes to SHA-256 ${actual}, not the ${kept} kept with it; nothing uses it`,
  );
}
