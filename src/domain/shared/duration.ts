// Durations as people write them in breakglass.yaml, runbooks and Slack: 30s, 30m, 4h, 1h30m, 2d.

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

export const DURATION_DESCRIPTION = "a duration such as 30m, 4h or 1h30m";

/** Milliseconds of a duration such as `4h`, `30m`, `1h30m` or `2d`; undefined when it is not one, or is zero. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (match === null || text === "") return undefined;
  const [days, hours, minutes, seconds] = match.slice(1).map((part) => (part === undefined ? 0 : Number(part)));
  const milliseconds = ((((days ?? 0) * 24 + (hours ?? 0)) * 60 + (minutes ?? 0)) * 60 + (seconds ?? 0)) * 1000;
  return milliseconds > 0 && Number.isSafeInteger(milliseconds) ? milliseconds : undefined;
}

/** The shortest way to write `milliseconds` in the same notation: 4h, 1h30m, 90s. */
export function formatDuration(milliseconds: number): string {
  let rest = Math.round(milliseconds / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return parts.join("") || "0s";
}
