// Which values `config validate` recognises as the template's examples: every value marked CHANGE ME, however written.
import { describe, expect, it } from "vitest";
import { findTemplatePlaceholders, templateExampleValues } from "../../src/config/template-placeholders.js";

describe("template placeholders", () => {
  it("knows every value the template marks CHANGE ME, including those in its commented-out sections", () => {
    expect([...templateExampleValues()]).toEqual([
      "https://example.okta.com/app/exk0example0000000000/sso/saml/metadata",
      "https://example.okta.com",
      "111111111111",
      "arn:aws:iam::111111111111:role/breakglass-reader",
      "arn:aws:iam::111111111111:role/breakglass-action",
      "arn:aws:iam::111111111111:saml-provider/EmergencyIdP",
      "arn:aws:iam::111111111111:role/EmergencyAdmin",
      "breakglass-emergency-1",
      "arn:aws:sso:::instance/ssoins-1234567890abcdef",
      "999999999999",
      "arn:aws:iam::999999999999:role/breakglass-identity-center-reader",
      "arn:aws:iam::999999999999:role/breakglass-org-reader",
      "C0123456789",
      "https://sqs.eu-west-1.amazonaws.com/111111111111/breakglass-watch",
    ]);
  });

  it("finds an example account ID written without quotes, and an example moved down a list", () => {
    const text = [
      "aws:",
      "  emergencyAccount:",
      "    accountId: 111111111111",
      "    samlProviders:",
      "      - arn:aws:iam::123456789012:saml-provider/Mine",
      "      - arn:aws:iam::111111111111:saml-provider/EmergencyIdP",
      "",
    ].join("\n");
    expect(findTemplatePlaceholders(text).map(({ line, key }) => ({ line, key }))).toEqual([
      { line: 3, key: "aws.emergencyAccount.accountId" },
      { line: 6, key: "aws.emergencyAccount.samlProviders[1]" },
    ]);
  });

  it("finds nothing in a file that is not YAML, which the loader reports instead", () => {
    expect(findTemplatePlaceholders("idp: [\n")).toEqual([]);
  });
});
