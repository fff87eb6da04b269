// Reads DER straight from the bytes, without building a tree: one pass that checks the whole encoding, then reads at
// offsets. It accepts and refuses exactly what node-forge's fromDer accepted in the strict mode breakglass used (so
// a certificate it read before reads the same now), including its leniencies: non-minimal and long-form lengths,
// BER indefinite lengths on constructed values, and a BMPString (tag number 30) read two bytes at a time.
import { BreakglassError } from "../errors.js";

/**
 * The encoding as read: a Buffer, or (for a key inside a BMPString-tagged BIT STRING, as node-forge read it) the
 * 16-bit units of that string. Every step below works on either; nothing but that one case passes units above 255.
 */
export type DerUnits = ArrayLike<number>;

/** How deep node-forge let values nest (asn1.maxDepth). */
const MAX_DEPTH = 256;
const BMP_STRING = 30;

export const TAG_CLASS_UNIVERSAL = 0x00;
export const TAG_CLASS_CONTEXT_SPECIFIC = 0x80;

/** A structural error, with node-forge's words for it (they reach the report as the certificate's reason). */
function malformedDer(reason: string): BreakglassError {
  return new BreakglassError("INPUT_ENCODING", "DER", reason);
}

/**
 * Checks that units[start, end) is exactly one value whose every constructed part parses, as fromDer(bytes,
 * { strict: true, parseAllBytes: true, decodeBitStrings: false }) did. Throws INPUT_ENCODING naming "DER".
 */
export function checkDer(units: DerUnits, start: number, end: number): void {
  headerUnits = undefined;
  if (checkValue(units, start, end - start, 0) !== end)
    throw malformedDer("Unparsed DER bytes remain after ASN.1 parsing.");
}

/** One value at `at` within `remaining` units; returns where it ends. The order of the checks is node-forge's. */
function checkValue(units: DerUnits, at: number, remaining: number, depth: number): number {
  if (depth >= MAX_DEPTH) throw malformedDer("ASN.1 parsing error: Max depth exceeded.");
  if (remaining < 2) throw malformedDer("Too few bytes to parse DER.");
  const first = units[at]!;
  let position = at + 1;
  const lengthByte = units[position++]!;
  let length = -1;
  if (lengthByte !== 0x80) {
    if ((lengthByte & 0x80) === 0) length = lengthByte;
    else {
      const count = lengthByte & 0x7f;
      if (count > remaining - 2) throw malformedDer("Too few bytes to parse DER.");
      if (count > 4) throw malformedDer(`Only 8, 16, 24, or 32 bits supported: ${count << 3}`);
      // The same 32-bit arithmetic as node-forge: four bytes from 0x80000000 come out negative.
      let value = 0;
      for (let index = 0; index < count; index++) value = (value << 8) + units[position++]!;
      if (value < 0) throw malformedDer(`Negative length: ${value}`);
      length = value;
    }
  }
  remaining -= position - at;
  if (length > remaining) throw malformedDer("Too few bytes to read ASN.1 value.");
  if ((first & 0x20) !== 0) {
    if (length >= 0) {
      for (let left = length; left > 0;) {
        const next = checkValue(units, position, left, depth + 1);
        left -= next - position;
        position = next;
      }
      return position;
    }
    for (;;) {
      if (remaining < 2) throw malformedDer("Too few bytes to parse DER.");
      if (units[position] === 0 && units[position + 1] === 0) return position + 2;
      const next = checkValue(units, position, remaining, depth + 1);
      remaining -= next - position;
      position = next;
    }
  }
  if (length < 0) throw malformedDer("Non-constructed ASN.1 object of indefinite length.");
  if ((first & 0x1f) === BMP_STRING && length % 2 === 1) {
    // Read in pairs: an odd length takes one unit more, the first of whatever follows.
    if (length + 1 > remaining) throw malformedDer("Too few bytes to parse DER.");
    return position + length + 1;
  }
  return position + length;
}

/**
 * Where one value's content starts and ends, and where the value ends, in encoding that checkDer accepted. Module
 * state rather than an object per value: a certificate has dozens of values and an aggregate tens of thousands of
 * certificates. Set by readHeader, read right after it.
 */
