// Measures, in one linear pass over the text, the shape that makes signature verification expensive, and finds stray signatures.
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
