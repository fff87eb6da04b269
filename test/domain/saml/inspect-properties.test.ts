// Property-based: arbitrary mutations of real IdP documents never crash the inspector or escape as an untyped error.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkMetadata } from "../../../src/domain/checks/metadata-checks.js";
import { BreakglassError } from "../../../src/domain/errors.js";
import { inspectMetadataBytes } from "../../../src/domain/saml/inspect-metadata.js";
import { readCorpusFile, readManifest } from "../../support/corpus.js";
import { mutate, mutationArbitrary } from "../../support/byte-mutations.js";

const documents = readManifest()
  .filter((document) => document.entityCount < 5)
  .map((document) => readCorpusFile(document.file));

const fragment = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    "<",
    ">",
    "</md:EntityDescriptor>",
    "<!--",
    "]]>",
    "<![CDATA[",
    "&amp;",
    "&#x0;",
    "&bogus;",
    '"',
    'xmlns:md="x"',
    "<ds:Signature/>",
    "\u0000",
    "\uFEFF",
    "<?xml ?>",
  ),
);

const mutation = mutationArbitrary({
  fragment,
  flip: { min: 0, max: 255 },
  truncate: true,
  maxDelete: 200,
  maxDuplicate: 400,
});

describe("inspecting mutated real documents", () => {
  it("either yields facts the checks can judge or throws a BreakglassError naming the input", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: documents.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (index, mutations) => {
          const bytes = mutate(documents[index]!, mutations);
          try {
            const inspection = inspectMetadataBytes(bytes, "mutated.xml");
            const findings = checkMetadata(inspection, { now: new Date("2026-11-24T00:00:00Z"), warnDays: 30 });
            for (const finding of findings) expect(finding.message).not.toMatch(/\n/);
          } catch (error) {
            expect(error).toBeInstanceOf(BreakglassError);
            const message = (error as BreakglassError).message;
            expect(message.startsWith("mutated.xml: ")).toBe(true);
            expect(message).not.toMatch(/\n/);
            expect(message).not.toMatch(/\bat .*\.(js|ts):\d+/);
          }
        },
      ),
      { numRuns: Number(process.env["FC_RUNS"] ?? 400), seed: Number(process.env["FC_SEED"] ?? Date.now() % 2 ** 31) },
    );
  });

  it("survives arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        try {
          inspectMetadataBytes(bytes, "random.bin");
        } catch (error) {
          expect(error).toBeInstanceOf(BreakglassError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
