// Narrows the JSON an IdP answers, field by field, and says where a wrong shape was found.

/** Thrown by the narrowing helpers; the HTTP client turns it into an IDP_FAILED error naming the API and the operation. */
export class UnexpectedAnswer extends Error {
  override readonly name = "UnexpectedAnswer";
}

export type JsonRecord = Readonly<Record<string, unknown>>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function expectRecord(value: unknown, where: string): JsonRecord {
  if (!isRecord(value)) throw new UnexpectedAnswer(`${where} is not a JSON object`);
  return value;
}

export function expectArray(value: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new UnexpectedAnswer(`${where} is not a JSON array`);
  return value as readonly unknown[];
}

export function expectString(value: unknown, where: string): string {
  if (typeof value !== "string" || value === "") throw new UnexpectedAnswer(`${where} is not a non-empty string`);
  return value;
}

/** Absent and null are the same to every IdP API here (RFC 7643 §2.5 says so for SCIM). */
export function optionalString(value: unknown, where: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw new UnexpectedAnswer(`${where} is not a string`);
  return value;
}

export function optionalBoolean(value: unknown, where: string): boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "boolean") throw new UnexpectedAnswer(`${where} is not a boolean`);
  return value;
}

export function optionalNumber(value: unknown, where: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isFinite(value)) throw new UnexpectedAnswer(`${where} is not a number`);
  return value;
}
