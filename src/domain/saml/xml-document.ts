// A namespace-aware view over fast-xml-parser's ordered output: elements are matched by namespace URI, never by prefix.
import * as fastXmlParser from "fast-xml-parser";
import { BreakglassError, describeError } from "../errors.js";

export const NS = {
  metadata: "urn:oasis:names:tc:SAML:2.0:metadata",
  xmldsig: "http://www.w3.org/2000/09/xmldsig#",
  xsi: "http://www.w3.org/2001/XMLSchema-instance",
} as const;

/** One entry of fast-xml-parser's `preserveOrder` output: `{ tag: children, ":@": attributes }` or `{ "#text": text }`. */
type OrderedNode = Record<string, unknown>;

/** Prefix → namespace URI, inheriting from the enclosing element through the prototype chain. */
type NamespaceScope = Readonly<Record<string, string>>;

export interface XmlElement {
  readonly namespace: string;
  readonly localName: string;
  /** The tag as written, e.g. "md:EntityDescriptor". */
  readonly qualifiedName: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly scope: NamespaceScope;
  readonly content: readonly OrderedNode[];
}

const ATTRIBUTES_KEY = ":@";
const TEXT_KEY = "#text";

/**
 * Made at the first parse: the installed command loads fast-xml-parser only then (scripts/bundle-cli.mjs), since the
 * one-pass readers (metadata-text-extract.ts, signature-fast-path.ts) answer most inspections without a tree, and
 * loading it cost every `metadata inspect` about 4 ms (issue 15).
 */
let parser: fastXmlParser.XMLParser | undefined;

function xmlParser(): fastXmlParser.XMLParser {
  parser ??= new fastXmlParser.XMLParser(PARSER_OPTIONS);
  return parser;
}

const PARSER_OPTIONS: fastXmlParser.X2jOptions = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseTagValue: false,
  parseAttributeValue: false,
  // Never trim: fast-xml-parser's trimValues trims attribute values too, and an attribute is reported exactly as
  // written (an entityID with surrounding spaces is not the entityID without them).
  trimValues: false,
  // Drops the whitespace-only text nodes between elements instead (a third of a large aggregate's objects); every
  // text value we read is whitespace-insensitive (base64) or trimmed by its reader.
  tagValueProcessor: (_tagName: string, value: string) => (isWhitespaceOnly(value) ? "" : value),
  processEntities: true,
  htmlEntities: true, // decodes character references; named entities beyond the XML five were refused before parsing
  ignoreDeclaration: true,
  ignorePiTags: true,
};

function isWhitespaceOnly(value: string): boolean {
  return !/\S/.test(value);
}

const ROOT_SCOPE: NamespaceScope = Object.freeze(
  Object.assign(Object.create(null) as Record<string, string>, { xml: "http://www.w3.org/XML/1998/namespace", "": "" }),
);

/** Parses text that `assertSafeXml` accepted and returns its document element. */
export function parseXmlDocument(text: string, input: string): XmlElement {
  let nodes: unknown;
  try {
    nodes = xmlParser().parse(text);
  } catch (error) {
    throw new BreakglassError("XML_MALFORMED", input, `not well-formed XML: ${describeError(error)}`);
  }
  if (Array.isArray(nodes)) {
    for (const node of nodes as OrderedNode[]) {
      const element = toElement(node, ROOT_SCOPE, input);
      if (element) return element;
    }
  }
  throw new BreakglassError("XML_MALFORMED", input, "the document has no root element");
}

/** The child elements of `parent`, in document order. */
export function childElements(parent: XmlElement, input: string): XmlElement[] {
  const elements: XmlElement[] = [];
  for (const node of parent.content) {
    const element = toElement(node, parent.scope, input);
    if (element) elements.push(element);
  }
  return elements;
}

/** The concatenated text of `element` and its descendants (comments and CDATA boundaries vanish). */
export function textContent(element: XmlElement): string {
  let text = "";
  const visit = (nodes: readonly OrderedNode[]): void => {
    for (const node of nodes) {
      const value = node[TEXT_KEY];
      if (typeof value === "string") {
        text += value;
        continue;
      }
      const name = tagOf(node);
      const children = name === undefined ? undefined : node[name];
      if (Array.isArray(children)) visit(children as OrderedNode[]);
    }
  };
  visit(element.content);
  return text;
}

export function is(element: XmlElement, namespace: string, localName: string): boolean {
  return element.localName === localName && element.namespace === namespace;
}

function tagOf(node: OrderedNode): string | undefined {
  for (const key in node) {
    if (key !== ATTRIBUTES_KEY && key !== TEXT_KEY) return key;
  }
  return undefined;
}

function toElement(node: OrderedNode, parentScope: NamespaceScope, input: string): XmlElement | undefined {
  const qualifiedName = tagOf(node);
  if (qualifiedName === undefined || qualifiedName.startsWith("?") || qualifiedName.startsWith("!")) return undefined;
  const attributes = (node[ATTRIBUTES_KEY] ?? {}) as Record<string, string>;
  let scope = parentScope;
  for (const name in attributes) {
    if (name === "xmlns" || name.startsWith("xmlns:")) {
      if (scope === parentScope) scope = Object.create(parentScope) as NamespaceScope;
      // defineProperty, because plain assignment cannot shadow a read-only property of the frozen root scope.
      Object.defineProperty(scope, name === "xmlns" ? "" : name.slice(6), {
        value: String(attributes[name]),
        enumerable: true,
      });
    }
  }
  const colon = qualifiedName.indexOf(":");
  const prefix = colon === -1 ? "" : qualifiedName.slice(0, colon);
  const namespace = scope[prefix];
  if (namespace === undefined) {
    throw new BreakglassError(
      "XML_MALFORMED",
      input,
      `element <${qualifiedName}> uses the undeclared namespace prefix "${prefix}"`,
    );
  }
  const content = node[qualifiedName];
  return {
    namespace,
    localName: colon === -1 ? qualifiedName : qualifiedName.slice(colon + 1),
    qualifiedName,
    attributes,
    scope,
    content: Array.isArray(content) ? (content as OrderedNode[]) : [],
  };
}
