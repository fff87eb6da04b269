// What the alerts channel shows for a new finding, its resolution and an expiry warning, read as a person on a phone reads it.
import { configInputDefaults } from "../../src/application/runbook-runtime.js";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { types } from "@slack/bolt";
import { FINDING_CODES } from "../../src/domain/checks/finding-codes.js";
import { parseConfig } from "../../src/config/load-config.js";
import { loadRunbooks } from "../../src/adapters/runbook-files/runbook-files.js";
import {
  alertDigestMessage,
  expiryWarningMessage,
  newAlertMessage,
  resolutionDigestMessage,
  resolutionMessage,
  runbookGuide,
  type AlertView,
  type RunbookGuide,
} from "../../src/slack/alert-messages.js";
import type { WatchedCertificate } from "../../src/domain/checks/expiry-ladder.js";
import type { SlackMessage } from "../../src/slack/slack-message.js";
import { blockKitProblems, blockTextTotal, MESSAGE_BLOCK_TEXT_LIMIT } from "../support/block-kit-limits.js";

const RUNBOOK_DIRECTORY = fileURLToPath(new URL("../../runbooks", import.meta.url));
const PROVIDER = "arn:aws:iam::111111111111:saml-provider/Emergency_IdP";
const CONFIG_LINES = [
  "idp:",
  "  name: Okta",
  "  metadata: ./okta-metadata.xml",
  "aws:",
  "  emergencyAccount:",
  '    accountId: "111111111111"',
  "    samlProviders:",
  `      - ${PROVIDER}`,
  "  identityCenter:",
  "    instanceArn: arn:aws:sso:::instance/ssoins-1234567890abcdef",
  "    region: eu-west-1",
  "",
];
const config = parseConfig(CONFIG_LINES.join("\n"), "/srv/breakglass/breakglass.yaml").config;

async function guide(): Promise<RunbookGuide> {
  const loaded = await loadRunbooks(RUNBOOK_DIRECTORY);
  return runbookGuide(
    configInputDefaults(config),
    loaded.map((entry) => entry.runbook),
  );
}

/** The message as a person sees it: each block's text on its own lines, Slack's escapes turned back into characters. */
function render(message: SlackMessage): string {
  return message.blocks.map(renderBlock).join("\n");
}

function renderBlock(block: types.KnownBlock): string {
  const text = (object: { type: string; text: string }) =>
    object.type === "mrkdwn"
      ? object.text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&")
      : object.text;
  if (block.type === "section" && block.text) return text(block.text);
  if (block.type === "context")
    return block.elements.map((element) => ("text" in element ? text(element) : "")).join(" · ");
  return "";
}

/** Slack's limits, and no raw markup characters where Slack reads mrkdwn. */
function expectWellFormed(message: SlackMessage): void {
  expect(message.text.length).toBeLessThanOrEqual(3000);
  expect(message.text).not.toMatch(/[<>]/);
  for (const block of message.blocks) {
    if (block.type === "section" && block.text) {
      expect(block.text.text.length).toBeGreaterThan(0);
      expect(block.text.text.length).toBeLessThanOrEqual(3000);
      if (block.text.type === "mrkdwn") expect(block.text.text).not.toMatch(/[<>]/);
    }
    if (block.type === "context") expect(block.elements.length).toBeLessThanOrEqual(10);
  }
}

const drift: AlertView = {
  code: "SAML_PROVIDER_DRIFT",
  severity: "high",
  message: `The IAM SAML provider ${PROVIDER} lacks the IdP's signing certificate sha256 1a2b3c4d…9f0e (the IdP's new rollover certificate).`,
  subject: { resource: PROVIDER },
  firstSeen: new Date("2026-11-20T08:15:00Z"),
};

