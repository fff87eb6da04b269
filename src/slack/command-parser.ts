// Reads the text of `/breakglass <text>` into one command, or a one-line problem naming what was wrong; never throws, whatever was typed.
import { closestName } from "../domain/shared/closest-name.js";
import { DURATION_DESCRIPTION, parseDuration } from "../domain/shared/duration.js";
import { truncate } from "./mrkdwn.js";

/** Every value given for each input, in order, as typed: which are lists is known only once the runbook is (src/application/runbook-inputs.ts). */
export type { GivenInputs } from "../application/runbook-inputs.js";
import type { GivenInputs } from "../application/runbook-inputs.js";

export type SlashCommand =
  | { readonly kind: "help" }
  | { readonly kind: "status" }
  | { readonly kind: "check" }
  | { readonly kind: "runbook-list" }
  | {
      readonly kind: "runbook-start";
      readonly runbookId: string;
      readonly inputs: GivenInputs;
      readonly dryRun: boolean;
    }
  /** Without a run id: the open runs. */
  | { readonly kind: "runbook-status"; readonly runId: string | null }
  /** ttlMilliseconds null: the configured slack.grant.defaultTtl. */
  | { readonly kind: "grant"; readonly userId: string; readonly ttlMilliseconds: number | null }
  | { readonly kind: "revoke"; readonly userId: string }
  | { readonly kind: "incident-declare"; readonly title: string }
  /** Without a reference: the one open incident (refused, naming them, when runbooks opened several). */
  | { readonly kind: "incident-close"; readonly incident?: string }
  /** Opens the modal that takes a SAML response as a file upload (a slash command carries text only). */
  | { readonly kind: "saml-preflight"; readonly role: string | null }
  | { readonly kind: "usage"; readonly problem: string };

export type SlashCommandKind = SlashCommand["kind"];

export const COMMAND_WORDS = [
  "help",
  "status",
  "check",
  "runbook",
  "grant",
  "revoke",
  "incident",
  "preflight",
] as const;
const RUNBOOK_WORDS = ["list", "start", "status"] as const;
const INCIDENT_WORDS = ["declare", "close"] as const;
/** What `incident declare` names an incident (INC-20261125-0342) and what runbooks are given (INC-4711, SEC-12). */
const INCIDENT_REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._:#/-]{0,99}$/;

export const MAX_INCIDENT_TITLE = 150;
const RUNBOOK_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const INPUT_NAME = /^[a-z][a-zA-Z0-9]*$/;
// Phones turn `--` into a dash as it is typed.
const FLAG = /^(?:--|—|–)([A-Za-z-]*)$/;
const OPENING_QUOTES = new Set(['"', "“", "„"]);
const CLOSING_QUOTES = new Set(['"', "”", "“"]);

/** A piece of a token: typed text (entities decoded), or one `<…>` Slack put in for a mention or a link. */
type Part =
  | { readonly kind: "text"; readonly value: string; readonly quoted: boolean }
  | { readonly kind: "markup"; readonly inner: string };

