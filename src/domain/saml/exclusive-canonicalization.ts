// Exclusive XML canonicalization (xml-exc-c14n, without comments) of one element of already well-formed text, in one pass.
//
// The text must have passed assertSafeXml (well-formed, no DTD): this reads tags by their delimiters and trusts them.
// It returns undefined, never a guess, for anything outside what it renders exactly as xml-crypto does: a processing
// instruction inside the element, an attribute name starting "xmlns" that is no declaration, an undeclared prefix,
// an empty prefixed declaration, "#default" in the InclusiveNamespaces list, or namespaces or attributes whose order
// xml-crypto's comparisons (localeCompare for prefixes, concatenated strings for attributes) would put differently
// from the specification's.

import { XML_NAMESPACE } from "./namespace-declaration.js";

/** Prefix → namespace URI, inheriting through the prototype chain ("" is the default namespace). */
export type NamespaceScope = Readonly<Record<string, string>>;

export const ROOT_NAMESPACE_SCOPE: NamespaceScope = Object.freeze(
  Object.assign(Object.create(null) as Record<string, string>, { xml: XML_NAMESPACE }),
);

export interface ExclusiveCanonicalizationOptions {
  /** Offsets [start, end) of one element inside the canonicalized element to leave out (the enveloped signature). */
  readonly omit?: readonly [number, number] | undefined;
  /** The InclusiveNamespaces PrefixList: these prefixes are rendered as inclusive C14N would. */
  readonly inclusivePrefixes?: readonly string[];
}

/** One attribute of a start tag: its name as written and its value with references decoded and whitespace normalized. */
export interface TagAttribute {
  readonly name: string;
  readonly value: string;
}

export interface StartTag {
  readonly name: string;
  readonly attributes: readonly TagAttribute[];
  readonly selfClosing: boolean;
  /** Offset just past the closing ">". */
  readonly end: number;
}

