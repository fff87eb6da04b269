// /breakglass incident declare, grant @user, revoke @user and incident close through the real Bolt receiver, against a
// SCIM 2.0 server standing in for the IdP: what responders see in Slack, and what changes in the IdP.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY, makeCertificate } from "../support/certificates.js";
import { startScimServer, type ScimTestServer } from "../support/idp-scim-server.js";
import { eventually } from "../support/eventually.js";
import {
  ALICE,
  BOB,
  CHANNELS,
  configText,
  startHarness,
  publishIdpMetadata,
  type ServeHarness,
} from "../support/serve-harness.js";

const RUNBOOKS = new URL("./runbooks/", import.meta.url).pathname;
const TOKEN = "scim-serve-token-7d31";
const CAROL_SLACK = "U0CAROL0001";
const CAROL_IDP = "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d31";
const OPERATORS = "aws-emergency-operators";

let scim: ScimTestServer;
let harness: ServeHarness;

beforeAll(async () => {
  scim = await startScimServer(TOKEN);
  scim.store.addUser({ id: CAROL_IDP, userName: "carol@example.com" });
  scim.store.addGroup(OPERATORS, "AWS emergency operators");
  const extra = `  grant:
    groups: [${OPERATORS}]
    defaultTtl: 2h
    maxTtl: 8h
`;
  const directory = `  directory:
    kind: scim
    baseUrl: ${scim.baseUrl}
    tokenVariable: TEST_SCIM_TOKEN
    ca: {dir}/scim-ca.pem
`;
  const yaml = configText("{dir}", extra).replace("  metadata: ", `${directory}  metadata: `);
  const directoryPath = mkdtempSync(join(tmpdir(), "breakglass-serve-access-"));
  writeFileSync(join(directoryPath, "scim-ca.pem"), scim.ca);
  harness = await startHarness({
    configYaml: yaml,
    runbookDirectory: RUNBOOKS,
    env: { TEST_SCIM_TOKEN: TOKEN },
    directory: directoryPath,
  });
  const certificate = makeCertificate({
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 400 * DAY),
  });
  publishIdpMetadata(harness.directory, certificate);
  harness.stub.setUser(CAROL_SLACK, "carol@example.com", "carol");
});

afterAll(async () => {
  await harness?.stop();
  await scim?.close();
});

function postedTo(channel: string, fragment: string) {
  return eventually(
    () =>
      harness.stub
        .callsTo("chat.postMessage")
        .filter((call) => call.args["channel"] === channel && JSON.stringify(call.args).includes(fragment)),
    (calls) => calls.length > 0,
  );
}

describe("emergency access from Slack", () => {
  it("refuses a grant outside a declared emergency, and one by someone not allowed to grant", async () => {
    await harness.command(`grant <@${CAROL_SLACK}|carol> 1h`, ALICE);
    const outside = await eventually(
      () =>
        harness.stub.responses
          .map((entry) => JSON.stringify(entry.body))
          .filter((text) => text.includes("declare an incident first")),
      (list) => list.length > 0,
    );
    expect(outside[0]).toContain("/breakglass incident declare");
    const refused = await harness.command(`grant <@${CAROL_SLACK}|carol> 1h`, BOB);
    expect(JSON.stringify(refused.json)).toContain("not allowed to grant");
    expect(JSON.stringify(refused.json)).not.toContain("Granting");
    expect(scim.store.membersOf(OPERATORS)).toEqual([]);
  });

  it("declares, grants with a lease, revokes and closes, announcing each where it belongs", async () => {
    await harness.command("incident declare IdP is down for everyone", ALICE);
    const declared = await postedTo(CHANNELS.incidents, "Emergency declared");
    expect(JSON.stringify(declared[0]?.args)).toContain("IdP is down for everyone");
    await postedTo(CHANNELS.security, "Emergency declared");

    await harness.command(`grant <@${CAROL_SLACK}|carol> 1h`, ALICE);
    const granted = await postedTo(CHANNELS.security, "has emergency access until");
    expect(JSON.stringify(granted[0]?.args)).toContain(`<@${CAROL_SLACK}>`);
    expect(scim.store.membersOf(OPERATORS)).toEqual([CAROL_IDP]);
    const lease = harness.service.services.store.leases.activeLeases();
    expect(lease).toHaveLength(1);
    expect(Date.parse(lease[0]?.expiresAt ?? "") - Date.parse(lease[0]?.addedAt ?? "")).toBe(3_600_000);

    await harness.command(`grant <@${CAROL_SLACK}|carol> 9h`, ALICE);
    await eventually(
      () => harness.stub.responses.map((entry) => JSON.stringify(entry.body)).filter((text) => text.includes("8h")),
      (list) => list.length > 0,
    );

    await harness.command(`revoke <@${CAROL_SLACK}|carol>`, ALICE);
    await postedTo(CHANNELS.security, "no longer has emergency access");
    expect(scim.store.membersOf(OPERATORS)).toEqual([]);

    await harness.command("incident close", ALICE);
    await postedTo(CHANNELS.incidents, "closed by");
    const audit = harness.service.services.store.audit.auditRecords();
    expect(audit.filter((record) => record.action === "action.applying").map((record) => record.actor)).toEqual([
      `slack:${ALICE}`,
      `slack:${ALICE}`,
      `slack:${ALICE}`,
      `slack:${ALICE}`,
    ]);
  });
});
