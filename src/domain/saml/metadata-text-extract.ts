// Collects metadata-extract.ts's raw facts straight from the document text in one forward pass, without a parsed tree.
//
// The text must be well-formed (it passed assertSafeXml, or it is canonical output of exclusive-canonicalization.ts).
// The facts are exactly the ones extractMetadata reads from fast-xml-parser's tree: attribute values as written
// (CR LF read as LF, references decoded the way that parser decodes them), namespaces by URI, the same elements
// visited. Wherever the tree path would throw or read something this pass does not model (a root that is not
// metadata, an entity without entityID, an undeclared prefix on an element it visits, markup inside an element
// whose text it reads, a property name the parser refuses), the result is undefined and the caller uses that path.
import type { CertificateUse, RoleFacts, RoleKind, SsoService } from "./metadata-model.js";
import { ROLE_ELEMENTS, type RawCertificate, type RawEntity, type RawMetadata } from "./metadata-extract.js";
import { NS } from "./xml-document.js";

/** Prefix → namespace URI, inheriting through the prototype chain, as xml-document.ts resolves names. */
type NamespaceScope = Readonly<Record<string, string>>;

const ROOT_SCOPE: NamespaceScope = Object.freeze(
  Object.assign(Object.create(null) as Record<string, string>, { xml: "http://www.w3.org/XML/1998/namespace", "": "" }),
);

