// `check`'s emergency-groups check against the loopback Okta, Graph and SCIM servers: a group that holds people at rest,
// one whose members the API cannot change, one that cannot be read, each a finding naming the group and saying why.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planChecks } from "../../src/application/check-plan.js";
import { evaluatePosture } from "../../src/application/evaluate-posture.js";
import { parseConfig } from "../../src/config/load-config.js";
import { startGraphServer, type GraphTestServer } from "../support/idp-graph-server.js";
import { startOktaServer, type OktaTestServer } from "../support/idp-okta-server.js";
import { startScimServer, type ScimTestServer } from "../support/idp-scim-server.js";

const TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.emergency-groups.check";
const NOW = new Date("2026-11-25T10:00:00Z");
const directory = mkdtempSync(join(tmpdir(), "breakglass-emergency-groups-"));

let okta: OktaTestServer;
let graph: GraphTestServer;
let scim: ScimTestServer;

beforeAll(async () => {
  [okta, graph, scim] = await Promise.all([startOktaServer(TOKEN), startGraphServer(TOKEN), startScimServer(TOKEN)]);
});

afterAll(async () => {
  await Promise.all([okta.close(), graph.close(), scim.close()]);
});

/** The findings of `check --only emergency-groups` with this idp.directory, the token in BREAKGLASS_IDP_TOKEN. */
async function checkGroups(
  kind: string,
  server: { baseUrl: string; ca: string },
  groups: readonly string[],
  options: { env?: NodeJS.ProcessEnv; leased?: (groupId: string, userId: string) => boolean } = {},
) {
  const ca = join(directory, `${kind}-ca.pem`);
  writeFileSync(ca, server.ca);
  const { config } = parseConfig(
    `idp:
  name: Test IdP
  metadata: ${join(directory, "metadata.xml")}
  directory:
    kind: ${kind}
    baseUrl: ${server.baseUrl}
    ca: ${ca}
    emergencyGroups: [${groups.join(", ")}]
store:
  path: ${join(directory, "breakglass.db")}
`,
    join(directory, "breakglass.yaml"),
  );
  const evaluation = await evaluatePosture(config, planChecks(config, "emergency-groups"), {
    now: NOW,
    latestAttestation: () => null,
    env: options.env ?? { BREAKGLASS_IDP_TOKEN: TOKEN },
    ...(options.leased ? { leased: options.leased } : {}),
  });
  return evaluation.findings.map(({ code, severity, message }) => ({ code, severity, message }));
}

describe("Okta", () => {
  it("reports a group with members at rest, counting them, and an APP_GROUP that cannot be changed", async () => {
    okta.users.set("00u1ana", {
      id: "00u1ana",
      login: "ana@example.com",
      email: "ana@example.com",
      firstName: "Ana",
      lastName: "Silva",
    });
    okta.groups.set("00g1operators", new Set(["00u1ana"]));
    okta.groupNames.set("00g1operators", "aws-emergency-operators");
    okta.groups.set("00g2synced", new Set());
    okta.groupNames.set("00g2synced", "aws-emergency-ad");
    okta.groupTypes.set("00g2synced", "APP_GROUP");
    okta.groups.set("00g3empty", new Set());
    okta.groupNames.set("00g3empty", "aws-emergency-readers");

    const findings = await checkGroups("okta", { baseUrl: okta.url, ca: okta.ca }, [
      "aws-emergency-operators",
      "aws-emergency-ad",
      "aws-emergency-readers",
    ]);
    expect(findings).toEqual([
      {
        code: "IDP_GROUP_NOT_EMPTY",
        severity: "high",
        message:
          "The emergency group aws-emergency-operators (00g1operators) has 1 member at rest that no breakglass lease " +
          "accounts for: ana@example.com (00u1ana).",
      },
      {
        code: "IDP_GROUP_UNMODIFIABLE",
        severity: "high",
        message: expect.stringMatching(
          /^The emergency group aws-emergency-ad \(00g2synced\) cannot be changed through the IdP's API: .*APP_GROUP.*\.$/,
        ),
      },
    ]);
  });

  it("does not count a member an active breakglass lease accounts for (an incident under way)", async () => {
    const findings = await checkGroups("okta", { baseUrl: okta.url, ca: okta.ca }, ["aws-emergency-operators"], {
      leased: (groupId, userId) => groupId === "00g1operators" && userId === "00u1ana",
    });
    expect(findings).toEqual([]);
  });
});

describe("Graph", () => {
  it("says exactly why a dynamic, a mail-enabled and a role-assignable group cannot be used", async () => {
    for (const [id, name, properties] of [
      ["11111111-1111-4111-8111-111111111111", "aws-emergency-dynamic", { groupTypes: ["DynamicMembership"] }],
      ["22222222-2222-4222-8222-222222222222", "aws-emergency-mail", { mailEnabled: true }],
      ["33333333-3333-4333-8333-333333333333", "aws-emergency-privileged", { isAssignableToRole: true }],
    ] as const) {
      graph.groups.set(id, new Set());
      graph.groupNames.set(id, name);
      graph.groupProperties.set(id, properties);
    }
    const findings = await checkGroups("graph", graph, [
      "aws-emergency-dynamic",
      "aws-emergency-mail",
      "aws-emergency-privileged",
    ]);
    expect(findings.map((finding) => finding.code)).toEqual([
      "IDP_GROUP_UNMODIFIABLE",
      "IDP_GROUP_UNMODIFIABLE",
      "IDP_GROUP_UNMODIFIABLE",
    ]);
    expect(findings[0]?.message).toMatch(/aws-emergency-dynamic .*: .*dynamic/i);
    expect(findings[1]?.message).toMatch(/aws-emergency-mail .*: .*mail-enabled/i);
    expect(findings[2]?.message).toMatch(/aws-emergency-privileged .*: .*role-assignable/i);
  });
});

describe("SCIM", () => {
  it("reports a group that does not exist, and every group as unreadable when the token is not set, naming the variable", async () => {
    scim.store.addGroup("a7d3", "aws-emergency-operators");
    await expect(checkGroups("scim", scim, ["aws-emergency-operators", "aws-emergency-typo"])).resolves.toEqual([
      {
        code: "IDP_GROUP_UNREADABLE",
        severity: "high",
        message:
          "The emergency group aws-emergency-typo (idp.directory.emergencyGroups) does not exist in the IdP, or " +
          "breakglass's token cannot see it.",
      },
    ]);
    const unset = await checkGroups("scim", scim, ["aws-emergency-operators"], { env: {} });
    expect(unset).toEqual([
      {
        code: "IDP_GROUP_UNREADABLE",
        severity: "high",
        message: expect.stringContaining(
          "Could not read the emergency group aws-emergency-operators: needs the IdP's group API, and the environment variable BREAKGLASS_IDP_TOKEN",
        ),
      },
    ]);
  });
});
