// Reads the parts of an ARN that checks and config need: the account it belongs to.

/** The 12-digit account of an ARN ("arn:aws:iam::111111111111:role/x" → "111111111111"), or undefined when it names none. */
export function accountOfArn(arn: string): string | undefined {
  return /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(arn)?.[1];
}
