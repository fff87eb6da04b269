// Parses runbook text into a checked Runbook, or into problems that each name the file, the line, the step or input, and the field.
import { basename } from "node:path";
import { isMap, LineCounter, parseDocument, type YAMLError } from "yaml";
import { z } from "zod";
import { BreakglassError } from "../errors.js";
import { closestName } from "../shared/closest-name.js";
import { runbookSchema, type Runbook } from "./runbook-schema.js";
import { describeAliasFailure, describeNode, lineOf, locate, type YamlSource } from "../shared/yaml-location.js";

import { MAX_RUNBOOK_BYTES, RUNBOOK_EXTENSION, runbookTooLargeReason } from "./runbook-file-rules.js";

export { MAX_RUNBOOK_BYTES, RUNBOOK_EXTENSION, runbookTooLargeReason };
// Enough to reuse a list through an anchor a few times, far too few for an exponential "billion laughs" expansion.
const MAX_ALIAS_COUNT = 20;

export interface RunbookProblem {
  /** The file as it was named. */
  readonly file: string;
  /** 1-based line in the file, or null when the problem has no place (an empty file, an unreadable one). */
  readonly line: number | null;
  /** `step "approve"`, `step 3` (by position when the id is missing or repeated), `input "ttl"`, or "" for the runbook itself. */
  readonly where: string;
  /** The field inside that step or input (`reason`, `with.members`, `onFailure.goto`), or at the top; "" when the problem is the whole file. */
  readonly field: string;
  readonly message: string;
}

export interface LoadedRunbook {
  readonly path: string;
  readonly runbook: Runbook;
}

/** `file: line N: step "id": field "name": message`, leaving out the parts a problem does not have. */
export function describeRunbookProblem(problem: RunbookProblem): string {
  return `${problem.file}: ${describeInFile(problem)}`;
}

/** The problem without its file, for messages whose input already names the file. */
function describeInFile(problem: RunbookProblem): string {
  const parts: string[] = [];
  if (problem.line !== null) parts.push(`line ${problem.line}`);
  if (problem.where !== "") parts.push(problem.where);
  if (problem.field !== "") parts.push(`field "${problem.field}"`);
  parts.push(problem.message);
  return parts.join(": ");
}

/** Parses and checks the text of a runbook file; throws RUNBOOK_INVALID naming the first problem. */
export function parseRunbook(text: string, path: string): LoadedRunbook {
  const outcome = interpretRunbookText(text, path);
  if (outcome.runbook !== undefined) return { path, runbook: outcome.runbook };
  throw invalid(path, outcome.problems);
}

/** Every problem of the text, in file order; empty when it is a valid runbook. */
export function validateRunbookText(text: string, path: string): RunbookProblem[] {
  return interpretRunbookText(text, path).problems;
}

/** A problem with the whole file (no line, step or field): unreadable, misnamed, a directory without runbooks. */
export function wholeFileProblem(file: string, message: string): RunbookProblem {
  return { file, line: null, where: "", field: "", message };
}

function invalid(path: string, problems: readonly RunbookProblem[]): BreakglassError {
  const [first, ...others] = problems;
  const reason = first === undefined ? "invalid" : describeInFile(first);
  const more =
    others.length === 0
      ? {}
      : {
          hint: `and ${others.length} more problem${others.length === 1 ? "" : "s"}; run \`breakglass runbook lint\` to list them`,
        };
  return new BreakglassError("RUNBOOK_INVALID", path, reason, more);
}

type Interpretation =
  | { readonly runbook: Runbook; readonly problems: [] }
  | { readonly runbook?: undefined; readonly problems: RunbookProblem[] };

function interpretRunbookText(text: string, path: string): Interpretation {
  const failed = (line: number | null, message: string): Interpretation => ({
    problems: [{ file: path, line, where: "", field: "", message }],
  });
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_RUNBOOK_BYTES) return failed(null, runbookTooLargeReason(bytes));

  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const source: YamlSource = { text, document, lineCounter };
  if (document.errors.length > 0) return { problems: document.errors.map((error) => yamlSyntaxProblem(path, error)) };
  if (document.contents === null)
    return failed(
      null,
      "the file is empty (only blank lines or comments); expected a runbook with id, title, failureMode, summary, inputs and steps",
    );
  if (!isMap(document.contents)) {
    return failed(
      lineOf(source, document.contents),
      `expected a runbook (a mapping with id, title, failureMode, summary, inputs and steps), got ${describeNode(source, document.contents)}`,
    );
  }

  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    return { problems: [aliasProblem(path, source, error)] };
  }
  const context: IssueContext = { path, source, data, names: namesOf(data) };
  const result = runbookSchema.safeParse(data);
  const found = result.success ? [] : result.error.issues.flatMap((issue) => problemsOfIssue(context, issue));
  const misnamed = fileNameProblem(context);
  if (misnamed !== undefined) found.push(misnamed);
  if (result.success && found.length === 0) return { runbook: result.data, problems: [] };
  return { problems: inFileOrder(withoutExplainedMissingFields(found)) };
}

