// A flood of findings (the first check of a new install, an SCP change across the organization) is posted as one
// digest, and so is its resolution: the alerts channel stays readable and clear of Slack's rate limit.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createFinding } from "../../src/domain/checks/finding.js";
import type { PostureFacts } from "../../src/domain/checks/posture-facts.js";
import { parseConfig } from "../../src/config/load-config.js";
import { CheckScheduler } from "../../src/server/check-scheduler.js";
import type { PostureEvaluation } from "../../src/application/evaluate-posture.js";
import type { Announcer, SlackMessage } from "../../src/slack/slack-message.js";
import { openStore } from "../../src/adapters/store/open-store.js";
import type { BreakglassStore } from "../../src/domain/ports/store.js";
import { SteppingClock } from "../support/stepping-clock.js";

const ACCOUNTS = Array.from({ length: 9 }, (_, index) => `2222222222${String(index).padStart(2, "0")}`);

function evaluation(missingRoles: readonly string[]): PostureEvaluation {
  const facts: PostureFacts = {
    emergencyAccountId: "111111111111",
    crossAccountRoleName: "EmergencyAccess",
    workloadAccounts: ACCOUNTS.map((accountId) => ({
      accountId,
      name: null,
      crossAccountRole: {
        arn: `arn:aws:iam::${accountId}:role/EmergencyAccess`,
        status: missingRoles.includes(accountId) ? "missing" : "found",
        trustPolicyDocument: null,
      },
      serviceControlPolicies: [],
    })),
  };
  const findings = missingRoles.map((accountId) =>
    createFinding("CROSS_ACCOUNT_ROLE_MISSING", `The role EmergencyAccess does not exist in account ${accountId}.`, {
      accountId,
    }),
  );
  return { findings, facts, idp: undefined, document: undefined };
}

const stores: BreakglassStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

describe("alert digests", () => {
  it("posts more than five new findings as one digest, and their resolution as one", async () => {
    const store = openStore({ path: join(mkdtempSync(join(tmpdir(), "breakglass-digest-")), "breakglass.db") });
    stores.push(store);
    const posted: SlackMessage[] = [];
    const failures: string[] = [];
    const announcer: Announcer = {
      announce: (_role, message) => (posted.push(message), Promise.resolve(null)),
      update: () => Promise.resolve(),
    };
    let current = evaluation(ACCOUNTS);
    const { config } = parseConfig("idp:\n  name: Okta\n  metadata: ./idp.xml\n", "/srv/breakglass.yaml");
    const scheduler = new CheckScheduler({
      config,
      clock: new SteppingClock(new Date("2026-11-25T03:00:00Z")),
      state: store.serveState,
      announcer,
      evaluate: () => Promise.resolve(current),
      logger: { info: () => undefined, warn: (line) => failures.push(line), error: (line) => failures.push(line) },
      checks: new Set(["cross-account-roles"]),
    });

    await scheduler.runOnce();
    expect(posted).toHaveLength(1);
    expect(posted[0]?.text).toBe("9 new findings (9 high): CROSS_ACCOUNT_ROLE_MISSING");
    expect(JSON.stringify(posted[0]?.blocks)).toContain(
      "×9: 222222222200, 222222222201, 222222222202, 222222222203 and 5 more",
    );
    await scheduler.runOnce();
    expect(posted).toHaveLength(1);

    // Two roles are created: two resolutions, posted one by one; then the rest at once, as one digest.
    current = evaluation(ACCOUNTS.slice(2));
    await scheduler.runOnce();
    expect(posted.slice(1).map((message) => message.text)).toEqual([
      expect.stringMatching(/^Resolved: CROSS_ACCOUNT_ROLE_MISSING .*222222222200/),
      expect.stringMatching(/^Resolved: CROSS_ACCOUNT_ROLE_MISSING .*222222222201/),
    ]);
    current = evaluation([]);
    await scheduler.runOnce();
    expect(posted.slice(3).map((message) => message.text)).toEqual([
      "Resolved: 7 findings: CROSS_ACCOUNT_ROLE_MISSING",
    ]);
    await scheduler.runOnce();
    expect(posted).toHaveLength(4);
    expect(failures).toEqual([]);
  });
});
