// Today's two passes before they were merged, kept as the oracle of test/domain/saml/signature-structure.test.ts:
// measureSignatureShape as signature-shape.ts had it, and readStructure as signature-fast-path.ts had it.
import type { StraySignatures } from "../../src/domain/saml/metadata-model.js";
import {
  declare,
  findTagEnd as findStartTagEnd,
  readStartTag,
  ROOT_NAMESPACE_SCOPE,
  type NamespaceScope,
  type TagAttribute,
} from "../../src/domain/saml/exclusive-canonicalization.js";
import { NS } from "../../src/domain/saml/xml-document.js";

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

const MAX_PLACES = 5;

type Kind = "entities" | "entity" | "signature" | "reference" | "transform" | "other";

/** What each open element is, and whether a Signature directly inside it would be verified. */
interface Frame {
  readonly kind: Kind;
  /** Where the element's qualified name is in the text: sliced only to name a stray Signature's place. */
  readonly nameStart: number;
  readonly nameEnd: number;
  readonly scope: Readonly<Record<string, string>>;
  /** An EntitiesDescriptor or EntityDescriptor reached from the root through EntitiesDescriptors only. */
  readonly readByBreakglass: boolean;
  references: number;
  transforms: number;
}

const ROOT_SCOPE: Readonly<Record<string, string>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, string>, { "": "" }),
);
const NAMESPACE_DECLARATION = /\sxmlns(?::([^\s=/>]+))?\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/**
 * Counts elements, nesting, Signatures, References and Transforms by namespace URI, never by prefix.
 * Runs on text `assertSafeXml` accepted, so tags are well-formed; it allocates per open element only (one frame; a
 * tag's name is read in place, and sliced only for the few local names that matter).
 */
export function measureSignatureShape(text: string): SignatureShape {
  const stack: Frame[] = [];
  let elements = 0;
  let depth = 0;
  let signatures = 0;
  let referencesPerSignature = 0;
  let transformsPerReference = 0;
  let strayCount = 0;
  const places: string[] = [];

  // Where the next "xmlns" is, found again only once passed: one search per declaration, not one per tag.
  let nextDeclaration = text.indexOf("xmlns");
  let index = text.indexOf("<");
  while (index !== -1) {
    const next = text.charCodeAt(index + 1);
    if (next === 0x21 /* ! */) {
      index = skipMarkupDeclaration(text, index);
    } else if (next === 0x3f /* ? */) {
      const end = text.indexOf("?>", index + 2);
      index = end === -1 ? -1 : end + 2;
    } else if (next === 0x2f /* / */) {
      stack.pop();
      index = text.indexOf(">", index + 2);
    } else {
      const end = findTagEnd(text, index + 1);
      if (end === -1) break;
      const selfClosing = text.charCodeAt(end - 1) === 0x2f;
      const parent = stack.at(-1);
      const tagEnd = selfClosing ? end - 1 : end;
      const nameStart = index + 1;
      const nameEnd = tagNameEnd(text, nameStart, tagEnd);
      if (nextDeclaration !== -1 && nextDeclaration < index) nextDeclaration = text.indexOf("xmlns", index);
      const scope =
        nextDeclaration !== -1 && nextDeclaration < tagEnd
          ? declareNamespaces(text.slice(index + 1, tagEnd), parent?.scope ?? ROOT_SCOPE)
          : (parent?.scope ?? ROOT_SCOPE);
      const kind = kindOf(text, nameStart, nameEnd, scope);
      elements++;

      if (kind === "signature") {
        signatures++;
        const verified =
          parent !== undefined && parent.readByBreakglass && (stack.length === 1 || parent.kind === "entity");
        if (!verified) {
          strayCount++;
          if (places.length < MAX_PLACES)
            places.push(stack.map((frame) => text.slice(frame.nameStart, frame.nameEnd)).join("/") || "(document)");
        }
      } else if (kind === "reference") {
        const signature = innermost(stack, "signature");
        if (signature) referencesPerSignature = Math.max(referencesPerSignature, ++signature.references);
      } else if (kind === "transform") {
        const reference = innermost(stack, "reference");
        if (reference) transformsPerReference = Math.max(transformsPerReference, ++reference.transforms);
      }

      if (!selfClosing) {
        const readByBreakglass =
          (kind === "entities" || kind === "entity") &&
          (parent === undefined || (parent.readByBreakglass && parent.kind === "entities"));
        stack.push({ kind, nameStart, nameEnd, scope, readByBreakglass, references: 0, transforms: 0 });
        depth = Math.max(depth, stack.length);
      }
      index = end + 1;
    }
    index = index === -1 ? -1 : text.indexOf("<", index);
  }
  return {
    elements,
    depth,
    signatures,
    referencesPerSignature,
    transformsPerReference,
    straySignatures: { count: strayCount, places },
  };
}

