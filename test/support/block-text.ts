// What a person can read in Block Kit: every mrkdwn and plain_text text object, in order.

export function textObjects(value: unknown): string[] {
  const texts: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === "object") {
      const record = node as Record<string, unknown>;
      if ((record["type"] === "mrkdwn" || record["type"] === "plain_text") && typeof record["text"] === "string")
        texts.push(record["text"]);
      for (const [key, child] of Object.entries(record)) if (key !== "text" || typeof child !== "string") walk(child);
    }
  };
  walk(value);
  return texts;
}

/** Every text a person can read in the blocks, one per line. */
export function visibleText(value: unknown): string {
  return textObjects(value).join("\n");
}
