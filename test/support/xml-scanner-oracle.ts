// The pre-parse well-formedness scan as it was before issue 15 made it faster, kept as the oracle its replacement is
// compared with: one forward pass in states, every read through one counted accessor. Since then both also refuse what
// Namespaces in XML does not allow in names and declarations, undeclared prefixes and attributes that are one expanded
// name; this copy checks names its own way, by their parts, and keeps one Map of declarations per open element.
import { BreakglassError } from "../../src/domain/errors.js";
import { decodeReferences } from "../../src/domain/saml/exclusive-canonicalization.js";
import { namespaceDeclarationError, XML_NAMESPACE } from "../../src/domain/saml/namespace-declaration.js";
import {
  describeCodePoint,
  isNameCodePoint,
  isNameStartCodePoint,
  isXmlCodePoint,
  isXmlWhitespace,
} from "../../src/domain/saml/xml-characters.js";
import type { ScanMeter } from "../../src/domain/saml/xml-scanner.js";

const END = -1;
const MISPLACED_COLON = "has a colon out of place (Namespaces in XML allow one, between a prefix and a local name)";

/** A QName: one part, or a prefix and a local name around one colon, neither empty. */
function isQualifiedName(name: string): boolean {
  const parts = name.split(":");
  return parts.length <= 2 && parts.every((part) => part !== "");
}
const TAB = 0x9;
const QUOTE = 0x22;
const HASH = 0x23;
const AMPERSAND = 0x26;
const APOSTROPHE = 0x27;
const DASH = 0x2d;
const SLASH = 0x2f;
const SEMICOLON = 0x3b;
const LESS_THAN = 0x3c;
const EQUALS = 0x3d;
const GREATER_THAN = 0x3e;
const QUESTION_MARK = 0x3f;
const EXCLAMATION_MARK = 0x21;
const CLOSING_BRACKET = 0x5d;
const LOWERCASE_X = 0x78;

/** Without a DTD these are the only entities that exist. */
const PREDEFINED_ENTITIES: ReadonlySet<string> = new Set(["lt", "gt", "amp", "apos", "quot"]);

/** Declarations that only a DTD has; metadata never needs one, and they open the door to XXE and entity-expansion bombs. */
const DTD_KEYWORDS = ["DOCTYPE", "ENTITY", "ELEMENT", "ATTLIST", "NOTATION"] as const;

/**
 * Throws a BreakglassError naming `input` at the first place where `text` is not a well-formed XML 1.0 document, holds a
 * DTD declaration (XML_UNSAFE), or nests elements deeper than `maxDepth` (XML_TOO_DEEP). Reads each character a bounded
 * number of times; `meter`, when given, receives the count.
 */
export function scanXmlDocumentOracle(text: string, input: string, maxDepth: number, meter?: ScanMeter): void {
  const scanner = new WellFormednessScanner(text, input, maxDepth);
  try {
    scanner.scanDocument();
  } finally {
    if (meter) meter.charactersRead += scanner.charactersRead;
  }
}

class WellFormednessScanner {
  charactersRead = 0;
  private at = 0;
  /** Names of the elements open around `at`; its length is the depth, so it never exceeds `maxDepth` + 1. */
  private readonly openElements: string[] = [];
  /** The declarations (prefix → namespace) of each open element, outermost first; the tag being read's is pushed too. */
  private readonly scopes: Map<string, string>[] = [];
  private readonly text: string;
  private readonly input: string;
  private readonly maxDepth: number;

  constructor(text: string, input: string, maxDepth: number) {
    this.text = text;
    this.input = input;
    this.maxDepth = maxDepth;
  }

  scanDocument(): void {
    if (this.startsWith("<?xml", 0) && isXmlWhitespace(this.code(5))) this.scanXmlDeclaration();
    this.scanMisc("prolog");
    this.scanElementTree();
    this.scanMisc("epilog");
  }

  /** The code unit at `index`, or END past the text. Every read of the text goes through here, and is counted. */
  private code(index: number): number {
    this.charactersRead++;
    return index < this.text.length ? this.text.charCodeAt(index) : END;
  }

