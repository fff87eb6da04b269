// Formats an X.501 Name as RFC 2253 text exactly as OpenSSL's `-nameopt RFC2253` does, so fingerprints and names match what admins see elsewhere.
import { BreakglassError } from "../errors.js";
import {
  childrenOf,
  contentEndOf,
  contentStartOf,
  contentUnitsOf,
  endOf,
  isConstructed,
  oidAt,
  reencodedHex,
  TAG_CLASS_UNIVERSAL,
  tagClassOf,
  tagNumberOf,
  textOf,
} from "./der-reader.js";

const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  "2.5.4.3": "CN",
  "2.5.4.4": "SN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "street",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.12": "title",
  "2.5.4.13": "description",
  "2.5.4.15": "businessCategory",
  "2.5.4.17": "postalCode",
  "2.5.4.42": "GN",
  "2.5.4.43": "initials",
  "2.5.4.44": "generationQualifier",
  "2.5.4.46": "dnQualifier",
  "2.5.4.65": "pseudonym",
  "2.5.4.97": "organizationIdentifier",
  "0.9.2342.19200300.100.1.1": "UID",
  "0.9.2342.19200300.100.1.25": "DC",
  "1.2.840.113549.1.9.1": "emailAddress",
  "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL",
  "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST",
  "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
};

/** The labels of the arcs under 2.5.4 (X.520 attribute types, most of every name), so that those need no OID text. */
const X520_LABELS: readonly string[] = Array.from({ length: 128 }, (_, arc) => {
  const oid = `2.5.4.${arc}`;
  return ATTRIBUTE_NAMES[oid] ?? oid;
});

/**
 * Formats the `Name` (SEQUENCE OF RDN) at `at` in checked DER (see der-reader.ts) as RFC 2253: last RDN first, "+"
 * within an RDN. The RDNs are read last to first, so a malformed one is reported as the node-forge reader did.
 */
export function formatDistinguishedName(der: Buffer, at: number): string {
  return (isConstructed(der, at) && formatPlainName(der, at)) || formatName(der, at);
}

/**
 * The common RDN, read in one step: SET { SEQUENCE { OID 2.5.4.n, PrintableString, IA5String or UTF8String } },
 * every length one byte below 0x80. Checked by one sticky expression over the Name's bytes as Latin-1 text, which V8
 * runs as native code from the first certificate on; formatName's walk calls a dozen small functions per attribute,
 * each interpreted until it has run enough (a 4 MB aggregate names 2,820 subjects and issuers). "\cF\cCU\cD" is an
 * OBJECT IDENTIFIER of 3 bytes, 2.5.4, and "\cL\cS\cV" the string tags 0x0C, 0x13 and 0x16: \cX is the control
 * character of letter X, written so because lint refuses control characters written as \x06.
 */
const PLAIN_RDN = /1[^\x80-\xff]0[^\x80-\xff]\cF\cCU\cD[^\x80-\xff][\cL\cS\cV][^\x80-\xff]/y;
const PLAIN_RDN_HEADER = 11;
const NON_ASCII = /[\x80-\uffff]/;

/**
 * formatName's text for a Name made only of plain RDNs (see PLAIN_RDN), or undefined for any other, which formatName
 * reads: several attributes in an RDN, extra parts, a long length, an OID outside 2.5.4, another string type, or a
 * UTF8String that is not ASCII.
 */
function formatPlainName(der: Buffer, at: number): string | undefined {
  const text = textOf(der, "latin1", contentStartOf(der, at), contentEndOf(der, at));
  const parts: string[] = [];
  for (let position = 0; position < text.length;) {
    PLAIN_RDN.lastIndex = position;
    if (!PLAIN_RDN.test(text)) return undefined;
    const setLength = text.charCodeAt(position + 1);
    const valueLength = text.charCodeAt(position + PLAIN_RDN_HEADER - 1);
    if (text.charCodeAt(position + 3) !== valueLength + 7 || setLength !== valueLength + 9) return undefined;
    const valueStart = position + PLAIN_RDN_HEADER;
    const value = text.slice(valueStart, valueStart + valueLength);
    if (text.charCodeAt(position + 9) === 0x0c && NON_ASCII.test(value)) return undefined;
    parts.push(`${X520_LABELS[text.charCodeAt(position + 8)]!}=${escapeRfc2253(value)}`);
    position = valueStart + valueLength;
  }
  // Last RDN first, as formatName writes them.
  return parts.reverse().join(",");
}

