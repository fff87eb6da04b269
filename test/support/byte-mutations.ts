// Byte-level mutations of real documents for the property tests: flip, truncate, insert, delete or duplicate a span.
import fc from "fast-check";

export type Mutation =
  | { kind: "flip"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; text: string }
  | { kind: "delete"; at: number; length: number }
  | { kind: "duplicate"; at: number; length: number };

/** The document with each mutation applied in turn; positions wrap around the current length. */
export function mutate(original: Uint8Array, mutations: readonly Mutation[]): Buffer {
  let bytes = Buffer.from(original);
  for (const change of mutations) {
    const at = bytes.length === 0 ? 0 : change.at % bytes.length;
    switch (change.kind) {
      case "flip":
        if (bytes.length > 0) bytes[at] = change.value;
        break;
      case "truncate":
        bytes = bytes.subarray(0, at);
        break;
      case "insert":
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(change.text), bytes.subarray(at)]);
        break;
      case "delete":
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + change.length)]);
        break;
      case "duplicate":
        bytes = Buffer.concat([bytes.subarray(0, at + change.length), bytes.subarray(at)]);
        break;
    }
  }
  return bytes;
}

export interface MutationShape {
  /** Inserted at a random place. */
  readonly fragment: fc.Arbitrary<string>;
  /** The values a flipped byte may take. */
  readonly flip: { readonly min: number; readonly max: number };
  /** Whether the document may be cut short. */
  readonly truncate: boolean;
  readonly maxDelete: number;
  readonly maxDuplicate: number;
}

/** One mutation of each kind asked for, equally likely. */
export function mutationArbitrary(shape: MutationShape): fc.Arbitrary<Mutation> {
  return fc.oneof(
    fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), value: fc.integer(shape.flip) }),
    ...(shape.truncate ? [fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() })] : []),
    fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: shape.fragment }),
    fc.record({
      kind: fc.constant("delete" as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: shape.maxDelete }),
    }),
    fc.record({
      kind: fc.constant("duplicate" as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: shape.maxDuplicate }),
    }),
  );
}
