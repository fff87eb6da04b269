// Re-exports the loopback stand-in the drill ships (src/drill/loopback/request-faults.ts), so tests use the same one.
export * from "../../src/drill/loopback/request-faults.js";
