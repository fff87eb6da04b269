// Reads, in one linear pass over the text, the shape that makes signature verification expensive (and stray
// signatures), and the structure the one-pass verifier (signature-fast-path.ts) checks signatures in.
import {
  declare,
  findTagEnd,
  readStartTag,
  ROOT_NAMESPACE_SCOPE,
  type NamespaceScope,
  type TagAttribute,
} from "./exclusive-canonicalization.js";
import type { StraySignatures } from "./metadata-model.js";
import { NS } from "./xml-document.js";

export interface SignatureShape {
  readonly elements: number;
  /** Deepest element nesting. */
  readonly depth: number;
  /** ds:Signature elements anywhere in the document. */
  readonly signatures: number;
  /** The most ds:Reference elements inside one ds:Signature. */
  readonly referencesPerSignature: number;
  /** The most ds:Transform elements inside one ds:Reference. */
  readonly transformsPerReference: number;
  /** ds:Signatures that sit where breakglass verifies none: not on the root, nor on an EntityDescriptor it reads. */
  readonly straySignatures: StraySignatures;
}

/** An element breakglass verifies a Signature on: the root, or an EntityDescriptor of the aggregate's tree. */
export interface SignedContainer {
  /** Offset of the "<" of its start tag. */
  readonly start: number;
  /** Offset just past its end tag. */
  end: number;
  /** The namespaces it inherits from its ancestors. */
  readonly inherited: NamespaceScope;
  /** Its namespaces, its own declarations included. */
  readonly scope: NamespaceScope;
  readonly id: string | null;
  readonly isRoot: boolean;
  /** [start, end) of each ds:Signature directly inside it. */
  readonly signatures: [number, number][];
}

export interface DocumentStructure {
  readonly root: SignedContainer;
  /** EntityDescriptors in document order, as metadata-extract and metadata-signature list them. */
  readonly entities: readonly SignedContainer[];
  /** How many elements carry each ID / Id / id value (xml-crypto refuses a Reference to a value on several). */
  readonly idCounts: ReadonlyMap<string, number>;
}

export interface SignatureLayout {
  readonly shape: SignatureShape;
  /**
   * The containers, their signatures and the ID values; undefined where the one-pass verifier hands the document to
   * metadata-signature.ts (a prefix nothing declares, a processing instruction inside the root, a root of another kind).
   */
  readonly structure: DocumentStructure | undefined;
  /**
   * What reading the structure threw (a declaration a scope cannot hold, such as "xmlns:" beside "xmlns"): thrown
   * again by the caller that uses the structure, so that a document whose structure is never used is not refused.
   */
  readonly structureFailure: { readonly error: unknown } | undefined;
}

/**
 * Counts elements, nesting, Signatures, References and Transforms by namespace URI, never by prefix.
 * `text` must have passed assertSafeXml.
 */
export function measureSignatureShape(text: string): SignatureShape {
  return new LayoutReader(text, false).read().shape;
}

/** The shape and the structure in one pass. `text` must have passed assertSafeXml. */
export function readSignatureLayout(text: string): SignatureLayout {
  return new LayoutReader(text, true).read();
}

const MAX_PLACES = 5;
/** Prefixes remembered by their text, so that a tag's prefix is compared in place instead of sliced. */
const MAX_KNOWN_PREFIXES = 32;
/** Distinct declaring tags remembered; past it they are forgotten and read again. */
const MAX_DECLARING_TAGS = 256;

// Element kinds, as small integers: compared on every tag.
const OTHER = 0;
const ENTITIES = 1;
const ENTITY = 2;
const SIGNATURE = 3;
const REFERENCE = 4;
const TRANSFORM = 5;
/** A structure kind only: a prefix nothing declares, which the structure leaves to metadata-signature.ts. */
const UNDECLARED = -1;

// Where the structure is: not started (before the root), reading, or finished or abandoned.
const STRUCTURE_PENDING = 0;
const STRUCTURE_READING = 1;
const STRUCTURE_DONE = 2;
const STRUCTURE_FAILED = 3;

/** The shape's namespaces: what its declarations say, read as raw text (the shape has always read them so). */
type ShapeScope = Readonly<Record<string, string>>;

