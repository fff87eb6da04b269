// Re-exports the loopback stand-in the drill ships (src/drill/loopback/idp-scim-server.ts), so tests use the same one.
export * from "../../src/drill/loopback/idp-scim-server.js";
