// One check of a Block Kit payload against Slack's documented limits (@slack/types' doc comments, Slack's reference),
// used by every payload builder's tests and by the Web API stand-in, which refuses what Slack would refuse.

/** Slack refuses a message whose blocks' text totals about this much (msg_blocks_too_long; bolt-js issues 2509, 2867). */
export const MESSAGE_BLOCK_TEXT_LIMIT = 12_000;

type Node = Record<string, unknown>;

/** Every limit the payload breaks, one line each; empty when Slack would accept it. */
export function blockKitProblems(
  blocks: readonly unknown[],
  surface: "message" | "modal" | "home" = "message",
): string[] {
  const problems: string[] = [];
  const maxBlocks = surface === "message" ? 50 : 100;
  if (blocks.length > maxBlocks) problems.push(`${blocks.length} blocks, over ${maxBlocks}`);
  blocks.forEach((raw, index) => checkBlock(raw as Node, `blocks[${index}]`, problems));
  return problems;
}

/** A modal or Home view: its blocks and its own fields. */
export function viewProblems(view: Node): string[] {
  const surface = view["type"] === "modal" ? "modal" : "home";
  const problems = blockKitProblems((view["blocks"] as unknown[]) ?? [], surface);
  for (const field of ["title", "submit", "close"] as const) {
    const text = view[field] as Node | undefined;
    if (text !== undefined) checkText(text, `view.${field}`, problems, { max: 24, plain: true });
  }
  if (typeof view["private_metadata"] === "string")
    limit(view["private_metadata"], 3000, "view.private_metadata", problems);
  if (typeof view["callback_id"] === "string") limit(view["callback_id"], 255, "view.callback_id", problems);
  return problems;
}

/** The characters of every text object, as Slack adds them up for msg_blocks_too_long. */
export function blockTextTotal(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + blockTextTotal(item), 0);
  if (value === null || typeof value !== "object") return 0;
  return Object.entries(value as Node).reduce(
    (sum, [key, child]) => sum + (key === "text" && typeof child === "string" ? child.length : blockTextTotal(child)),
    0,
  );
}

function checkBlock(block: Node, at: string, problems: string[]): void {
  if (typeof block["block_id"] === "string") limit(block["block_id"], 255, `${at}.block_id`, problems);
  switch (block["type"]) {
    case "header":
      checkText(block["text"] as Node, `${at}.text`, problems, { max: 150, plain: true });
      break;
    case "section": {
      const fields = block["fields"] as Node[] | undefined;
      if (block["text"] === undefined && fields === undefined) problems.push(`${at}: a section needs text or fields`);
      if (block["text"] !== undefined) checkText(block["text"] as Node, `${at}.text`, problems, { max: 3000 });
      if (fields !== undefined) {
        if (fields.length > 10) problems.push(`${at}.fields: ${fields.length} fields, over 10`);
        fields.forEach((field, index) => checkText(field, `${at}.fields[${index}]`, problems, { max: 2000 }));
      }
      if (block["accessory"] !== undefined) checkElement(block["accessory"] as Node, `${at}.accessory`, problems);
      break;
    }
    case "context": {
      const elements = (block["elements"] as Node[] | undefined) ?? [];
      if (elements.length === 0 || elements.length > 10) problems.push(`${at}.elements: ${elements.length}, not 1-10`);
      elements.forEach((element, index) => {
        if (element["type"] !== "image") checkText(element, `${at}.elements[${index}]`, problems, { max: 3000 });
      });
      break;
    }
    case "actions": {
      const elements = (block["elements"] as Node[] | undefined) ?? [];
      if (elements.length === 0 || elements.length > 25) problems.push(`${at}.elements: ${elements.length}, not 1-25`);
      elements.forEach((element, index) => checkElement(element, `${at}.elements[${index}]`, problems));
      break;
    }
    case "input":
      checkText(block["label"] as Node, `${at}.label`, problems, { max: 2000, plain: true });
      if (block["hint"] !== undefined)
        checkText(block["hint"] as Node, `${at}.hint`, problems, { max: 2000, plain: true });
      checkElement(block["element"] as Node, `${at}.element`, problems);
      break;
    case "divider":
      break;
    default:
      problems.push(`${at}: unexpected block type ${String(block["type"])}`);
  }
}

function checkElement(element: Node, at: string, problems: string[]): void {
  if (typeof element["action_id"] === "string") limit(element["action_id"], 255, `${at}.action_id`, problems);
  if (element["type"] === "button") {
    checkText(element["text"] as Node, `${at}.text`, problems, { max: 75, plain: true });
    if (typeof element["value"] === "string") limit(element["value"], 2000, `${at}.value`, problems);
    if (typeof element["url"] === "string") limit(element["url"], 3000, `${at}.url`, problems);
    const confirm = element["confirm"] as Node | undefined;
    if (confirm !== undefined) {
      checkText(confirm["title"] as Node, `${at}.confirm.title`, problems, { max: 100, plain: true });
      checkText(confirm["text"] as Node, `${at}.confirm.text`, problems, { max: 300 });
      checkText(confirm["confirm"] as Node, `${at}.confirm.confirm`, problems, { max: 30, plain: true });
      checkText(confirm["deny"] as Node, `${at}.confirm.deny`, problems, { max: 30, plain: true });
    }
  } else if (element["type"] === "plain_text_input") {
    const max = element["max_length"];
    if (typeof max === "number" && (max < 1 || max > 3000)) problems.push(`${at}.max_length: ${max}, not 1-3000`);
  }
}

function checkText(
  text: Node | undefined,
  at: string,
  problems: string[],
  rule: { max: number; plain?: boolean },
): void {
  if (text === undefined || typeof text["text"] !== "string") {
    problems.push(`${at}: no text object`);
    return;
  }
  if (text["type"] !== "plain_text" && (rule.plain === true || text["type"] !== "mrkdwn"))
    problems.push(
      `${at}: ${String(text["type"])} where ${rule.plain === true ? "plain_text" : "a text object"} is required`,
    );
  if (text["text"] === "") problems.push(`${at}: empty text`);
  limit(text["text"], rule.max, at, problems);
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text["text"]))
    problems.push(`${at}: half a surrogate pair`);
}

function limit(value: string, max: number, at: string, problems: string[]): void {
  if (value.length > max) problems.push(`${at}: ${value.length} characters, over ${max}`);
}
