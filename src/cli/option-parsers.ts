// Parses command-line option values; each error names the option and says what it expected.
import { BreakglassError } from "../domain/errors.js";

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-](\d{2}):?(\d{2}))?)?$/;

/**
 * An ISO-8601 date, or date and time, read strictly: JavaScript's Date would roll 2027-02-30 into 2027-03-02 and judge
 * as of a day nobody asked for, so every field is checked against the calendar before it is used. A time without an
 * offset is UTC.
 */
export function parseInstant(value: string, option: string): Date {
  const text = value.trim();
  const match = ISO_INSTANT.exec(text);
  const expected = "e.g. 2026-11-25 or 2026-11-25T09:00:00Z";
  if (!match)
    throw new BreakglassError("USAGE", option, `"${value}" is not an ISO-8601 date or date and time (${expected})`);
  const [
    ,
    year,
    month,
    day,
    hour = "00",
    minute = "00",
    second = "00",
    ,
    offset,
    offsetHours = "00",
    offsetMinutes = "00",
  ] = match;
  const impossible = impossibleField(
    Number(year),
    Number(month),
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
  );
  if (impossible !== undefined || Number(offsetHours) > 23 || Number(offsetMinutes) > 59) {
    throw new BreakglassError(
      "USAGE",
      option,
      `"${value}" is not a real date and time (${impossible ?? "the offset is out of range"}; ${expected})`,
    );
  }
  const date = new Date(match[4] === undefined ? `${text}T00:00:00Z` : offset === undefined ? `${text}Z` : text);
  if (Number.isNaN(date.getTime()))
    throw new BreakglassError("USAGE", option, `"${value}" is not an ISO-8601 date or date and time (${expected})`);
  return date;
}

/** Which field no calendar has, or undefined when the date and time exist. */
function impossibleField(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): string | undefined {
  if (month < 1 || month > 12) return `there is no month ${month}`;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth)
    return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")} has no day ${day}`;
  if (hour > 23) return `there is no hour ${hour}`;
  if (minute > 59) return `there is no minute ${minute}`;
  if (second > 59) return `there is no second ${second}`;
  return undefined;
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
