// `/breakglass status` and the App Home from real check results (generated certificates, the real checks): what a
// responder sees at a glance, escaped and within Slack's limits.
import { describe, expect, it } from "vitest";
import { createFinding, type Finding } from "../../src/domain/checks/finding.js";
import { checkIdentityCenter, checkIdentityCenterImport } from "../../src/domain/checks/identity-center.js";
import { checkMetadata, shortFingerprint } from "../../src/domain/checks/metadata-checks.js";
import type { PostureFacts } from "../../src/domain/checks/posture-facts.js";
import { checkSamlProviders } from "../../src/domain/checks/saml-provider-drift.js";
import type { MemberLease } from "../../src/domain/ports/member-lease-store.js";
import { inspectMetadataText } from "../../src/domain/saml/inspect-metadata.js";
import {
  postureHomeView,
  postureStatusMessage,
  type OpenRunSummary,
  type PostureSnapshot,
} from "../../src/slack/posture-view.js";
import type { SlackMessage } from "../../src/slack/slack-message.js";
import { DAY, makeCertificate } from "../support/certificates.js";
import { entityXml } from "../support/metadata-builder.js";
import { visibleText } from "../support/block-text.js";
import {
  blockKitProblems,
  blockTextTotal,
  MESSAGE_BLOCK_TEXT_LIMIT,
  viewProblems,
} from "../support/block-kit-limits.js";

const now = new Date("2026-05-01T12:00:00Z");
const HOUR = 3_600_000;
const PROVIDER = "arn:aws:iam::111111111111:saml-provider/Emergency";
const INSTANCE = "arn:aws:sso:::instance/ssoins-1234567890abcdef";

// The IdP is mid-rollover: the old certificate expires in 10 days, the emergency provider holds only the old one.
const oldCertificate = makeCertificate({
  notBefore: new Date(now.getTime() - 300 * DAY),
  notAfter: new Date(now.getTime() + 10.5 * DAY),
});
const newCertificate = makeCertificate({
  notBefore: new Date(now.getTime() - DAY),
  notAfter: new Date(now.getTime() + 400.5 * DAY),
});
const idp = inspectMetadataText(
  entityXml({
    keys: [
      { base64: oldCertificate.base64, use: "signing" },
      { base64: newCertificate.base64, use: "signing" },
    ],
  }),
  "https://idp.example.com/metadata",
);
const oldSha = idp.entities[0]?.certificates[0]?.facts?.sha256 ?? "";
const newSha = idp.entities[0]?.certificates[1]?.facts?.sha256 ?? "";
const facts: PostureFacts = {
  emergencyAccountId: "111111111111",
  samlProviders: [
    {
      arn: PROVIDER,
      status: "found",
      validUntil: null,
      metadataDocument: entityXml({ keys: [{ base64: oldCertificate.base64, use: "signing" }] }),
    },
  ],
  identityCenter: { instanceArn: INSTANCE, status: "found", instanceStatus: "ACTIVE", identityStoreId: "d-1234567890" },
  attestation: {
    instanceArn: INSTANCE,
    fingerprints: [oldSha],
    attestedAt: new Date(now.getTime() - 40 * DAY),
    attestedBy: "slack:U0ALICE001",
    source: "https://idp.example.com/metadata",
  },
};
const findings: Finding[] = [
  ...checkMetadata(idp, { now, warnDays: 30 }),
  ...checkSamlProviders(facts.samlProviders ?? [], idp, { now, warnDays: 30 }),
  ...checkIdentityCenter(
    facts.identityCenter ?? { instanceArn: INSTANCE, status: "error", instanceStatus: null, identityStoreId: null },
  ),
  ...checkIdentityCenterImport(INSTANCE, idp, facts.attestation ?? null, { now, warnDays: 30 }),
  createFinding("CLOUDTRAIL_NOT_LOGGING", "No trail in the emergency account 111111111111 is logging <!channel> & co."),
];

function lease(overrides: Partial<MemberLease>): MemberLease {
  return {
    id: 1,
    runId: null,
    groupId: "aws-emergency-operators",
    userId: "00u1",
    login: "ana@example.com",
    addedAt: new Date(now.getTime() - HOUR).toISOString(),
    expiresAt: new Date(now.getTime() + 2 * HOUR + 10 * 60_000).toISOString(),
    removedAt: null,
    ...overrides,
  };
}

