// Block Kit blocks and text objects that Slack accepts: sections, context lines and headers kept within its limits.
import type { types } from "@slack/bolt";
import { truncate } from "./mrkdwn.js";

// Slack rejects a text object over 3000 characters; a little room is kept for what is appended.
export const SECTION_LIMIT = 2900;
// A context block holds at most 10 elements.
const CONTEXT_ELEMENTS = 10;
// A header holds at most 150 characters.
const HEADER_LIMIT = 150;

/** Text we wrote or escaped; Slack refuses an empty text object, so "" becomes a space. */
export function mrkdwnText(text: string): types.MrkdwnElement {
  return { type: "mrkdwn", text: text === "" ? " " : truncate(text, SECTION_LIMIT) };
}

/**
 * Plain text. Labels and headers we write keep `:emoji:` codes; text we quote turns them off (`emoji: false`), since
 * ARNs (`arn:aws:iam::…`) are full of colons.
 */
export function plainText(text: string, { emoji = true }: { readonly emoji?: boolean } = {}): types.PlainTextElement {
  return { type: "plain_text", text: text === "" ? " " : text, emoji };
}

export function sectionBlock(text: string): types.SectionBlock {
  return { type: "section", text: mrkdwnText(text) };
}

/** Quoted text as a section, shown exactly as written: finding messages hold ARNs and entity IDs full of _ and * that mrkdwn would turn into formatting. */
export function plainSectionBlock(text: string): types.SectionBlock {
  return { type: "section", text: plainText(truncate(text, SECTION_LIMIT), { emoji: false }) };
}

export function contextBlock(...texts: string[]): types.ContextBlock {
  return contextOf(texts, mrkdwnText);
}

/** Quoted details as a context line, shown exactly as written (see plainSectionBlock). */
export function plainContextBlock(...texts: string[]): types.ContextBlock {
  return contextOf(texts, (text) => plainText(truncate(text, SECTION_LIMIT), { emoji: false }));
}

export function headerBlock(text: string): types.HeaderBlock {
  return { type: "header", text: plainText(truncate(text, HEADER_LIMIT)) };
}

function contextOf(
  texts: readonly string[],
  element: (text: string) => types.MrkdwnElement | types.PlainTextElement,
): types.ContextBlock {
  const kept = texts.filter((text) => text !== "").slice(0, CONTEXT_ELEMENTS);
  return { type: "context", elements: (kept.length === 0 ? [" "] : kept).map(element) };
}
