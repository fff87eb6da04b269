// The documented bounds on a document's shape beyond which its signatures are not verified: work, not bytes, decides.
import type { SignatureShape } from "./signature-shape.js";

/**
 * xml-crypto re-parses the whole document for every signature it checks, and runs several XPath
 * searches over every element of it before it looks at the signature value: about 25 µs per
 * element on an idle core, with memory to match (500,000 empty elements took 40 s and 1.27 GB).
 * The bounds keep that work near what the largest real document we verify needs.
 */
export interface SignatureBounds {
  /**
   * Elements xml-crypto may walk: the document's elements once per signature to check. Signatures of the enveloped
   * exclusive-C14N profile are verified in one linear pass (signature-fast-path.ts) and not held to it. A real
   * federation aggregate has about one element per 130 bytes (a 10 MB one, the --max-signed-bytes
   * default, about 80,000); the largest document of the corpus has 786.
   */
  readonly maxSignedElements: number;
  /** ds:Signature elements anywhere: real metadata carries one (every document of the corpus). */
  readonly maxSignatures: number;
  /** ds:Reference elements in one Signature: metadata signatures have exactly one; more are refused as invalid up to this many. */
  readonly maxReferencesPerSignature: number;
  /** ds:Transform elements in one Reference: each one canonicalizes the whole signed element again; real ones have two. */
  readonly maxTransformsPerReference: number;
  /** Nesting: canonicalization recurses and copies namespace scopes per level; the corpus nests at most 9 deep. */
  readonly maxDepth: number;
}

export const DEFAULT_SIGNATURE_BOUNDS: SignatureBounds = {
  maxSignedElements: 100_000,
  maxSignatures: 64,
  maxReferencesPerSignature: 4,
  maxTransformsPerReference: 4,
  maxDepth: 32,
};

/** Why verifying `signaturesToCheck` signatures over a document of this shape would exceed the bounds; undefined when it would not. */
export function exceededSignatureBound(
  shape: SignatureShape,
  signaturesToCheck: number,
  bounds: SignatureBounds,
): string | undefined {
  const walked = shape.elements * signaturesToCheck;
  if (walked > bounds.maxSignedElements) {
    const what =
      signaturesToCheck === 1
        ? `the document has ${count(shape.elements)} elements`
        : `checking ${signaturesToCheck} signatures over ${count(shape.elements)} elements walks ${count(walked)}`;
    return `${what}, over the ${count(bounds.maxSignedElements)} bound for signature verification (--max-signed-elements)`;
  }
  if (shape.signatures > bounds.maxSignatures)
    return `the document has ${count(shape.signatures)} Signature elements, over the bound of ${bounds.maxSignatures}`;
  if (shape.referencesPerSignature > bounds.maxReferencesPerSignature) {
    return `a Signature has ${count(shape.referencesPerSignature)} References, over the bound of ${bounds.maxReferencesPerSignature}`;
  }
  if (shape.transformsPerReference > bounds.maxTransformsPerReference) {
    return `a Reference has ${count(shape.transformsPerReference)} Transforms, over the bound of ${bounds.maxTransformsPerReference}`;
  }
  if (shape.depth > bounds.maxDepth)
    return `elements are nested ${shape.depth} deep, over the bound of ${bounds.maxDepth} for signature verification`;
  return undefined;
}

function count(value: number): string {
  return value.toLocaleString("en");
}
