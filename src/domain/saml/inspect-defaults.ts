// How much signature checking an inspection does by default: constants only, so that a command line can show them
// without loading the XML and signature libraries.
import { DEFAULT_SIGNATURE_BOUNDS } from "./signature-bounds.js";

export const DEFAULT_MAX_SIGNED_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_SIGNED_ELEMENTS = DEFAULT_SIGNATURE_BOUNDS.maxSignedElements;