/**
 * One open element. Frames are reused by depth, so the walk allocates none per element; the shape's kind and scope
 * and the structure's are kept apart because they read declarations differently (raw text, parsed attributes).
 */
interface Frame {
  kind: number;
  /** Where the element's qualified name starts: read only to name a stray Signature's place. */
  nameStart: number;
  shapeScope: ShapeScope;
  /** An EntitiesDescriptor or EntityDescriptor reached from the root through EntitiesDescriptors only. */
  readByBreakglass: boolean;
  references: number;
  transforms: number;
  structureKind: number;
  scope: NamespaceScope;
  structureReadByBreakglass: boolean;
  container: SignedContainer | undefined;
  /** Set on a ds:Signature directly inside a container: the container, and where the Signature starts. */
  signatureOf: SignedContainer | undefined;
  signatureStart: number;
}

/** A tag that may declare namespaces, read for the shape and (parentScope set) for the structure. */
interface DeclaringTag {
  readonly parentShapeScope: ShapeScope;
  readonly shapeScope: ShapeScope;
  parentScope: NamespaceScope | undefined;
  attributes: readonly TagAttribute[];
  /** Undefined for an illegal declaration (xmlns:p=""). */
  scope: NamespaceScope | undefined;
}

const ROOT_SHAPE_SCOPE: ShapeScope = Object.freeze(
  Object.assign(Object.create(null) as Record<string, string>, { "": "" }),
);
const NAMESPACE_DECLARATION = /\sxmlns(?::([^\s=/>]+))?\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

class LayoutReader {
  private readonly frames: Frame[] = [];
  private depth = 0;
  private elements = 0;
  private deepest = 0;
  private signatures = 0;
  private referencesPerSignature = 0;
  private transformsPerReference = 0;
  private strayCount = 0;
  private readonly places: string[] = [];

  /** Where the next "xmlns" is, found again only once passed: one search per declaration, not one per tag. */
  private nextDeclaration: number;
  /** Where the next '"' and "'" are (text.length for none), found again only once passed. */
  private nextQuote = -1;
  private nextApostrophe = -1;
  /** Set by findTagEnd: the tag has an attribute named ID, Id or id, in any namespace. */
  private mayHoldId = false;

  private structureState: number;
  private structureFailure: { readonly error: unknown } | undefined;
  private root: SignedContainer | undefined;
  private rootKind = OTHER;
  private readonly containers: SignedContainer[] = [];
  private readonly idCounts = new Map<string, number>();
  private readonly prefixes: string[] = [];
  private lastPrefix = 0;
  private readonly declaringTags = new Map<string, DeclaringTag>();
  /** Per known prefix: the structure scope it was last resolved in, and what it resolved to there. */
  private readonly resolvedIn: (NamespaceScope | undefined)[] = [];
  private readonly resolvedTo: (string | undefined)[] = [];

  constructor(
    private readonly text: string,
    withStructure: boolean,
  ) {
    this.nextDeclaration = text.indexOf("xmlns");
    this.structureState = withStructure ? STRUCTURE_PENDING : STRUCTURE_FAILED;
  }

  read(): SignatureLayout {
    const text = this.text;
    // The structure starts where its own prolog skip lands; on well-formed text that is the first start tag.
    const structureStart = this.structureState === STRUCTURE_PENDING ? skipProlog(text) : -1;
    if (structureStart === -1) this.structureState = STRUCTURE_FAILED;
    let index = text.indexOf("<");
    while (index !== -1) {
      const next = text.charCodeAt(index + 1);
      if (next === 0x21 /* ! */) {
        index = skipMarkupDeclaration(text, index);
      } else if (next === 0x3f /* ? */) {
        // A processing instruction inside the root is not the profile the structure serves.
        if (this.structureState === STRUCTURE_READING) this.structureState = STRUCTURE_FAILED;
        const end = text.indexOf("?>", index + 2);
        index = end === -1 ? -1 : end + 2;
      } else if (next === 0x2f /* / */) {
        const close = text.indexOf(">", index + 2);
        this.endElement(close);
        index = close;
      } else {
        if (this.structureState === STRUCTURE_PENDING)
          this.structureState = index === structureStart ? STRUCTURE_READING : STRUCTURE_FAILED;
        const end = this.findTagEnd(index + 1);
        if (end === -1) break;
        this.startElement(index, end);
        index = end + 1;
      }
      index = index === -1 ? -1 : text.indexOf("<", index);
    }
    return {
      shape: {
        elements: this.elements,
        depth: this.deepest,
        signatures: this.signatures,
        referencesPerSignature: this.referencesPerSignature,
        transformsPerReference: this.transformsPerReference,
        straySignatures: { count: this.strayCount, places: this.places },
      },
      structure: this.structure(),
      structureFailure: this.structureFailure,
    };
  }

