// Access by Slack user group: a group Slack will not list (a missing scope) refuses its members and says why in the
// log; the failure is not remembered, so once Slack answers, the same person is let in.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY, makeCertificate } from "../support/certificates.js";
import { eventually } from "../support/eventually.js";
import {
  configText,
  RESPONDERS_GROUP,
  startHarness,
  publishIdpMetadata,
  type ServeHarness,
} from "../support/serve-harness.js";

const CAROL = "U0CAROL0001";
let harness: ServeHarness;

beforeAll(async () => {
  harness = await startHarness({
    configYaml: configText("{dir}"),
    runbookDirectory: new URL("./runbooks/", import.meta.url).pathname,
  });
  publishIdpMetadata(harness.directory, makeCertificate({ notAfter: new Date(Date.now() + 400 * DAY) }));
  harness.stub.setUserGroup(RESPONDERS_GROUP, [CAROL]);
});

afterAll(async () => {
  await harness?.stop();
});

describe("access through a Slack user group", () => {
  it("refuses while the group cannot be read, says why, and lets the member in once it can", async () => {
    harness.stub.failNext("usergroups.users.list", { ok: false, error: "missing_scope", needed: "usergroups:read" });
    // Refused in the acknowledgement, before anything runs: never "Running a full check…" and then no.
    const refused = JSON.stringify((await harness.command("check", CAROL)).json);
    expect(refused).toContain("not allowed to run checks");
    expect(refused).toContain("<!subteam^S0RESPOND01>");
    expect(refused).not.toContain("Running a full check");
    expect(harness.logs.join("\n")).toContain(
      "could not read the members of Slack user group S0RESPOND01 (missing_scope; the app needs usergroups:read)",
    );

    const before = harness.stub.responses.length;
    await harness.command("check", CAROL);
    const allowed = await eventually(
      () => harness.stub.responses.slice(before).map((entry) => JSON.stringify(entry.body)),
      (texts) => texts.length > 0,
    );
    expect(allowed[0]).not.toContain("not allowed");
    expect(allowed[0]).toContain("IdP signing certificates");
  });
});