describe("a new finding alert", () => {
  it("says how bad it is, what is wrong, what to do, and the exact command that starts the runbook", async () => {
    const message = newAlertMessage(drift, await guide());
    expectWellFormed(message);
    expect(render(message).split("\n")).toEqual([
      "*:large_orange_circle: High · SAML_PROVIDER_DRIFT*",
      drift.message,
      `*What to do:* ${FINDING_CODES.SAML_PROVIDER_DRIFT.remedy}`,
      "*Runbook:* `fm2-reimport-metadata` · Re-import the IdP's SAML metadata into the emergency IAM SAML providers and IAM Identity Center",
      "`/breakglass runbook start fm2-reimport-metadata incident=<incident> " +
        "emergencyAccountId=111111111111 identityCenterAccountId=<identityCenterAccountId> " +
        "identityCenterRegion=eu-west-1`",
      `${PROVIDER} · First seen 2026-11-20 08:15 UTC`,
    ]);
    expect(message.text).toBe(`High SAML_PROVIDER_DRIFT: ${drift.message}`);
  });

  it("asks for a fresh attestation when Identity Center's IdP changed: the CLI command and the runbook to start from Slack", async () => {
    const changed: AlertView = {
      code: "IDENTITY_CENTER_IDP_CHANGED",
      severity: "high",
      message:
        "arn:aws:sts::999999999999:assumed-role/AWSReservedSSO_Admin_0123/mallory@example.com changed the external IdP " +
        "configuration of IAM Identity Center arn:aws:sso:::instance/ssoins-1234567890abcdef at 2026-11-25T11:00:00.000Z " +
        "(EnableExternalIdPConfigurationForDirectory from 203.0.113.7, CloudTrail event 4c1b7a3e), after the import " +
        "attested by alice at 2026-11-25T10:00:00.000Z: breakglass no longer knows which IdP certificate it trusts.",
      subject: { resource: "arn:aws:sso:::instance/ssoins-1234567890abcdef" },
      firstSeen: new Date("2026-11-25T11:05:00Z"),
    };
    const message = newAlertMessage(changed, await guide());
    expectWellFormed(message);
    const lines = render(message).split("\n");
    expect(lines.slice(0, 2)).toEqual(["*:large_orange_circle: High · IDENTITY_CENTER_IDP_CHANGED*", changed.message]);
    expect(lines[2]).toContain("`breakglass identity-center attest --metadata <file|url> --by <name>`");
    expect(lines[2]).toContain("`/breakglass runbook start fm2-reimport-metadata`");
    expect(lines).toContain(
      "`/breakglass runbook start fm2-reimport-metadata incident=<incident> " +
        "emergencyAccountId=111111111111 identityCenterAccountId=<identityCenterAccountId> " +
        "identityCenterRegion=eu-west-1`",
    );
  });

  it("fills the Identity Center account from aws.identityCenter.accountId, or from its read role", async () => {
    const loaded = (await loadRunbooks(RUNBOOK_DIRECTORY)).map((entry) => entry.runbook);
    const withKey = (line: string) =>
      parseConfig([...CONFIG_LINES.slice(0, -1), line, ""].join("\n"), "/srv/breakglass/breakglass.yaml").config;
    for (const line of [
      '    accountId: "999999999999"',
      "    roleArn: arn:aws:iam::999999999999:role/breakglass-identity-center-reader",
    ]) {
      const rendered = render(newAlertMessage(drift, runbookGuide(configInputDefaults(withKey(line)), loaded)));
      expect(rendered).toContain(
        "emergencyAccountId=111111111111 identityCenterAccountId=999999999999 identityCenterRegion=eu-west-1`",
      );
    }
  });

  it("keeps the finding's text out of mrkdwn, so underscores in an ARN stay underscores", async () => {
    const message = newAlertMessage(drift, await guide());
    expect(message.blocks[1]).toEqual({
      type: "section",
      text: { type: "plain_text", text: drift.message, emoji: false },
    });
  });

  it("plans a rollover's re-import as a change made while sign-in still works", async () => {
    const rollover: AlertView = {
      code: "ROLLOVER_IN_PROGRESS",
      severity: "info",
      message: "https://idp.example.test/metadata publishes 2 signing certificates.",
      subject: { entityID: "https://idp.example.test/metadata" },
      firstSeen: drift.firstSeen,
    };
    const rendered = render(newAlertMessage(rollover, await guide()));
    expect(rendered).toContain("*:white_circle: Info · ROLLOVER_IN_PROGRESS*");
    expect(rendered).toContain(
      "`/breakglass runbook start fm2-reimport-metadata incident=<incident> workforceSignIn=working " +
        "emergencyAccountId=111111111111 identityCenterAccountId=<identityCenterAccountId> " +
        "identityCenterRegion=eu-west-1`",
    );
    expect(rendered).toContain("Entity https://idp.example.test/metadata");
  });

  it("names no runbook for a finding the registry has none for, and names the account", async () => {
    const cloudTrail: AlertView = {
      code: "CLOUDTRAIL_NOT_LOGGING",
      severity: "high",
      message: "No CloudTrail trail records the emergency account 111111111111.",
      subject: { accountId: "111111111111" },
      firstSeen: drift.firstSeen,
    };
    const rendered = render(newAlertMessage(cloudTrail, await guide()));
    expect(rendered).not.toContain("Runbook");
    expect(rendered).toContain("Account 111111111111 · First seen");
  });

  it("still names the runbook and where its inputs are listed when the runbooks were not loaded", () => {
    const rendered = render(
      newAlertMessage(
        { ...drift, code: "METADATA_UNREACHABLE", severity: "critical" },
        runbookGuide(configInputDefaults(config)),
      ),
    );
    expect(rendered).toContain(
      "*Runbook:* `fm1-idp-unavailable`\n`/breakglass runbook start fm1-idp-unavailable`\n`breakglass runbook show fm1-idp-unavailable` lists its inputs.",
    );
  });

  it("never carries a credential from a URL the finding quotes", async () => {
    const presigned =
      "https://bucket.s3.amazonaws.com/okta.xml?X-Amz-Credential=AKIAEXAMPLE%2F20261125&X-Amz-Signature=deadbeef";
    const unreachable: AlertView = {
      code: "METADATA_UNREACHABLE",
      severity: "critical",
      message: `Could not read the metadata of Okta: ${presigned}: HTTP 403.`,
      subject: {},
      firstSeen: drift.firstSeen,
    };
    const withPassword: AlertView = {
      ...unreachable,
      message: "Could not read the metadata of Okta: https://user:hunter2@idp.example.test/metadata: timeout.",
    };
    for (const alert of [unreachable, withPassword]) {
      for (const message of [
        newAlertMessage(alert, await guide()),
        resolutionMessage(alert, new Date("2026-11-21T00:00:00Z")),
      ]) {
        expectWellFormed(message);
        const everything = JSON.stringify(message);
        for (const secret of ["AKIAEXAMPLE", "deadbeef", "hunter2"]) expect(everything).not.toContain(secret);
      }
    }
    expect(render(newAlertMessage(unreachable, await guide()))).toContain(
      "https://bucket.s3.amazonaws.com/okta.xml?…: HTTP 403.",
    );
  });

  it("never carries a token or a channel-wide ping from what the finding quotes", async () => {
    const quoted: AlertView = {
      code: "METADATA_UNREACHABLE",
      severity: "critical",
      message: "Okta answered 401 to SSWS 00aBcDeFgHiJkLmN @channel",
      subject: { resource: "xoxb-1234-5678-abcdef" },
      firstSeen: drift.firstSeen,
    };
    const message = newAlertMessage(quoted, await guide());
    expectWellFormed(message);
    for (const secret of ["00aBcDeFgHiJkLmN", "xoxb-1234"]) expect(JSON.stringify(message)).not.toContain(secret);
    expect(message.text).toBe("Critical METADATA_UNREACHABLE: Okta answered 401 to SSWS [redacted] @\u2060channel");
  });
});

