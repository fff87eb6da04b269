// Runbook text templates: `${inputs.name}`, `${artefacts.name}`, `${run.id}`, `${run.initiator}`, and `$${` for a literal `${`.
import { BreakglassError } from "../errors.js";

/** What a run itself offers to templates, besides its inputs and artefacts. */
export const RUN_VARIABLES = ["id", "initiator"] as const;
export type RunVariable = (typeof RUN_VARIABLES)[number];

export type TemplatePart =
  { readonly kind: "text"; readonly text: string } | { readonly kind: "reference"; readonly reference: string };

export type TemplateScan =
  | { readonly parts: readonly TemplatePart[]; readonly error?: undefined }
  | { readonly parts?: undefined; readonly error: string };

export interface Reference {
  readonly scope: "inputs" | "artefacts" | "run";
  readonly name: string;
}

/** A value a reference stands for: text, or a list input's items. */
export type TemplateValue = string | readonly string[];
export type ReferenceLookup = (reference: Reference) => TemplateValue | undefined;

const REFERENCE = /^(inputs|artefacts|run)\.([A-Za-z0-9-]+)$/;
const WHOLE_REFERENCE = /^\$\{([^}]*)\}$/;

/** Splits a template into text and references; an opening `${` without its `}` is an error, never silent text. */
export function scanTemplate(template: string): TemplateScan {
  const parts: TemplatePart[] = [];
  let text = "";
  let index = 0;
  while (index < template.length) {
    // Shell snippets in instructions need a literal `${VAR}`: `$${VAR}` writes it.
    if (template.startsWith("$${", index)) {
      text += "${";
      index += 3;
    } else if (template.startsWith("${", index)) {
      const end = template.indexOf("}", index + 2);
      if (end < 0) return { error: `has a "\${" without its closing "}" (write $\${ for a literal \${)` };
      if (text !== "") parts.push({ kind: "text", text });
      text = "";
      parts.push({ kind: "reference", reference: template.slice(index + 2, end).trim() });
      index = end + 1;
    } else {
      text += template.charAt(index);
      index += 1;
    }
  }
  if (text !== "") parts.push({ kind: "text", text });
  return { parts };
}

/** `inputs.ttl` → { scope: "inputs", name: "ttl" }; undefined when it is not a reference breakglass knows the shape of. */
export function parseReference(reference: string): Reference | undefined {
  const match = REFERENCE.exec(reference);
  if (match === null) return undefined;
  const [, scope, name] = match;
  if ((scope !== "inputs" && scope !== "artefacts" && scope !== "run") || name === undefined) return undefined;
  return { scope, name };
}

/** The reference when the value is exactly one `${…}` and nothing else: such a parameter takes the value as it is (a list stays a list). */
export function wholeReference(value: string): Reference | undefined {
  const match = WHOLE_REFERENCE.exec(value.trim());
  return match?.[1] === undefined ? undefined : parseReference(match[1].trim());
}

/** Fills a template for a run: lists are joined with ", ". A reference without a value is an error, never an empty gap in a command. */
export function fillTemplate(template: string, lookup: ReferenceLookup): string {
  const scan = scanTemplate(template);
  if (scan.error !== undefined) throw new BreakglassError("RUNBOOK_INVALID", oneLineExcerpt(template), scan.error);
  return scan.parts
    .map((part) => {
      if (part.kind === "text") return part.text;
      const value = valueOf(part.reference, lookup);
      return typeof value === "string" ? value : value.join(", ");
    })
    .join("");
}

/** An action parameter's value for a run: a whole reference keeps its input's shape, anything else is filled as text. */
export function resolveParameter(value: string | readonly string[], lookup: ReferenceLookup): TemplateValue {
  if (typeof value !== "string") return value.map((item) => fillTemplate(item, lookup));
  const whole = wholeReference(value);
  return whole === undefined ? fillTemplate(value, lookup) : valueOf(`${whole.scope}.${whole.name}`, lookup);
}

function valueOf(reference: string, lookup: ReferenceLookup): TemplateValue {
  const parsed = parseReference(reference);
  const value = parsed === undefined ? undefined : lookup(parsed);
  if (value === undefined) throw new BreakglassError("RUNBOOK_INVALID", `\${${reference}}`, "has no value in this run");
  return value;
}

function oneLineExcerpt(template: string): string {
  const flat = template.replace(/\s+/g, " ").trim();
  return flat.length > 60 ? `${flat.slice(0, 59)}…` : flat;
}