function yamlSyntaxProblem(file: string, error: YAMLError): RunbookProblem {
  // yaml's own message repeats the position and quotes the source over several lines; keep the first clause.
  const reason = (error.message.split("\n")[0] ?? error.code).replace(/ at line \d+, column \d+:?$/, "");
  return {
    file,
    line: error.linePos?.[0].line ?? null,
    where: "",
    field: "",
    message: `invalid YAML: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`,
  };
}

function aliasProblem(file: string, source: YamlSource, error: unknown): RunbookProblem {
  return { file, where: "", field: "", ...describeAliasFailure(source, error, "a runbook") };
}

interface IssueContext {
  readonly path: string;
  readonly source: YamlSource;
  readonly data: unknown;
  readonly names: Names;
}

interface Names {
  readonly steps: readonly string[];
  readonly inputs: readonly string[];
}

/** How problems name each step and input: by id or name when it is there and unique, else by position. */
function namesOf(data: unknown): Names {
  const name = (items: unknown, key: string, noun: string): string[] => {
    if (!Array.isArray(items)) return [];
    const values: unknown[] = items.map((item: unknown) => (isRecord(item) ? item[key] : undefined));
    return values.map((value, index) =>
      typeof value === "string" && value !== "" && values.indexOf(value) === values.lastIndexOf(value)
        ? `${noun} "${value}"`
        : `${noun} ${index + 1}`,
    );
  };
  return isRecord(data)
    ? { steps: name(data["steps"], "id", "step"), inputs: name(data["inputs"], "name", "input") }
    : { steps: [], inputs: [] };
}

interface FoundProblem extends RunbookProblem {
  /** The schema path, to drop a "missing" problem that an unknown field's "did you mean" already explains. */
  readonly key: string;
  readonly missing?: true;
  readonly meant?: string;
}

function problemsOfIssue(context: IssueContext, issue: z.core.$ZodIssue): FoundProblem[] {
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeysAt(issue.path, context.data);
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      const suggestion = closestName(key, allowed);
      const advice =
        suggestion === undefined ? `expected one of ${allowed.join(", ")}` : `did you mean "${suggestion}"?`;
      const problem = problemAt(context, path, `unknown field (${advice})`);
      return suggestion === undefined ? problem : { ...problem, meant: keyPath([...issue.path, suggestion]) };
    });
  }
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    // `when: { step: x, outcome: faild }` is plainly the step form: report what is wrong inside it, not "got a mapping".
    const branch = closestBranch(issue.errors);
    if (branch !== undefined)
      return branch.flatMap((inner) => problemsOfIssue(context, { ...inner, path: [...issue.path, ...inner.path] }));
  }
  if (issue.code === "custom") return [problemAt(context, issue.path, issue.message)];

  const location = locate(context.source, issue.path);
  if (!location.found)
    return [{ ...problemAt(context, issue.path, `${issue.message}, but the field is missing`), missing: true }];
  let message = `${issue.message}, got ${describeNode(context.source, location.node)}`;
  const suggestion = suggestionFor(issue, valueAt(context.data, issue.path));
  if (suggestion !== undefined) message += ` (did you mean "${suggestion}"?)`;
  return [problemAt(context, issue.path, message)];
}

function problemAt(context: IssueContext, path: readonly PropertyKey[], message: string): FoundProblem {
  const [section, index] = path;
  const inSection = (section === "steps" || section === "inputs") && typeof index === "number";
  const names = section === "steps" ? context.names.steps : context.names.inputs;
  const where = inSection ? (names[index] ?? `${section === "steps" ? "step" : "input"} ${index + 1}`) : "";
  const field = keyPath(inSection ? path.slice(2) : path);
  return { file: context.path, line: locate(context.source, path).line, where, field, message, key: keyPath(path) };
}

/**
 * The one union branch the value was evidently meant as: a branch with a problem at its own root (wrong type, wrong
 * value) was not it, and of the rest the one with the fewest problems wins. Nested unions count as their branches.
 */
function closestBranch(branches: readonly (readonly z.core.$ZodIssue[])[]): readonly z.core.$ZodIssue[] | undefined {
  const flat = branches.flatMap((branch) => {
    const [only] = branch;
    return branch.length === 1 &&
      only !== undefined &&
      only.code === "invalid_union" &&
      only.path.length === 0 &&
      only.errors.length > 0
      ? only.errors
      : [branch];
  });
  const candidates = flat.filter(
    (branch) => !branch.some((inner) => inner.path.length === 0 && inner.code !== "unrecognized_keys"),
  );
  const fewest = Math.min(...candidates.map((branch) => problemCount(branch)));
  const best = candidates.filter((branch) => problemCount(branch) === fewest);
  return best.length === 1 ? best[0] : undefined;
}

function problemCount(branch: readonly z.core.$ZodIssue[]): number {
  return branch.reduce((count, issue) => count + (issue.code === "unrecognized_keys" ? issue.keys.length : 1), 0);
}

