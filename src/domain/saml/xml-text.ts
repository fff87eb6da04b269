// Turns the raw bytes of an XML document into text: honours a BOM or the declared encoding, refuses what it cannot read.
import { BreakglassError } from "../errors.js";

const SUPPORTED_ENCODINGS: ReadonlyMap<string, string> = new Map([
  ["utf-8", "utf-8"],
  ["utf8", "utf-8"],
  ["us-ascii", "utf-8"], // ASCII is a subset of UTF-8; decoding as UTF-8 also rejects stray high bytes
  ["ascii", "utf-8"],
  ["iso-8859-1", "latin1"],
  ["latin1", "latin1"],
  ["windows-1252", "windows-1252"],
  ["cp1252", "windows-1252"],
  ["utf-16", "utf-16le"],
  ["utf-16le", "utf-16le"],
  ["utf-16be", "utf-16be"],
]);

/** Decodes `bytes` into a string with no BOM; `input` names the document in errors. */
export function decodeXmlBytes(bytes: Uint8Array, input: string): string {
  if (bytes.length === 0) {
    throw new BreakglassError("INPUT_EMPTY", input, "the document is empty");
  }
  const bom = detectBom(bytes);
  if (bom) {
    return decode(bytes.subarray(bom.length), bom.encoding, input);
  }
  if (looksLikeUtf16WithoutBom(bytes)) {
    const encoding = bytes[0] === 0 ? "utf-16be" : "utf-16le";
    return decode(bytes, encoding, input);
  }
  const declared = declaredEncoding(bytes);
  if (declared === undefined) return decode(bytes, "utf-8", input);
  const encoding = SUPPORTED_ENCODINGS.get(declared.toLowerCase());
  if (!encoding) {
    throw new BreakglassError(
      "INPUT_ENCODING",
      input,
      `the XML declaration names encoding "${declared}", which breakglass does not read`,
      {
        hint: "re-save the metadata as UTF-8",
      },
    );
  }
  // A document that declares UTF-16 but has no BOM and ASCII-looking bytes was mislabelled; read it as UTF-8.
  return decode(bytes, encoding.startsWith("utf-16") ? "utf-8" : encoding, input);
}

function detectBom(bytes: Uint8Array): { length: number; encoding: string } | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { length: 3, encoding: "utf-8" };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { length: 2, encoding: "utf-16le" };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { length: 2, encoding: "utf-16be" };
  return undefined;
}

function looksLikeUtf16WithoutBom(bytes: Uint8Array): boolean {
  // "<?" or "<m" encoded as UTF-16: one of the first two bytes is NUL.
  return bytes.length >= 4 && ((bytes[0] === 0 && bytes[1] === 0x3c) || (bytes[0] === 0x3c && bytes[1] === 0));
}

function declaredEncoding(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 200)).toString("latin1");
  const declaration = /^\s*<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head);
  return declaration?.[1];
}

function decode(bytes: Uint8Array, encoding: string, input: string): string {
  if (encoding === "utf-16be") {
    const swapped = Buffer.from(bytes);
    if (swapped.length % 2 !== 0) {
      throw new BreakglassError(
        "INPUT_ENCODING",
        input,
        "the document is UTF-16 but has an odd number of bytes (truncated?)",
      );
    }
    swapped.swap16();
    return decode(swapped, "utf-16le", input);
  }
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(bytes);
  } catch {
    throw new BreakglassError(
      "INPUT_ENCODING",
      input,
      `the document is not valid ${encoding.toUpperCase()} text (binary data or the wrong encoding)`,
    );
  }
}