function formatName(der: Buffer, at: number): string {
  const rdns = childrenOf(der, at, "Name");
  const parts: string[] = [];
  for (let index = rdns.length - 1; index >= 0; index--) {
    const rdn = rdns[index]!;
    if (!isConstructed(der, rdn)) throw new BreakglassError("INPUT_ENCODING", "RelativeDistinguishedName", "malformed");
    const end = contentEndOf(der, rdn);
    const first = contentStartOf(der, rdn);
    let text = "";
    for (let attribute = first; attribute < end; attribute = endOf(der, attribute))
      text += (attribute === first ? "" : "+") + formatAttribute(der, attribute);
    parts.push(text);
  }
  // join writes one flat string: the facts keep every name, and a string built by + is a tree of its pieces.
  return parts.join(",");
}

/** An AttributeTypeAndValue as type=value; its extra parts, as before, ignored. */
function formatAttribute(der: Buffer, attribute: number): string {
  if (!isConstructed(der, attribute)) throw new BreakglassError("INPUT_ENCODING", "AttributeTypeAndValue", "malformed");
  const end = contentEndOf(der, attribute);
  const type = contentStartOf(der, attribute);
  const value = type < end ? endOf(der, type) : end;
  if (value >= end || isConstructed(der, type))
    throw new BreakglassError("INPUT_ENCODING", "AttributeTypeAndValue", "malformed");
  const label = attributeLabel(der, type);
  const text = decodeDirectoryString(der, value);
  return `${label}=${text === undefined ? `#${reencodedHex(der, value)}` : escapeRfc2253(text)}`;
}

function attributeLabel(der: Buffer, type: number): string {
  const start = contentStartOf(der, type);
  if (
    contentEndOf(der, type) - start === 3 &&
    der[start] === 0x55 &&
    der[start + 1] === 0x04 &&
    der[start + 2]! < 0x80 &&
    tagNumberOf(der, type) !== 30
  )
    return X520_LABELS[der[start + 2]!]!;
  const oid = oidAt(der, type);
  // An OID with no complete arc was labelled "undefined" by the node-forge reader, and still is.
  return ATTRIBUTE_NAMES[oid as string] ?? `${oid}`;
}

/** Decodes the string types a Name may hold; undefined for types OpenSSL dumps as hex. */
function decodeDirectoryString(der: Buffer, at: number): string | undefined {
  if (tagClassOf(der, at) !== TAG_CLASS_UNIVERSAL || isConstructed(der, at)) return undefined;
  const type = tagNumberOf(der, at);
  switch (type) {
    case 12: // UTF8String
      return textOf(der, "utf8", contentStartOf(der, at), contentEndOf(der, at));
    case 19: // PrintableString
    case 22: // IA5String
    case 26: // VisibleString
    case 18: // NumericString
    case 20: // T61String: OpenSSL reads it as Latin-1
      return textOf(der, "latin1", contentStartOf(der, at), contentEndOf(der, at));
    case 30: // BMPString: UCS-2 big-endian code units
      return decodeUcs2(der, at);
    case 28: // UniversalString (UCS-4 big-endian)
      return decodeUcs4(der, contentStartOf(der, at), contentEndOf(der, at));
    default:
      return undefined;
  }
}

function decodeUcs2(der: Buffer, at: number): string {
  const [units, start, end] = contentUnitsOf(der, at);
  let text = "";
  for (let index = start; index < end; index++) text += String.fromCharCode(units[index]!);
  return text;
}

function decodeUcs4(bytes: Buffer, start: number, end: number): string {
  let text = "";
  for (let index = start; index + 3 < end; index += 4) {
    const codePoint = bytes.readUInt32BE(index);
    text += codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : "\ufffd";
  }
  return text;
}

/** Printable ASCII without , + " \\ < > ; that neither starts with # or a space nor ends with a space. */
const PLAIN_VALUE = /^(?:[!$-*\--:=?-[\]-~](?:[ !$-*\--:=?-[\]-~]*[!$-*\--:=?-[\]-~])?)?$/;

/** OpenSSL's ESC_2253 | ESC_CTRL | ESC_MSB on the UTF-8 bytes of the value. */
export function escapeRfc2253(text: string): string {
  // Most values are plain printable ASCII that needs no escape: returned as they are, without a byte-wise pass.
  if (PLAIN_VALUE.test(text)) return text;
  const bytes = Buffer.from(text, "utf8");
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    const char = String.fromCharCode(byte);
    const first = i === 0;
    const last = i === bytes.length - 1;
    if (byte > 0x7e || byte < 0x20) {
      out += `\\${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    } else if (',+"\\<>;'.includes(char) || (first && (char === "#" || char === " ")) || (last && char === " ")) {
      out += `\\${char}`;
    } else {
      out += char;
    }
  }
  return out;
}
