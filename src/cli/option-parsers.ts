// Parses command-line option values; each error names the option and says what it expected.
import { BreakglassError } from "../domain/errors.js";

export function parseInstant(value: string, option: string): Date {
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
  const date = iso.test(value.trim())
    ? new Date(/T.*(Z|[+-]\d{2}:?\d{2})$/.test(value) || !value.includes("T") ? value : `${value}Z`)
    : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new BreakglassError(
      "USAGE",
      option,
      `"${value}" is not an ISO-8601 date or date and time (e.g. 2026-11-25 or 2026-11-25T09:00:00Z)`,
    );
  }
  return date;
}

export function parseNonNegativeInteger(value: string, option: string): number {
  if (!/^\d+$/.test(value.trim()))
    throw new BreakglassError("USAGE", option, `"${value}" is not a whole number of 0 or more`);
  return Number(value);
}

export function parsePositiveNumber(value: string, option: string): number {
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number) || number <= 0)
    throw new BreakglassError("USAGE", option, `"${value}" is not a number greater than 0`);
  return number;
}