interface Token {
  readonly parts: readonly Part[];
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

/** The command in the text of `/breakglass <text>`; empty text is help. */
export function parseSlashCommand(text: string): SlashCommand {
  try {
    return parse(typeof text === "string" ? text : "");
  } catch (error) {
    // Not expected: a parser for text from anyone in the workspace must still never take the app down.
    return usage(`could not read the command (${error instanceof Error ? error.message : "unknown error"})`);
  }
}

function parse(text: string): SlashCommand {
  const words = splitWords(text);
  const first = words[0];
  if (first === undefined) return { kind: "help" };
  const command = first.word.toLowerCase();
  const rest = words.slice(1);
  switch (command) {
    case "help":
    case "?":
      return { kind: "help" };
    case "status":
    case "check":
      if (rest.length > 0)
        return usage(`${command} takes nothing after it, got ${showTyped(text.slice(first.end).trim())}`);
      return command === "status" ? { kind: "status" } : { kind: "check" };
    case "runbook":
      return parseRunbook(text, rest);
    case "grant":
      return parseGrant(text.slice(first.end));
    case "revoke":
      return parseRevoke(text.slice(first.end));
    case "incident":
      return parseIncident(text, rest);
    case "preflight":
      return parsePreflight(text, rest);
    default:
      return usage(`unknown command ${showTyped(first.word)}${suggestion(command, COMMAND_WORDS)}`);
  }
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

function parsePreflight(text: string, words: readonly Word[]): SlashCommand {
  const [role, ...extra] = words;
  if (role === undefined) return { kind: "saml-preflight", role: null };
  if (extra.length > 0 || !ROLE_ARN.test(role.word))
    return usage(
      `preflight takes at most a role ARN (arn:aws:iam::<account>:role/<name>), got ${showTyped(text.slice(role.end - role.word.length).trim())}`,
    );
  return { kind: "saml-preflight", role: role.word };
}

function parseRunbook(text: string, words: readonly Word[]): SlashCommand {
  const sub = words[0];
  if (sub === undefined) return usage("runbook needs a subcommand: list, start or status");
  const after = text.slice(sub.end);
  switch (sub.word.toLowerCase()) {
    case "list":
      return words.length === 1
        ? { kind: "runbook-list" }
        : usage(`runbook list takes nothing after it, got ${showTyped(after.trim())}`);
    case "start":
      return parseRunbookStart(after);
    case "status": {
      const runId = words[1];
      if (runId === undefined) return { kind: "runbook-status", runId: null };
      if (words.length > 2) return usage(`runbook status takes one run id, got ${showTyped(after.trim())}`);
      return RUN_ID.test(runId.word)
        ? { kind: "runbook-status", runId: runId.word }
        : usage(`${showTyped(runId.word)} is not a run id`);
    }
    default:
      return usage(
        `unknown runbook subcommand ${showTyped(sub.word)}${suggestion(sub.word.toLowerCase(), RUNBOOK_WORDS)}: list, start or status`,
      );
  }
}

function parseRunbookStart(text: string): SlashCommand {
  const tokens = tokenize(text);
  if (!tokens.ok) return usage(tokens.problem);
  let runbookId: string | undefined;
  let dryRun = false;
  const inputs = new Map<string, string[]>();
  for (const token of tokens.value) {
    const whole = plainValue(token);
    const flag = isUnquotedText(token) ? FLAG.exec(whole) : null;
    if (flag !== null) {
      if (flag[1]?.toLowerCase() !== "dry-run")
        return usage(`unknown option ${show(whole)}: runbook start takes --dry-run`);
      dryRun = true;
      continue;
    }
    const pair = keyValue(token);
    if (runbookId === undefined) {
      if (pair !== undefined)
        return usage(
          `runbook start needs a runbook id before its inputs, such as: runbook start fm3-direct-federation ${pair.key}=…`,
        );
      const id = whole.toLowerCase();
      if (!RUNBOOK_ID.test(id) || id.length > 64)
        return usage(`${show(whole)} is not a runbook id (runbook list shows them)`);
      runbookId = id;
      continue;
    }
    if (pair === undefined) return usage(`expected name=value after the runbook id, got ${show(whole)}`);
    if (!INPUT_NAME.test(pair.key))
      return usage(`${show(pair.key)} is not an input name: inputs are named like incidentTitle`);
    if (pair.value.trim() === "") return usage(`${pair.key}= has no value: write ${pair.key}=… or leave it out`);
    const values = inputs.get(pair.key) ?? [];
    values.push(pair.value);
    inputs.set(pair.key, values);
  }
  if (runbookId === undefined) return usage("runbook start needs a runbook id (runbook list shows them)");
  return { kind: "runbook-start", runbookId, inputs: Object.fromEntries(inputs), dryRun };
}

function parseGrant(text: string): SlashCommand {
  const tokens = tokenize(text);
  if (!tokens.ok) return usage(tokens.problem);
  const [person, ...rest] = tokens.value;
  if (person === undefined) return usage("grant needs a person: grant @name [ttl], such as grant @ana 2h");
  const userId = mentionedUser(person);
  if (!userId.ok) return usage(userId.problem);
  if (rest.length === 0) return { kind: "grant", userId: userId.value, ttlMilliseconds: null };
  const ttl = rest.map(plainValue).join(" ");
  const milliseconds = parseDuration(ttl.toLowerCase());
  return milliseconds === undefined
    ? usage(`${show(ttl)} is not ${DURATION_DESCRIPTION}`)
    : { kind: "grant", userId: userId.value, ttlMilliseconds: milliseconds };
}

function parseRevoke(text: string): SlashCommand {
  const tokens = tokenize(text);
  if (!tokens.ok) return usage(tokens.problem);
  const [person, ...rest] = tokens.value;
  if (person === undefined) return usage("revoke needs a person: revoke @name");
  const userId = mentionedUser(person);
  if (!userId.ok) return usage(userId.problem);
  if (rest.length > 0)
    return usage(`revoke takes only the person, got ${show(rest.map(plainValue).join(" "))} after them`);
  return { kind: "revoke", userId: userId.value };
}

function parseIncident(text: string, words: readonly Word[]): SlashCommand {
  const sub = words[0];
  if (sub === undefined) return usage("incident needs a subcommand: declare <title> or close");
  switch (sub.word.toLowerCase()) {
    case "declare": {
      // The rest of the line as typed: quotes and equals signs are part of a title.
      const title = slackTextToPlain(text.slice(sub.end)).replace(/\s+/g, " ").trim();
      if (title === "") return usage("incident declare needs a title, such as: incident declare IdP down");
      if (title.length > MAX_INCIDENT_TITLE)
        return usage(`the incident title has ${title.length} characters; keep it to ${MAX_INCIDENT_TITLE}`);
      return { kind: "incident-declare", title };
    }
    case "close": {
      const reference = words[1];
      if (reference === undefined) return { kind: "incident-close" };
      if (words.length > 2)
        return usage(
          `incident close takes one incident reference at most, got ${showTyped(text.slice(sub.end).trim())}`,
        );
      if (!INCIDENT_REFERENCE.test(reference.word))
        return usage(`${showTyped(reference.word)} is not an incident reference, such as INC-20261125-0342`);
      return { kind: "incident-close", incident: reference.word };
    }
    default:
      return usage(
        `unknown incident subcommand ${showTyped(sub.word)}${suggestion(sub.word.toLowerCase(), INCIDENT_WORDS)}: declare or close`,
      );
  }
}

/**
 * The user a token mentions. With "Escape channels, users, and links" on, Slack sends a person picked from the
 * autocomplete as `<@U…|name>`; a name typed by hand arrives as plain text and could be anyone's, so it is refused.
 */
function mentionedUser(token: Token): Result<string> {
  const [part, ...others] = token.parts;
  if (part?.kind === "markup" && others.length === 0) {
    const user = /^@([UW][A-Z0-9]{2,})(?:\|[^]*)?$/.exec(part.inner);
    if (user !== null) return { ok: true, value: user[1] as string };
    if (part.inner.startsWith("!subteam^"))
      return { ok: false, problem: `${show(plainValue(token))} is a user group: name one person` };
    return { ok: false, problem: `${show(plainValue(token))} is not a person: pick one from the @ autocomplete` };
  }
  return {
    ok: false,
    problem: `${show(plainValue(token))} is not a Slack mention: type @ and pick the person from the autocomplete list, so that Slack sends who they are`,
  };
}

/** `name=value` when the token starts with an unquoted name and an equals sign. */
function keyValue(token: Token): { key: string; value: string } | undefined {
  const [first, ...others] = token.parts;
  if (first?.kind !== "text" || first.quoted) return undefined;
  const equals = first.value.indexOf("=");
  if (equals <= 0) return undefined;
  const value = [{ ...first, value: first.value.slice(equals + 1) }, ...others].map(partValue).join("");
  return { key: first.value.slice(0, equals), value };
}

function isUnquotedText(token: Token): boolean {
  return token.parts.every((part) => part.kind === "text" && !part.quoted);
}

function plainValue(token: Token): string {
  return token.parts.map(partValue).join("");
}

function partValue(part: Part): string {
  return part.kind === "text" ? part.value : markupToPlain(part.inner);
}

/**
 * Splits at white space outside quotes ("…", also the curly quotes phones type), with `\"` for a quote inside. A `<…>`
 * is kept whole: Slack's markup for a mention or a link, which may hold spaces. Slack sends &, < and > typed by the
 * person as &amp;, &lt; and &gt;, so those are decoded, and a `<` in the text is always Slack's.
 */
function tokenize(text: string): Result<Token[]> {
  const tokens: Token[] = [];
  let parts: Part[] = [];
  let buffer = "";
  let quoted = false;
  let inToken = false;
  let quoteStart = 0;
  const flushText = () => {
    if (buffer !== "") parts.push({ kind: "text", value: buffer, quoted });
    buffer = "";
  };
  const endToken = () => {
    flushText();
    if (inToken) tokens.push({ parts });
    parts = [];
    inToken = false;
  };
  let index = 0;
  while (index < text.length) {
    const char = text[index] as string;
    if (!quoted && /\s/.test(char)) {
      endToken();
      index += 1;
      continue;
    }
    inToken = true;
    if (!quoted && OPENING_QUOTES.has(char)) {
      flushText();
      quoted = true;
      quoteStart = index;
      // An empty pair "" is still a (quoted, empty) part, so `name=""` is seen as given empty.
      parts.push({ kind: "text", value: "", quoted: true });
      index += 1;
      continue;
    }
    if (quoted && CLOSING_QUOTES.has(char)) {
      flushText();
      quoted = false;
      index += 1;
      continue;
    }
    if (quoted && char === "\\" && (text[index + 1] === '"' || text[index + 1] === "\\")) {
      buffer += text[index + 1];
      index += 2;
      continue;
    }
    if (char === "<") {
      const close = text.indexOf(">", index + 1);
      const open = text.indexOf("<", index + 1);
      if (close > index && (open < 0 || open > close)) {
        flushText();
        parts.push({ kind: "markup", inner: text.slice(index + 1, close) });
        index = close + 1;
        continue;
      }
    }
    if (char === "&") {
      const entity = /^&(amp|lt|gt);/.exec(text.slice(index, index + 5));
      if (entity !== null) {
        buffer += ENTITIES[entity[1] as keyof typeof ENTITIES];
        index += entity[0].length;
        continue;
      }
    }
    buffer += char;
    index += 1;
  }
  if (quoted) return { ok: false, problem: `a quote is not closed: ${show(text.slice(quoteStart).trim())}` };
  endToken();
  return { ok: true, value: tokens.filter((token) => token.parts.length > 0) };
}

const ENTITIES = { amp: "&", lt: "<", gt: ">" } as const;

/**
 * What a person typed, from Slack's markup for it: a link `<url|label>` shows the label (Slack adds the scheme to a
 * typed domain), a mention `<@U…|name>` shows @name.
 */
function markupToPlain(inner: string): string {
  const bar = inner.indexOf("|");
  const target = bar < 0 ? inner : inner.slice(0, bar);
  const label = bar < 0 ? undefined : inner.slice(bar + 1);
  if (target.startsWith("@")) return `@${label ?? target.slice(1)}`;
  if (target.startsWith("#")) return `#${label ?? target.slice(1)}`;
  if (target.startsWith("!subteam^")) return label ?? `@${target.slice("!subteam^".length)}`;
  if (target.startsWith("!")) return label ?? `@${target.slice(1).split("^")[0] ?? ""}`;
  return decodeEntities(label ?? target.replace(/^mailto:/i, ""));
}

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt);/g, (_, name: keyof typeof ENTITIES) => ENTITIES[name]);
}