const ATTRIBUTE = /\s*([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/y;
const REFERENCE = /&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(lt|gt|amp|apos|quot));/g;
const NAMED: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", apos: "'", quot: '"' };
const TEXT_SPECIAL = /[&<>\r]/g;
const TEXT_ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;" };
const ATTRIBUTE_SPECIAL = /[&<"\t\n\r]/g;
const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  '"': "&quot;",
  "\t": "&#x9;",
  "\n": "&#xA;",
  "\r": "&#xD;",
};

/** New text (rendered tags, escaped text) is handed on in pieces of about this length. */
const CHUNK_LENGTH = 1 << 16;
/**
 * A run of the text at least this long is handed on as a slice of it; a shorter one is copied into the new text
 * around it, since each piece handed on has a fixed cost (a hash update, a read) and copying a long run costs memory.
 */
const SLICED_RUN_LENGTH = 1024;

/**
 * The exclusive canonical form of the element whose start tag begins at `from` ("<") and whose end tag ends just
 * before `to`, under the namespaces `inherited` from its ancestors. Undefined when the element holds something this
 * canonicalizer does not render exactly as xml-crypto does (see the file header).
 */
export function canonicalizeExclusive(
  text: string,
  from: number,
  to: number,
  inherited: NamespaceScope,
  options: ExclusiveCanonicalizationOptions = {},
): string | undefined {
  const parts: string[] = [];
  return writeExclusiveCanonicalization(text, from, to, inherited, options, (piece) => parts.push(piece))
    ? parts.join("")
    : undefined;
}

/**
 * The canonical form as canonicalizeExclusive makes it, handed to `write` in pieces instead of joined: each piece is
 * whole tags and text runs (never a tag cut in two), and the runs the text already holds in canonical form are
 * handed on as slices of it, not copies. False (after some pieces, maybe) where canonicalizeExclusive is undefined.
 */
export function writeExclusiveCanonicalization(
  text: string,
  from: number,
  to: number,
  inherited: NamespaceScope,
  options: ExclusiveCanonicalizationOptions,
  write: (piece: string) => void,
): boolean {
  // A set: a long PrefixList must not make every declaration cost its length.
  const inclusive: ReadonlySet<string> = new Set(options.inclusivePrefixes ?? []);
  if (inclusive.has("#default")) return false;
  const omitStart = options.omit?.[0] ?? -1;
  const omitEnd = options.omit?.[1] ?? -1;
  /** New text not yet handed on, and the run of `text` [runStart, runEnd) already canonical, which comes after it. */
  let out = "";
  let runStart = 0;
  let runEnd = 0;
  const flushRun = (): void => {
    if (runEnd - runStart >= SLICED_RUN_LENGTH) {
      if (out !== "") write(out);
      out = "";
      write(text.slice(runStart, runEnd));
    } else if (runEnd > runStart) {
      out += text.slice(runStart, runEnd);
      if (out.length > CHUNK_LENGTH) {
        write(out);
        out = "";
      }
    }
    runStart = runEnd = 0;
  };
  /** Text the source holds as is at [start, end): extends the current run, or starts one. */
  const copy = (start: number, end: number): void => {
    if (runEnd !== start) {
      flushRun();
      runStart = start;
    }
    runEnd = end;
  };
  const render = (piece: string): void => {
    flushRun();
    out += piece;
    if (out.length > CHUNK_LENGTH) {
      write(out);
      out = "";
    }
  };
  // The scopes of the open elements, saved only where an element changes one: most elements declare nothing.
  const savedScopes: NamespaceScope[] = [];
  const savedRendered: NamespaceScope[] = [];
  const savedAtDepth: number[] = [];
  let depth = 0;
  const prefixes = new PrefixReader();
  const specials = new ValueSpecials(text);
  let scope = inherited;
  let renderedScope: NamespaceScope = EMPTY_RENDERED;
  let at = from;
  let nextAmpersand = text.indexOf("&", from);
  let nextReturn = text.indexOf("\r", from);
  let nextGreater = from;
  while (at < to) {
    const open = text.indexOf("<", at);
    if (open === -1 || open >= to) return false;
    if (open > at) {
      // A run without & > CR is its own canonical form. The next & and CR (rare) are found again only once passed;
      // so is the next ">", which is most often the end of the tag after the run: one search past the run.
      if (nextAmpersand !== -1 && nextAmpersand < at) nextAmpersand = text.indexOf("&", at);
      if (nextReturn !== -1 && nextReturn < at) nextReturn = text.indexOf("\r", at);
      if (nextGreater !== -1 && nextGreater < at) nextGreater = text.indexOf(">", at);
      if (
        (nextAmpersand === -1 || nextAmpersand >= open) &&
        (nextReturn === -1 || nextReturn >= open) &&
        (nextGreater === -1 || nextGreater >= open)
      ) {
        copy(at, open);
      } else {
        const raw = text.slice(at, open);
        const canonical = canonicalText(raw);
        if (canonical === raw) copy(at, open);
        else render(canonical);
      }
    }
    if (open === omitStart) {
      at = omitEnd;
      continue;
    }
    const next = text.charCodeAt(open + 1);
    if (next === 0x2f /* / */) {
      // Well-formed text closes each element with its own name: the end tag is canonical unless spaced before ">".
      const close = text.indexOf(">", open);
      if (isWhitespace(text.charCodeAt(close - 1))) render(`</${text.slice(open + 2, nameEnd(text, open + 2))}>`);
      else copy(open, close + 1);
      if (savedAtDepth.at(-1) === depth) {
        savedAtDepth.pop();
        scope = savedScopes.pop() ?? inherited;
        renderedScope = savedRendered.pop() ?? EMPTY_RENDERED;
      }
      depth--;
      at = close + 1;
    } else if (next === 0x21 /* ! */) {
      if (text.startsWith("<!--", open)) {
        at = text.indexOf("-->", open + 4) + 3;
      } else {
        const close = text.indexOf("]]>", open + 9);
        if (close === open + 9) return false; // xml-crypto cannot render an empty CDATA section
        render(escapeText(normalizeLineEnds(text.slice(open + 9, close))));
        at = close + 3;
      }
    } else if (next === 0x3f /* ? */) {
      return false; // xml-crypto renders a processing instruction as escaped text; not guessed here
    } else {
      const bareEnd = open === from ? -1 : bareStartTagEnd(text, open, scope, renderedScope, prefixes, specials);
      if (bareEnd !== -1) {
        // Nothing to declare, nothing to reorder or escape: the tag is its own canonical form (but for "/>").
        if (text.charCodeAt(bareEnd - 2) === 0x2f /* / */) {
          // Rendered whole: a piece never ends inside a tag.
          render(`${text.slice(open, bareEnd - 2)}></${text.slice(open + 1, nameEnd(text, open + 1))}>`);
        } else {
          copy(open, bareEnd);
          depth++;
        }
        at = bareEnd;
        continue;
      }
      const tag = readStartTag(text, open);
      if (!tag) return false;
      const elementScope = declare(scope, tag.attributes);
      if (!elementScope) return false;
      const rendering = renderStartTag(tag, elementScope, renderedScope, inclusive, open === from);
      if (!rendering) return false;
      if (tag.selfClosing) {
        render(`${rendering.markup}</${tag.name}>`);
      } else {
        if (tag.end - open === rendering.markup.length && text.startsWith(rendering.markup, open)) copy(open, tag.end);
        else render(rendering.markup);
        depth++;
        if (elementScope !== scope || rendering.rendered !== renderedScope) {
          savedAtDepth.push(depth);
          savedScopes.push(scope);
          savedRendered.push(renderedScope);
          scope = elementScope;
          renderedScope = rendering.rendered;
        }
      }
      at = tag.end;
    }
  }
  flushRun();
  if (out !== "") write(out);
  return true;
}

const EMPTY_RENDERED: NamespaceScope = Object.freeze(
  Object.assign(Object.create(null) as Record<string, string>, { "": "" }),
);

/**
 * Where the start tag at `open` ends (just past its ">") when renderStartTag would write it exactly as it is, "/>"
 * aside (written "></name>"): `<name a="1" b="2" p:c="3">`, its namespace already declared by an output ancestor, no
 * declarations, unprefixed attributes first in code-unit order, then prefixed ones ("xml:" or a prefix an output
 * ancestor declared) in the order of their namespace and local name, whichever way xml-crypto compares them; each
 * after one space, in double quotes, their values free of what C14N escapes or a parser normalizes (& < " tab LF CR).
 * -1 for any other tag, which the caller renders.
 */
function bareStartTagEnd(
  text: string,
  open: number,
  scope: NamespaceScope,
  rendered: NamespaceScope,
  prefixes: PrefixReader,
  specials: ValueSpecials,
): number {
  let colon = -1;
  let at = open + 1;
  for (; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code === 0x3e /* > */ || code === 0x20 || code === 0x2f /* / */) break;
    if (code === 0x3a /* : */ && colon === -1) colon = at;
    else if (code < 0x20 || code === 0x22 || code === 0x27) return -1;
  }
  if (at === text.length || at === open + 1) return -1;
  if (colon === -1) {
    if ((rendered[""] ?? "") !== (scope[""] ?? "")) return -1;
  } else {
    const prefix = prefixes.read(text, open + 1, colon);
    const uri = scope[prefix];
    if (prefix === "xml" || prefix === "xmlns" || uri === undefined || uri === "" || rendered[prefix] !== uri)
      return -1;
  }
  let previousStart = -1;
  let previousEnd = -1;
  let previousNamespace = "";
  let previousLocalName = "";
  while (text.charCodeAt(at) === 0x20) {
    const nameStart = at + 1;
    let attributeColon = -1;
    for (at = nameStart; at < text.length; at++) {
      const code = text.charCodeAt(at);
      if (code === 0x3d /* = */) break;
      if (code === 0x3a && attributeColon === -1) attributeColon = at;
      else if (code <= 0x20 || code === 0x3a || code === 0x22 || code === 0x27 || code === 0x2f || code === 0x3e)
        return -1;
    }
    if (attributeColon === -1) {
      // After a prefixed attribute no unprefixed one sorts.
      if (previousNamespace !== "" || at === nameStart || text.startsWith("xmlns", nameStart)) return -1;
      if (previousStart !== -1 && !precedes(text, previousStart, previousEnd, nameStart, at)) return -1;
      previousStart = nameStart;
      previousEnd = at;
    } else {
      if (attributeColon === nameStart || attributeColon === at - 1) return -1;
      const prefix = text.slice(nameStart, attributeColon);
      const localName = text.slice(attributeColon + 1, at);
      const namespace = prefix === "xml" ? XML_NAMESPACE : scope[prefix];
      if (prefix !== "xml" && (prefix.startsWith("xmlns") || !namespace || rendered[prefix] !== namespace)) return -1;
      if (namespace === undefined || !inOrder(previousNamespace, previousLocalName, namespace, localName)) return -1;
      previousNamespace = namespace;
      previousLocalName = localName;
    }
    if (text.charCodeAt(at + 1) !== 0x22) return -1;
    const valueEnd = text.indexOf('"', at + 2);
    if (valueEnd === -1 || !specials.noneWithin(at + 2, valueEnd)) return -1;
    at = valueEnd + 1;
  }
  if (text.charCodeAt(at) === 0x2f /* / */) at++;
  return text.charCodeAt(at) === 0x3e ? at + 1 : -1;
}

