// An sso-directory event changing Identity Center's external IdP invalidates the last attestation: `check` reports
// IDENTITY_CENTER_IDP_CHANGED (who, when, which event) until `identity-center attest` records a fresh import.
// Real parts: the CLI, the SQLite store file, and sso-admin on loopback (ListInstances answering ACTIVE).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/adapters/store/open-store.js";
import {
  IdentityCenterIdpChanges,
  type CloudTrailRecord,
  type IdpChangeOutcome,
} from "../../src/application/identity-center-idp-changes.js";
import { main } from "../../src/cli/main.js";
import { AuditLog } from "../../src/domain/audit/audit-log.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { DAY, makeCertificate } from "../support/certificates.js";
import { capturingIo } from "../support/cli-io.js";
import { entityXml } from "../support/metadata-builder.js";
import { startSsoAdmin, type SsoAdminServer } from "../support/runbook-sso-admin.js";

const INSTANCE = "arn:aws:sso:::instance/ssoins-7223a2f5d3b4c6e8";
const ADMIN_ACCOUNT = "999999999999";
const HOUR = 3_600_000;
const T0 = new Date("2026-11-25T10:00:00Z");
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);
const MALLORY = `arn:aws:sts::${ADMIN_ACCOUNT}:assumed-role/AWSReservedSSO_AdministratorAccess_0123abcd/mallory@example.com`;

/** An sso-directory record as CloudTrail writes it when the console's "Change identity source" is saved. */
const ssoDirectoryRecord = (overrides: Partial<CloudTrailRecord> = {}): CloudTrailRecord => ({
  eventID: "4c1b7a3e-6f2d-4e0a-9b8c-1d2e3f405162",
  eventTime: at(1)
    .toISOString()
    .replace(/\.000Z$/, "Z"),
  eventSource: "sso-directory.amazonaws.com",
  eventName: "EnableExternalIdPConfigurationForDirectory",
  userIdentity: {
    type: "AssumedRole",
    arn: MALLORY,
    principalId: "AROAEXAMPLEADMIN0001:mallory@example.com",
  },
  sourceIPAddress: "203.0.113.7",
  awsRegion: "eu-west-1",
  recipientAccountId: ADMIN_ACCOUNT,
  ...overrides,
});

let ssoAdmin: SsoAdminServer;
let directory: string;
let configPath: string;
let metadataPath: string;

beforeAll(async () => {
  ssoAdmin = await startSsoAdmin(INSTANCE, "ACTIVE");
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SSO_ADMIN: ssoAdmin.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
  });
  directory = mkdtempSync(join(tmpdir(), "breakglass-idp-change-"));
  const signing = makeCertificate({
    commonName: "idp signing",
    notBefore: new Date(T0.getTime() - 10 * DAY),
    notAfter: new Date(T0.getTime() + 300 * DAY),
  });
  metadataPath = join(directory, "idp.xml");
  writeFileSync(metadataPath, entityXml({ keys: [{ base64: signing.base64, use: "signing" }] }));
  configPath = join(directory, "breakglass.yaml");
  writeFileSync(
    configPath,
    [
      "idp:",
      "  name: Test IdP",
      `  metadata: ${metadataPath}`,
      "aws:",
      "  emergencyAccount:",
      '    accountId: "111122223333"',
      "  identityCenter:",
      `    instanceArn: ${INSTANCE}`,
      "    region: eu-west-1",
      `    accountId: "${ADMIN_ACCOUNT}"`,
      "store:",
      `  path: ${join(directory, "breakglass.db")}`,
      "",
    ].join("\n"),
  );
});

afterAll(() => ssoAdmin.close());

async function breakglass(now: Date, ...args: string[]) {
  const { io, output } = capturingIo(now);
  const code = await main(args, { ...io, env: { XDG_CACHE_HOME: join(directory, "cache") } });
  return { code, ...output };
}

async function identityCenterFindings(now: Date) {
  const { code, stdout, stderr } = await breakglass(
    now,
    "check",
    "--config",
    configPath,
    "--only",
    "identity-center",
    "--json",
  );
  expect(stderr).toBe("");
  const report = JSON.parse(stdout) as { findings: { code: string; severity: string; message: string }[] };
  return { code, findings: report.findings };
}