let contentStart = 0;
let contentEnd = 0;
let valueEnd = 0;
/** The value whose header those are: asking for its start and then its end reads the header once. */
let headerAt = -1;
let headerUnits: DerUnits | undefined;

/** Reads the header of the value at `at` (checked by checkDer) into contentStart, contentEnd and valueEnd. */
function readHeader(units: DerUnits, at: number): void {
  if (at === headerAt && units === headerUnits) return;
  readHeaderOf(units, at);
  headerAt = at;
  headerUnits = units;
}

function readHeaderOf(units: DerUnits, at: number): void {
  const first = units[at]!;
  const lengthByte = units[at + 1]!;
  let position = at + 2;
  if (lengthByte === 0x80) {
    // Indefinite (constructed only): the content runs to the end-of-contents pair 00 00.
    const start = position;
    while (units[position] !== 0 || units[position + 1] !== 0) position = endOf(units, position);
    contentStart = start;
    contentEnd = position;
    valueEnd = position + 2;
    return;
  }
  let length = lengthByte;
  if ((lengthByte & 0x80) !== 0) {
    length = 0;
    for (let count = lengthByte & 0x7f; count > 0; count--) length = (length << 8) + units[position++]!;
  }
  contentStart = position;
  contentEnd = position + length + ((first & 0x20) === 0 && (first & 0x1f) === BMP_STRING && length % 2 === 1 ? 1 : 0);
  valueEnd = contentEnd;
}

/** The value's tag class (0x00 universal, 0x40 application, 0x80 context-specific, 0xC0 private). */
export function tagClassOf(units: DerUnits, at: number): number {
  return units[at]! & 0xc0;
}

/** The value's tag number as node-forge read it: the low five bits, whatever the class. */
export function tagNumberOf(units: DerUnits, at: number): number {
  return units[at]! & 0x1f;
}

export function isConstructed(units: DerUnits, at: number): boolean {
  return (units[at]! & 0x20) !== 0;
}

export function endOf(units: DerUnits, at: number): number {
  readHeader(units, at);
  return valueEnd;
}

export function contentStartOf(units: DerUnits, at: number): number {
  readHeader(units, at);
  return contentStart;
}

/** The end of the content: for a BMPString of odd length one unit past its length, as node-forge read it. */
export function contentEndOf(units: DerUnits, at: number): number {
  readHeader(units, at);
  return contentEnd;
}

/** The offsets of a constructed value's children; INPUT_ENCODING naming `what` for a value that is absent or primitive. */
export function childrenOf(units: DerUnits, at: number | undefined, what: string): number[] {
  if (at === undefined || !isConstructed(units, at)) throw new BreakglassError("INPUT_ENCODING", what, "malformed");
  readHeader(units, at);
  const end = contentEnd;
  const children: number[] = [];
  for (let position = contentStart; position < end; position = endOf(units, position)) children.push(position);
  return children;
}

/** The offset of a primitive value; INPUT_ENCODING naming `what` for one that is absent or constructed. */
export function primitiveAt(units: DerUnits, at: number | undefined, what: string): number {
  if (at === undefined || isConstructed(units, at)) throw new BreakglassError("INPUT_ENCODING", what, "malformed");
  return at;
}

/**
 * A primitive value's content as node-forge held it: its bytes, or for a BMPString its 16-bit units. Returned as
 * [units, start, end] so that the common case reads the certificate's own bytes without a copy.
 */
export function contentUnitsOf(units: DerUnits, at: number): readonly [DerUnits, number, number] {
  readHeader(units, at);
  if ((units[at]! & 0x1f) !== BMP_STRING) return [units, contentStart, contentEnd];
  const pairs: number[] = [];
  for (let index = contentStart; index < contentEnd; index += 2) pairs.push((units[index]! << 8) ^ units[index + 1]!);
  return [pairs, 0, pairs.length];
}

