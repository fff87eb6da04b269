// The character tables of XML 1.0 (fifth edition) that the well-formedness scan checks: Char, S, NameStartChar, NameChar.

/** Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF] (surrogates and U+FFFE/U+FFFF are not). */
export function isXmlCodePoint(codePoint: number): boolean {
  if (codePoint >= 0x20)
    return (
      codePoint <= 0xd7ff ||
      (codePoint >= 0xe000 && codePoint <= 0xfffd) ||
      (codePoint >= 0x10000 && codePoint <= 0x10ffff)
    );
  return codePoint === 0x9 || codePoint === 0xa || codePoint === 0xd;
}

/** S: space, tab, carriage return, line feed — and nothing else (no-break spaces are text, not whitespace). */
export function isXmlWhitespace(code: number): boolean {
  return code === 0x20 || code === 0xa || code === 0x9 || code === 0xd;
}

/** NameStartChar of the fifth edition, which libxml2 also follows. */
export function isNameStartCodePoint(codePoint: number): boolean {
  if (codePoint < 0x80) {
    return (
      (codePoint >= 0x61 && codePoint <= 0x7a) ||
      (codePoint >= 0x41 && codePoint <= 0x5a) ||
      codePoint === 0x5f ||
      codePoint === 0x3a
    );
  }
  return (
    (codePoint >= 0xc0 && codePoint <= 0xd6) ||
    (codePoint >= 0xd8 && codePoint <= 0xf6) ||
    (codePoint >= 0xf8 && codePoint <= 0x2ff) ||
    (codePoint >= 0x370 && codePoint <= 0x37d) ||
    (codePoint >= 0x37f && codePoint <= 0x1fff) ||
    codePoint === 0x200c ||
    codePoint === 0x200d ||
    (codePoint >= 0x2070 && codePoint <= 0x218f) ||
    (codePoint >= 0x2c00 && codePoint <= 0x2fef) ||
    (codePoint >= 0x3001 && codePoint <= 0xd7ff) ||
    (codePoint >= 0xf900 && codePoint <= 0xfdcf) ||
    (codePoint >= 0xfdf0 && codePoint <= 0xfffd) ||
    (codePoint >= 0x10000 && codePoint <= 0xeffff)
  );
}

/** NameChar: a NameStartChar, or "-", ".", a digit, U+00B7, a combining mark U+0300–U+036F, U+203F or U+2040. */
export function isNameCodePoint(codePoint: number): boolean {
  return (
    isNameStartCodePoint(codePoint) ||
    codePoint === 0x2d ||
    codePoint === 0x2e ||
    (codePoint >= 0x30 && codePoint <= 0x39) ||
    codePoint === 0xb7 ||
    (codePoint >= 0x300 && codePoint <= 0x36f) ||
    codePoint === 0x203f ||
    codePoint === 0x2040
  );
}

/** How an error message shows a character it refuses: "U+0001", with a name for the ones people recognise. */
export function describeCodePoint(codePoint: number): string {
  const hex = `U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}`;
  if (codePoint === 0) return `the NUL character (${hex})`;
  if (codePoint < 0x20 || codePoint === 0x7f) return `the control character ${hex}`;
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) return `an unpaired surrogate ${hex}`;
  return `the character ${hex}`;
}
