// The pre-parse well-formedness scan: one forward pass in states (prolog, tag, attribute value, text, reference, comment,
// CDATA, processing instruction), so its work grows linearly with the input, whatever the input is. Besides XML 1.0 it
// checks what Namespaces in XML asks: QNames, declarations (namespace-declaration.ts), every prefix declared where it is
// used, and no two attributes of one tag with the same namespace and local name. It runs on every document before
// anything else, often before the JIT has warmed up, so as much as it can is done by native code from the first call: a
// plain start tag is checked whole by one sticky regular expression and its prefix by one startsWith, an end tag is
// matched with startsWith, long runs of ordinary characters are skipped by regular expressions, and the meter is bumped
// by ranges.
import { BreakglassError } from "../errors.js";
import { decodeReferences } from "./exclusive-canonicalization.js";
import { namespaceDeclarationError, XML_NAMESPACE } from "./namespace-declaration.js";
import {
  describeCodePoint,
  isNameCodePoint,
  isNameStartCodePoint,
  isXmlCodePoint,
  isXmlWhitespace,
} from "./xml-characters.js";

/** Counts the characters a scan reads, so that a test can prove the work is linear without looking at a clock. */
export interface ScanMeter {
  charactersRead: number;
}

const END = -1;
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
const COLON = 0x3a;
const LOWERCASE_X = 0x78;

/** Bits of ASCII_CLASS: what an ASCII code unit can be in the states that see most of a document. */
const NAME_START = 1;
const NAME = 2;
const WHITESPACE = 4;
/**
 * The runs skipRun moves over: each bit marks the XML Chars that end nothing in one state, so a loop there stops only at
 * what it must look at. In text and attribute values that is < & ] (and the quote); in a comment, CDATA section or
 * processing instruction, where no markup is recognised, only the character that may end it.
 */
const TEXT_RUN = 8;
const DOUBLE_QUOTED_RUN = 16;
const SINGLE_QUOTED_RUN = 32;
const COMMENT_RUN = 64;
const CDATA_RUN = 128;
const PROCESSING_INSTRUCTION_RUN = 256;

const ASCII_CLASS = classifyAscii();

function classifyAscii(): Uint16Array {
  const classes = new Uint16Array(0x80);
  for (let code = 0; code < 0x80; code++) {
    const letter = (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a);
    const whitespace = code === 0x20 || code === 0xa || code === TAB || code === 0xd;
    const character = code >= 0x20 || whitespace;
    const text = character && code !== LESS_THAN && code !== AMPERSAND && code !== CLOSING_BRACKET;
    let bits = 0;
    if (letter || code === 0x5f || code === 0x3a) bits |= NAME_START | NAME;
    if (code === DASH || code === 0x2e || (code >= 0x30 && code <= 0x39)) bits |= NAME;
    if (whitespace) bits |= WHITESPACE;
    if (text) bits |= TEXT_RUN;
    if (text && code !== QUOTE) bits |= DOUBLE_QUOTED_RUN;
    if (text && code !== APOSTROPHE) bits |= SINGLE_QUOTED_RUN;
    if (character && code !== DASH) bits |= COMMENT_RUN;
    if (character && code !== CLOSING_BRACKET) bits |= CDATA_RUN;
    if (character && code !== QUESTION_MARK) bits |= PROCESSING_INSTRUCTION_RUN;
    classes[code] = bits;
  }
  return classes;
}

/** How many characters skipRun checks itself before it hands a long run to a regular expression. */
const RUN_CHARACTERS_LOOPED = 32;

/** A sticky expression for each run, made when first used. */
const RUN_EXPRESSIONS = new Map<number, RegExp>();

function runExpression(run: number): RegExp {
  let expression = RUN_EXPRESSIONS.get(run);
  if (expression === undefined) {
    expression = runExpressionOf(run);
    RUN_EXPRESSIONS.set(run, expression);
  }
  return expression;
}

/** Built from ASCII_CLASS, so that the expression and the loop in skipRun skip exactly the same characters. */
function runExpressionOf(run: number): RegExp {
  const hex = (code: number) => `\\u${code.toString(16).padStart(4, "0")}`;
  let characterClass = "";
  for (let code = 0; code < 0x80; code++) {
    if ((ASCII_CLASS[code]! & run) !== 0) characterClass += hex(code);
  }
  // Without the u flag an expression reads code units, as the loop does: a surrogate, U+FFFE and U+FFFF end the run.
  return new RegExp(`[${characterClass}${hex(0x80)}-${hex(0xd7ff)}${hex(0xe000)}-${hex(0xfffd)}]*`, "y");
}

