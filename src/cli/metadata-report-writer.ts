// Writes a report given in pieces to a CLI output in chunks of about 64 KiB: a report of tens of megabytes is never
// one string in memory, and a few hundred writes replace tens of thousands (issue 15).
const CHUNK_CHARACTERS = 64 * 1024;

export function writeInChunks(pieces: Iterable<string>, write: (text: string) => void): void {
  let chunk = "";
  for (const piece of pieces) {
    chunk += piece;
    if (chunk.length >= CHUNK_CHARACTERS) {
      write(chunk);
      chunk = "";
    }
  }
  if (chunk.length > 0) write(chunk);
}
