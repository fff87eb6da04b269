// Runs the signature tests again with xml-crypto beside the one-pass verifier on every document they verify: they must agree.
import { afterAll, afterEach, expect, vi } from "vitest";
import "./metadata-signature.test.js";
import "./signature-algorithms.test.js";
import type * as FastPath from "../../../src/domain/saml/signature-fast-path.js";

const seen = vi.hoisted(() => ({ compared: 0, disagreements: [] as string[] }));

vi.mock("../../../src/domain/saml/signature-fast-path.js", async (importOriginal) => {
  const onePass = await importOriginal<typeof FastPath>();
  const { checkMetadataSignatures } = await import("../../../src/domain/saml/metadata-signature.js");
  const { signatureDisagreements } = await import("../../support/signature-agreement.js");
  return {
    ...onePass,
    checkProfileSignatures: (...[text, signer, layout]: Parameters<typeof onePass.checkProfileSignatures>) => {
      const checks = onePass.checkProfileSignatures(text, signer, layout);
      if (checks) {
        seen.compared++;
        seen.disagreements.push(...signatureDisagreements(checks, checkMetadataSignatures(text, signer), "document"));
      }
      return checks;
    },
  };
});

afterEach(() => {
  const disagreements = seen.disagreements.splice(0);
  expect(disagreements).toEqual([]);
});

afterAll(() => {
  // Most of those tests sign with the profile; a wiring mistake would compare nothing.
  expect(seen.compared).toBeGreaterThanOrEqual(20);
});