const leases: MemberLease[] = [
  lease({}),
  lease({
    id: 2,
    userId: "00u2",
    login: "raj@example.com",
    runId: "3f2a9c1b-0d4e-4c55-9a1e-1f2b3c4d5e6f",
    expiresAt: new Date(now.getTime() - 5 * 60_000).toISOString(),
  }),
  lease({ id: 3, userId: "00u3", login: "gone@example.com", removedAt: new Date(now.getTime() - HOUR).toISOString() }),
];
const openRuns: OpenRunSummary[] = [
  {
    id: "3f2a9c1b-0d4e-4c55-9a1e-1f2b3c4d5e6f",
    runbookId: "fm3-direct-federation",
    status: "waiting",
    waitingFor: { stepId: "approve-direct-federation", kind: "approval" },
    initiator: "slack:U0INIT0001",
  },
  {
    id: "9e8d7c6b-0d4e-4c55-9a1e-1f2b3c4d5e6f",
    runbookId: "fm2-reimport-metadata",
    status: "failed",
    waitingFor: null,
  },
];

const snapshot: PostureSnapshot = {
  evaluation: { findings, facts, idp },
  completedAt: new Date(now.getTime() - 12 * 60_000),
  openRuns,
  leases,
  now,
};

function expectWithinSlackLimits(blocks: SlackMessage["blocks"], maxBlocks: number): void {
  expect(blockKitProblems(blocks, maxBlocks === 50 ? "message" : "home")).toEqual([]);
  if (maxBlocks === 50) expect(blockTextTotal(blocks)).toBeLessThanOrEqual(MESSAGE_BLOCK_TEXT_LIMIT);
}

describe("before any check has completed", () => {
  it("says so, and still shows open runs and leases", () => {
    const message = postureStatusMessage({
      evaluation: undefined,
      completedAt: undefined,
      openRuns: [],
      leases: [],
      now,
    });
    const text = visibleText(message.blocks);
    expect(text).toContain("*No check has completed yet.*");
    expect(text).toContain("*Open runs*\n_None._");
    expect(text).toContain("_Nobody: the emergency groups have no one on a lease._");
    expect(message.text).toBe("Emergency access: no check has completed yet, 0 open runs, 0 on a lease");
  });

  it("gives a Home tab view", () => {
    const view = postureHomeView({ evaluation: undefined, completedAt: undefined, openRuns: [], leases: [], now });
    expect(view.type).toBe("home");
    expect(visibleText(view.blocks)).toContain("No check has completed yet.");
  });
});