describe("a resolution", () => {
  it("says it is resolved and how long it was open", () => {
    const message = resolutionMessage(drift, new Date("2026-11-23T12:45:00Z"));
    expectWellFormed(message);
    expect(render(message).split("\n")).toEqual([
      "*:white_check_mark: Resolved · SAML_PROVIDER_DRIFT*",
      drift.message,
      `Open for 3d4h · Since 2026-11-20 08:15 UTC · ${PROVIDER}`,
    ]);
    expect(message.text).toBe(`Resolved: SAML_PROVIDER_DRIFT (open 3d4h): ${drift.message}`);
  });

  it("counts a short outage in minutes", () => {
    expect(render(resolutionMessage(drift, new Date("2026-11-20T08:52:30Z")))).toContain("Open for 37m");
  });
});

describe("an expiry warning", () => {
  const certificate: WatchedCertificate = {
    sha256: "1a2b3c4d5e6f77889900aabbccddeeff00112233445566778899aabbccdd9f0e",
    subject: "CN=okta_signing,O=Example & Co",
    notAfter: new Date("2026-12-09T12:00:00Z"),
    publishedByIdp: true,
    samlProviders: [PROVIDER],
  };
  const warn = async (now: string, step: string, overrides: Partial<WatchedCertificate> = {}, idpRead = true) =>
    expiryWarningMessage(
      {
        idpName: "Okta",
        certificate: { ...certificate, ...overrides },
        step,
        now: new Date(now),
        idpRead,
        ladder: [60, 30, 14, 7, 3, 1],
      },
      await guide(),
    );

  it("names the IdP, the certificate, when it expires, where it is held and how to rotate it", async () => {
    const message = await warn("2026-11-25T09:00:00Z", "14d");
    expectWellFormed(message);
    expect(render(message).split("\n")).toEqual([
      "*:warning: Okta signing certificate expires in 14 days*",
      "`CN=okta_signing,O=Example & Co` · sha256 1a2b3c4d…9f0e",
      "Expires 2026-12-09 12:00 UTC",
      `*Where:* Okta's metadata and the IAM SAML provider \`${PROVIDER}\`.`,
      "*Rotate it:* roll the certificate over at Okta, then re-import its metadata everywhere with the runbook:",
      "`/breakglass runbook start fm2-reimport-metadata incident=<incident> workforceSignIn=working " +
        "emergencyAccountId=111111111111 identityCenterAccountId=<identityCenterAccountId> " +
        "identityCenterRegion=eu-west-1`",
      `Expiry warning 14d · Warned at 60/30/14/7/3/1 days left, then daily once expired · sha256 ${certificate.sha256}`,
    ]);
    expect(message.text).toBe(
      "Okta signing certificate sha256 1a2b3c4d…9f0e (CN=okta_signing,O=Example &amp; Co) expires in 14 days",
    );
  });

  it("counts the days since expiry, and leaves the runbook to assume sign-in is broken", async () => {
    const rendered = render(await warn("2026-12-11T13:00:00Z", "expired+2"));
    expect(rendered).toContain("*:rotating_light: Okta signing certificate expired 2 days ago*");
    expect(rendered).toContain("Expired 2026-12-09 12:00 UTC");
    expect(rendered).toContain(
      "`/breakglass runbook start fm2-reimport-metadata incident=<incident> emergencyAccountId=111111111111",
    );
    expect(rendered).not.toContain("workforceSignIn");
    expect(render(await warn("2026-12-09T12:00:00Z", "expired+0"))).toContain("expired less than a day ago");
    expect(render(await warn("2026-12-09T01:00:00Z", "1d"))).toContain("expires in less than a day");
  });

  it("says when only an IAM SAML provider still holds a certificate the IdP dropped", async () => {
    const rendered = render(await warn("2026-11-25T09:00:00Z", "14d", { publishedByIdp: false }));
    expect(rendered).toContain("*:warning: SAML signing certificate expires in 14 days*");
    expect(rendered).toContain(
      `*Where:* the IAM SAML provider \`${PROVIDER}\`; Okta's metadata no longer publishes it.`,
    );
    expect(rendered).toContain("*Rotate it:* re-import Okta's current metadata everywhere");
    expect(render(await warn("2026-11-25T09:00:00Z", "14d", { publishedByIdp: false }, false))).toContain(
      "Okta's metadata could not be read just now.",
    );
  });
});

