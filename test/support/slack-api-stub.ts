// Re-exports the loopback stand-in the drill ships (src/drill/loopback/slack-api-stub.ts), so tests use the same one.
export * from "../../src/drill/loopback/slack-api-stub.js";