/** "Did you mean" for a misspelt value: an enum value, a step kind, an action. */
function suggestionFor(issue: z.core.$ZodIssue, value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  let candidates: unknown[] = [];
  // A single expected value is already in the message; repeating it as a guess adds nothing.
  if (issue.code === "invalid_value") candidates = issue.values.length > 1 ? issue.values : [];
  else if (issue.code === "invalid_union") {
    // A missed discriminator lists its options; a union of a few words lists them in its branches.
    const options: unknown = "options" in issue ? issue.options : undefined;
    candidates = Array.isArray(options)
      ? options
      : issue.errors
          .flat()
          .flatMap((inner) => (inner.code === "invalid_value" && inner.path.length === 0 ? inner.values : []));
  }
  return closestName(
    value,
    candidates.filter((candidate) => typeof candidate === "string"),
  );
}

function fileNameProblem(context: IssueContext): FoundProblem | undefined {
  const name = basename(context.path);
  if (!name.endsWith(RUNBOOK_EXTENSION) || !isRecord(context.data)) return undefined;
  const wanted = name.slice(0, -RUNBOOK_EXTENSION.length);
  const id = context.data["id"];
  // A missing or malformed id is the schema's to report.
  if (typeof id !== "string" || !/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(id) || id === wanted) return undefined;
  const location = locate(context.source, ["id"]);
  return problemAt(
    context,
    ["id"],
    `expected "${wanted}" (the file name without ${RUNBOOK_EXTENSION}), got ${describeNode(context.source, location.node)}`,
  );
}

// `reson:` makes `reason` missing too; the unknown field's "did you mean" already says all there is to say.
function withoutExplainedMissingFields(problems: readonly FoundProblem[]): RunbookProblem[] {
  const meant = new Set(problems.flatMap((problem) => (problem.meant === undefined ? [] : [problem.meant])));
  return problems
    .filter((problem) => !(problem.missing && meant.has(problem.key)))
    .map(({ file, line, where, field, message }) => ({ file, line, where, field, message }));
}

function inFileOrder(problems: readonly RunbookProblem[]): RunbookProblem[] {
  // Problems without a line concern the whole file and come first; sort is stable.
  return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

function keyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, segment) =>
      typeof segment === "number"
        ? `${text}[${segment}]`
        : text === ""
          ? String(segment)
          : `${text}.${String(segment)}`,
    "",
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const segment of path) {
    if (Array.isArray(value) && typeof segment === "number") value = value[segment];
    else if (isRecord(value) && typeof segment === "string") value = value[segment];
    else return undefined;
  }
  return value;
}

/** The fields the schema allows in the mapping at `path`, following the data through unions, for "did you mean". */
function allowedKeysAt(path: readonly PropertyKey[], data: unknown): string[] {
  let current: z.core.$ZodType | undefined = runbookSchema;
  let value = data;
  for (const segment of path) {
    const inner: z.core.$ZodType | undefined = current === undefined ? undefined : resolve(current, value);
    // A ZodObject reached by instanceof has a loosely typed shape; its values are schemas or absent.
    if (inner instanceof z.ZodObject)
      current = typeof segment === "string" ? (inner.shape[segment] as z.core.$ZodType | undefined) : undefined;
    else if (inner instanceof z.ZodArray) current = inner.element;
    else current = undefined;
    value = valueAt(value, [segment]);
  }
  const target = current === undefined ? undefined : resolve(current, value);
  return target instanceof z.ZodObject ? Object.keys(target.shape) : [];
}

/** The schema the value is checked against: wrappers removed, and a union narrowed to the option the value is meant as. */
function resolve(schema: z.core.$ZodType, value: unknown): z.core.$ZodType {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodNullable
    )
      current = current.unwrap();
    else if (current instanceof z.ZodPipe) current = current.in instanceof z.ZodTransform ? current.out : current.in;
    else if (current instanceof z.ZodUnion) {
      const option = optionFor(current.options, value);
      if (option === undefined) return current;
      current = option;
    } else return current;
  }
}

/** The mapping option that shares the discriminator's value (kind, action), else the most field names, with the value. */
function optionFor(options: readonly z.core.$ZodType[], value: unknown): z.core.$ZodType | undefined {
  if (!isRecord(value)) return undefined;
  let best: z.core.$ZodType | undefined;
  let bestScore = 0;
  for (const option of options) {
    const inner = resolve(option, value);
    if (!(inner instanceof z.ZodObject)) continue;
    const shape = inner.shape as Record<string, z.core.$ZodType>;
    let score = Object.keys(value).filter((key) => key in shape).length;
    for (const discriminator of ["kind", "action"]) {
      const literal = shape[discriminator];
      if (literal instanceof z.ZodLiteral && literal.values.has(value[discriminator] as never)) score += 100;
    }
    if (score > bestScore) {
      best = inner;
      bestScore = score;
    }
  }
  return best;
}