/** The dotted text of the OID in the primitive value at `at` (see oidText), without a copy of its content. */
export function oidAt(units: DerUnits, at: number): string | undefined {
  readHeader(units, at);
  if ((units[at]! & 0x1f) === BMP_STRING) {
    const [content, start, end] = contentUnitsOf(units, at);
    return oidText(content, start, end);
  }
  if (!(units instanceof Buffer) || contentEnd - contentStart > 32) return oidText(units, contentStart, contentEnd);
  // An aggregate repeats a handful of OIDs (algorithms, attribute types) in every certificate: one short string of
  // their bytes finds the text instead of writing it arc by arc. Bounded, so odd OIDs cannot grow it without end.
  const key = textOf(units, "latin1", contentStart, contentEnd);
  const known = OID_TEXTS.get(key);
  if (known !== undefined) return known;
  const text = oidText(units, contentStart, contentEnd);
  if (text !== undefined && OID_TEXTS.size < 256) OID_TEXTS.set(key, text);
  return text;
}

const OID_TEXTS = new Map<string, string>();

interface BufferSlices {
  utf8Slice?(start: number, end: number): string;
  latin1Slice?(start: number, end: number): string;
  hexSlice?(start: number, end: number): string;
}

/**
 * Buffer's own slice methods, where Node has them (every version so far): toString(encoding, start, end) checks its
 * arguments and looks the encoding up on every call, which costs twice the decoding itself before the JIT warms up.
 */
const slices = Buffer.prototype as unknown as BufferSlices;
const HAS_SLICES =
  typeof slices.utf8Slice === "function" &&
  typeof slices.latin1Slice === "function" &&
  typeof slices.hexSlice === "function";

/** bytes.toString(encoding, start, end), for start and end within the buffer. */
export function textOf(bytes: Buffer, encoding: "utf8" | "latin1" | "hex", start: number, end: number): string {
  if (!HAS_SLICES) return bytes.toString(encoding, start, end);
  const own = bytes as unknown as Required<BufferSlices>;
  return encoding === "utf8"
    ? own.utf8Slice(start, end)
    : encoding === "latin1"
      ? own.latin1Slice(start, end)
      : own.hexSlice(start, end);
}

/**
 * An OBJECT IDENTIFIER's dotted text, as node-forge's derToOid wrote it: undefined when no arc ends in the content,
 * a trailing unfinished arc ignored, INPUT_ENCODING when an arc passes 2^53.
 */
export function oidText(units: DerUnits, start: number, end: number): string | undefined {
  let oid: string | undefined;
  let value = 0;
  for (let index = start; index < end; index++) {
    if (value > 0x3fffffffffff) throw malformedDer("OID value too large; max is 53-bits.");
    const unit = units[index]!;
    value *= 128;
    if ((unit & 0x80) !== 0) {
      value += unit & 0x7f;
      continue;
    }
    value += unit;
    oid =
      oid === undefined
        ? value < 80
          ? `${Math.floor(value / 40)}.${value % 40}`
          : `2.${value - 80}`
        : `${oid}.${value}`;
    value = 0;
  }
  return oid;
}

/**
 * The value at `at` encoded again as node-forge's toDer wrote it, in uppercase hex: lengths made minimal and definite,
 * one superfluous leading byte dropped from an INTEGER. For a name's value of a type that is shown as #hex.
 */
export function reencodedHex(bytes: Buffer, at: number): string {
  return Buffer.from(reencode(bytes, at)).toString("hex").toUpperCase();
}

function reencode(bytes: Buffer, at: number): number[] {
  const first = bytes[at]!;
  readHeader(bytes, at);
  let start = contentStart;
  const end = contentEnd;
  let content: number[];
  if ((first & 0x20) !== 0) {
    content = [];
    for (let position = start; position < end; position = endOf(bytes, position))
      for (const byte of reencode(bytes, position)) content.push(byte);
  } else {
    const integer = (first & 0x1f) === 2;
    if (integer && end - start > 1) {
      const leading = bytes[start]!;
      const next = bytes[start + 1]!;
      if ((leading === 0 && (next & 0x80) === 0) || (leading === 0xff && (next & 0x80) === 0x80)) start++;
    }
    content = [...bytes.subarray(start, end)];
  }
  const length = content.length;
  if (length <= 127) return [first, length, ...content];
  const lengthBytes: number[] = [];
  for (let rest = length; rest > 0; rest = rest >>> 8) lengthBytes.unshift(rest & 0xff);
  return [first, 0x80 | lengthBytes.length, ...lengthBytes, ...content];
}
