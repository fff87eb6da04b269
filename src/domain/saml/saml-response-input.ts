// Turns a SAML response as people paste it (raw XML, base64, or a form post's URL-encoded base64) into XML text.
import { BreakglassError } from "../errors.js";
import { decodeXmlBytes } from "./xml-text.js";

/**
 * AWS takes at most 100,000 characters of base64 (the SAMLAssertion parameter of sts:AssumeRoleWithSAML, and the
 * sign-in form); a pasted response ten times that is something else, refused before it is decoded.
 */
export const MAX_SAML_RESPONSE_INPUT_BYTES = 1_000_000;
export const AWS_MAX_SAML_RESPONSE_BASE64_LENGTH = 100_000;

export interface DecodedSamlResponse {
  /** The XML of the response. */
  readonly xml: string;
  /** The response as base64, exactly as AWS receives it (encoded here when the input was raw XML). */
  readonly base64: string;
  readonly form: "xml" | "base64" | "url-encoded-base64";
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decodes `bytes`; `input` names the file (or "-" for standard input) in errors. */
export function decodeSamlResponseInput(bytes: Uint8Array, input: string): DecodedSamlResponse {
  if (bytes.length > MAX_SAML_RESPONSE_INPUT_BYTES) {
    throw new BreakglassError(
      "INPUT_TOO_LARGE",
      input,
      `the input is ${bytes.length} bytes, over the ${MAX_SAML_RESPONSE_INPUT_BYTES} a SAML response can be`,
    );
  }
  const text = decodeXmlBytes(bytes, input);
  const trimmed = text.trim();
  if (trimmed === "") throw new BreakglassError("INPUT_EMPTY", input, "the input is empty (only whitespace)");
  if (trimmed.startsWith("<"))
    return { xml: trimmed, base64: Buffer.from(trimmed, "utf8").toString("base64"), form: "xml" };

  // A browser SAML tracer or a copied form body: "SAMLResponse=PHNhbWxw...%3D&RelayState=..." or the value alone.
  let value = trimmed;
  const field = /(?:^|&)SAMLResponse=([^&]*)/.exec(value);
  if (field) value = field[1] ?? "";
  let form: DecodedSamlResponse["form"] = "base64";
  if (/%[0-9A-Fa-f]{2}/.test(value)) {
    try {
      value = decodeURIComponent(value.replace(/\+/g, "%2B"));
      form = "url-encoded-base64";
    } catch {
      throw unreadable(input, "it looks URL-encoded but a %-escape is broken");
    }
  }
  const base64 = value.replace(/\s+/g, "");
  if (!BASE64.test(base64) || base64.length % 4 === 1) {
    throw unreadable(input, `it starts with "${printable(trimmed.slice(0, 20))}", which is neither XML nor base64`);
  }
  let xml: string;
  try {
    xml = decodeXmlBytes(Buffer.from(base64, "base64"), input).trim();
  } catch {
    xml = "";
  }
  if (!xml.startsWith("<"))
    throw unreadable(
      input,
      `it starts with "${printable(trimmed.slice(0, 20))}", which is neither XML nor base64 of XML`,
    );
  return { xml, base64, form };
}

function unreadable(input: string, why: string): BreakglassError {
  return new BreakglassError(
    "SAML_RESPONSE_UNUSABLE",
    input,
    `not a SAML response: ${why}; paste the XML or the SAMLResponse value (base64) from the IdP's test tool or a SAML tracer`,
  );
}

function printable(snippet: string): string {
  return snippet.replace(/[^\x20-\x7e]/g, "?");
}
