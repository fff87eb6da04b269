// What the differential property tests of the one-pass readers share: a real document mutated at the byte level, and
// the safety scan as the gate, since only documents that pass it ever reach those readers.
import fc from "fast-check";
import { assertSafeXml } from "../../src/domain/saml/xml-safety.js";
import { mutate, type Mutation } from "./byte-mutations.js";

export interface MutatedDocument {
  /** The mutated bytes, decoded as UTF-8. */
  readonly text: string;
  /** Which document, and what was done to it: for a failure message. */
  readonly index: number;
  readonly mutations: readonly Mutation[];
}

/** One of `documents`, changed by one to `maxMutations` mutations drawn from `mutation`. */
export function mutatedDocument(
  documents: readonly string[],
  mutation: fc.Arbitrary<Mutation>,
  maxMutations: number,
): fc.Arbitrary<MutatedDocument> {
  return fc
    .tuple(
      fc.integer({ min: 0, max: documents.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: maxMutations }),
    )
    .map(([index, mutations]) => ({
      text: mutate(Buffer.from(documents[index] ?? "", "utf8"), mutations).toString("utf8"),
      index,
      mutations,
    }));
}

/** Whether `text` passes the safety scan (most mutations make a document malformed, and it is then refused). */
export function passesSafetyScan(text: string): boolean {
  try {
    assertSafeXml(text, "mutated.xml");
    return true;
  } catch {
    return false;
  }
}