/** The end of the tag name that starts at `from`: the first whitespace or "/" before `to`, or `to`. */
export function tagNameEnd(text: string, from: number, to: number): number {
  let end = from;
  // Printable ASCII is read here; anything else goes to the regular expression (\s knows every Unicode space).
  for (let code = text.charCodeAt(end); end < to && code > 0x20 && code < 0x7f && code !== 0x2f;)
    code = text.charCodeAt(++end);
  if (end < to && text.charCodeAt(end) > 0x7e) return from + text.slice(from, to).search(/[\s/]|$/);
  return end;
}

/** What the element named by text[nameStart, nameEnd) is, read in place: one slice only for the local names that matter. */
function kindOf(text: string, nameStart: number, nameEnd: number, scope: Readonly<Record<string, string>>): Kind {
  let colon = -1;
  for (let at = nameStart; at < nameEnd; at++) {
    if (text.charCodeAt(at) === 0x3a /* : */) {
      colon = at;
      break;
    }
  }
  const localStart = colon === -1 ? nameStart : colon + 1;
  const localLength = nameEnd - localStart;
  if (
    named(text, localStart, localLength, "EntitiesDescriptor") ||
    named(text, localStart, localLength, "EntityDescriptor")
  ) {
    if (namespaceOf(text, nameStart, colon, scope) !== NS.metadata) return "other";
    return localLength === 16 ? "entity" : "entities";
  }
  if (localLength !== 9) return "other";
  const kind = named(text, localStart, localLength, "Signature")
    ? "signature"
    : named(text, localStart, localLength, "Reference")
      ? "reference"
      : named(text, localStart, localLength, "Transform")
        ? "transform"
        : "other";
  if (kind === "other" || namespaceOf(text, nameStart, colon, scope) !== NS.xmldsig) return "other";
  return kind;
}

function named(text: string, localStart: number, localLength: number, localName: string): boolean {
  return localLength === localName.length && text.startsWith(localName, localStart);
}

function namespaceOf(
  text: string,
  nameStart: number,
  colon: number,
  scope: Readonly<Record<string, string>>,
): string | undefined {
  return scope[colon === -1 ? "" : text.slice(nameStart, colon)];
}

function declareNamespaces(
  tag: string,
  parentScope: Readonly<Record<string, string>>,
): Readonly<Record<string, string>> {
  let scope = parentScope;
  for (const match of tag.matchAll(NAMESPACE_DECLARATION)) {
    if (scope === parentScope) scope = Object.create(parentScope) as Record<string, string>;
    // defineProperty, because plain assignment cannot shadow a read-only property of the frozen root scope.
    Object.defineProperty(scope, match[1] ?? "", { value: match[2] ?? match[3] ?? "", enumerable: true });
  }
  return scope;
}