/** Slack's text (markup and escaped characters) as the person typed it. */
export function slackTextToPlain(text: string): string {
  let plain = "";
  let index = 0;
  while (index < text.length) {
    const open = text.indexOf("<", index);
    const close = open < 0 ? -1 : text.indexOf(">", open + 1);
    if (open < 0 || close < 0) {
      plain += decodeEntities(text.slice(index));
      break;
    }
    plain += decodeEntities(text.slice(index, open)) + markupToPlain(text.slice(open + 1, close));
    index = close + 1;
  }
  return plain;
}

interface Word {
  readonly word: string;
  readonly end: number;
}

function splitWords(text: string): Word[] {
  return [...text.matchAll(/\S+/g)].map((match) => ({ word: match[0], end: match.index + match[0].length }));
}

function usage(problem: string): SlashCommand {
  return { kind: "usage", problem };
}

/** A value quoted inside a problem: one line, and short. */
function show(value: string): string {
  const line = value.replace(/\s+/g, " ");
  return `"${truncate(line, 60)}"`;
}

/** Like show, for a piece of the text as Slack sent it. */
function showTyped(text: string): string {
  return show(slackTextToPlain(text));
}

function suggestion(word: string, candidates: readonly string[]): string {
  if (word.length > 40) return "";
  const closest = closestName(word, candidates);
  return closest === undefined ? "" : ` (did you mean ${closest}?)`;
}
