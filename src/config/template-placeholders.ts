// Finds the keys of a configuration file that still hold an example value `config init` marked CHANGE ME.
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import { EXAMPLE_CONFIG } from "./example-config.js";
import type { ConfigProblem } from "./load-config.js";

const PLACEHOLDER_MARK = "CHANGE ME";

interface ScalarAt {
  /** The dotted key as the admin reads it, e.g. `aws.emergencyAccount.samlProviders[0]`. */
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

/** Every scalar value of a YAML text with its key and line; an unparsable text has none (the loader reports why). */
function scalarsOf(text: string): ScalarAt[] {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (document.errors.length > 0) return [];
  const found: ScalarAt[] = [];
  const walk = (node: unknown, key: string): void => {
    if (isMap(node)) {
      for (const pair of node.items)
        if (isScalar(pair.key))
          walk(pair.value, key === "" ? String(pair.key.value) : `${key}.${String(pair.key.value)}`);
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => walk(item, `${key}[${index}]`));
    } else if (isScalar(node) && node.range) {
      // Examples are strings or (an unquoted account ID) numbers; other scalars cannot be one.
      const value = node.value;
      if (typeof value === "string" || typeof value === "number")
        found.push({ key, value: String(value), line: lineCounter.linePos(node.range[0]).line });
    }
  };
  walk(document.contents, "");
  return found;
}

// `key: value  # CHANGE ME` or `- value  # CHANGE ME`, also in the template's commented-out sections, which an admin
// uncomments with their examples in place; the value may be quoted.
const MARKED_LINE = new RegExp(`^\\s*(?:#\\s*)?(?:- |[\\w]+:\\s*)("?)([^\\s"#]+)\\1\\s+# ${PLACEHOLDER_MARK}`);

/** The values the template marks as examples, read from the template itself so that the two can never disagree. */
export function templateExampleValues(): ReadonlySet<string> {
  const values = new Set<string>();
  for (const line of EXAMPLE_CONFIG.split("\n")) {
    const value = MARKED_LINE.exec(line)?.[2];
    if (value !== undefined) values.add(value);
  }
  return values;
}

/** One problem per key still holding one of the template's marked example values, in file order. */
export function findTemplatePlaceholders(text: string): ConfigProblem[] {
  const examples = templateExampleValues();
  return scalarsOf(text)
    .filter((scalar) => examples.has(scalar.value))
    .map((scalar) => ({
      line: scalar.line,
      key: scalar.key,
      message: `still the example value from \`breakglass config init\` (marked ${PLACEHOLDER_MARK}): replace it with your own`,
    }));
}
