// Re-exports the loopback stand-in the drill ships (src/drill/loopback/block-kit-limits.ts), so tests use the same one.
export * from "../../src/drill/loopback/block-kit-limits.js";