  private structure(): DocumentStructure | undefined {
    const root = this.root;
    if (this.structureState !== STRUCTURE_DONE || !root) return undefined;
    if (this.rootKind !== ENTITIES && this.rootKind !== ENTITY) return undefined;
    const entities = this.rootKind === ENTITY ? [root] : this.containers.filter((container) => !container.isRoot);
    return { root, entities, idCounts: this.idCounts };
  }

  private endElement(close: number): void {
    if (this.depth === 0) {
      if (this.structureState === STRUCTURE_READING) this.structureState = STRUCTURE_FAILED;
      return;
    }
    const frame = this.frames[--this.depth] as Frame;
    if (this.structureState !== STRUCTURE_READING) return;
    if (frame.container) frame.container.end = close + 1;
    if (frame.signatureOf) frame.signatureOf.signatures.push([frame.signatureStart, close + 1]);
    if (this.depth === 0) this.structureState = STRUCTURE_DONE;
  }

  private startElement(open: number, close: number): void {
    const text = this.text;
    const selfClosing = text.charCodeAt(close - 1) === 0x2f;
    const tagEnd = selfClosing ? close - 1 : close;
    const nameStart = open + 1;
    // A prefix met before is recognised in place; the name is read character by character only otherwise.
    let prefix = this.prefixAt(nameStart);
    let colon = prefix === -1 ? -1 : nameStart + (this.prefixes[prefix] as string).length;
    if (prefix === -1) {
      colon = firstColon(text, nameStart, tagEnd);
      if (colon !== -1) prefix = this.learnPrefix(nameStart, colon);
    }
    const parent = this.depth > 0 ? (this.frames[this.depth - 1] as Frame) : undefined;
    if (this.nextDeclaration !== -1 && this.nextDeclaration < open) this.nextDeclaration = text.indexOf("xmlns", open);
    const declaring =
      this.nextDeclaration !== -1 && this.nextDeclaration < tagEnd ? this.declaring(open, tagEnd, parent) : undefined;
    const shapeScope = declaring ? declaring.shapeScope : parent ? parent.shapeScope : ROOT_SHAPE_SCOPE;
    const local = localKind(text, nameStart, colon === -1 ? nameStart : colon + 1, tagEnd);
    const kind =
      local === OTHER ? OTHER : shapeKind(local, shapeScope[prefixText(this.prefixes, prefix, text, nameStart, colon)]);
    this.elements++;
    if (kind !== OTHER) this.measure(kind, parent, text);

    const frame = this.frames[this.depth] ?? this.newFrame();
    if (this.structureState === STRUCTURE_READING) {
      if (
        parent !== undefined &&
        declaring === undefined &&
        !this.mayHoldId &&
        local === OTHER &&
        this.resolves(prefix, colon, parent.scope)
      ) {
        // The common tag: it changes nothing in the structure.
        frame.structureKind = OTHER;
        frame.scope = parent.scope;
        frame.structureReadByBreakglass = false;
        frame.container = undefined;
        frame.signatureOf = undefined;
      } else if (this.readStructure(frame, parent, open, close, declaring, local, prefix, nameStart, colon)) {
        if (selfClosing && this.depth === 0) this.structureState = STRUCTURE_DONE;
      }
    }
    if (selfClosing) return;
    frame.kind = kind;
    frame.nameStart = nameStart;
    frame.shapeScope = shapeScope;
    frame.readByBreakglass =
      (kind === ENTITIES || kind === ENTITY) &&
      (parent === undefined || (parent.readByBreakglass && parent.kind === ENTITIES));
    frame.references = 0;
    frame.transforms = 0;
    this.depth++;
    if (this.depth > this.deepest) this.deepest = this.depth;
  }