/** Whether text[start, end) comes before text[nextStart, nextEnd) in code-unit order, compared in place. */
function precedes(text: string, start: number, end: number, nextStart: number, nextEnd: number): boolean {
  const length = Math.min(end - start, nextEnd - nextStart);
  for (let index = 0; index < length; index++) {
    const difference = text.charCodeAt(start + index) - text.charCodeAt(nextStart + index);
    if (difference !== 0) return difference < 0;
  }
  return end - start < nextEnd - nextStart;
}

/**
 * Finds the characters that make an attribute value differ from its canonical form (& < tab LF CR) by native searches,
 * each found again only once passed (values are asked about in document order): linear in the text, and no loop over
 * every character, which costs most before the JIT has compiled it.
 */
class ValueSpecials {
  private readonly next = [0, 0, 0, 0, 0];

  constructor(private readonly text: string) {}

  /** Whether text[start, end) holds none of them. */
  noneWithin(start: number, end: number): boolean {
    for (let index = 0; index < VALUE_SPECIALS.length; index++) {
      let next = this.next[index] ?? -1;
      if (next !== -1 && next < start) this.next[index] = next = this.text.indexOf(VALUE_SPECIALS[index] ?? "", start);
      if (next !== -1 && next < end) return false;
    }
    return true;
  }
}