/** XML's S, written out: \s in a regular expression also matches spaces XML does not allow (U+00A0, U+2028, ...). */
const S = "[ \\t\\r\\n]";
/**
 * An ASCII name without a colon (an NCName): a prefix or a local name. A name that goes on past ASCII is not followed by
 * what an expression needs next, so it fails there.
 */
const ASCII_NCNAME = "[A-Za-z_][A-Za-z0-9_.-]*";
/** An ASCII Name that Namespaces in XML also allows (a QName): at most one colon, with a name on each side. */
const ASCII_QUALIFIED_NAME = `${ASCII_NCNAME}(?::${ASCII_NCNAME})?`;
/**
 * An attribute name the plain path takes: unprefixed, or in the xml prefix, which is always declared. Any other prefix
 * must be looked up, and two prefixes may name one namespace: such a tag is left to scanStartTag.
 */
const PLAIN_ATTRIBUTE_NAME = `(?:xml:)?${ASCII_NCNAME}`;
/**
 * What an attribute value may hold and the plain path accepts without a closer look: any XML Char but the quote, <, &
 * and surrogates (a pair is allowed, but checking it is left to scanStartTag). Written as code units; no u flag.
 */
const PLAIN_VALUE_CHARACTER = (quote: string) =>
  `[^${quote}<&\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\ud800-\\udfff\\ufffe\\uffff]`;
const PLAIN_VALUE = `(?:"${PLAIN_VALUE_CHARACTER('"')}*"|'${PLAIN_VALUE_CHARACTER("'")}*')`;
/**
 * An optional attribute; `earlier` refuses the names of the groups before it (a group not taken matches nothing). It
 * is tried only where a name starts: were it tried at each place S+ gives back while backtracking inside a run of
 * whitespace, its own S* would read the rest of the run each time, and a long run would cost its length squared.
 * A namespace declaration is never plain: scanStartTag checks its value against Namespaces in XML's constraints.
 */
const PLAIN_ATTRIBUTE = (earlier: string) =>
  `(?:${S}+(?=[A-Za-z_])(?!xmlns[:=]|xmlns${S})${earlier}(${PLAIN_ATTRIBUTE_NAME})${S}*=${S}*${PLAIN_VALUE})?`;
/**
 * A plain start tag whole, from its "<", with up to three attributes of different names: a name followed by = is the
 * same name as a group's exactly when the backreference and then S* and = match there. Each optional group can only be
 * taken or skipped, so a failed match reads the tag a bounded number of times. Run with test(), which V8 runs without
 * building a match array: nothing is allocated per tag.
 */
const PLAIN_START_TAG = new RegExp(
  `<${ASCII_QUALIFIED_NAME}${PLAIN_ATTRIBUTE("")}${PLAIN_ATTRIBUTE(`(?!\\1${S}*=)`)}` +
    `${PLAIN_ATTRIBUTE(`(?!\\1${S}*=|\\2${S}*=)`)}${S}*/?>`,
  "y",
);
/** Where an ASCII name ends: the plain tag's name, read again without a capture. */
const ASCII_NAME_RUN = new RegExp(ASCII_QUALIFIED_NAME, "y");
/** Where an ASCII NCName ends: the plain tag's prefix, where it has one. */
const ASCII_NCNAME_RUN = new RegExp(ASCII_NCNAME, "y");

/**
 * Start tags with more attributes than this keep their names in a Set; up to it, a new name is compared in place with
 * the names before it (a Set per tag costs more than a few comparisons, and most tags have one or two attributes).
 */
const ATTRIBUTES_COMPARED_IN_PLACE = 4;

/** What is wrong with a name that is an XML Name but no QName (Namespaces in XML). */
const MISPLACED_COLON = "has a colon out of place (Namespaces in XML allow one, between a prefix and a local name)";
/** Text no element name starts with. */
const NO_PREFIX = "<";
/** qualifiedNameColon's answer for a name that is no QName. */
const NOT_QUALIFIED = -2;
/** The prefix bound without a declaration (Namespaces in XML); "xmlns" is never a prefix of a name in use. */
const XML_PREFIX = "xml";