describe("the worst case", () => {
  it("keeps a 500-finding digest of 10,000-character messages, and each alert, within Slack's limits", async () => {
    const codes = Object.keys(FINDING_CODES);
    const alerts: AlertView[] = Array.from({ length: 500 }, (_, index) => ({
      code: codes[index % codes.length] ?? "SAML_PROVIDER_DRIFT",
      severity: index % 3 === 0 ? "critical" : "high",
      message: `🔥 ${"<!channel> https://u:p@idp.example/x?token=secret ".repeat(200)}`,
      subject: { resource: `${PROVIDER}-${index}`.repeat(20), accountId: String(index).padStart(12, "0") },
      firstSeen: new Date("2026-11-20T08:15:00Z"),
    }));
    const runbooks = await guide();
    const messages = [
      alertDigestMessage(alerts, runbooks),
      resolutionDigestMessage(alerts),
      newAlertMessage(alerts[0]!, runbooks),
      resolutionMessage(alerts[1]!, new Date("2026-11-21T08:15:00Z")),
    ];
    for (const message of messages) {
      expect(blockKitProblems(message.blocks)).toEqual([]);
      expect(blockTextTotal(message.blocks)).toBeLessThanOrEqual(MESSAGE_BLOCK_TEXT_LIMIT);
      expect(message.text.length).toBeLessThanOrEqual(3000);
      // plain_text shows <!channel> as written; only mrkdwn and the fallback text would broadcast it.
      const shown = JSON.stringify(message.blocks);
      expect(shown).not.toMatch(/"type":"mrkdwn","text":"[^"]*<!channel>/);
      expect(message.text).not.toContain("<!channel>");
      expect(`${message.text}${shown}`).not.toMatch(/secret|u:p@/);
    }
  });
});
