// Refuses XML that is unsafe or broken before anything parses it: DTDs and entities, malformed or truncated markup, runaway nesting.
import { XMLValidator } from "fast-xml-parser";
import { BreakglassError } from "../errors.js";

export interface XmlLimits {
  /** Deepest element nesting accepted; real SAML metadata stays under 15. */
  readonly maxDepth: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxDepth: 64 };

/** Throws a BreakglassError naming `input` unless `text` is a well-formed XML document without a DTD. */
export function assertSafeXml(text: string, input: string, limits: XmlLimits = DEFAULT_XML_LIMITS): void {
  const start = text.search(/\S/);
  if (start === -1) throw new BreakglassError("INPUT_EMPTY", input, "the document is empty (only whitespace)");
  if (text[start] !== "<") {
    throw new BreakglassError(
      "XML_MALFORMED",
      input,
      `not an XML document: it starts with ${describeStart(text.slice(start, start + 20))}`,
    );
  }
  // A DTD is never needed in SAML metadata and is the door to XXE and entity-expansion bombs: refuse it outright.
  const dtd = /<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST)\b/i.exec(text);
  if (dtd) {
    throw new BreakglassError(
      "XML_UNSAFE",
      input,
      `refused: the document contains a <!${dtd[1]?.toUpperCase()}> declaration (DTDs and entities are not allowed in metadata)`,
    );
  }
  // Without a DTD only the five predefined entities and character references exist; anything else is not well-formed.
  const reference = findUndefinedReference(text);
  if (reference !== undefined) {
    const { line, column } = position(text, reference);
    const name = /^&([A-Za-z_][\w.-]{0,40});/.exec(text.slice(reference, reference + 44))?.[1];
    throw new BreakglassError(
      "XML_MALFORMED",
      input,
      `not well-formed XML at line ${line}, column ${column}: ${name ? `undefined entity &${name};` : "a bare & (write &amp;)"}`,
    );
  }
  checkDepth(text, input, limits.maxDepth);
  const verdict = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (verdict !== true) {
    const { line, col, msg } = verdict.err;
    throw new BreakglassError(
      "XML_MALFORMED",
      input,
      `not well-formed XML at line ${line}, column ${col}: ${explainValidatorMessage(msg)}`,
    );
  }
}

/** Index of the first "&" that starts no predefined entity or character reference, outside comments and CDATA. */
function findUndefinedReference(text: string): number | undefined {
  const pattern = /&(?!(?:lt|gt|amp|apos|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const sectionEnd =
      endOfEnclosingSection(text, match.index, "<!--", "-->") ??
      endOfEnclosingSection(text, match.index, "<![CDATA[", "]]>");
    if (sectionEnd === undefined) return match.index;
    pattern.lastIndex = sectionEnd; // a literal & in a comment or CDATA section is fine
  }
  return undefined;
}

function endOfEnclosingSection(text: string, index: number, open: string, close: string): number | undefined {
  const start = text.lastIndexOf(open, index);
  if (start === -1) return undefined;
  const end = text.indexOf(close, start + open.length);
  if (end !== -1 && end < index) return undefined;
  return end === -1 ? text.length : end + close.length;
}

function position(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < index; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: index - lineStart + 1 };
}

function describeStart(snippet: string): string {
  const first = snippet[0] ?? "";
  if (first === "{" || first === "[") return `"${first}" (JSON?)`;
  const printable = snippet.replace(/[^\x20-\x7e]/g, "?");
  return `"${printable}"`;
}

function explainValidatorMessage(message: string): string {
  // fast-xml-parser reports unclosed elements as "Invalid '[ "a", "b" ]' found."
  const unclosed = /^Invalid '\[(.*)\]' found\.?$/s.exec(message);
  if (unclosed?.[1] !== undefined) {
    const names = unclosed[1].replace(/[\s"]/g, "").split(",").filter(Boolean);
    return `the document ends before ${names.length === 1 ? "element" : "elements"} ${names.join(", ")} ${names.length === 1 ? "is" : "are"} closed (truncated?)`;
  }
  return message;
}

/**
 * Counts element nesting in one pass. It runs before the parser because parsers recurse and a
 * deeply nested document would exhaust the stack instead of producing a clear error.
 */
function checkDepth(text: string, input: string, maxDepth: number): void {
  let depth = 0;
  let index = text.indexOf("<");
  while (index !== -1) {
    const next = text.charCodeAt(index + 1);
    if (next === 0x21 /* ! */) {
      index = skipDeclaration(text, index);
    } else if (next === 0x3f /* ? */) {
      index = text.indexOf("?>", index + 2);
      if (index === -1) return;
      index += 2;
    } else if (next === 0x2f /* / */) {
      depth--;
      index += 2;
    } else {
      const end = findTagEnd(text, index + 1);
      if (end === -1) return; // unterminated: the validator names it
      if (text.charCodeAt(end - 1) !== 0x2f /* self-closing */) {
        depth++;
        if (depth > maxDepth) {
          throw new BreakglassError("XML_TOO_DEEP", input, `refused: elements are nested more than ${maxDepth} deep`);
        }
      }
      index = end + 1;
    }
    index = index === -1 ? -1 : text.indexOf("<", index);
  }
}

function skipDeclaration(text: string, index: number): number {
  if (text.startsWith("<!--", index)) {
    const end = text.indexOf("-->", index + 4);
    return end === -1 ? -1 : end + 3;
  }
  if (text.startsWith("<![CDATA[", index)) {
    const end = text.indexOf("]]>", index + 9);
    return end === -1 ? -1 : end + 3;
  }
  const end = text.indexOf(">", index);
  return end === -1 ? -1 : end + 1;
}

/** Index of the ">" closing a start tag, skipping quoted attribute values. */
function findTagEnd(text: string, from: number): number {
  let quote = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === 0x22 || c === 0x27) {
      quote = c;
    } else if (c === 0x3e) {
      return i;
    }
  }
  return -1;
}