/** Names fast-xml-parser refuses or renames as object keys: the tree path reports those documents. */
const PROPERTY_NAMES = /__proto__|constructor|prototype|hasOwnProperty|toString|valueOf|__define|__lookup/;
const ATTRIBUTE = /([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const NAMED_REFERENCES: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", apos: "'", quot: '"' };

interface Attribute {
  readonly name: string;
  readonly value: string;
}

/** Where an open element sits: only the children of a "visited" element are looked at, as extractMetadata does. */
type Frame =
  | { readonly kind: "skip" }
  | { readonly kind: "aggregate"; readonly scope: NamespaceScope; readonly inherited: readonly string[] }
  | { readonly kind: "entity"; readonly scope: NamespaceScope; readonly entity: EntityBuilder }
  | { readonly kind: "role"; readonly scope: NamespaceScope; readonly entity: EntityBuilder; readonly role: RoleFacts }
  | {
      readonly kind: "certificates";
      readonly scope: NamespaceScope;
      readonly level: "key" | "keyInfo" | "x509Data";
      readonly target: CertificateTarget;
    }
  | { readonly kind: "text" };

/** The KeyDescriptor a certificate belongs to. */
interface CertificateTarget {
  readonly entity: EntityBuilder;
  readonly role: RoleFacts;
  readonly use: CertificateUse;
}

interface EntityBuilder {
  readonly entityID: string;
  readonly validUntil: string | null;
  readonly cacheDuration: string | null;
  readonly inheritedValidUntil: readonly string[];
  hasOwnSignature: boolean;
  readonly roles: RoleFacts[];
  readonly ssoServices: SsoService[];
  readonly nameIDFormats: string[];
  readonly certificates: RawCertificate[];
}

/** Thrown inside the pass to give the document to the tree path; never leaves this module. */
class NotModelled extends Error {}

/** The raw facts of a metadata document, or undefined when the tree path must read it (see the file header). */
export function extractMetadataFromText(text: string): RawMetadata | undefined {
  const reader = new MetadataTextReader();
  reader.read(text);
  return reader.finish();
}

/**
 * extractMetadataFromText over a document handed on in pieces (as exclusive C14N writes its output), so that the whole
 * text never needs to exist at once. Each piece must hold whole tags, comments and sections, never one cut in two.
 */
export class MetadataTextReader {
  private readonly entities: EntityBuilder[] = [];
  private readonly stack: Frame[] = [];
  /** The element whose text is being read, its raw pieces, and where the result goes. */
  private textPieces: string[] | undefined;
  private textSink: ((text: string) => void) | undefined;
  private rootElement: RawMetadata["rootElement"] | undefined;
  private rootValidUntil: string | null = null;
  private rootCacheDuration: string | null = null;
  private hasRootSignature = false;
  private depth = 0;
  private state: "reading" | "done" | "not modelled" = "reading";

  /** Reads the next piece of the document. */
  read(piece: string): void {
    if (this.state !== "reading") return;
    try {
      this.readPiece(piece);
    } catch (error) {
      if (!(error instanceof NotModelled)) throw error;
      this.state = "not modelled";
      this.entities.length = 0;
    }
  }

  /** The facts of the document read, or undefined when the tree path must read it. */
  finish(): RawMetadata | undefined {
    if (this.state === "not modelled" || !this.rootElement || this.stack.length !== 0) return undefined;
    return {
      rootElement: this.rootElement,
      validUntil: this.rootValidUntil,
      cacheDuration: this.rootCacheDuration,
      hasRootSignature: this.hasRootSignature,
      entities: this.entities.map(finishEntity),
    };
  }

  private readPiece(text: string): void {
    // Tags are looked at for such names only in a piece that holds one somewhere (text may say "prototype").
    const mayHoldPropertyNames = PROPERTY_NAMES.test(text);
    const tagEnds = new TagEndFinder(text);
    let at = 0;
    while (at < text.length) {
      const open = text.indexOf("<", at);
      if (open === -1) {
        if (this.textPieces) this.textPieces.push(normalizeLineEnds(text.slice(at)));
        return;
      }
      if (open > at && this.textPieces) this.textPieces.push(normalizeLineEnds(text.slice(at, open)));
      const next = text.charCodeAt(open + 1);
      if (next === 0x21 /* ! */) {
        if (text.startsWith("<!--", open)) {
          at = text.indexOf("-->", open + 4) + 3;
        } else {
          if (this.textPieces || !text.startsWith("<![CDATA[", open)) throw new NotModelled();
          at = text.indexOf("]]>", open + 9) + 3;
        }
        if (at === 2) throw new NotModelled();
        continue;
      }
      if (next === 0x3f /* ? */) {
        if (this.textPieces) throw new NotModelled();
        at = text.indexOf("?>", open + 2) + 2;
        // fast-xml-parser looks for the end of a processing instruction past quotes: it must find the same end.
        if (at === 1 || quotedSearchEnd(text, open + 1) !== at - 2) throw new NotModelled();
        continue;
      }
      const close = next === 0x2f ? text.indexOf(">", open) : tagEnds.after(open + 1);
      if (close === -1) throw new NotModelled();
      at = close + 1;
      if (next === 0x2f /* / */) {
        this.endElement();
        if (--this.depth === 0) {
          this.state = "done";
          return;
        }
        continue;
      }
      if (this.textPieces) throw new NotModelled(); // markup inside an element whose text is read
      if (mayHoldPropertyNames && PROPERTY_NAMES.test(text.slice(open + 1, close))) throw new NotModelled();
      const selfClosing = text.charCodeAt(close - 1) === 0x2f;
      const parent = this.stack.at(-1);
      const frame =
        parent?.kind === "skip"
          ? SKIP
          : this.rootElement
            ? this.startChild(text, open, close, selfClosing)
            : this.startRoot(text, open, close, selfClosing);
      if (selfClosing) {
        if (frame.kind === "text") this.finishText();
        if (this.depth === 0) {
          this.state = "done";
          return;
        }
      } else {
        this.stack.push(frame);
        this.depth++;
      }
    }
  }

  private endElement(): void {
    const frame = this.stack.pop();
    if (frame?.kind === "text") this.finishText();
  }

  private finishText(): void {
    const pieces = this.textPieces ?? [];
    const sink = this.textSink;
    this.textPieces = undefined;
    this.textSink = undefined;
    sink?.(decodeReferences(pieces.join("")));
  }

  private startRoot(text: string, open: number, close: number, selfClosing: boolean): Frame {
    const { name, attributes } = readTag(text, open, close, selfClosing);
    const scope = declare(ROOT_SCOPE, attributes);
    const { namespace, localName } = resolve(name, scope);
    if (namespace !== NS.metadata || (localName !== "EntityDescriptor" && localName !== "EntitiesDescriptor"))
      throw new NotModelled();
    this.rootElement = localName;
    this.rootValidUntil = attributeOf(attributes, "validUntil");
    this.rootCacheDuration = attributeOf(attributes, "cacheDuration");
    if (localName === "EntitiesDescriptor") {
      return uniform({
        kind: "aggregate",
        scope,
        inherited: this.rootValidUntil === null ? [] : [this.rootValidUntil],
      });
    }
    return uniform({ kind: "entity", scope, entity: this.startEntity(attributes, []) });
  }

  private startChild(text: string, open: number, close: number, selfClosing: boolean): Frame {
    const parent = this.stack.at(-1);
    if (!parent || parent.kind === "skip") return SKIP;
    if (parent.kind === "text") throw new NotModelled();
    // Every child of a visited element has its prefix resolved, as xml-document's childElements does.
    const { name, attributes } = readTag(text, open, close, selfClosing);
    const scope = declare(parent.scope, attributes);
    const { namespace, localName } = resolve(name, scope);
    const isRoot = this.stack.length === 1;
    switch (parent.kind) {
      case "aggregate": {
        if (isRoot && namespace === NS.xmldsig && localName === "Signature") this.hasRootSignature = true;
        if (namespace !== NS.metadata) return SKIP;
        if (localName === "EntityDescriptor")
          return uniform({ kind: "entity", scope, entity: this.startEntity(attributes, parent.inherited) });
        if (localName !== "EntitiesDescriptor") return SKIP;
        const validUntil = attributeOf(attributes, "validUntil");
        return uniform({
          kind: "aggregate",
          scope,
          inherited: validUntil === null ? parent.inherited : [...parent.inherited, validUntil],
        });
      }
      case "entity": {
        if (namespace === NS.xmldsig && localName === "Signature") {
          parent.entity.hasOwnSignature = true;
          if (isRoot) this.hasRootSignature = true;
          return SKIP;
        }
        if (namespace !== NS.metadata || !ROLE_ELEMENTS.has(localName)) return SKIP;
        const role = describeRole(localName, attributes, scope);
        parent.entity.roles.push(role);
        return uniform({ kind: "role", scope, entity: parent.entity, role });
      }
      case "role": {
        if (namespace !== NS.metadata) return SKIP;
        const { entity, role } = parent;
        if (localName === "KeyDescriptor") {
          const declaredUse = attributeOf(attributes, "use");
          const use: CertificateUse =
            declaredUse === "signing" ? "signing" : declaredUse === "encryption" ? "encryption" : "both";
          return uniform({ kind: "certificates", scope, level: "key", target: { entity, role, use } });
        }
        if (role.kind === "idp" && localName === "SingleSignOnService") {
          entity.ssoServices.push({
            binding: attributeOf(attributes, "Binding") ?? "",
            location: attributeOf(attributes, "Location") ?? "",
          });
          return SKIP;
        }
        if (role.kind === "idp" && localName === "NameIDFormat") {
          return this.readText((value) => entity.nameIDFormats.push(value.trim()));
        }
        return SKIP;
      }
      case "certificates": {
        if (namespace !== NS.xmldsig) return SKIP;
        const { target } = parent;
        if (parent.level === "key" && localName === "KeyInfo")
          return uniform({ kind: "certificates", scope, level: "keyInfo", target });
        if (parent.level === "keyInfo" && localName === "X509Data")
          return uniform({ kind: "certificates", scope, level: "x509Data", target });
        if (parent.level === "x509Data" && localName === "X509Certificate") {
          return this.readText((value) =>
            target.entity.certificates.push({
              role: target.role.label,
              roleKind: target.role.kind,
              use: target.use,
              base64: value.replace(/\s+/g, ""),
            }),
          );
        }
        return SKIP;
      }
    }
  }

  private readText(sink: (text: string) => void): Frame {
    this.textPieces = [];
    this.textSink = sink;
    return TEXT;
  }

  private startEntity(attributes: readonly Attribute[], inheritedValidUntil: readonly string[]): EntityBuilder {
    const entityID = attributeOf(attributes, "entityID");
    if (entityID === null || entityID.trim() === "") throw new NotModelled();
    const entity: EntityBuilder = {
      entityID,
      validUntil: attributeOf(attributes, "validUntil"),
      cacheDuration: attributeOf(attributes, "cacheDuration"),
      inheritedValidUntil,
      hasOwnSignature: false,
      roles: [],
      ssoServices: [],
      nameIDFormats: [],
      certificates: [],
    };
    this.entities.push(entity);
    return entity;
  }
}

const NO_ATTRIBUTES: readonly Attribute[] = [];
const SKIP: Frame = uniform({ kind: "skip" });
const TEXT: Frame = uniform({ kind: "text" });

/** Every field any frame has, undefined where its kind has none. */
type FrameFields = { readonly kind: Frame["kind"] } & {
  readonly [Field in "scope" | "inherited" | "entity" | "role" | "level" | "target"]?: unknown;
};

/**
 * The frame with every field of every kind, in one order, made in one place: all frames then share one object shape,
 * so that reading a frame's kind and fields stays a single fast property access however many kinds pass by.
 */
function uniform<F extends Frame>(frame: F): F {
  const { kind, scope, inherited, entity, role, level, target } = frame as FrameFields;
  return { kind, scope, inherited, entity, role, level, target } as FrameFields as F;
}

function finishEntity(entity: EntityBuilder): RawEntity {
  return { ...entity };
}

/**
 * The tag name and attributes of the start tag from `open` ("<") to `close` (">"), as fast-xml-parser splits it. Read
 * in place for the tags well-formed text holds; anything else (a non-ASCII character outside a value, odd spacing)
 * goes to the regular expressions that define the split.
 */
function readTag(
  text: string,
  open: number,
  close: number,
  selfClosing: boolean,
): { name: string; attributes: readonly Attribute[] } {
  const end = selfClosing ? close - 1 : close;
  let at = open + 1;
  for (; at < end; at++) {
    const code = text.charCodeAt(at);
    if (code >= 0x80) return readTagByExpressions(text.slice(open + 1, close), selfClosing);
    if (isWhitespace(code)) break;
  }
  const name = text.slice(open + 1, at);
  if (at === end) return { name, attributes: NO_ATTRIBUTES };
  const attributes: Attribute[] = [];
  for (;;) {
    while (at < end && isWhitespace(text.charCodeAt(at))) at++;
    if (at === end) return { name, attributes };
    const nameStart = at;
    for (; at < end; at++) {
      const code = text.charCodeAt(at);
      if (code === 0x3d /* = */ || isWhitespace(code)) break;
      if (code >= 0x80 || code === 0x22 || code === 0x27)
        return readTagByExpressions(text.slice(open + 1, close), selfClosing);
    }
    const attributeName = text.slice(nameStart, at);
    while (at < end && isWhitespace(text.charCodeAt(at))) at++;
    if (at === nameStart || text.charCodeAt(at) !== 0x3d)
      return readTagByExpressions(text.slice(open + 1, close), selfClosing);
    at++;
    while (at < end && isWhitespace(text.charCodeAt(at))) at++;
    const quote = text.charCodeAt(at);
    const valueEnd = quote === 0x22 || quote === 0x27 ? text.indexOf(quote === 0x22 ? '"' : "'", at + 1) : -1;
    if (valueEnd === -1 || valueEnd >= end) return readTagByExpressions(text.slice(open + 1, close), selfClosing);
    attributes.push({ name: attributeName, value: decodeReferences(normalizeLineEnds(text.slice(at + 1, valueEnd))) });
    at = valueEnd + 1;
    if (at < end && !isWhitespace(text.charCodeAt(at)))
      return readTagByExpressions(text.slice(open + 1, close), selfClosing);
  }
}

/** readTag by fast-xml-parser's own way of splitting a tag's text between "<" and ">", for any tag. */
function readTagByExpressions(inner: string, selfClosing: boolean): { name: string; attributes: readonly Attribute[] } {
  const content = selfClosing ? inner.slice(0, -1) : inner;
  const separator = content.search(/\s/);
  const name = separator === -1 ? content : content.slice(0, separator);
  if (separator === -1) return { name, attributes: NO_ATTRIBUTES };
  const attributes: Attribute[] = [];
  const source = content.slice(separator + 1);
  ATTRIBUTE.lastIndex = 0;
  for (let match = ATTRIBUTE.exec(source); match; match = ATTRIBUTE.exec(source)) {
    attributes.push({
      name: match[1] ?? "",
      value: decodeReferences(normalizeLineEnds(match[2] ?? match[3] ?? "")),
    });
  }
  return { name, attributes };
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x9 || code === 0xa || code === 0xd;
}

function declare(parent: NamespaceScope, attributes: readonly Attribute[]): NamespaceScope {
  let scope = parent;
  for (const { name, value } of attributes) {
    if (name !== "xmlns" && !name.startsWith("xmlns:")) continue;
    if (scope === parent) scope = Object.create(parent) as NamespaceScope;
    Object.defineProperty(scope, name === "xmlns" ? "" : name.slice(6), { value, enumerable: true });
  }
  return scope;
}

function resolve(qualifiedName: string, scope: NamespaceScope): { namespace: string; localName: string } {
  const colon = qualifiedName.indexOf(":");
  const namespace = scope[colon === -1 ? "" : knownPrefix(qualifiedName, colon)];
  if (namespace === undefined) throw new NotModelled(); // the tree path names the undeclared prefix
  return { namespace, localName: colon === -1 ? qualifiedName : qualifiedName.slice(colon + 1) };
}

/** The metadata and signature prefixes almost every name carries, as the same strings each time. */
const COMMON_PREFIXES = ["md", "ds"];

/**
 * The prefix of `qualifiedName` (before `colon`): one of COMMON_PREFIXES when it is one, since a property lookup with
 * a string seen before is cheaper than with a new one.
 */
function knownPrefix(qualifiedName: string, colon: number): string {
  for (const prefix of COMMON_PREFIXES) if (colon === prefix.length && qualifiedName.startsWith(prefix)) return prefix;
  return qualifiedName.slice(0, colon);
}

function attributeOf(attributes: readonly Attribute[], name: string): string | null {
  for (const attribute of attributes) if (attribute.name === name) return attribute.value;
  return null;
}

function describeRole(localName: string, attributes: readonly Attribute[], scope: NamespaceScope): RoleFacts {
  const kind: RoleKind = localName === "IDPSSODescriptor" ? "idp" : localName === "SPSSODescriptor" ? "sp" : "other";
  let label = localName;
  if (localName === "RoleDescriptor") {
    for (const { name, value } of attributes) {
      const colon = name.indexOf(":");
      if (colon !== -1 && name.slice(colon + 1) === "type" && scope[name.slice(0, colon)] === NS.xsi) {
        label = `RoleDescriptor[${value}]`;
        break;
      }
    }
  }
  return { kind, label, validUntil: attributeOf(attributes, "validUntil") };
}

/**
 * Finds the ">" closing each start tag of one piece, past quoted attribute values, by native searches instead of a
 * loop over every character: the reader runs partly before the JIT has compiled it, where each step of a loop costs
 * far more than a search. The next quote of each kind is found again only once passed: linear in the piece.
 */
class TagEndFinder {
  private nextQuote = 0;
  private nextApostrophe = 0;

  constructor(private readonly text: string) {}

  /** The first ">" from `from` on outside quotes (quotes start outside one another); -1 when there is none. */
  after(from: number): number {
    const { text } = this;
    let at = from;
    for (;;) {
      const close = text.indexOf(">", at);
      if (close === -1) return -1;
      if (this.nextQuote !== -1 && this.nextQuote < at) this.nextQuote = text.indexOf('"', at);
      if (this.nextApostrophe !== -1 && this.nextApostrophe < at) this.nextApostrophe = text.indexOf("'", at);
      const quote = firstOf(this.nextQuote, this.nextApostrophe);
      if (quote === -1 || quote > close) return close;
      const partner = text.indexOf(quote === this.nextQuote ? '"' : "'", quote + 1);
      if (partner === -1) return -1;
      at = partner + 1;
    }
  }
}

/** The smaller of two offsets, -1 standing for none. */
function firstOf(left: number, right: number): number {
  if (left === -1) return right;
  return right === -1 || left < right ? left : right;
}

/** Where fast-xml-parser's search for "?>" from `from` ends: it skips quoted runs whole; -1 when it finds none. */
function quotedSearchEnd(text: string, from: number): number {
  for (let index = from; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 0x22 || code === 0x27) {
      index = text.indexOf(text.charAt(index), index + 1);
      if (index === -1) return -1;
    } else if (code === 0x3f && text.charCodeAt(index + 1) === 0x3e) {
      return index;
    }
  }
  return -1;
}

function normalizeLineEnds(value: string): string {
  return value.indexOf("\r") === -1 ? value : value.replace(/\r\n?/g, "\n");
}

/**
 * References decoded as fast-xml-parser's entity decoder does: a token of at most 32 characters between "&" and ";",
 * numeric ones by parseInt (out of range: left as written), the five predefined names; anything else is left as
 * written.
 */
function decodeReferences(value: string): string {
  if (value.indexOf("&") === -1) return value;
  let out = "";
  let last = 0;
  let at = value.indexOf("&");
  while (at !== -1) {
    let end = at + 1;
    while (end < value.length && value.charCodeAt(end) !== 0x3b && end - at <= 32) end++;
    if (end >= value.length || value.charCodeAt(end) !== 0x3b || end === at + 1) {
      at = value.indexOf("&", at + 1);
      continue;
    }
    const token = value.slice(at + 1, end);
    const replacement = token.charCodeAt(0) === 0x23 ? numericReference(token) : NAMED_REFERENCES[token];
    if (replacement === undefined) {
      if (token.charCodeAt(0) !== 0x23) throw new NotModelled(); // a named entity the tree path might know
      at = value.indexOf("&", at + 1);
      continue;
    }
    out += value.slice(last, at) + replacement;
    last = end + 1;
    at = value.indexOf("&", last);
  }
  return out + value.slice(last);
}

function numericReference(token: string): string | undefined {
  const second = token.charCodeAt(1);
  const codePoint =
    second === 0x78 || second === 0x58 ? Number.parseInt(token.slice(2), 16) : Number.parseInt(token.slice(1), 10);
  if (Number.isNaN(codePoint) || codePoint < 0 || codePoint > 0x10ffff) return undefined;
  // Characters XML 1.0 forbids, which the parser removes (or keeps, in an XML 1.1 document): the tree path decides.
  if (codePoint === 0 || (codePoint >= 0xd800 && codePoint <= 0xdfff)) throw new NotModelled();
  if (codePoint <= 0x1f && codePoint !== 0x9 && codePoint !== 0xa && codePoint !== 0xd) throw new NotModelled();
  return String.fromCodePoint(codePoint);
}
