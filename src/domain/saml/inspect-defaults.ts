// How much signature checking an inspection does by default: constants only, so that a command line can show them
// without loading the XML and signature libraries.
import { DEFAULT_SIGNATURE_BOUNDS } from "./signature-bounds.js";

/** Covers the largest federation aggregates (InCommon, eduGAIN: 50–100 MB); the profile they use is verified in linear time. */
export const DEFAULT_MAX_SIGNED_BYTES = 128 * 1024 * 1024;
export const DEFAULT_MAX_SIGNED_ELEMENTS = DEFAULT_SIGNATURE_BOUNDS.maxSignedElements;
