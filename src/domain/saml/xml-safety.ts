// Refuses XML that is unsafe or broken before anything parses it: DTDs and entities, what XML 1.0 calls not well-formed
// (and names and namespace declarations that Namespaces in XML does not allow), runaway nesting.
import { BreakglassError } from "../errors.js";
import { scanXmlDocument, type ScanMeter } from "./xml-scanner.js";

export interface XmlLimits {
  /** Deepest element nesting accepted; real SAML metadata stays under 15. */
  readonly maxDepth: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxDepth: 64 };

/**
 * Throws a BreakglassError naming `input` unless `text` is a well-formed XML document without a DTD, whose element and
 * attribute names are QNames and whose namespace declarations Namespaces in XML 1.0 allows. The work is linear
 * in the length of `text` whatever it holds; `meter` (for tests) receives the number of characters the scan read.
 */
export function assertSafeXml(
  text: string,
  input: string,
  limits: XmlLimits = DEFAULT_XML_LIMITS,
  meter?: ScanMeter,
): void {
  const start = text.search(/\S/);
  if (start === -1) throw new BreakglassError("INPUT_EMPTY", input, "the document is empty (only whitespace)");
  if (text[start] !== "<") {
    throw new BreakglassError(
      "XML_MALFORMED",
      input,
      `not an XML document: it starts with ${describeStart(text.slice(start, start + 20))}`,
    );
  }
  scanXmlDocument(text, input, limits.maxDepth, meter);
}

function describeStart(snippet: string): string {
  const first = snippet[0] ?? "";
  if (first === "{" || first === "[") return `"${first}" (JSON?)`;
  const printable = snippet.replace(/[^\x20-\x7e]/g, "?");
  return `"${printable}"`;
}
