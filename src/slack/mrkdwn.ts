// Text made safe and readable for Slack's mrkdwn: escaping, secret and URL redaction, mentions, truncation and dates.
import { personName } from "../domain/identity/actor.js";

/**
 * Makes text safe inside mrkdwn: Slack's three control characters, and the broadcast words, which a runbook input or
 * an error could otherwise turn into a notification for a whole channel.
 */
export function escapeMrkdwn(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/@(here|channel|everyone)\b/gi, "@\u2060$1");
}

const SECRET_PATTERNS: readonly [RegExp, string][] = [
  // A URL's user:password (a metadata source fetched with basic auth).
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi, "$1[redacted]@"],
  [/\bxox[a-z]-[A-Za-z0-9-]+/g, "[redacted Slack token]"],
  [/\bxapp-[A-Za-z0-9-]+/g, "[redacted Slack token]"],
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, "[redacted AWS key id]"],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, "[redacted token]"],
  // SSWS is Okta's API token scheme.
  [/\b(Bearer|Basic|SSWS)\s+[A-Za-z0-9._~+/=-]{8,}/gi, "$1 [redacted]"],
  [
    /\b(token|access_token|password|secret|client_secret|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)=[^&\s]+/gi,
    "$1=[redacted]",
  ],
];

/**
 * Blanks anything shaped like a credential. What breakglass shows comes from runbooks, checks and errors, none of
 * which should hold one; an error quoting a request URL or header is the way one could slip through.
 */
export function redactSecrets(text: string): string {
  return SECRET_PATTERNS.reduce((result, [pattern, replacement]) => result.replace(pattern, replacement), text);
}

/**
 * Cuts every URL's query, fragment and user:password. A finding can quote where metadata came from, and a presigned
 * URL carries its credential in the query. Not for runbook text, whose switch-role and console links need their query.
 */
export function redactUrls(text: string): string {
  return text.replace(
    /\b(https?:\/\/)(?:[^\s/?#@]*@)?([^\s?#]*)(\?[^\s#]*)?(#\S*)?/gi,
    (_match, scheme: string, rest: string, query?: string, fragment?: string) => {
      // Punctuation that ends the sentence ("…?token=x: HTTP 403.") is not part of the URL and is kept.
      const tail = /[.,;:!)\]]+$/.exec(`${query ?? ""}${fragment ?? ""}`)?.[0] ?? "";
      return `${scheme}${rest}${query !== undefined || fragment !== undefined ? "?…" : ""}${tail}`;
    },
  );
}

/**
 * Text quoted from a finding, a metadata source or an error, for mrkdwn: every URL without its userinfo and query,
 * anything else shaped like a credential blanked, escaped, then cut to `limit` (cut after redacting, so a cut never
 * leaves half a secret that the patterns no longer recognise).
 */
export function quotedText(text: string, limit: number): string {
  return escapeMrkdwn(truncate(redactSecrets(redactUrls(text)), limit));
}

/**
 * Free text for mrkdwn, redacted and escaped. A `slack:U…` in it stays text: what someone typed (a reason, an answer, a
 * title) must never notify a person; only breakglass's own references to people become mentions (mentionKnownActors).
 */
export function slackText(text: string): string {
  return escapeMrkdwn(redactSecrets(text));
}

/**
 * Each `slack:U…` actor in a text that is one of `actors` (the people breakglass itself names: an approver, an
 * initiator) as a mention, which Slack shows as their name; any other `slack:U…` stays text.
 */
export function mentionKnownActors(text: string, actors: readonly string[]): string {
  return text.replace(/\bslack:([UW][A-Z0-9]+)\b/g, (actor, id: string) =>
    actors.includes(actor) ? `<@${id}>` : actor,
  );
}

/**
 * An actor as the audit log records it: `slack:U123` becomes a mention, `person:alice` the person's name; anything else
 * (a CLI operator) shows as written.
 */
export function mentionActor(actor: string): string {
  const match = /^slack:([UW][A-Z0-9]+)$/.exec(actor);
  if (match !== null) return `<@${match[1]}>`;
  // A person of breakglass.yaml's people, by the name the config gives them rather than the audit log's "person:" id.
  return escapeMrkdwn(personName(actor) ?? actor);
}

/** A configured principal or a user Slack named, as a mention: `U…`/`W…` a person, `S…` a user group. */
export function mentionPrincipal(id: string): string {
  return id.startsWith("S") ? `<!subteam^${id}>` : `<@${id}>`;
}

/** Code span content: a backtick inside would end it early. */
export function code(text: string): string {
  return `\`${escapeMrkdwn(text).replace(/`/g, "'")}\``;
}

/** Text cut to at most `limit` UTF-16 units, ending in "…" when cut; never in the middle of a character. */
export function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${cutText(text, Math.max(0, limit - 1))}…`;
}

const GRAPHEMES = new Intl.Segmenter("en", { granularity: "grapheme" });

/**
 * The longest start of `text` of at most `length` UTF-16 units that ends between grapheme clusters: a cut by unit can
 * split an emoji's surrogate pair (or a flag, a skin tone, a family), which Slack shows as a broken character.
 */
export function cutText(text: string, length: number): string {
  if (text.length <= length) return text;
  let end = 0;
  for (const { segment } of GRAPHEMES.segment(text)) {
    if (end + segment.length > length) break;
    end += segment.length;
  }
  return text.slice(0, end);
}

/** A list of lines, the first `limit` and then how many more: long lists are what make a message unreadable on a phone. */
export function limitedLines(lines: readonly string[], limit: number, more: (count: number) => string): string[] {
  if (lines.length <= limit) return [...lines];
  return [...lines.slice(0, limit), more(lines.length - limit)];
}

/** "2026-11-20 08:15 UTC": a time to the minute, for plain text and for clients that cannot show a Slack date. */
export function utcMinute(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** A time every reader sees in their own timezone, with the UTC time for clients that cannot show it. */
export function slackDate(at: Date): string {
  return `<!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} {time}|${utcMinute(at)}>`;
}
