// A SAML response as people paste it: raw XML, base64 wrapped at any width, a form body with URL-encoded base64.
import { describe, expect, it } from "vitest";
import {
  decodeSamlResponseInput,
  MAX_SAML_RESPONSE_INPUT_BYTES,
} from "../../../src/domain/saml/saml-response-input.js";

const XML = '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r">~~?></samlp:Response>';
const BASE64 = Buffer.from(XML).toString("base64");
const decode = (text: string) => decodeSamlResponseInput(Buffer.from(text), "response.txt");

describe("decoding a pasted SAML response", () => {
  it("takes raw XML as it is, and gives AWS's base64 of it", () => {
    expect(decode(`\n  ${XML}\n`)).toEqual({ xml: XML, base64: BASE64, form: "xml" });
  });

  it("takes base64 wrapped at 64 or 76 characters, as IdP test tools print it", () => {
    const wrapped = BASE64.match(/.{1,64}/g)?.join("\r\n") ?? "";
    expect(decode(wrapped)).toMatchObject({ xml: XML, form: "base64", base64: BASE64 });
  });

  it("takes a form body whose base64 is URL-encoded, keeping a literal + of base64 as +", () => {
    expect(BASE64).toMatch(/[+/=]/);
    const body = `SAMLResponse=${encodeURIComponent(BASE64)}&RelayState=https%3A%2F%2Fconsole`;
    expect(decode(body)).toMatchObject({ xml: XML, form: "url-encoded-base64", base64: BASE64 });
    expect(decode(BASE64.replace(/=/g, "%3D"))).toMatchObject({ xml: XML, base64: BASE64 });
  });

  it("refuses text that is neither, empty input and oversized input, naming the input", () => {
    expect(() => decode("hello, this is not a response")).toThrow(
      /^response\.txt: not a SAML response: .*neither XML nor base64/,
    );
    expect(() => decode("thisisnotaresponse")).toThrow(/neither XML nor base64 of XML/);
    expect(() => decode("  \n")).toThrow(/^response\.txt: .*empty/);
    expect(() => decodeSamlResponseInput(Buffer.alloc(MAX_SAML_RESPONSE_INPUT_BYTES + 1, 0x41), "big.txt")).toThrow(
      /^big\.txt: the input is 1000001 bytes/,
    );
  });
});
