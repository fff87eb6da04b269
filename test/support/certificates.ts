// Re-exports the loopback stand-in the drill ships (src/drill/loopback/certificates.ts), so tests use the same one.
export * from "../../src/drill/loopback/certificates.js";
