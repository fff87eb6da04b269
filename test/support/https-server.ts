// Re-exports the loopback stand-in the drill ships (src/drill/loopback/https-server.ts), so tests use the same one.
export * from "../../src/drill/loopback/https-server.js";