const VALUE_SPECIALS = ["&", "<", "\t", "\n", "\r"];

/** Reads element prefixes, handing back the previous string when the same prefix comes again (most often it does). */
class PrefixReader {
  private last = "";

  read(text: string, start: number, end: number): string {
    if (end - start !== this.last.length || !text.startsWith(this.last, start)) this.last = text.slice(start, end);
    return this.last;
  }
}

/**
 * Whether a prefixed attribute comes after the one before it ("" when none) both in the specification's order and in
 * xml-crypto's comparison of namespace and local name concatenated.
 */
function inOrder(namespace: string, localName: string, nextNamespace: string, nextLocalName: string): boolean {
  if (namespace === "") return true;
  const ordered = namespace === nextNamespace ? localName < nextLocalName : namespace < nextNamespace;
  return ordered && namespace + localName < nextNamespace + nextLocalName;
}

/** Where the name starting at `from` ends: at whitespace, "/" or ">". */
function nameEnd(text: string, from: number): number {
  let at = from;
  for (; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code === 0x3e /* > */ || code === 0x2f /* / */ || isWhitespace(code)) break;
  }
  return at;
}

/** Reads the start tag at `open` ("<" followed by a name); undefined when it is not one. */
export function readStartTag(text: string, open: number): StartTag | undefined {
  const close = findTagEnd(text, open + 1);
  if (close === -1) return undefined;
  const selfClosing = text.charCodeAt(close - 1) === 0x2f;
  const inner = text.slice(open + 1, selfClosing ? close - 1 : close);
  let nameEnd = 0;
  while (nameEnd < inner.length && !isWhitespace(inner.charCodeAt(nameEnd))) nameEnd++;
  const attributes: TagAttribute[] = [];
  ATTRIBUTE.lastIndex = nameEnd;
  for (let match = ATTRIBUTE.exec(inner); match; match = ATTRIBUTE.exec(inner)) {
    attributes.push({ name: match[1] ?? "", value: attributeValue(match[2] ?? match[3] ?? "") });
  }
  return { name: inner.slice(0, nameEnd), attributes, selfClosing, end: close + 1 };
}

