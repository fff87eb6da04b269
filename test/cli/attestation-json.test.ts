// `breakglass identity-center attest --json`: what was recorded as imported into Identity Center, as the store now holds it.
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openStore } from "../../src/adapters/store/open-store.js";
import { main } from "../../src/cli/main.js";
import { DAY, makeCertificate } from "../support/certificates.js";
import { capturingIo } from "../support/cli-io.js";
import { entityXml } from "../support/metadata-builder.js";

const NOW = new Date("2026-11-25T10:00:00Z");
const INSTANCE_ARN = "arn:aws:sso:::instance/ssoins-1234567890abcdef";

function setUp() {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-attest-json-"));
  const current = makeCertificate({
    commonName: "idp signing 2026",
    notBefore: new Date(NOW.getTime() - DAY),
    notAfter: new Date(NOW.getTime() + 365 * DAY),
  });
  const metadataPath = join(directory, "idp.xml");
  writeFileSync(metadataPath, entityXml({ keys: [{ base64: current.base64, use: "signing" }] }));
  const configPath = join(directory, "breakglass.yaml");
  writeFileSync(
    configPath,
    [
      "idp:",
      "  name: Test IdP",
      "  metadata: idp.xml",
      "aws:",
      "  emergencyAccount:",
      '    accountId: "111122223333"',
      "  identityCenter:",
      `    instanceArn: ${INSTANCE_ARN}`,
      "    region: eu-west-1",
      "store:",
      "  path: breakglass.db",
      "",
    ].join("\n"),
  );
  const sha256 = createHash("sha256").update(current.der).digest("hex");
  return { directory, configPath, metadataPath, sha256 };
}

async function breakglass(...args: string[]) {
  const { io, output } = capturingIo(NOW);
  const code = await main(args, io);
  return { code, ...output };
}

describe("identity-center attest --json", () => {
  it("prints the instance, source, who, when and each signing certificate recorded, as the store keeps them", async () => {
    const { directory, configPath, metadataPath, sha256 } = setUp();
    const { code, stdout, stderr } = await breakglass(
      "identity-center",
      "attest",
      "--metadata",
      metadataPath,
      "--by",
      "alice",
      "--config",
      configPath,
      "--json",
    );
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(stdout)).toEqual({
      instanceArn: INSTANCE_ARN,
      source: metadataPath,
      attestedBy: "alice",
      attestedAt: NOW.toISOString(),
      signingCertificates: [
        {
          sha256,
          subject: "CN=idp signing 2026",
          notBefore: "2026-11-24T10:00:00.000Z",
          notAfter: "2027-11-25T10:00:00.000Z",
        },
      ],
    });
    const store = openStore({ path: join(directory, "breakglass.db") });
    try {
      expect(store.attestations.latestAttestation(INSTANCE_ARN)?.fingerprints).toEqual([sha256]);
    } finally {
      store.close();
    }
  });

  it("refuses metadata without a signing certificate on one stderr line, exit 2, nothing on stdout", async () => {
    const { directory, configPath } = setUp();
    const empty = join(directory, "empty.xml");
    writeFileSync(empty, entityXml({ keys: [] }));
    const { code, stdout, stderr } = await breakglass(
      "identity-center",
      "attest",
      "--metadata",
      empty,
      "--by",
      "alice",
      "--config",
      configPath,
      "--json",
    );
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toBe(
      `breakglass: ${empty}: has no IdP signing certificate: this is not what Identity Center needs\n`,
    );
  });
});
