// Re-exports the loopback stand-in the drill ships (src/drill/loopback/runbook-sso-admin.ts), so tests use the same one.
export * from "../../src/drill/loopback/runbook-sso-admin.js";