  /** The code point at `index` (a surrogate pair read as one), or END. */
  private codePoint(index: number): number {
    const high = this.code(index);
    if (high < 0xd800 || high > 0xdbff) return high;
    const low = this.code(index + 1);
    return low >= 0xdc00 && low <= 0xdfff ? (high - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000 : high;
  }

  private startsWith(literal: string, index: number): boolean {
    for (let offset = 0; offset < literal.length; offset++) {
      if (this.code(index + offset) !== literal.charCodeAt(offset)) return false;
    }
    return true;
  }

  /** Whitespace, comments and processing instructions before and after the root element (XML's Misc). */
  private scanMisc(where: "prolog" | "epilog"): void {
    for (;;) {
      this.skipWhitespace();
      const code = this.code(this.at);
      if (code === END) {
        if (where === "prolog") this.fail("the document has no root element");
        return;
      }
      if (code !== LESS_THAN) {
        this.fail(
          where === "prolog"
            ? "text before the root element"
            : "text after the root element ends (a document has one root element)",
        );
      }
      const next = this.code(this.at + 1);
      if (next === QUESTION_MARK) {
        this.scanProcessingInstruction();
      } else if (next === EXCLAMATION_MARK) {
        if (this.startsWith("<!--", this.at)) this.scanComment();
        else this.refuseMarkupDeclaration("outside the root element");
      } else if (where === "prolog") {
        return;
      } else {
        this.fail(
          next === SLASH
            ? "an end tag after the root element ends"
            : "a second root element (a document has one root element)",
        );
      }
    }
  }

  private scanElementTree(): void {
    this.scanStartTag();
    while (this.openElements.length > 0) {
      const code = this.code(this.at);
      if (code === LESS_THAN) {
        const next = this.code(this.at + 1);
        if (next === SLASH) this.scanEndTag();
        else if (next === QUESTION_MARK) this.scanProcessingInstruction();
        else if (next !== EXCLAMATION_MARK) this.scanStartTag();
        else if (this.startsWith("<!--", this.at)) this.scanComment();
        else if (this.startsWith("<![CDATA[", this.at)) this.scanCdataSection();
        else this.refuseMarkupDeclaration("inside an element");
      } else if (code === AMPERSAND) {
        this.scanReference();
      } else if (code === END) {
        this.failUnclosedElements();
      } else {
        this.scanText(code);
      }
    }
  }

  /** Character data up to the next markup or reference. */
  private scanText(first: number): void {
    for (let code = first; code !== LESS_THAN && code !== AMPERSAND && code !== END; code = this.code(this.at)) {
      if (
        code === CLOSING_BRACKET &&
        this.code(this.at + 1) === CLOSING_BRACKET &&
        this.code(this.at + 2) === GREATER_THAN
      ) {
        this.fail("']]>' is not allowed in text (it only ends a CDATA section; write ]]&gt;)");
      }
      this.consumeCharacter(code);
      this.at = this.skipPlainCharacters(this.at, LESS_THAN);
    }
  }

  /**
   * The index of the first character from `from` on that needs a closer look: not tab, LF, CR or printable ASCII,
   * or one of < & ] or `stop`. The characters skipped are XML Chars that end nothing, so the callers' loops (which
   * read one character at a time) would only have moved past them.
   */
  private skipPlainCharacters(from: number, stop: number): number {
    const text = this.text;
    let index = from;
    for (; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (code >= 0x20 && code <= 0x7e) {
        if (code === LESS_THAN || code === AMPERSAND || code === CLOSING_BRACKET || code === stop) break;
      } else if (code !== 0xa && code !== TAB && code !== 0xd) {
        break;
      }
    }
    this.charactersRead += index - from;
    return index;
  }

  private scanStartTag(): void {
    const tagStart = this.at;
    this.at++;
    const name = this.readName();
    if (name === "") {
      if (this.code(this.at) === END) this.failTruncated("after '<'");
      this.fail("'<' does not start a tag (write a literal < as &lt;)", tagStart);
    }
    if (!isQualifiedName(name)) this.fail(`the element name ${name} ${MISPLACED_COLON}`, tagStart + 1);
    let attributeNames: Set<string> | undefined;
    const declarations = new Map<string, string>();
    const attributes: { name: string; start: number }[] = [];
    for (;;) {
      const spaced = this.skipWhitespace();
      const code = this.code(this.at);
      if (code === GREATER_THAN) {
        this.at++;
        this.scopes.push(declarations);
        this.resolveNames(name, tagStart + 1, attributes);
        this.openElement(name);
        return;
      }
      if (code === SLASH) {
        if (this.code(this.at + 1) !== GREATER_THAN)
          this.failOrTruncated(
            this.at + 1,
            `expected '>' after '/' in the start tag <${name}>`,
            `inside the start tag <${name}>`,
          );
        this.at += 2;
        this.scopes.push(declarations);
        this.resolveNames(name, tagStart + 1, attributes);
        this.scopes.pop();
        return;
      }
      if (code === END) this.failTruncated(`inside the start tag <${name}>`);
      const attributeStart = this.at;
      const attributeName = this.readName();
      if (attributeName === "")
        this.fail(`${describeCodePoint(this.codePoint(this.at))} is not allowed in the start tag <${name}>`);
      if (!spaced) this.fail(`attributes of <${name}> must be separated by whitespace`, attributeStart);
      if (!isQualifiedName(attributeName)) {
        this.fail(`the attribute name ${attributeName} of <${name}> ${MISPLACED_COLON}`, attributeStart);
      }
      this.skipWhitespace();
      if (this.code(this.at) !== EQUALS)
        this.failOrTruncated(
          this.at,
          `attribute ${attributeName} of <${name}> has no value (expected =)`,
          `inside the start tag <${name}>`,
        );
      this.at++;
      this.skipWhitespace();
      const quote = this.code(this.at);
      if (quote !== QUOTE && quote !== APOSTROPHE) {
        this.failOrTruncated(
          this.at,
          `the value of attribute ${attributeName} of <${name}> must be in quotes`,
          `inside the start tag <${name}>`,
        );
      }
      this.at++;
      const valueStart = this.at;
      this.scanAttributeValue(quote, attributeName);
      if (attributeName === "xmlns" || attributeName.startsWith("xmlns:")) {
        const error = namespaceDeclarationError(
          attributeName,
          decodeReferences(this.text.slice(valueStart, this.at - 1)),
        );
        if (error !== undefined) this.fail(error, attributeStart);
        if (attributeName !== "xmlns")
          declarations.set(attributeName.slice(6), decodeReferences(this.text.slice(valueStart, this.at - 1)));
      }
      attributes.push({ name: attributeName, start: attributeStart });
      attributeNames ??= new Set();
      if (attributeNames.has(attributeName))
        this.fail(`attribute ${attributeName} appears twice in <${name}>`, attributeStart);
      attributeNames.add(attributeName);
    }
  }

  /** The namespace of `prefix` where the scan is, looked up from the innermost open element out. */
  private namespaceOf(prefix: string): string | undefined {
    if (prefix === "xml") return XML_NAMESPACE;
    for (let index = this.scopes.length - 1; index >= 0; index--) {
      const namespace = this.scopes[index]!.get(prefix);
      if (namespace !== undefined) return namespace;
    }
    return undefined;
  }

  /** Every prefix of the tag's names declared; no two of its prefixed attributes one expanded name. */
  private resolveNames(name: string, nameStart: number, attributes: readonly { name: string; start: number }[]): void {
    const [prefix] = name.split(":");
    if (name.includes(":") && this.namespaceOf(prefix!) === undefined)
      this.fail(`the element <${name}> uses the undeclared namespace prefix ${prefix}`, nameStart);
    const expanded = new Map<string, string>();
    for (const attribute of attributes) {
      const parts = attribute.name.split(":");
      if (parts.length === 1 || parts[0] === "xmlns" || parts[0] === "xml") continue;
      const [attributePrefix] = parts as [string, string];
      if (this.namespaceOf(attributePrefix) === undefined)
        this.fail(
          `the attribute ${attribute.name} of <${name}> uses the undeclared namespace prefix ${attributePrefix}`,
          attribute.start,
        );
    }
    for (const attribute of attributes) {
      const parts = attribute.name.split(":");
      if (parts.length === 1 || parts[0] === "xmlns" || parts[0] === "xml") continue;
      const [attributePrefix, local] = parts as [string, string];
      const namespace = this.namespaceOf(attributePrefix)!;
      const key = JSON.stringify([namespace, local]);
      const first = expanded.get(key);
      if (first !== undefined)
        this.fail(
          `the attributes ${first} and ${attribute.name} of <${name}> are both ${local} in the namespace ${namespace} ` +
            "(Namespaces in XML allow an attribute once per tag)",
          attribute.start,
        );
      expanded.set(key, attribute.name);
    }
  }

  private scanAttributeValue(quote: number, attributeName: string): void {
    for (;;) {
      const code = this.code(this.at);
      if (code === quote) {
        this.at++;
        return;
      }
      if (code === LESS_THAN) this.fail(`'<' is not allowed in the value of attribute ${attributeName} (write &lt;)`);
      if (code === AMPERSAND) this.scanReference();
      else if (code === END) this.failTruncated(`inside the value of attribute ${attributeName}`);
      else {
        this.consumeCharacter(code);
        this.at = this.skipPlainCharacters(this.at, quote);
      }
    }
  }

  private openElement(name: string): void {
    this.openElements.push(name);
    if (this.openElements.length > this.maxDepth) {
      // Parsers recurse: a deeper document would exhaust their stack instead of producing a clear error.
      throw new BreakglassError(
        "XML_TOO_DEEP",
        this.input,
        `refused: elements are nested more than ${this.maxDepth} deep`,
      );
    }
  }

  private scanEndTag(): void {
    const tagStart = this.at;
    this.at += 2;
    const name = this.readName();
    if (name === "") this.failOrTruncated(this.at, "'</' must be followed by an element name", "inside an end tag");
    this.skipWhitespace();
    if (this.code(this.at) !== GREATER_THAN)
      this.failOrTruncated(this.at, `expected '>' to close the end tag </${name}>`, `inside the end tag </${name}>`);
    const open = this.openElements[this.openElements.length - 1];
    if (name !== open) this.fail(`the end tag </${name}> does not match the start tag <${open}>`, tagStart);
    this.at++;
    this.openElements.pop();
    this.scopes.pop();
  }

  /** `&name;` for one of the five predefined entities, or a character reference to an XML character. */
  private scanReference(): void {
    const start = this.at;
    if (this.code(start + 1) === HASH) {
      const hexadecimal = this.code(start + 2) === LOWERCASE_X;
      let index = start + (hexadecimal ? 3 : 2);
      let value = 0;
      let digits = 0;
      for (
        let digit = digitValue(this.code(index), hexadecimal);
        digit !== -1;
        digit = digitValue(this.code(index), hexadecimal)
      ) {
        value = Math.min(value * (hexadecimal ? 16 : 10) + digit, 0x110000); // capped: a million digits must not overflow
        digits++;
        index++;
      }
      if (digits === 0 || this.code(index) !== SEMICOLON)
        this.fail("a malformed character reference (write &#digits; or &#xhex;, or &amp; for a literal &)", start);
      if (!isXmlCodePoint(value)) {
        const written = this.text.slice(start, Math.min(index + 1, start + 16));
        this.fail(
          `the character reference ${written}${index + 1 > start + 16 ? "…" : ""} is not an XML character`,
          start,
        );
      }
      this.at = index + 1;
      return;
    }
    this.at = start + 1;
    const name = this.readName();
    if (name === "" || this.code(this.at) !== SEMICOLON) this.fail("a bare & (write &amp;)", start);
    if (!PREDEFINED_ENTITIES.has(name))
      this.fail(`undefined entity &${name.length > 40 ? `${name.slice(0, 40)}…` : name};`, start);
    this.at++;
  }

  private scanComment(): void {
    const start = this.at;
    this.at += 4;
    for (;;) {
      const code = this.code(this.at);
      if (code === DASH && this.code(this.at + 1) === DASH) {
        if (this.code(this.at + 2) !== GREATER_THAN) this.fail("'--' is not allowed inside a comment");
        this.at += 3;
        return;
      }
      if (code === END) this.failTruncated("inside a comment", start);
      this.consumeCharacter(code);
    }
  }

  /** CDATA content is never markup: nothing in it is looked at but its characters and the "]]>" that ends it. */
  private scanCdataSection(): void {
    const start = this.at;
    this.at += 9;
    for (;;) {
      const code = this.code(this.at);
      if (
        code === CLOSING_BRACKET &&
        this.code(this.at + 1) === CLOSING_BRACKET &&
        this.code(this.at + 2) === GREATER_THAN
      ) {
        this.at += 3;
        return;
      }
      if (code === END) this.failTruncated("inside a CDATA section", start);
      this.consumeCharacter(code);
    }
  }

  private scanProcessingInstruction(): void {
    const start = this.at;
    this.at += 2;
    const target = this.readName();
    if (target === "")
      this.failOrTruncated(
        this.at,
        "'<?' must be followed by a processing-instruction name",
        "inside a processing instruction",
      );
    if (target.length === 3 && target.toLowerCase() === "xml") {
      this.fail(
        start === 0
          ? "malformed XML declaration"
          : "an XML declaration (<?xml … ?>) is allowed only at the very start of the document",
        start,
      );
    }
    if (this.startsWith("?>", this.at)) {
      this.at += 2;
      return;
    }
    const afterTarget = this.code(this.at);
    if (!isXmlWhitespace(afterTarget))
      this.failOrTruncated(
        this.at,
        `expected a space or '?>' after <?${target}`,
        `inside the processing instruction <?${target}`,
      );
    for (;;) {
      const code = this.code(this.at);
      if (code === QUESTION_MARK && this.code(this.at + 1) === GREATER_THAN) {
        this.at += 2;
        return;
      }
      if (code === END) this.failTruncated(`inside the processing instruction <?${target}`, start);
      this.consumeCharacter(code);
    }
  }

  /** <?xml version="1.x" encoding="…" standalone="yes|no"?>, in that order, at offset 0 (the caller checked "<?xml "). */
  private scanXmlDeclaration(): void {
    this.at = 5;
    this.skipWhitespace();
    if (!this.startsWith("version", this.at))
      this.failOrTruncated(this.at, "malformed XML declaration: version is missing", "inside the XML declaration");
    this.readDeclarationValue("version", /^1\.[0-9]+$/);
    let spaced = this.skipWhitespace();
    if (spaced && this.startsWith("encoding", this.at)) {
      this.readDeclarationValue("encoding", /^[A-Za-z][A-Za-z0-9._-]*$/);
      spaced = this.skipWhitespace();
    }
    if (spaced && this.startsWith("standalone", this.at)) {
      this.readDeclarationValue("standalone", /^(?:yes|no)$/);
      this.skipWhitespace();
    }
    if (!this.startsWith("?>", this.at))
      this.failOrTruncated(this.at, "malformed XML declaration: expected '?>'", "inside the XML declaration");
    this.at += 2;
  }

  private readDeclarationValue(name: string, allowed: RegExp): void {
    this.at += name.length;
    this.skipWhitespace();
    if (this.code(this.at) !== EQUALS)
      this.failOrTruncated(
        this.at,
        `malformed XML declaration: expected = after ${name}`,
        "inside the XML declaration",
      );
    this.at++;
    this.skipWhitespace();
    const quote = this.code(this.at);
    if (quote !== QUOTE && quote !== APOSTROPHE)
      this.failOrTruncated(
        this.at,
        `malformed XML declaration: the ${name} must be in quotes`,
        "inside the XML declaration",
      );
    const valueStart = this.at + 1;
    let index = valueStart;
    for (let code = this.code(index); code !== quote; code = this.code(index)) {
      if (code === END) this.failTruncated("inside the XML declaration", valueStart);
      index++;
    }
    const value = this.text.slice(valueStart, index);
    if (!allowed.test(value))
      this.fail(
        `malformed XML declaration: ${name}="${value.length > 40 ? `${value.slice(0, 40)}…` : value}" is not allowed`,
        valueStart,
      );
    this.at = index + 1;
  }

  /** `<!` in markup position: a DTD declaration is refused as unsafe; anything else but a comment or CDATA is malformed. */
  private refuseMarkupDeclaration(where: string): never {
    for (const keyword of DTD_KEYWORDS) {
      if (this.startsWithIgnoringCase(keyword, this.at + 2)) {
        throw new BreakglassError(
          "XML_UNSAFE",
          this.input,
          `refused: the document contains a <!${keyword}> declaration (DTDs and entities are not allowed in metadata)`,
        );
      }
    }
    if (this.startsWith("<![CDATA[", this.at)) this.fail(`a CDATA section ${where}`);
    this.failOrTruncated(this.at + 2, "'<!' starts neither a comment nor a CDATA section", "inside a '<!' declaration");
  }

  private startsWithIgnoringCase(upperCaseLiteral: string, index: number): boolean {
    for (let offset = 0; offset < upperCaseLiteral.length; offset++) {
      const code = this.code(index + offset);
      if ((code >= 0x61 && code <= 0x7a ? code - 0x20 : code) !== upperCaseLiteral.charCodeAt(offset)) return false;
    }
    return true;
  }

  /** Reads a Name at `at` and moves past it; "" (and no move) when no name starts there. */
  private readName(): string {
    const start = this.at;
    let codePoint = this.codePoint(this.at);
    if (codePoint === END || !isNameStartCodePoint(codePoint)) return "";
    do {
      this.at += codePoint > 0xffff ? 2 : 1;
      this.at = this.skipAsciiNameCharacters(this.at);
      codePoint = this.codePoint(this.at);
    } while (codePoint !== END && isNameCodePoint(codePoint));
    return this.text.slice(start, this.at);
  }

  /** Moves past ASCII letters, digits and - . _ : (NameChars all) in one tight loop; the caller reads what follows. */
  private skipAsciiNameCharacters(from: number): number {
    const text = this.text;
    let index = from;
    for (; index < text.length; index++) {
      const code = text.charCodeAt(index);
      const letter = (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a);
      if (!letter && !(code >= 0x2d && code <= 0x3a && code !== 0x2f) && code !== 0x5f) break;
    }
    this.charactersRead += index - from;
    return index;
  }

  /** Moves past one character whose first code unit is `code`, refusing what is not an XML Char. */
  private consumeCharacter(code: number): void {
    if (
      (code >= 0x20 && code < 0xd800) ||
      code === 0xa ||
      code === TAB ||
      code === 0xd ||
      (code >= 0xe000 && code <= 0xfffd)
    ) {
      this.at++;
      return;
    }
    if (code >= 0xd800 && code <= 0xdbff) {
      const low = this.code(this.at + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        this.at += 2;
        return;
      }
    }
    this.fail(`${describeCodePoint(code)} is not allowed in XML`);
  }

  private skipWhitespace(): boolean {
    const start = this.at;
    while (isXmlWhitespace(this.code(this.at))) this.at++;
    return this.at !== start;
  }

  private failUnclosedElements(): never {
    const shown = this.openElements.slice(-5).map((name) => (name.length > 60 ? `${name.slice(0, 60)}…` : name));
    const names = `${this.openElements.length > shown.length ? "…, " : ""}${shown.join(", ")}`;
    const one = this.openElements.length === 1;
    this.fail(
      `the document ends before ${one ? "element" : "elements"} ${names} ${one ? "is" : "are"} closed (truncated?)`,
    );
  }

  private failTruncated(where: string, index = this.at): never {
    this.fail(`the document ends ${where} (truncated?)`, index);
  }

  /** At `index` the text either ended (truncated) or holds something unexpected. */
  private failOrTruncated(index: number, reason: string, where: string): never {
    if (this.code(index) === END) this.failTruncated(where, index);
    this.fail(reason, index);
  }

  private fail(reason: string, index = this.at): never {
    const { line, column } = lineAndColumn(this.text, index);
    throw new BreakglassError(
      "XML_MALFORMED",
      this.input,
      `not well-formed XML at line ${line}, column ${column}: ${reason}`,
    );
  }
}

function digitValue(code: number, hexadecimal: boolean): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (!hexadecimal) return -1;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  return -1;
}

/** 1-based line and column (in UTF-16 code units) of `index`; only computed for an error, in one pass. */
function lineAndColumn(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let newline = text.indexOf("\n"); newline !== -1 && newline < index; newline = text.indexOf("\n", newline + 1)) {
    line++;
    lineStart = newline + 1;
  }
  return { line, column: index - lineStart + 1 };
}