/** Without a DTD these are the only entities that exist. */
const PREDEFINED_ENTITIES: ReadonlySet<string> = new Set(["lt", "gt", "amp", "apos", "quot"]);

/** Declarations that only a DTD has; metadata never needs one, and they open the door to XXE and entity-expansion bombs. */
const DTD_KEYWORDS = ["DOCTYPE", "ENTITY", "ELEMENT", "ATTLIST", "NOTATION"] as const;

/**
 * Throws a BreakglassError naming `input` at the first place where `text` is not a well-formed XML 1.0 document, holds a
 * DTD declaration (XML_UNSAFE), or nests elements deeper than `maxDepth` (XML_TOO_DEEP). Reads each character a bounded
 * number of times; `meter`, when given, receives the count.
 */
export function scanXmlDocument(text: string, input: string, maxDepth: number, meter?: ScanMeter): void {
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
  /** How many elements are open around `at`; it never exceeds `maxDepth` + 1. */
  private depth = 0;
  /** Where the name of each open element lies in the text: its start and end offsets, two entries per element. */
  private readonly openNames: number[] = [];
  /** The name of each open element, so that its end tag is matched by one native comparison. */
  private readonly openNameTexts: string[] = [];
  /** Where the attribute names of the start tag being read lie, two entries per name, while they are compared in place. */
  private readonly attributeNames: number[] = [];
  /** The prefixed attributes (xml and xmlns aside) of the start tag being read: name start, colon, name end of each. */
  private readonly prefixedAttributes: number[] = [];
  /**
   * The namespace declarations in scope, innermost last: each one's prefix, namespace, the depth of the element that
   * declares it, and the declaration of the same prefix it hides (-1 for none).
   */
  private readonly declaredPrefixes: string[] = [];
  private readonly declaredNamespaces: string[] = [];
  private readonly declaredDepths: number[] = [];
  private readonly hiddenDeclarations: number[] = [];
  /**
   * The depth of the innermost declaring element (the last of declaredDepths), -1 without one: ending an element any
   * deeper ends no declaration, which an end tag sees with one comparison.
   */
  private innermostDeclaration = -1;
  /** The declaration in scope of each declared prefix: an index into the arrays above. */
  private readonly declarationOf = new Map<string, number>();
  /**
   * The prefix the plain path last found declared, and the same with its colon; NO_PREFIX (which no name starts with)
   * until then, and once the declaration that made it declared has ended. A new declaration leaves it declared.
   */
  private resolvedPrefix = NO_PREFIX;
  private resolvedPrefixAndColon = NO_PREFIX;
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

  /** The code unit at `index`, or END past the text. Reads outside the tight loops go through here, and are counted. */
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
    while (this.depth > 0) {
      const code = this.code(this.at);
      if (code === LESS_THAN) {
        const next = this.code(this.at + 1);
        if (next === SLASH) this.scanEndTag();
        else if (next === QUESTION_MARK) this.scanProcessingInstruction();
        else if (next !== EXCLAMATION_MARK) this.scanStartTagOrPlainTag();
        else if (this.startsWith("<!--", this.at)) this.scanComment();
        else if (this.startsWith("<![CDATA[", this.at)) this.scanCdataSection();
        else this.refuseMarkupDeclaration("inside an element");
      } else if (code === AMPERSAND) {
        this.scanReference();
      } else if (code === END) {
        this.failUnclosedElements();
      } else {
        this.scanText();
      }
    }
  }

  /** Character data from `at` (neither < nor & nor the end) up to the next markup or reference. */
  private scanText(): void {
    for (;;) {
      this.at = this.skipRun(this.at, TEXT_RUN);
      const code = this.code(this.at);
      if (code === LESS_THAN || code === AMPERSAND || code === END) return;
      if (
        code === CLOSING_BRACKET &&
        this.code(this.at + 1) === CLOSING_BRACKET &&
        this.code(this.at + 2) === GREATER_THAN
      ) {
        this.fail("']]>' is not allowed in text (it only ends a CDATA section; write ]]&gt;)");
      }
      this.consumeCharacter(code);
    }
  }

  /**
   * The index of the first character from `from` on that is not in `run` (ASCII_CLASS): one that needs a closer look.
   * Non-ASCII XML Chars below U+FFFE are in every run. The characters skipped end nothing, so the callers' loops (which
   * read one character at a time) would only have moved past them. Short runs (indentation, a word) end in the loop; a
   * long one (a certificate's base64) is left to a sticky regular expression, which V8 runs as native code, about
   * twice as fast.
   */
  private skipRun(from: number, run: number): number {
    const text = this.text;
    const loopEnd = Math.min(text.length, from + RUN_CHARACTERS_LOOPED);
    let index = from;
    for (; index < loopEnd; index++) {
      const code = text.charCodeAt(index);
      if (code < 0x80) {
        if ((ASCII_CLASS[code]! & run) === 0) break;
      } else if (code >= 0xd800 && (code < 0xe000 || code > 0xfffd)) {
        break;
      }
    }
    if (index === loopEnd && index < text.length) {
      const expression = runExpression(run);
      expression.lastIndex = index;
      expression.test(text);
      index = expression.lastIndex;
    }
    this.charactersRead += index - from;
    return index;
  }

  /**
   * A start tag: most are plain (an ASCII name, at most three attributes with ASCII names and values free of references
   * and of characters XML refuses), and one sticky regular expression, run as native code from its first use, checks
   * such a tag whole; what is left is to refuse a repeated attribute name. Any other tag is read by scanStartTag, which
   * says what is wrong.
   */
  private scanStartTagOrPlainTag(): void {
    const text = this.text;
    const tagStart = this.at;
    PLAIN_START_TAG.lastIndex = tagStart;
    if (PLAIN_START_TAG.test(text)) {
      const tagEnd = PLAIN_START_TAG.lastIndex;
      const nameStart = tagStart + 1;
      // The prefix last found declared is recognised in place, by one native comparison: most tags of a document share
      // a few prefixes.
      const resolved = this.resolvedPrefixAndColon;
      this.charactersRead += tagEnd - tagStart + resolved.length;
      if (!text.startsWith(resolved, nameStart)) this.refuseUndeclaredPlainPrefix(nameStart);
      this.at = tagEnd;
      if (text.charCodeAt(tagEnd - 2) !== SLASH) {
        ASCII_NAME_RUN.lastIndex = nameStart;
        ASCII_NAME_RUN.test(text);
        this.openElement(nameStart, ASCII_NAME_RUN.lastIndex);
      }
      return;
    }
    this.scanStartTag();
    // The expression may have read the tag before it stopped (at most a few times over: its optional groups backtrack
    // a bounded number of ways); counted as one more reading.
    this.charactersRead += this.at - tagStart;
  }

  private scanStartTag(): void {
    const tagStart = this.at;
    const nameStart = tagStart + 1;
    const nameEnd = this.nameEnd(nameStart);
    this.at = nameEnd;
    if (nameEnd === nameStart) {
      if (this.code(this.at) === END) this.failTruncated("after '<'");
      this.fail("'<' does not start a tag (write a literal < as &lt;)", tagStart);
    }
    const colon = this.qualifiedNameColon(nameStart, nameEnd);
    if (colon === NOT_QUALIFIED) {
      this.fail(`the element name ${this.text.slice(nameStart, nameEnd)} ${MISPLACED_COLON}`, nameStart);
    }
    const depth = this.depth;
    this.prefixedAttributes.length = 0;
    let attributes = 0;
    let attributeSet: Set<string> | undefined;
    for (;;) {
      const spaced = this.skipWhitespace();
      const code = this.code(this.at);
      if (code === GREATER_THAN) {
        this.at++;
        this.resolveNames(nameStart, colon, nameEnd);
        this.openElement(nameStart, nameEnd);
        return;
      }
      if (code === SLASH) {
        if (this.code(this.at + 1) !== GREATER_THAN) {
          const name = this.text.slice(nameStart, nameEnd);
          this.failOrTruncated(
            this.at + 1,
            `expected '>' after '/' in the start tag <${name}>`,
            `inside the start tag <${name}>`,
          );
        }
        this.at += 2;
        this.resolveNames(nameStart, colon, nameEnd);
        this.leaveDeclarationsOf(depth);
        return;
      }
      if (code === END) this.failTruncated(`inside the start tag <${this.text.slice(nameStart, nameEnd)}>`);
      const attributeStart = this.at;
      const attributeEnd = this.nameEnd(attributeStart);
      this.at = attributeEnd;
      if (attributeEnd === attributeStart) {
        const character = describeCodePoint(this.codePoint(this.at));
        this.fail(`${character} is not allowed in the start tag <${this.text.slice(nameStart, nameEnd)}>`);
      }
      if (!spaced) {
        const name = this.text.slice(nameStart, nameEnd);
        this.fail(`attributes of <${name}> must be separated by whitespace`, attributeStart);
      }
      const attributeColon = this.qualifiedNameColon(attributeStart, attributeEnd);
      if (attributeColon === NOT_QUALIFIED) {
        const [name, attributeName] = this.tagAndAttributeNames(nameStart, nameEnd, attributeStart, attributeEnd);
        this.fail(`the attribute name ${attributeName} of <${name}> ${MISPLACED_COLON}`, attributeStart);
      }
      this.skipWhitespace();
      if (this.code(this.at) !== EQUALS) {
        const [name, attributeName] = this.tagAndAttributeNames(nameStart, nameEnd, attributeStart, attributeEnd);
        this.failOrTruncated(
          this.at,
          `attribute ${attributeName} of <${name}> has no value (expected =)`,
          `inside the start tag <${name}>`,
        );
      }
      this.at++;
      this.skipWhitespace();
      const quote = this.code(this.at);
      if (quote !== QUOTE && quote !== APOSTROPHE) {
        const [name, attributeName] = this.tagAndAttributeNames(nameStart, nameEnd, attributeStart, attributeEnd);
        this.failOrTruncated(
          this.at,
          `the value of attribute ${attributeName} of <${name}> must be in quotes`,
          `inside the start tag <${name}>`,
        );
      }
      this.at++;
      const valueStart = this.at;
      this.scanAttributeValue(quote, attributeStart, attributeEnd);
      if (this.text.startsWith("xmlns", attributeStart)) {
        this.checkDeclaration(attributeStart, attributeEnd, valueStart, depth);
      } else if (attributeColon !== -1 && !this.text.startsWith("xml:", attributeStart)) {
        this.prefixedAttributes.push(attributeStart, attributeColon, attributeEnd);
      }
      if (attributeSet === undefined && attributes < ATTRIBUTES_COMPARED_IN_PLACE) {
        this.refuseRepeatedAttributeInPlace(attributes, nameStart, nameEnd, attributeStart, attributeEnd);
        this.attributeNames[2 * attributes] = attributeStart;
        this.attributeNames[2 * attributes + 1] = attributeEnd;
      } else {
        attributeSet ??= this.attributeNamesAsSet(attributes);
        const attributeName = this.text.slice(attributeStart, attributeEnd);
        this.charactersRead += attributeName.length;
        if (attributeSet.has(attributeName))
          this.fail(
            `attribute ${attributeName} appears twice in <${this.text.slice(nameStart, nameEnd)}>`,
            attributeStart,
          );
        attributeSet.add(attributeName);
      }
      attributes++;
    }
  }

  /**
   * Where the colon of the name at `start`..`end` is: -1 for a name without one, NOT_QUALIFIED unless the name has at
   * most one colon, with a name on each side of it (a QName).
   */
  private qualifiedNameColon(start: number, end: number): number {
    const text = this.text;
    let colon = -1;
    for (let index = start; index < end; index++) {
      if (text.charCodeAt(index) !== COLON) continue;
      if (colon !== -1) return NOT_QUALIFIED;
      colon = index;
    }
    this.charactersRead += end - start;
    return colon === start || colon === end - 1 ? NOT_QUALIFIED : colon;
  }

  /**
   * Refuses the attribute at `start`..`end`, whose value was just read, if it is a namespace declaration that Namespaces
   * in XML does not allow (namespaceDeclarationError). Names merely starting "xmlns" (xmlnsx) are no declarations.
   */
  private checkDeclaration(start: number, end: number, valueStart: number, depth: number): void {
    if (end - start !== 5 && this.text.charCodeAt(start + 5) !== COLON) return;
    const value = this.text.slice(valueStart, this.at - 1);
    this.charactersRead += value.length;
    const name = this.text.slice(start, end);
    const namespace = decodeReferences(value);
    const error = namespaceDeclarationError(name, namespace);
    if (error !== undefined) this.fail(error, start);
    if (end - start !== 5) this.declare(name.slice("xmlns:".length), namespace, depth);
  }

  /** Brings the declaration of `prefix` by an element at `depth` into scope (hiding an outer one of the same prefix). */
  private declare(prefix: string, namespace: string, depth: number): void {
    this.hiddenDeclarations.push(this.declarationOf.get(prefix) ?? -1);
    this.declarationOf.set(prefix, this.declaredPrefixes.length);
    this.declaredPrefixes.push(prefix);
    this.declaredNamespaces.push(namespace);
    this.declaredDepths.push(depth);
    this.innermostDeclaration = depth;
  }

  /** Takes the declarations of the elements at `depth` and deeper out of scope: those elements have ended. */
  private leaveDeclarationsOf(depth: number): void {
    const depths = this.declaredDepths;
    while (depths.length > 0 && depths[depths.length - 1]! >= depth) {
      depths.pop();
      this.declaredNamespaces.pop();
      const prefix = this.declaredPrefixes.pop()!;
      const hidden = this.hiddenDeclarations.pop()!;
      if (hidden !== -1) {
        this.declarationOf.set(prefix, hidden);
      } else {
        this.declarationOf.delete(prefix);
        if (prefix === this.resolvedPrefix) this.resolvedPrefix = this.resolvedPrefixAndColon = NO_PREFIX;
      }
    }
    this.innermostDeclaration = depths.length > 0 ? depths[depths.length - 1]! : -1;
  }

  /** The namespace `prefix` is bound to where the scan is, or undefined where nothing declares it. */
  private namespaceOf(prefix: string): string | undefined {
    this.charactersRead += prefix.length;
    if (prefix === XML_PREFIX) return XML_NAMESPACE;
    const declaration = this.declarationOf.get(prefix);
    return declaration === undefined ? undefined : this.declaredNamespaces[declaration];
  }

  /**
   * Refuses a start tag read by scanStartTag whose element or attribute names use a prefix that no declaration in scope
   * (the tag's own included) binds, or with two attributes of the same namespace and local name.
   */
  private resolveNames(nameStart: number, colon: number, nameEnd: number): void {
    const text = this.text;
    if (colon !== -1 && this.namespaceOf(text.slice(nameStart, colon)) === undefined)
      this.refuseUndeclaredElementPrefix(nameStart, colon, nameEnd);
    const prefixed = this.prefixedAttributes;
    if (prefixed.length === 0) return;
    const expandedNames: string[] = [];
    for (let index = 0; index < prefixed.length; index += 3) {
      const [start, attributeColon, end] = [prefixed[index]!, prefixed[index + 1]!, prefixed[index + 2]!];
      const prefix = text.slice(start, attributeColon);
      const namespace = this.namespaceOf(prefix);
      if (namespace === undefined) {
        const [name, attributeName] = this.tagAndAttributeNames(nameStart, nameEnd, start, end);
        this.fail(`the attribute ${attributeName} of <${name}> uses the undeclared namespace prefix ${prefix}`, start);
      }
      expandedNames.push(`${text.slice(attributeColon + 1, end)} ${namespace}`);
    }
    if (expandedNames.length === 1) return;
    // Each prefixed attribute's local name and namespace, by which Namespaces in XML tells attributes apart.
    const seen = new Map<string, number>();
    for (let index = 0; index < expandedNames.length; index++) {
      const earlier = seen.get(expandedNames[index]!);
      if (earlier === undefined) {
        seen.set(expandedNames[index]!, index);
        continue;
      }
      const [start, attributeColon, end] = [prefixed[3 * index]!, prefixed[3 * index + 1]!, prefixed[3 * index + 2]!];
      const first = text.slice(prefixed[3 * earlier], prefixed[3 * earlier + 2]);
      const [name, attributeName] = this.tagAndAttributeNames(nameStart, nameEnd, start, end);
      const namespace = this.namespaceOf(text.slice(start, attributeColon));
      this.fail(
        `the attributes ${first} and ${attributeName} of <${name}> are both ${text.slice(attributeColon + 1, end)} in ` +
          `the namespace ${namespace} (Namespaces in XML allow an attribute once per tag)`,
        start,
      );
    }
  }

  /**
   * Refuses the element name at `nameStart` of a plain tag (a QName, ASCII) if nothing declares its prefix, and
   * remembers a prefix found declared.
   */
  private refuseUndeclaredPlainPrefix(nameStart: number): void {
    const text = this.text;
    ASCII_NCNAME_RUN.lastIndex = nameStart;
    ASCII_NCNAME_RUN.test(text);
    const colon = ASCII_NCNAME_RUN.lastIndex;
    this.charactersRead += colon - nameStart + 1;
    if (text.charCodeAt(colon) !== COLON) return;
    const prefix = text.slice(nameStart, colon);
    if (this.namespaceOf(prefix) === undefined) {
      ASCII_NAME_RUN.lastIndex = nameStart;
      ASCII_NAME_RUN.test(text);
      this.refuseUndeclaredElementPrefix(nameStart, colon, ASCII_NAME_RUN.lastIndex);
    }
    this.resolvedPrefix = prefix;
    this.resolvedPrefixAndColon = `${prefix}:`;
  }

  private refuseUndeclaredElementPrefix(nameStart: number, colon: number, nameEnd: number): never {
    const name = this.text.slice(nameStart, nameEnd);
    this.fail(
      `the element <${name}> uses the undeclared namespace prefix ${name.slice(0, colon - nameStart)}`,
      nameStart,
    );
  }

  /** The names an error message about an attribute shows; copied out of the text only when there is an error. */
  private tagAndAttributeNames(nameStart: number, nameEnd: number, attributeStart: number, attributeEnd: number) {
    return [this.text.slice(nameStart, nameEnd), this.text.slice(attributeStart, attributeEnd)] as const;
  }

  /** Refuses the attribute name at `start`..`end` if one of the first `count` names of its tag is the same text. */
  private refuseRepeatedAttributeInPlace(
    count: number,
    nameStart: number,
    nameEnd: number,
    start: number,
    end: number,
  ): void {
    for (let index = 0; index < count; index++) {
      const earlier = this.attributeNames[2 * index]!;
      if (this.attributeNames[2 * index + 1]! - earlier === end - start && this.sameText(earlier, start, end - start)) {
        const attributeName = this.text.slice(start, end);
        this.fail(`attribute ${attributeName} appears twice in <${this.text.slice(nameStart, nameEnd)}>`, start);
      }
    }
  }

  /** The first `count` attribute names of the tag being read, for a tag with too many to keep comparing in place. */
  private attributeNamesAsSet(count: number): Set<string> {
    const names = new Set<string>();
    for (let index = 0; index < count; index++) {
      names.add(this.text.slice(this.attributeNames[2 * index], this.attributeNames[2 * index + 1]));
    }
    return names;
  }

  /** Whether the `length` code units at `first` and at `second` are the same; both are read, and counted. */
  private sameText(first: number, second: number, length: number): boolean {
    const text = this.text;
    let offset = 0;
    while (offset < length && text.charCodeAt(first + offset) === text.charCodeAt(second + offset)) offset++;
    this.charactersRead += 2 * Math.min(offset + 1, length);
    return offset === length;
  }

  private scanAttributeValue(quote: number, nameStart: number, nameEnd: number): void {
    const run = quote === QUOTE ? DOUBLE_QUOTED_RUN : SINGLE_QUOTED_RUN;
    for (;;) {
      this.at = this.skipRun(this.at, run);
      const code = this.code(this.at);
      if (code === quote) {
        this.at++;
        return;
      }
      if (code === LESS_THAN) {
        const attributeName = this.text.slice(nameStart, nameEnd);
        this.fail(`'<' is not allowed in the value of attribute ${attributeName} (write &lt;)`);
      }
      if (code === AMPERSAND) this.scanReference();
      else if (code === END) this.failTruncated(`inside the value of attribute ${this.text.slice(nameStart, nameEnd)}`);
      else this.consumeCharacter(code);
    }
  }

  private openElement(nameStart: number, nameEnd: number): void {
    this.openNames[2 * this.depth] = nameStart;
    this.openNames[2 * this.depth + 1] = nameEnd;
    this.openNameTexts[this.depth] = this.text.slice(nameStart, nameEnd);
    this.depth++;
    if (this.depth > this.maxDepth) {
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
    const nameStart = tagStart + 2;
    const openStart = this.openNames[2 * this.depth - 2]!;
    const openLength = this.openNames[2 * this.depth - 1]! - openStart;
    // Nearly always the end tag repeats the open element's name and closes at once. That name was read as a Name when
    // the element opened, so matching it is all there is to check: no character to classify. startsWith compares in
    // native code, where a loop over the characters would still be interpreted while the scan is cold.
    if (
      this.text.startsWith(this.openNameTexts[this.depth - 1]!, nameStart) &&
      this.code(nameStart + openLength) === GREATER_THAN
    ) {
      this.charactersRead += 2 * openLength;
      this.at = nameStart + openLength + 1;
      this.depth--;
      if (this.depth <= this.innermostDeclaration) this.leaveDeclarationsOf(this.depth);
      return;
    }
    const nameEnd = this.nameEnd(nameStart);
    this.at = nameEnd;
    const name = this.text.slice(nameStart, nameEnd);
    if (name === "") this.failOrTruncated(this.at, "'</' must be followed by an element name", "inside an end tag");
    this.skipWhitespace();
    if (this.code(this.at) !== GREATER_THAN)
      this.failOrTruncated(this.at, `expected '>' to close the end tag </${name}>`, `inside the end tag </${name}>`);
    const open = this.text.slice(openStart, openStart + openLength);
    if (name !== open) this.fail(`the end tag </${name}> does not match the start tag <${open}>`, tagStart);
    this.at++;
    this.depth--;
    this.leaveDeclarationsOf(this.depth);
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
    const nameEnd = this.nameEnd(start + 1);
    this.at = nameEnd;
    if (nameEnd === start + 1 || this.code(this.at) !== SEMICOLON) this.fail("a bare & (write &amp;)", start);
    const name = this.text.slice(start + 1, nameEnd);
    if (!PREDEFINED_ENTITIES.has(name))
      this.fail(`undefined entity &${name.length > 40 ? `${name.slice(0, 40)}…` : name};`, start);
    this.at++;
  }

  private scanComment(): void {
    const start = this.at;
    this.at += 4;
    for (;;) {
      this.at = this.skipRun(this.at, COMMENT_RUN);
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
      this.at = this.skipRun(this.at, CDATA_RUN);
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
    const targetEnd = this.nameEnd(start + 2);
    this.at = targetEnd;
    const target = this.text.slice(start + 2, targetEnd);
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
      this.at = this.skipRun(this.at, PROCESSING_INSTRUCTION_RUN);
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

  /**
   * The end of the Name that starts at `from` (`from` itself when none does). ASCII names, nearly all of them, are read
   * in one tight loop; a name with any other character is read again a code point at a time.
   */
  private nameEnd(from: number): number {
    const text = this.text;
    const length = text.length;
    let index = from;
    if (index < length) {
      const first = text.charCodeAt(index);
      if (first < 0x80 && (ASCII_CLASS[first]! & NAME_START) === 0) {
        this.charactersRead++;
        return from;
      }
      if (first < 0x80) {
        for (index++; index < length; index++) {
          const code = text.charCodeAt(index);
          if (code >= 0x80 || (ASCII_CLASS[code]! & NAME) === 0) break;
        }
        if (index === length || text.charCodeAt(index) < 0x80) {
          this.charactersRead += index - from + 1;
          return index;
        }
      }
    }
    return this.nameEndByCodePoint(from);
  }

  /** nameEnd for a name beyond ASCII (or none at all), following XML's NameStartChar and NameChar tables. */
  private nameEndByCodePoint(from: number): number {
    let index = from;
    let codePoint = this.codePoint(index);
    if (codePoint === END || !isNameStartCodePoint(codePoint)) return from;
    do {
      index += codePoint > 0xffff ? 2 : 1;
      codePoint = this.codePoint(index);
    } while (codePoint !== END && isNameCodePoint(codePoint));
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

  /** Moves `at` past whitespace; whether there was any. */
  private skipWhitespace(): boolean {
    const text = this.text;
    const start = this.at;
    let index = start;
    for (; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (code >= 0x80 || (ASCII_CLASS[code]! & WHITESPACE) === 0) break;
    }
    this.charactersRead += index - start + 1;
    this.at = index;
    return index !== start;
  }

  private failUnclosedElements(): never {
    const open: string[] = [];
    for (let element = 0; element < this.depth; element++) {
      open.push(this.text.slice(this.openNames[2 * element], this.openNames[2 * element + 1]));
    }
    const shown = open.slice(-5).map((name) => (name.length > 60 ? `${name.slice(0, 60)}…` : name));
    const names = `${open.length > shown.length ? "…, " : ""}${shown.join(", ")}`;
    const one = open.length === 1;
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