/** The scope inside an element: `parent` plus the element's own declarations; undefined for an illegal `xmlns:p=""`. */
export function declare(parent: NamespaceScope, attributes: readonly TagAttribute[]): NamespaceScope | undefined {
  let scope = parent;
  for (const { name, value } of attributes) {
    if (name !== "xmlns" && !name.startsWith("xmlns:")) continue;
    const prefix = name === "xmlns" ? "" : name.slice(6);
    if (prefix !== "" && value === "") return undefined;
    if (scope === parent) scope = Object.create(parent) as NamespaceScope;
    // defineProperty, because plain assignment cannot shadow a read-only property of the frozen root scope.
    Object.defineProperty(scope, prefix, { value, enumerable: true });
  }
  return scope;
}

function renderStartTag(
  tag: StartTag,
  scope: NamespaceScope,
  renderedAbove: NamespaceScope,
  inclusive: ReadonlySet<string>,
  isApex: boolean,
): { markup: string; rendered: NamespaceScope } | undefined {
  let rendered = renderedAbove;
  let defaultDeclaration = "";
  const declarations: { prefix: string; uri: string }[] = [];
  const render = (prefix: string, uri: string): void => {
    if (rendered === renderedAbove) rendered = Object.create(renderedAbove) as NamespaceScope;
    Object.defineProperty(rendered, prefix, { value: uri, enumerable: true });
    if (prefix === "") defaultDeclaration = ` xmlns="${escapeAttribute(uri)}"`;
    else declarations.push({ prefix, uri });
  };
  /** A prefix the element or one of its attributes uses: rendered unless an output ancestor rendered the same. */
  const utilize = (prefix: string): boolean => {
    const uri = scope[prefix];
    if (uri === undefined || uri === "") return false;
    if (rendered[prefix] !== uri) render(prefix, uri);
    return true;
  };

  const colon = tag.name.indexOf(":");
  if (colon === -1) {
    const uri = scope[""] ?? "";
    if ((rendered[""] ?? "") !== uri) render("", uri);
  } else {
    const prefix = tag.name.slice(0, colon);
    if (prefix === "xml" || prefix === "xmlns" || !utilize(prefix)) return undefined;
  }
  if (isApex) {
    for (const prefix of inclusive) {
      const uri = scope[prefix];
      if (uri !== undefined && uri !== "" && prefix !== "xml" && rendered[prefix] !== uri) render(prefix, uri);
    }
  }
  const attributes: { name: string; namespace: string; localName: string; value: string }[] = [];
  for (const attribute of tag.attributes) {
    const { name } = attribute;
    if (name === "xmlns" || name.startsWith("xmlns:")) {
      const prefix = name === "xmlns" ? "" : name.slice(6);
      if (prefix !== "" && inclusive.has(prefix) && rendered[prefix] !== attribute.value)
        render(prefix, attribute.value);
      continue;
    }
    if (name.startsWith("xmlns")) return undefined; // xml-crypto drops every attribute whose name starts "xmlns"
    const attributeColon = name.indexOf(":");
    if (attributeColon === -1) {
      attributes.push({ name, namespace: "", localName: name, value: attribute.value });
      continue;
    }
    const prefix = name.slice(0, attributeColon);
    const namespace = prefix === "xml" ? XML_NAMESPACE : scope[prefix];
    if (namespace === undefined || prefix === "xmlns") return undefined;
    if (prefix !== "xml" && !utilize(prefix)) return undefined;
    attributes.push({ name, namespace, localName: name.slice(attributeColon + 1), value: attribute.value });
  }

  declarations.sort((left, right) => compareCodePoints(left.prefix, right.prefix));
  for (let index = 1; index < declarations.length; index++) {
    const left = declarations[index - 1]?.prefix ?? "";
    const right = declarations[index]?.prefix ?? "";
    if (left.localeCompare(right) >= 0) return undefined;
  }
  attributes.sort(
    (left, right) =>
      compareCodePoints(left.namespace, right.namespace) || compareCodePoints(left.localName, right.localName),
  );
  for (let index = 1; index < attributes.length; index++) {
    const left = attributes[index - 1];
    const right = attributes[index];
    if (left && right && left.namespace !== "" && left.namespace + left.localName >= right.namespace + right.localName)
      return undefined;
  }

  let markup = `<${tag.name}${defaultDeclaration}`;
  for (const { prefix, uri } of declarations) markup += ` xmlns:${prefix}="${escapeAttribute(uri)}"`;
  for (const { name, value } of attributes) markup += ` ${name}="${escapeAttribute(value)}"`;
  return { markup: `${markup}>`, rendered };
}

