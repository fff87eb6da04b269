// Re-exports the loopback stand-in the drill ships (src/drill/loopback/metadata-builder.ts), so tests use the same one.
export * from "../../src/drill/loopback/metadata-builder.js";
