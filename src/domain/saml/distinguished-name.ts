// Formats an X.501 Name as RFC 2253 text exactly as OpenSSL's `-nameopt RFC2253` does, so fingerprints and names match what admins see elsewhere.
import type forge from "node-forge";
import asn1 from "node-forge/lib/asn1.js";
import util from "node-forge/lib/util.js";
import { BreakglassError } from "../errors.js";

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

/** Formats a forge ASN.1 `Name` (SEQUENCE OF RDN) as RFC 2253: last RDN first, "+" within an RDN. */
export function formatDistinguishedName(name: forge.asn1.Asn1): string {
  const rdns = asSequence(name, "Name");
  const parts: string[] = [];
  for (let i = rdns.length - 1; i >= 0; i--) {
    const attributes = asSequence(rdns[i], "RelativeDistinguishedName");
    parts.push(attributes.map(formatAttribute).join("+"));
  }
  return parts.join(",");
}

function formatAttribute(attribute: forge.asn1.Asn1): string {
  const [type, value] = asSequence(attribute, "AttributeTypeAndValue");
  if (!type || !value || typeof type.value !== "string")
    throw new BreakglassError("INPUT_ENCODING", "AttributeTypeAndValue", "malformed");
  const oid = asn1.derToOid(util.createBuffer(type.value));
  const label = ATTRIBUTE_NAMES[oid] ?? oid;
  const text = decodeDirectoryString(value);
  return `${label}=${text === undefined ? `#${hexOfDer(value)}` : escapeRfc2253(text)}`;
}

/** Decodes the string types a Name may hold; undefined for types OpenSSL dumps as hex. */
function decodeDirectoryString(value: forge.asn1.Asn1): string | undefined {
  if (value.tagClass !== asn1.Class.UNIVERSAL || typeof value.value !== "string") return undefined;
  const raw = value.value;
  switch (Number(value.type)) {
    case 12: // UTF8String
      return Buffer.from(raw, "latin1").toString("utf8");
    case 19: // PrintableString
    case 22: // IA5String
    case 26: // VisibleString
    case 18: // NumericString
    case 20: // T61String: OpenSSL reads it as Latin-1
      return raw;
    case 30: // BMPString (UCS-2 big-endian)
      return Buffer.from(raw, "latin1").swap16().toString("utf16le");
    case 28: // UniversalString (UCS-4 big-endian)
      return decodeUcs4(raw);
    default:
      return undefined;
  }
}

function decodeUcs4(raw: string): string {
  let text = "";
  for (let i = 0; i + 3 < raw.length; i += 4) {
    const codePoint =
      ((raw.charCodeAt(i) << 24) |
        (raw.charCodeAt(i + 1) << 16) |
        (raw.charCodeAt(i + 2) << 8) |
        raw.charCodeAt(i + 3)) >>>
      0;
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

function hexOfDer(value: forge.asn1.Asn1): string {
  return Buffer.from(asn1.toDer(value).getBytes(), "latin1").toString("hex").toUpperCase();
}

function asSequence(node: forge.asn1.Asn1 | undefined, what: string): forge.asn1.Asn1[] {
  if (!node || !Array.isArray(node.value)) throw new BreakglassError("INPUT_ENCODING", what, "malformed");
  return node.value;
}