/** What the watcher does with one classified record: the sink over the store file the CLI uses. */
function deliver(record: CloudTrailRecord, now: Date): IdpChangeOutcome {
  const store = openStore({ path: join(directory, "breakglass.db") });
  try {
    const sink = new IdentityCenterIdpChanges({
      instanceArn: INSTANCE,
      administratorAccountId: ADMIN_ACCOUNT,
      attestations: store.attestations,
      audit: new AuditLog(store.audit, fixedClock(now)),
    });
    return sink.handle(record);
  } finally {
    store.close();
  }
}

describe("an Identity Center IdP change seen in CloudTrail", () => {
  it("invalidates the attestation until someone attests again, naming who changed it, when and from where", async () => {
    expect(
      (
        await breakglass(
          T0,
          "identity-center",
          "attest",
          "--config",
          configPath,
          "--metadata",
          metadataPath,
          "--by",
          "alice",
        )
      ).code,
    ).toBe(0);
    expect(await identityCenterFindings(at(0.5))).toEqual({ code: 0, findings: [] });

    // A failed attempt changed nothing; another service's event is not about the IdP.
    expect(deliver(ssoDirectoryRecord({ errorCode: "AccessDenied", eventID: "failed-1" }), at(1))).toEqual({
      kind: "ignored",
      reason: "EnableExternalIdPConfigurationForDirectory failed (AccessDenied): nothing changed",
    });
    expect(deliver(ssoDirectoryRecord({ eventName: "CreateUser", eventID: "user-1" }), at(1)).kind).toBe("ignored");
    expect(await identityCenterFindings(at(1.5))).toEqual({ code: 0, findings: [] });

    expect(deliver(ssoDirectoryRecord(), at(1.1))).toMatchObject({ kind: "recorded", change: { changedBy: MALLORY } });
    // CloudTrail delivers at least once: the same event again is not a second change.
    expect(deliver(ssoDirectoryRecord(), at(1.2)).kind).toBe("duplicate");

    const changed = await identityCenterFindings(at(2));
    expect(changed.code).toBe(1);
    expect(changed.findings).toEqual([
      expect.objectContaining({
        code: "IDENTITY_CENTER_IDP_CHANGED",
        severity: "high",
        message:
          `${MALLORY} changed the external IdP configuration of IAM Identity Center ${INSTANCE} at ` +
          `${at(1).toISOString()} (EnableExternalIdPConfigurationForDirectory from 203.0.113.7, CloudTrail event ` +
          `4c1b7a3e-6f2d-4e0a-9b8c-1d2e3f405162), after the import attested by alice at ${T0.toISOString()}: ` +
          "breakglass no longer knows which IdP certificate it trusts.",
      }),
    ]);
    expect(changed.findings[0]).toHaveProperty(
      "remedy",
      expect.stringContaining("`breakglass identity-center attest --metadata <file|url> --by <name>`"),
    );

    // The change is in the audit log, attributed to the principal CloudTrail named.
    const store = openStore({ path: join(directory, "breakglass.db") });
    const audited = store.audit.auditRecords().filter((record) => record.action === "identity-center.idp-changed");
    store.close();
    expect(audited).toEqual([
      expect.objectContaining({
        actor: `cloudtrail:${MALLORY}`,
        subject: INSTANCE,
        detail: expect.objectContaining({ eventId: "4c1b7a3e-6f2d-4e0a-9b8c-1d2e3f405162", sourceIp: "203.0.113.7" }),
      }),
    ]);

    expect(
      (
        await breakglass(
          at(3),
          "identity-center",
          "attest",
          "--config",
          configPath,
          "--metadata",
          metadataPath,
          "--by",
          "bob",
        )
      ).code,
    ).toBe(0);
    expect(await identityCenterFindings(at(4))).toEqual({ code: 0, findings: [] });
  });

  it("keeps an attestation made after the change valid when the event arrives late", async () => {
    // CloudTrail delivers minutes late: bob attested at 3h, a change made at 2.5h arrives at 3.5h.
    const late = ssoDirectoryRecord({
      eventID: "late-1",
      eventName: "ImportExternalIdPCertificate",
      eventTime: at(2.5).toISOString(),
    });
    expect(deliver(late, at(3.5)).kind).toBe("recorded");
    expect(await identityCenterFindings(at(4))).toEqual({ code: 0, findings: [] });
  });

  it("ignores an IdP change in an account that does not administer the instance", () => {
    expect(deliver(ssoDirectoryRecord({ eventID: "other-1", recipientAccountId: "444455556666" }), at(5))).toEqual({
      kind: "ignored",
      reason: `account 444455556666 does not administer ${INSTANCE} (${ADMIN_ACCOUNT} does)`,
    });
  });
});