  /**
   * The namespaces of a tag that may declare some, as the shape reads them (raw text) and, while the structure is read,
   * as the structure does (parsed attributes). A tag repeated verbatim under the same scopes (one per entity, in an
   * aggregate) is read once: its declarations say the same each time.
   */
  private declaring(open: number, tagEnd: number, parent: Frame | undefined): DeclaringTag {
    const inner = this.text.slice(open + 1, tagEnd);
    const parentShapeScope = parent ? parent.shapeScope : ROOT_SHAPE_SCOPE;
    let known = this.declaringTags.get(inner);
    if (known?.parentShapeScope !== parentShapeScope) {
      if (this.declaringTags.size >= MAX_DECLARING_TAGS) this.declaringTags.clear();
      known = {
        parentShapeScope,
        shapeScope: declareShapeNamespaces(inner, parentShapeScope),
        parentScope: undefined,
        attributes: [],
        scope: undefined,
      };
      this.declaringTags.set(inner, known);
    }
    if (this.structureState === STRUCTURE_READING) {
      const parentScope = parent ? parent.scope : ROOT_NAMESPACE_SCOPE;
      if (known.parentScope !== parentScope) {
        try {
          known.attributes = readStartTag(this.text, open)?.attributes ?? [];
          known.scope = declare(parentScope, known.attributes);
          known.parentScope = parentScope;
        } catch (error) {
          this.failStructure(error);
        }
      }
    }
    return known;
  }

  /** The structure cannot be read: the walk goes on for the shape, and the error waits for the structure's user. */
  private failStructure(error: unknown): void {
    this.structureState = STRUCTURE_FAILED;
    this.structureFailure = { error };
  }

  /** Whether the structure's scope declares the element's prefix (an unprefixed name always resolves). */
  private resolves(prefix: number, colon: number, scope: NamespaceScope): boolean {
    if (colon === -1) return true;
    if (prefix === -1) return false;
    if (this.resolvedIn[prefix] !== scope) {
      this.resolvedIn[prefix] = scope;
      this.resolvedTo[prefix] = scope[this.prefixes[prefix] as string];
    }
    return this.resolvedTo[prefix] !== undefined;
  }

  /** The shape's counts for a start tag of `kind` whose parent is `parent`. */
  private measure(kind: number, parent: Frame | undefined, text: string): void {
    if (kind === SIGNATURE) {
      this.signatures++;
      const verified = parent !== undefined && parent.readByBreakglass && (this.depth === 1 || parent.kind === ENTITY);
      if (!verified) {
        this.strayCount++;
        if (this.places.length < MAX_PLACES) {
          const names: string[] = [];
          for (let at = 0; at < this.depth; at++) {
            const frame = this.frames[at] as Frame;
            names.push(
              text.slice(frame.nameStart, tagNameEnd(text, frame.nameStart, findTagEnd(text, frame.nameStart))),
            );
          }
          this.places.push(names.join("/") || "(document)");
        }
      }
    } else if (kind === REFERENCE) {
      const signature = this.innermost(SIGNATURE);
      if (signature) this.referencesPerSignature = Math.max(this.referencesPerSignature, ++signature.references);
    } else if (kind === TRANSFORM) {
      const reference = this.innermost(REFERENCE);
      if (reference) this.transformsPerReference = Math.max(this.transformsPerReference, ++reference.transforms);
    }
  }