describe("the status message", () => {
  const message = postureStatusMessage(snapshot);
  const text = visibleText(message.blocks);

  it("gives the verdict with the blocking findings, all counts by severity and when the check ran", () => {
    expect(text).toContain(":red_circle: *Not ready*: 5 high");
    expect(text).toContain("Open findings: 5 high, 1 info");
    expect(text).toMatch(/Last check <!date\^\d+\^\{date_short_pretty\} \{time\}\|2026-05-01 11:48 UTC> \(12m ago\)/);
    expect(message.text).toBe("Emergency access: not ready (5 high), 2 open runs, 2 on a lease");
  });

  it("lists the IdP's signing certificates with the days they have left", () => {
    expect(text).toContain(`:large_orange_circle: \`${shortFingerprint(oldSha)}\` expires 2026-05-12, *in 10 days*`);
    expect(text).toContain(`:white_check_mark: \`${shortFingerprint(newSha)}\` expires 2027-06-06, *in 400 days*`);
    expect(text).toContain("From https://idp.example.com/metadata");
  });

  it("shows the drift of the emergency provider and the rollover", () => {
    expect(text).toContain("*Emergency IAM SAML providers*");
    expect(text).toContain(
      `:large_orange_circle: The IAM SAML provider ${PROVIDER} lacks the IdP's signing certificate`,
    );
    expect(text).toContain(":white_circle: https://idp.example.test/metadata is rolling its signing certificate over");
    expect(text).not.toContain("in step with the IdP");
  });

  it("shows Identity Center's state, its import running out and who attested it", () => {
    expect(text).toContain(
      "*IAM Identity Center*\n:white_check_mark: active\n:large_orange_circle: The certificate imported into IAM Identity Center",
    );
    expect(text).toMatch(/Last import attested by <@U0ALICE001> <!date\^/);
  });

  it("lists the findings not shown above, escaped, with the runbook that fixes them", () => {
    expect(text).toContain(
      "*Other findings*\n:large_orange_circle: No trail in the emergency account 111111111111 is logging &lt;!channel&gt; &amp; co.",
    );
    expect(text).not.toContain("<!channel>");
    // Each finding appears once, in its section.
    expect(text.match(/lacks the IdP's signing certificate/g)).toHaveLength(1);
  });

  it("lists open runs with what they wait for", () => {
    expect(text).toContain(
      ":hourglass_flowing_sand: `3f2a9c1b` `fm3-direct-federation` waits for approval, started by <@U0INIT0001>",
    );
    expect(text).toContain(":x: `9e8d7c6b` `fm2-reimport-metadata` failed: fix the cause, then press Run");
  });

  it("lists active leases by expiry, a lease past its end as pending removal, and leaves out ended ones", () => {
    expect(text).toContain("*Emergency group members* (2)");
    expect(text).toContain(
      ":hourglass: raj@example.com in `aws-emergency-operators`: lease ended 5m ago, removal pending (run `3f2a9c1b`)",
    );
    expect(text).toMatch(
      /:key: ana@example\.com in `aws-emergency-operators` until <!date\^\d+\^\{date_short_pretty\} \{time\}\|2026-05-01 14:10 UTC> \(in 2h10m\)/,
    );
    expect(text).not.toContain("gone@example.com");
    expect(text.indexOf("raj@example.com")).toBeLessThan(text.indexOf("ana@example.com"));
  });

  it("fits Slack's limits for a message", () => {
    expectWithinSlackLimits(message.blocks, 50);
  });
});

describe("other states", () => {
  it("shows an IdP that could not be read under its certificates, once", () => {
    const unreachable = createFinding(
      "METADATA_UNREACHABLE",
      "Could not read the metadata of Okta: https://idp.example.com/metadata: connection refused.",
    );
    const text = visibleText(
      postureStatusMessage({ ...snapshot, evaluation: { findings: [unreachable], facts: undefined, idp: undefined } })
        .blocks,
    );
    expect(text).toContain("*IdP signing certificates*\n:red_circle: Could not read the metadata of Okta");
    expect(text).not.toContain("*Other findings*");
    expect(text).not.toContain("*IAM Identity Center*");
  });

  it("says Ready and that the providers are in step when nothing is wrong", () => {
    const single = inspectMetadataText(
      entityXml({ keys: [{ base64: newCertificate.base64, use: "signing" }] }),
      "idp.xml",
    );
    const healthy: PostureFacts = {
      emergencyAccountId: "111111111111",
      samlProviders: [
        {
          arn: PROVIDER,
          status: "found",
          validUntil: null,
          metadataDocument: entityXml({ keys: [{ base64: newCertificate.base64, use: "signing" }] }),
        },
      ],
    };
    const clean = [
      ...checkMetadata(single, { now, warnDays: 30 }),
      ...checkSamlProviders(healthy.samlProviders ?? [], single, { now, warnDays: 30 }),
    ];
    expect(clean).toEqual([]);
    const text = visibleText(
      postureStatusMessage({ ...snapshot, evaluation: { findings: clean, facts: healthy, idp: single } }).blocks,
    );
    expect(text).toContain(":large_green_circle: *Ready*: no findings");
    expect(text).toContain(":white_check_mark: 1 provider in step with the IdP");
  });

  it("says Identity Center did not answer", () => {
    const down = {
      instanceArn: INSTANCE,
      status: "error" as const,
      error: { code: "Throttling", message: "slow down" },
      instanceStatus: null,
      identityStoreId: null,
    };
    const text = visibleText(
      postureStatusMessage({
        ...snapshot,
        evaluation: {
          findings: checkIdentityCenter(down),
          facts: { emergencyAccountId: "111111111111", identityCenter: down },
          idp,
        },
      }).blocks,
    );
    expect(text).toContain("*IAM Identity Center*\n:large_orange_circle: did not answer");
    expect(text.match(/did not answer/g)).toHaveLength(1);
  });

  it("escapes what the IdP and the directory hold", () => {
    const text = visibleText(
      postureStatusMessage({ ...snapshot, leases: [lease({ login: "<@U0EVIL> & @everyone", groupId: "ops`x" })] })
        .blocks,
    );
    expect(text).toContain("&lt;@U0EVIL&gt; &amp; @\u2060everyone in `ops'x`");
  });

  it("keeps long lists short in the message and longer in the Home tab", () => {
    const many = Array.from({ length: 60 }, (_, index) =>
      createFinding(
        "CROSS_ACCOUNT_ROLE_MISSING",
        `The cross-account role is missing in account ${String(index).padStart(12, "0")}.`,
        { accountId: String(index).padStart(12, "0") },
      ),
    );
    const manyLeases = Array.from({ length: 60 }, (_, index) =>
      lease({ id: index, userId: `u${index}`, login: `user${index}@example.com` }),
    );
    const manyRuns = Array.from({ length: 30 }, (_, index) => ({ ...openRuns[1]!, id: `run-${index}` }));
    const big: PostureSnapshot = {
      ...snapshot,
      evaluation: { findings: many, facts: undefined, idp },
      leases: manyLeases,
      openRuns: manyRuns,
    };
    const message = postureStatusMessage(big);
    const messageText = visibleText(message.blocks);
    expect(messageText).toContain("…and 55 more (`breakglass check` lists them all)");
    expect(messageText).toContain("…and 25 more (`/breakglass runbook status`)");
    expect(messageText).toContain("*Emergency group members* (60)");
    expectWithinSlackLimits(message.blocks, 50);
    const home = postureHomeView(big);
    expect(visibleText(home.blocks)).toContain("…and 45 more (`breakglass check` lists them all)");
    expectWithinSlackLimits(home.blocks as SlackMessage["blocks"], 100);
  });
});

describe("the worst case", () => {
  it("keeps 500 findings of 10,000 characters, 100 leases and 100 open runs within Slack's limits", () => {
    const long = (index: number) => `Finding ${index} 🔥 ${"<!channel> & slack:U0OTHER999 ".repeat(400)}`;
    const findings = Array.from({ length: 500 }, (_, index) =>
      createFinding(index % 2 === 0 ? "CLOUDTRAIL_NOT_LOGGING" : "CERT_EXPIRING", long(index)),
    );
    const leases = Array.from({ length: 100 }, (_, index) =>
      lease({ id: index, userId: `u${index}`, login: `${"very-long-login-".repeat(20)}${index}@example.com` }),
    );
    const runs = Array.from({ length: 100 }, (_, index) => ({ ...openRuns[0]!, id: `run-${index}` }));
    const worst: PostureSnapshot = { ...snapshot, evaluation: { findings, facts, idp }, leases, openRuns: runs };
    const message = postureStatusMessage(worst);
    expectWithinSlackLimits(message.blocks, 50);
    const home = postureHomeView(worst);
    expect(viewProblems(home as unknown as Record<string, unknown>)).toEqual([]);
    for (const text of [visibleText(message.blocks), visibleText(home.blocks), message.text]) {
      expect(text).not.toContain("<!channel>");
      expect(text).not.toContain("<@U0OTHER999>");
    }
  });
});

describe("a metadata source that carries a credential", () => {
  const source = "https://ops:hunter2@idp.example.com/metadata?token=t0ps3cr3t&X-Amz-Signature=abcdef0123456789";
  const sourced = inspectMetadataText(entityXml({ keys: [{ base64: newCertificate.base64, use: "signing" }] }), source);
  const unreachable = createFinding("METADATA_UNREACHABLE", `Could not fetch ${source}: HTTP 403.`);

  it.each([
    ["the status reply", (s: PostureSnapshot) => postureStatusMessage(s).blocks],
    ["the App Home", (s: PostureSnapshot) => postureHomeView(s).blocks],
  ])("is shown in %s without its user:password, token or signature", (_where, build) => {
    const fetched = build({ ...snapshot, evaluation: { findings: [], facts, idp: sourced } });
    const failed = build({ ...snapshot, evaluation: { findings: [unreachable], facts: undefined, idp: undefined } });
    const text = `${visibleText(fetched)}\n${visibleText(failed)}`;
    for (const secret of ["ops", "hunter2", "t0ps3cr3t", "abcdef0123456789"]) expect(text).not.toContain(secret);
    expect(visibleText(fetched)).toContain("From https://idp.example.com/metadata?…");
    expect(visibleText(failed)).toContain("Could not fetch https://idp.example.com/metadata?…: HTTP 403.");
  });
});
