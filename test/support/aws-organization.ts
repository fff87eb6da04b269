// Re-exports the loopback stand-in the drill ships (src/drill/loopback/aws-organization.ts), so tests use the same one.
export * from "../../src/drill/loopback/aws-organization.js";