  /**
   * The structure's part of a start tag, into `frame`; false once the structure is abandoned. Attributes are parsed
   * only for a tag that declares a namespace or has an ID-like attribute: no other tag changes the structure.
   */
  private readStructure(
    frame: Frame,
    parent: Frame | undefined,
    open: number,
    close: number,
    declaring: DeclaringTag | undefined,
    local: number,
    prefix: number,
    nameStart: number,
    colon: number,
  ): boolean {
    const text = this.text;
    const parentScope = parent ? parent.scope : ROOT_NAMESPACE_SCOPE;
    // Without "xmlns" in the tag, its attributes declare nothing: the scope is the parent's.
    let attributes = declaring?.attributes;
    if (!declaring && this.mayHoldId) {
      try {
        attributes = readStartTag(text, open)?.attributes ?? [];
      } catch (error) {
        this.failStructure(error);
        return false;
      }
    }
    const scope = declaring ? declaring.scope : parentScope;
    if (!scope) {
      this.structureState = STRUCTURE_FAILED;
      return false;
    }
    if (attributes) countIds(attributes, this.idCounts);
    const kind = this.structureKind(local, scope, prefix, nameStart, colon);
    if (kind === UNDECLARED) {
      this.structureState = STRUCTURE_FAILED;
      return false;
    }
    const isRoot = parent === undefined;
    const readByBreakglass =
      (kind === ENTITIES || kind === ENTITY) &&
      (isRoot || (parent.structureReadByBreakglass && parent.structureKind === ENTITIES));
    let container: SignedContainer | undefined;
    if (isRoot || (kind === ENTITY && readByBreakglass)) {
      container = {
        start: open,
        end: -1,
        inherited: parentScope,
        scope,
        id: attributes ? idOf(attributes) : null,
        isRoot,
        signatures: [],
      };
      this.containers.push(container);
      if (isRoot) {
        this.root = container;
        this.rootKind = kind;
      }
    }
    const signatureOf = kind === SIGNATURE && parent?.container ? parent.container : undefined;
    if (text.charCodeAt(close - 1) === 0x2f) {
      if (container) container.end = close + 1;
      if (signatureOf) signatureOf.signatures.push([open, close + 1]);
      return true;
    }
    frame.structureKind = kind;
    frame.scope = scope;
    frame.structureReadByBreakglass = readByBreakglass;
    frame.container = container;
    frame.signatureOf = signatureOf;
    frame.signatureStart = open;
    return true;
  }

  /** The structure's kind of an element: by the namespaces its attributes declare, decoded. */
  private structureKind(
    local: number,
    scope: NamespaceScope,
    prefix: number,
    nameStart: number,
    colon: number,
  ): number {
    let namespace: string | undefined;
    if (colon === -1) {
      if (local !== ENTITIES && local !== ENTITY && local !== SIGNATURE) return OTHER;
      namespace = scope[""] ?? "";
    } else if (prefix !== -1 && this.resolvedIn[prefix] === scope) {
      namespace = this.resolvedTo[prefix];
    } else {
      namespace = scope[prefixText(this.prefixes, prefix, this.text, nameStart, colon)];
      if (prefix !== -1) {
        this.resolvedIn[prefix] = scope;
        this.resolvedTo[prefix] = namespace;
      }
    }
    if (namespace === undefined) return UNDECLARED;
    if (local === ENTITIES || local === ENTITY) return namespace === NS.metadata ? local : OTHER;
    return local === SIGNATURE && namespace === NS.xmldsig ? SIGNATURE : OTHER;
  }

  /** The index of the known prefix the name at `nameStart` starts with, followed by its colon; -1 for none. */
  private prefixAt(nameStart: number): number {
    const text = this.text;
    const prefixes = this.prefixes;
    // The prefix of the last prefixed name first: children mostly share their parent's.
    const last = prefixes[this.lastPrefix];
    if (last !== undefined && text.charCodeAt(nameStart + last.length) === 0x3a && text.startsWith(last, nameStart))
      return this.lastPrefix;
    for (let position = 0; position < prefixes.length; position++) {
      const known = prefixes[position] as string;
      if (text.charCodeAt(nameStart + known.length) === 0x3a && text.startsWith(known, nameStart)) {
        this.lastPrefix = position;
        return position;
      }
    }
    return -1;
  }

  /** Remembers the prefix text[nameStart, colon) and returns its index; -1 past the limit. */
  private learnPrefix(nameStart: number, colon: number): number {
    if (this.prefixes.length === MAX_KNOWN_PREFIXES) return -1;
    this.prefixes.push(this.text.slice(nameStart, colon));
    this.resolvedIn.push(undefined);
    this.resolvedTo.push(undefined);
    this.lastPrefix = this.prefixes.length - 1;
    return this.lastPrefix;
  }

