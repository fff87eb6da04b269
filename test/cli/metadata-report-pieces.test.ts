// The reports `metadata inspect` writes in pieces (issue 15) are the very bytes of the whole-string reports: scripts
// reading the JSON and people reading the text see no difference, whatever the entities, findings and chunk bounds.
import pc from "picocolors";
import { describe, expect, it } from "vitest";
import { checkMetadata } from "../../src/domain/checks/metadata-checks.js";
import { inspectMetadataText } from "../../src/domain/saml/inspect-metadata.js";
import {
  ELEMENTS_PER_PIECE,
  metadataReportJson,
  metadataReportJsonPieces,
} from "../../src/cli/metadata-report-json.js";
import { metadataReportTextPieces } from "../../src/cli/metadata-report-text.js";
import { writeInChunks } from "../../src/cli/metadata-report-writer.js";
import { DAY, makeCertificate } from "../support/certificates.js";
import { aggregateXml, entityXml } from "../support/metadata-builder.js";

const now = new Date("2026-11-24T12:00:00Z");

function documents(): Record<string, string> {
  const fresh = makeCertificate({ notAfter: new Date(now.getTime() + 400 * DAY) });
  const expired = makeCertificate({ notAfter: new Date(now.getTime() - 3 * DAY) });
  const entities = (count: number) =>
    Array.from({ length: count }, (_, index) =>
      entityXml(
        {
          entityID: `https://idp${index}.example.test/&quot;quoted&quot;\\path\u2028`,
          keys: [{ base64: index % 2 ? fresh.base64 : expired.base64, use: "signing" }],
        },
        false,
      ),
    );
  return {
    single: entityXml({ keys: [{ base64: fresh.base64 }] }),
    "no certificates, no findings list entries": entityXml({}),
    "empty aggregate": aggregateXml([]),
    "aggregate of 300": aggregateXml(entities(300), ' validUntil="2027-01-01T00:00:00Z"'),
    // Pieces of ELEMENTS_PER_PIECE entities each: a last piece that is full, and one that holds a single entity.
    "aggregate that fills its last piece": aggregateXml(entities(2 * ELEMENTS_PER_PIECE)),
    "aggregate with one entity in its last piece": aggregateXml(entities(ELEMENTS_PER_PIECE + 1)),
    "unreadable certificate": entityXml({ keys: [{ base64: "AAAA" }] }),
  };
}

describe("reports written in pieces", () => {
  for (const [name, xml] of Object.entries(documents())) {
    it(`JSON of "${name}" is byte for byte JSON.stringify of the whole report`, async () => {
      const inspection = inspectMetadataText(xml, "metadata.xml");
      const findings = checkMetadata(inspection, { now, warnDays: 30 });
      const whole = `${JSON.stringify(metadataReportJson(inspection, findings, false, now), null, 2)}\n`;
      let written = "";
      const writes: number[] = [];
      await writeInChunks(metadataReportJsonPieces(inspection, findings, false, now), (text) => {
        written += text;
        writes.push(text.length);
      });
      expect(written).toBe(whole);
      expect(JSON.parse(written)).toEqual(JSON.parse(whole));
      // Chunks of about 64 KiB: a big report takes a few writes, not one per entity.
      expect(writes.length).toBeLessThanOrEqual(Math.ceil(whole.length / 65_536) + 1);
    });

    it(`text of "${name}" joins into one report ending in a newline`, () => {
      const inspection = inspectMetadataText(xml, "metadata.xml");
      const findings = checkMetadata(inspection, { now, warnDays: 30 });
      const context = { now, warnDays: 30, colors: pc.createColors(false), notModified: false };
      const pieces = [...metadataReportTextPieces(inspection, findings, context)];
      const text = pieces.join("");
      expect(text.endsWith("\n")).toBe(true);
      expect(text).toContain("Findings");
      for (const entity of inspection.entities) expect(text).toContain(entity.entityID);
    });
  }

  it("lets the event loop run between chunks, so a pipe's queued writes drain before the next chunk", async () => {
    const pieces = Array.from({ length: 5 }, (_, index) => String(index).repeat(70_000));
    const events: string[] = [];
    await writeInChunks(pieces, (text) => {
      events.push(`write ${text[0]}`);
      setImmediate(() => events.push(`drained ${text[0]}`));
    });
    expect(events).toEqual([
      "write 0",
      "drained 0",
      "write 1",
      "drained 1",
      "write 2",
      "drained 2",
      "write 3",
      "drained 3",
      "write 4",
      "drained 4",
    ]);
  });
});
