// Which X509Certificate texts are read as base64: isBase64 (a search for a character outside the alphabet, then where
// the "=" are) accepts exactly what the whole-text regular expression it replaced accepted.
import { describe, expect, it } from "vitest";
import { isBase64 } from "../../../src/domain/saml/inspect-metadata.js";
import { seededRandom } from "../../support/seeded-random.js";

/** The rule as it was written before: at least one of A-Z a-z 0-9 + /, then at most two "=". */
const WHOLE_TEXT = /^[A-Za-z0-9+/]+={0,2}$/;

/** Mostly the alphabet, often "=", sometimes what base64 text must not hold (space, newline, URL-safe "-" and "_"). */
const CHARACTERS = "AZaz09+/QUJD====== \n-_.\u00e9\u2028";

function randomText(random: () => number): string {
  let text = "";
  const length = Math.floor(random() * 12);
  for (let index = 0; index < length; index++) text += CHARACTERS[Math.floor(random() * CHARACTERS.length)];
  return text;
}

describe("base64 text of a certificate", () => {
  it.each([
    ["", false],
    ["QUJD", true],
    ["QQ==", true],
    ["QUI=", true],
    ["Q===", false],
    ["====", false],
    ["=", false],
    ["A=", true],
    ["QU=I", false],
    ["Q=I=", false],
    ["QU I=", false],
    ["QUJD\n", false],
    ["QU-_", false],
  ])("reads %j as base64: %s", (text, expected) => {
    expect(isBase64(text)).toBe(expected);
    expect(WHOLE_TEXT.test(text)).toBe(expected);
  });

  it("accepts exactly what the whole-text expression accepted, on seeded random texts", () => {
    const random = seededRandom(1_410);
    let accepted = 0;
    for (let index = 0; index < 20_000; index++) {
      const text = randomText(random);
      const expected = WHOLE_TEXT.test(text);
      expect(isBase64(text), JSON.stringify(text)).toBe(expected);
      if (expected) accepted++;
    }
    // Both answers are exercised.
    expect(accepted).toBeGreaterThan(500);
    expect(accepted).toBeLessThan(19_000);
  });
});