function innermost(stack: readonly Frame[], kind: Kind): Frame | undefined {
  for (let position = stack.length - 1; position >= 0; position--) {
    if (stack[position]?.kind === kind) return stack[position];
  }
  return undefined;
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

/** Index of the ">" closing a start tag, skipping quoted attribute values. */
function findTagEnd(text: string, from: number): number {
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

/** The attribute names xml-crypto looks a Reference URI up by, in any namespace. */
const ID_LOCAL_NAMES: ReadonlySet<string> = new Set(["ID", "Id", "id"]);
const MAY_HOLD_ID = /[\s:](?:ID|Id|id)\s*=/g;

/** Where the next text that may be an ID, Id or id attribute starts from `from` on; -1 when there is none. */
function findNextId(text: string, from: number): number {
  MAY_HOLD_ID.lastIndex = from;
  return MAY_HOLD_ID.exec(text)?.index ?? -1;
}

/** An element breakglass verifies a Signature on: the root, or an EntityDescriptor of the aggregate's tree. */
export interface Container {
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

interface StructureFrame {
  readonly scope: NamespaceScope;
  readonly kind: "entities" | "entity" | "signature" | "other";
  readonly readByBreakglass: boolean;
  readonly container: Container | undefined;
  /** Set on a ds:Signature directly inside a container: where the Signature starts. */
  readonly signatureOf: { container: Container; start: number } | undefined;
}

export interface DocumentStructure {
  readonly root: Container;
  /** EntityDescriptors in document order, as metadata-extract and metadata-signature list them. */
  readonly entities: readonly Container[];
  /** How many elements carry each ID / Id / id value (xml-crypto refuses a Reference to a value on several). */
  readonly idCounts: ReadonlyMap<string, number>;
}

/** One pass over the document: its containers, their signatures, and the ID values. */
export function readStructure(text: string): DocumentStructure | undefined {
  let at = skipProlog(text);
  if (at === -1) return undefined;
  const stack: StructureFrame[] = [];
  const containers: Container[] = [];
  const idCounts = new Map<string, number>();
  let root: Container | undefined;
  let nextDeclaration = text.indexOf("xmlns", at);
  let nextId = findNextId(text, at);
  while (at !== -1 && at < text.length) {
    const open = text.indexOf("<", at);
    if (open === -1) break;
    const next = text.charCodeAt(open + 1);
    if (next === 0x2f /* / */) {
      const close = text.indexOf(">", open);
      const frame = stack.pop();
      if (!frame) return undefined;
      if (frame.container) frame.container.end = close + 1;
      if (frame.signatureOf) frame.signatureOf.container.signatures.push([frame.signatureOf.start, close + 1]);
      at = close + 1;
      if (stack.length === 0) break;
      continue;
    }
    if (next === 0x21 /* ! */) {
      at = text.startsWith("<!--", open) ? text.indexOf("-->", open + 4) + 3 : text.indexOf("]]>", open + 9) + 3;
      continue;
    }
    if (next === 0x3f /* ? */) return undefined; // a processing instruction inside the root: not the profile
    const parent = stack.at(-1);
    const parentScope = parent?.scope ?? ROOT_NAMESPACE_SCOPE;
    const close = findStartTagEnd(text, open + 1);
    if (close === -1) return undefined;
    // The next declaration and the next ID-like attribute are found again only once passed: linear, not per tag.
    if (nextDeclaration !== -1 && nextDeclaration < open) nextDeclaration = text.indexOf("xmlns", open);
    if (nextId !== -1 && nextId < open) nextId = findNextId(text, open);
    const needsAttributes = (nextDeclaration !== -1 && nextDeclaration < close) || (nextId !== -1 && nextId < close);
    const tag = needsAttributes ? readStartTag(text, open) : undefined;
    const scope = tag ? declare(parentScope, tag.attributes) : parentScope;
    if (!scope) return undefined;
    if (tag) countIds(tag.attributes, idCounts);
    const selfClosing = text.charCodeAt(close - 1) === 0x2f;
    const name = text.slice(open + 1, tagNameEnd(text, open + 1, close));
    const kind = structureKindOf(name, scope);
    if (kind === undefined) return undefined;

    const isRoot = parent === undefined;
    const readByBreakglass =
      (kind === "entities" || kind === "entity") && (isRoot || (parent.readByBreakglass && parent.kind === "entities"));
    let container: Container | undefined;
    if (isRoot || (kind === "entity" && readByBreakglass)) {
      container = {
        start: open,
        end: -1,
        inherited: parentScope,
        scope,
        id: tag?.attributes.find((attribute) => attribute.name === "ID")?.value ?? null,
        isRoot,
        signatures: [],
      };
      containers.push(container);
      if (isRoot) root = container;
    }
    const signatureOf =
      kind === "signature" && parent?.container ? { container: parent.container, start: open } : undefined;
    if (selfClosing) {
      if (container) container.end = close + 1;
      if (signatureOf) signatureOf.container.signatures.push([open, close + 1]);
      if (isRoot) break;
    } else {
      stack.push({ scope, kind, readByBreakglass, container, signatureOf });
    }
    at = close + 1;
  }
  if (!root || root.end === -1 || stack.length !== 0) return undefined;
  const rootTagEnd = findStartTagEnd(text, root.start + 1);
  const rootKind = structureKindOf(
    text.slice(root.start + 1, tagNameEnd(text, root.start + 1, rootTagEnd)),
    root.scope,
  );
  if (rootKind !== "entities" && rootKind !== "entity") return undefined;
  const entities = rootKind === "entity" ? [root] : containers.filter((container) => !container.isRoot);
  return { root, entities, idCounts };
}

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

/** The kind of element, or undefined for a prefix nothing declares (the fallback reports that document). */
function structureKindOf(name: string, scope: NamespaceScope): StructureFrame["kind"] | undefined {
  const colon = name.indexOf(":");
  const namespace = scope[colon === -1 ? "" : name.slice(0, colon)] ?? (colon === -1 ? "" : undefined);
  if (namespace === undefined) return undefined;
  const localName = colon === -1 ? name : name.slice(colon + 1);
  if (namespace === NS.metadata && localName === "EntitiesDescriptor") return "entities";
  if (namespace === NS.metadata && localName === "EntityDescriptor") return "entity";
  if (namespace === NS.xmldsig && localName === "Signature") return "signature";
  return "other";
}

function countIds(attributes: readonly TagAttribute[], idCounts: Map<string, number>): void {
  for (const { name, value } of attributes) {
    if (name.startsWith("xmlns")) continue;
    if (ID_LOCAL_NAMES.has(name.slice(name.indexOf(":") + 1))) idCounts.set(value, (idCounts.get(value) ?? 0) + 1);
  }
}
