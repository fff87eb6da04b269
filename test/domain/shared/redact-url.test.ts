// How a metadata URL is shown in errors, findings and logs: scheme, host and path; never its user:password or query.
import { describe, expect, it } from "vitest";
import { redactUrl } from "../../../src/domain/shared/redact-url.js";

describe("redactUrl", () => {
  it.each([
    ["https://idp.example/metadata", "https://idp.example/metadata"],
    ["https://admin:s3cret@idp.example/app/metadata", "https://idp.example/app/metadata"],
    ["https://idp.example:8443/metadata?token=s3cret", "https://idp.example:8443/metadata?…"],
    ["https://user@idp.example/m#fragment", "https://idp.example/m?…"],
    ["http://u:p@127.0.0.1:9/metadata?X-Amz-Signature=abc", "http://127.0.0.1:9/metadata?…"],
    ["/etc/breakglass/idp.xml", "/etc/breakglass/idp.xml"],
    ["https://u:p@[not-a-host/metadata?token=s3cret", "https://[not-a-host/metadata?…"],
  ])("shows %s as %s", (value, shown) => {
    expect(redactUrl(value)).toBe(shown);
  });

  it("resolves a relative redirect target against the URL it came from", () => {
    expect(redactUrl("/next?token=s3cret", new URL("https://idp.example/first"))).toBe("https://idp.example/next?…");
  });
});