  private newFrame(): Frame {
    const frame: Frame = {
      kind: OTHER,
      nameStart: 0,
      shapeScope: ROOT_SHAPE_SCOPE,
      readByBreakglass: false,
      references: 0,
      transforms: 0,
      structureKind: OTHER,
      scope: ROOT_NAMESPACE_SCOPE,
      structureReadByBreakglass: false,
      container: undefined,
      signatureOf: undefined,
      signatureStart: -1,
    };
    this.frames.push(frame);
    return frame;
  }

  private innermost(kind: number): Frame | undefined {
    for (let position = this.depth - 1; position >= 0; position--) {
      const frame = this.frames[position] as Frame;
      if (frame.kind === kind) return frame;
    }
    return undefined;
  }

  /**
   * Index of the ">" closing the start tag whose name starts at `from`, skipping quoted attribute values; -1 for
   * none. Jumps from quote to quote with indexOf rather than reading every character, and notes on the way whether
   * an attribute is named ID, Id or id (in any namespace), the only attributes besides declarations the structure reads.
   */
  private findTagEnd(from: number): number {
    const text = this.text;
    this.mayHoldId = false;
    let at = from;
    let close = text.indexOf(">", at);
    for (;;) {
      if (close === -1) return -1;
      if (this.nextQuote < at) this.nextQuote = indexOrEnd(text, '"', at);
      if (this.nextApostrophe < at) this.nextApostrophe = indexOrEnd(text, "'", at);
      const quote = Math.min(this.nextQuote, this.nextApostrophe);
      if (quote > close) return close;
      if (!this.mayHoldId && isIdAttributeBefore(text, quote)) this.mayHoldId = true;
      const valueEnd = text.indexOf(quote === this.nextQuote ? '"' : "'", quote + 1);
      if (valueEnd === -1) return -1;
      at = valueEnd + 1;
      if (close < at) close = text.indexOf(">", at);
    }
  }
}

function indexOrEnd(text: string, search: string, from: number): number {
  const found = text.indexOf(search, from);
  return found === -1 ? text.length : found;
}

/**
 * Whether the attribute whose value opens at `quote` is named ID, Id or id, alone or after a prefix: the name is
 * read backwards over `=` and the spaces XML allows around it.
 */
function isIdAttributeBefore(text: string, quote: number): boolean {
  let at = quote - 1;
  while (isXmlSpace(text.charCodeAt(at))) at--;
  if (text.charCodeAt(at) !== 0x3d /* = */) return false;
  at--;
  while (isXmlSpace(text.charCodeAt(at))) at--;
  const last = text.charCodeAt(at);
  const first = text.charCodeAt(at - 1);
  const before = text.charCodeAt(at - 2);
  const named =
    (first === 0x49 /* I */ && (last === 0x44 /* D */ || last === 0x64)) /* d */ ||
    (first === 0x69 /* i */ && last === 0x64);
  return named && (before === 0x3a /* : */ || isXmlSpace(before));
}

function isXmlSpace(code: number): boolean {
  return code === 0x20 || code === 0x9 || code === 0xa || code === 0xd;
}

/**
 * The local name's kind, compared in place: one of the five names the shape or the structure looks for, or OTHER.
 * A candidate name must end where tagNameEnd ends the element's name.
 */
function localKind(text: string, nameStart: number, localStart: number, tagEnd: number): number {
  const first = text.charCodeAt(localStart);
  let kind = OTHER;
  let length = 9;
  if (first === 0x53 /* S */) kind = text.startsWith("Signature", localStart) ? SIGNATURE : OTHER;
  else if (first === 0x52 /* R */) kind = text.startsWith("Reference", localStart) ? REFERENCE : OTHER;
  else if (first === 0x54 /* T */) kind = text.startsWith("Transform", localStart) ? TRANSFORM : OTHER;
  else if (first === 0x45 /* E */) {
    if (text.startsWith("EntityDescriptor", localStart)) [kind, length] = [ENTITY, 16];
    else if (text.startsWith("EntitiesDescriptor", localStart)) [kind, length] = [ENTITIES, 18];
  }
  if (kind === OTHER) return OTHER;
  const end = localStart + length;
  const code = text.charCodeAt(end);
  if (end === tagEnd || code <= 0x20 || code === 0x2f) return kind;
  if (code < 0x7f) return OTHER;
  return tagNameEnd(text, nameStart, tagEnd) === end ? kind : OTHER;
}