/** Text between tags as C14N writes it: line ends normalized, references decoded, then & < > and CR escaped. */
function canonicalText(raw: string): string {
  if (raw.indexOf("&") === -1 && raw.indexOf(">") === -1 && raw.indexOf("\r") === -1) return raw;
  return escapeText(decodeReferences(normalizeLineEnds(raw)));
}

function escapeText(value: string): string {
  return value.replace(TEXT_SPECIAL, (character) => TEXT_ESCAPES[character] ?? character);
}

function escapeAttribute(value: string): string {
  return value.replace(ATTRIBUTE_SPECIAL, (character) => ATTRIBUTE_ESCAPES[character] ?? character);
}

/** An attribute value as a parser reports it: line ends normalized, literal whitespace made spaces, references decoded. */
function attributeValue(raw: string): string {
  if (raw.indexOf("&") === -1 && !/[\t\n\r]/.test(raw)) return raw;
  return decodeReferences(normalizeLineEnds(raw).replace(/[\t\n]/g, " "));
}

function normalizeLineEnds(value: string): string {
  return value.indexOf("\r") === -1 ? value : value.replace(/\r\n?/g, "\n");
}

export function decodeReferences(value: string): string {
  if (value.indexOf("&") === -1) return value;
  return value.replace(REFERENCE, (whole, hexadecimal?: string, decimal?: string, name?: string) => {
    if (name !== undefined) return NAMED[name] ?? whole;
    return String.fromCodePoint(Number.parseInt(hexadecimal ?? decimal ?? "", hexadecimal !== undefined ? 16 : 10));
  });
}

/** The specification orders by code point; for strings of one plane that is code-unit order. */
function compareCodePoints(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x9 || code === 0xa || code === 0xd;
}

/** Index of the ">" closing a start tag, skipping quoted attribute values. */
export function findTagEnd(text: string, from: number): number {
  let quote = 0;
  for (let position = from; position < text.length; position++) {
    const code = text.charCodeAt(position);
    if (quote !== 0) {
      if (code === quote) quote = 0;
    } else if (code === 0x22 || code === 0x27) {
      quote = code;
    } else if (code === 0x3e) {
      return position;
    }
  }
  return -1;
}
