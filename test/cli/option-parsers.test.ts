// --now and the other option values as a user types them: real instants are read, impossible ones refused in one line naming the option.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { parseInstant } from "../../src/cli/option-parsers.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { corpusPath } from "../support/corpus.js";

describe("--now", () => {
  it.each([
    ["2027-02-28", "2027-02-28T00:00:00.000Z"],
    ["2028-02-29", "2028-02-29T00:00:00.000Z"],
    ["2026-11-25T09:00", "2026-11-25T09:00:00.000Z"],
    ["2026-11-25T09:00:59.5Z", "2026-11-25T09:00:59.500Z"],
    ["2026-11-25T09:00:00+02:00", "2026-11-25T07:00:00.000Z"],
    ["2026-12-31T23:59:59Z", "2026-12-31T23:59:59.000Z"],
  ])("reads %s as %s", (value, instant) => {
    expect(parseInstant(value, "--now").toISOString()).toBe(instant);
  });

  it.each([
    ["2027-02-30", "2027-02 has no day 30"],
    ["2027-02-29", "2027-02 has no day 29"],
    ["2026-04-31", "2026-04 has no day 31"],
    ["2026-11-00", "2026-11 has no day 0"],
    ["2026-11-32", "2026-11 has no day 32"],
    ["2026-13-01", "there is no month 13"],
    ["2026-00-10", "there is no month 0"],
    ["2026-11-25T24:00:00Z", "there is no hour 24"],
    ["2026-11-25T09:60:00Z", "there is no minute 60"],
    ["2026-11-25T09:00:60Z", "there is no second 60"],
    ["2026-11-25T09:00:00+24:00", "the offset is out of range"],
  ])("refuses %s: %s", (value, reason) => {
    expect(() => parseInstant(value, "--now")).toThrow(
      `--now: "${value}" is not a real date and time (${reason}; e.g. 2026-11-25 or 2026-11-25T09:00:00Z)`,
    );
  });

  it("refuses 2027-02-30 on the command line with one line naming --now, instead of judging as of 2027-03-02", async () => {
    let stdout = "";
    let stderr = "";
    const code = await main(["metadata", "inspect", corpusPath("okta-scaleft-app.xml"), "--now", "2027-02-30"], {
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
      stdoutIsTty: false,
      env: { XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), "breakglass-cli-")) },
      clock: fixedClock(new Date("2026-11-24T12:00:00Z")),
    });
    expect({ code, stdout, stderr }).toEqual({
      code: 2,
      stdout: "",
      stderr: `breakglass: --now: "2027-02-30" is not a real date and time (2027-02 has no day 30; e.g. 2026-11-25 or 2026-11-25T09:00:00Z)\n`,
    });
  });
});