/** The first colon of the element name at `nameStart`, -1 for none. */
function firstColon(text: string, nameStart: number, tagEnd: number): number {
  let at = nameStart;
  for (let code = text.charCodeAt(at); at < tagEnd && code > 0x20 && code < 0x7f && code !== 0x2f;) {
    if (code === 0x3a) return at;
    code = text.charCodeAt(++at);
  }
  if (at === tagEnd || text.charCodeAt(at) < 0x7f) return -1;
  // Bounded by the name's end, never searched past it: a search to the next colon anywhere would be quadratic.
  const nameEnd = tagNameEnd(text, nameStart, tagEnd);
  for (; at < nameEnd; at++) if (text.charCodeAt(at) === 0x3a) return at;
  return -1;
}

function shapeKind(local: number, namespace: string | undefined): number {
  if (local === ENTITIES || local === ENTITY) return namespace === NS.metadata ? local : OTHER;
  return namespace === NS.xmldsig ? local : OTHER;
}

/** The prefix's text: the known one, or sliced (an unprefixed name's is ""). */
function prefixText(
  prefixes: readonly string[],
  prefix: number,
  text: string,
  nameStart: number,
  colon: number,
): string {
  if (colon === -1) return "";
  return prefix === -1 ? text.slice(nameStart, colon) : (prefixes[prefix] as string);
}

/** The end of the tag name that starts at `from`: the first whitespace or "/" before `to`, or `to`. */
function tagNameEnd(text: string, from: number, to: number): number {
  let end = from;
  // Printable ASCII is read here; anything else goes to the regular expression (\s knows every Unicode space).
  for (let code = text.charCodeAt(end); end < to && code > 0x20 && code < 0x7f && code !== 0x2f;)
    code = text.charCodeAt(++end);
  if (end < to && text.charCodeAt(end) > 0x7e) return from + text.slice(from, to).search(/[\s/]|$/);
  return end;
}

function declareShapeNamespaces(tag: string, parentScope: ShapeScope): ShapeScope {
  let scope = parentScope;
  for (const match of tag.matchAll(NAMESPACE_DECLARATION)) {
    if (scope === parentScope) scope = Object.create(parentScope) as Record<string, string>;
    // defineProperty, because plain assignment cannot shadow a read-only property of the frozen root scope.
    Object.defineProperty(scope, match[1] ?? "", { value: match[2] ?? match[3] ?? "", enumerable: true });
  }
  return scope;
}

/** The value of the attribute named ID (the one an EntityDescriptor's Reference names), or null. */
function idOf(attributes: readonly TagAttribute[]): string | null {
  for (const attribute of attributes) if (attribute.name === "ID") return attribute.value;
  return null;
}

function countIds(attributes: readonly TagAttribute[], idCounts: Map<string, number>): void {
  for (const { name, value } of attributes) {
    if (name.startsWith("xmlns")) continue;
    const local = name.slice(name.indexOf(":") + 1);
    if (local === "ID" || local === "Id" || local === "id") idCounts.set(value, (idCounts.get(value) ?? 0) + 1);
  }
}

/** Where the root's start tag is, past the XML declaration, processing instructions and comments; -1 for none. */
function skipProlog(text: string): number {
  let at = 0;
  for (;;) {
    const open = text.indexOf("<", at);
    if (open === -1) return -1;
    const next = text.charCodeAt(open + 1);
    if (next === 0x3f /* ? */) at = text.indexOf("?>", open + 2) + 2;
    else if (next === 0x21 /* ! */) at = text.indexOf("-->", open + 4) + 3;
    else return open;
    if (at === 1) return -1;
  }
}

function skipMarkupDeclaration(text: string, index: number): number {
  const [open, close] = text.startsWith("<!--", index)
    ? ["<!--", "-->"]
    : text.startsWith("<![CDATA[", index)
      ? ["<![CDATA[", "]]>"]
      : ["<!", ">"];
  const end = text.indexOf(close, index + open.length);
  return end === -1 ? -1 : end + close.length;
}
