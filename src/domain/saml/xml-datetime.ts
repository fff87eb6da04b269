// Parses xsd:dateTime values from metadata; a value without a zone is UTC, as SAML requires, never local time.

const DATE_TIME = /^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

/** The instant `value` denotes, or undefined when it is not an xsd:dateTime. */
export function parseXsdDateTime(value: string): Date | undefined {
  const match = DATE_TIME.exec(value.trim());
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction, zone] = match;
  const milliseconds = fraction ? Math.floor(Number(`0${fraction}`) * 1000) : 0;
  let time = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
    milliseconds,
  );
  if (
    Number(month) < 1 ||
    Number(month) > 12 ||
    Number(day) < 1 ||
    Number(day) > 31 ||
    Number(hour) > 24 ||
    Number(minute) > 59 ||
    Number(second) > 60
  ) {
    return undefined;
  }
  if (zone && zone !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const [zoneHours, zoneMinutes] = zone.slice(1).split(":").map(Number);
    time -= sign * ((zoneHours ?? 0) * 60 + (zoneMinutes ?? 0)) * 60_000;
  }
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
