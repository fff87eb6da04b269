// The parsed view of a document: attribute values exactly as written, namespaces by URI.
import { describe, expect, it } from "vitest";
import { inspectMetadataText } from "../../../src/domain/saml/inspect-metadata.js";
import { childElements, parseXmlDocument } from "../../../src/domain/saml/xml-document.js";
import { entityXml } from "../../support/metadata-builder.js";

describe("attribute values are preserved exactly as written", () => {
  it("reports an entityID with surrounding spaces with its spaces", () => {
    const inspection = inspectMetadataText(
      entityXml({ entityID: "  https://idp.example.test/metadata \t" }),
      "spaces.xml",
    );
    expect(inspection.entities[0]?.entityID).toBe("  https://idp.example.test/metadata \t");
  });

  it("keeps a value that is only spaces, and decodes references without trimming what they produce", () => {
    const root = parseXmlDocument(`<r a="   " b="&#32;x&#32;" c=" &amp; "/>`, "values.xml");
    expect(root.attributes).toEqual({ a: "   ", b: " x ", c: " & " });
  });

  it("still drops the whitespace between elements", () => {
    const root = parseXmlDocument("<r>\n  <a/>\n  <b/>\n</r>", "layout.xml");
    expect(root.content).toHaveLength(2);
    expect(childElements(root, "layout.xml").map((element) => element.localName)).toEqual(["a", "b"]);
  });
});
