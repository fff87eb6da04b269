// Writes a report given in pieces to a CLI output in chunks of about 64 KiB: a report of tens of megabytes is never
// one string in memory, and a few hundred writes replace tens of thousands (issue 15).
import { setImmediate as turn } from "node:timers/promises";

const CHUNK_CHARACTERS = 64 * 1024;

/**
 * After each chunk the event loop gets a turn: a pipe's writes that did not go through at once are queued by Node,
 * and the turn lets them drain as the reader reads, so the queue does not grow to the whole report.
 */
export async function writeInChunks(pieces: Iterable<string>, write: (text: string) => void): Promise<void> {
  let chunk = "";
  for (const piece of pieces) {
    chunk += piece;
    if (chunk.length >= CHUNK_CHARACTERS) {
      write(chunk);
      chunk = "";
      await turn();
    }
  }
  if (chunk.length > 0) write(chunk);
}
