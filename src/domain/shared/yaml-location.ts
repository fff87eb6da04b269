// Where a schema path lands in a parsed YAML file (its line) and what the file holds there, for config and runbook problems.
import { isAlias, isMap, isNode, isScalar, isSeq, visit, type Alias, type Document, type LineCounter } from "yaml";
import { describeError, oneLine } from "../errors.js";

export interface YamlSource {
  readonly text: string;
  readonly document: Document.Parsed;
  readonly lineCounter: LineCounter;
}

export interface Location {
  readonly found: boolean;
  readonly node: unknown;
  /** The line of the key (or list item) the path ends at, or of the deepest one that exists. */
  readonly line: number | null;
}

export function locate(source: YamlSource, path: readonly PropertyKey[]): Location {
  let node: unknown = source.document.contents;
  let line: number | null = null;
  for (const segment of path) {
    const current = isAlias(node) ? node.resolve(source.document) : node;
    if (isMap(current)) {
      const pair = current.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair === undefined) return { found: false, node: undefined, line };
      line = lineOf(source, pair.key) ?? line;
      node = pair.value;
    } else if (isSeq(current) && typeof segment === "number" && current.items[segment] !== undefined) {
      node = current.items[segment];
      line = lineOf(source, node) ?? line;
    } else {
      return { found: false, node: undefined, line };
    }
  }
  return { found: true, node, line };
}

export function lineOf(source: YamlSource, node: unknown): number | null {
  if (!isNode(node) || !node.range) return null;
  return source.lineCounter.linePos(node.range[0]).line;
}

/** What the file holds at a node, as written, for "got …". */
export function describeNode(source: YamlSource, node: unknown): string {
  if (isAlias(node)) return `*${node.source}`;
  if (isMap(node)) return node.items.length === 0 ? "an empty mapping" : "a mapping";
  if (isSeq(node)) return node.items.length === 0 ? "an empty list" : "a list";
  if (!isScalar(node)) return "nothing";
  const written = (node.range ? source.text.slice(node.range[0], node.range[1]) : String(node.value)).trim();
  if (written === "") return "nothing";
  if (written === '""' || written === "''") return "an empty string";
  const shown = oneLine(written, 80);
  // An unquoted 012345678901 silently becomes 12345678901: show both, since the difference is the whole problem.
  if (typeof node.value === "number" && node.type === "PLAIN" && String(node.value) !== written) {
    return `${shown} (YAML reads it as the number ${node.value}; put it in quotes to keep it as written)`;
  }
  return shown;
}

/**
 * Why resolving the document's aliases failed, and where: too many expansions (an alias bomb, refused)
 * or an alias before its anchor. `what` names the kind of file, e.g. "a runbook".
 */
export function describeAliasFailure(
  source: YamlSource,
  error: unknown,
  what: string,
): { line: number | null; message: string } {
  let firstAlias: Alias | undefined;
  visit(source.document, {
    Alias(_key, node) {
      firstAlias = node;
      return visit.BREAK;
    },
  });
  const line = firstAlias === undefined ? null : lineOf(source, firstAlias);
  const alias = firstAlias === undefined ? "an alias" : `*${firstAlias.source}`;
  const message = describeError(error).startsWith("Excessive alias count")
    ? `refused: YAML aliases (${alias}) expand to too much data; ${what} needs few or none`
    : `invalid YAML: ${alias} does not refer to an anchor defined before it`;
  return { line, message };
}
