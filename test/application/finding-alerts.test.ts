// Which findings become alerts, how one finding is followed from check to check, and which alerts a check may declare resolved.
import { describe, expect, it } from "vitest";
import { checkCloudTrail } from "../../src/domain/checks/cloudtrail-logging.js";
import { checkCrossAccountRoles } from "../../src/domain/checks/cross-account-roles.js";
import { checkEventBridgeRules } from "../../src/domain/checks/eventbridge-rules.js";
import type { Finding } from "../../src/domain/checks/finding.js";
import { FINDING_CODES, type FindingCode } from "../../src/domain/checks/finding-codes.js";
import { checkMetadata } from "../../src/domain/checks/metadata-checks.js";
import type { PostureFacts, SamlProviderFacts, WorkloadAccountFacts } from "../../src/domain/checks/posture-facts.js";
import { checkSamlProviders } from "../../src/domain/checks/saml-provider-drift.js";
import type { CheckName } from "../../src/config/config-schema.js";
import {
  alertKey,
  collectAlerts,
  diffAlerts,
  isAlertMaterial,
  LADDER_CODES,
  parseAlertKey,
  type AlertCandidate,
  type CheckReading,
} from "../../src/application/finding-alerts.js";
import { inspectMetadataText } from "../../src/domain/saml/inspect-metadata.js";
import type { AlertRecord } from "../../src/domain/ports/serve-state-store.js";
import { DAY, freshKeyPair, makeCertificate } from "../support/certificates.js";
import { entityXml } from "../support/metadata-builder.js";

const now = new Date("2026-11-25T12:00:00Z");
const ACCOUNT = "111111111111";
const PROVIDER = `arn:aws:iam::${ACCOUNT}:saml-provider/EmergencyIdP`;
const ALL_CHECKS: ReadonlySet<CheckName> = new Set([
  "metadata",
  "saml-providers",
  "emergency-roles",
  "emergency-users",
  "identity-center",
  "cross-account-roles",
  "scp-protection",
  "cloudtrail",
  "eventbridge",
]);

const current = makeCertificate({
  commonName: "current",
  notBefore: new Date(now.getTime() - 300 * DAY),
  notAfter: new Date(now.getTime() + 400 * DAY),
});
const next = makeCertificate(
  { commonName: "next", notBefore: new Date(now.getTime() - 2 * DAY), notAfter: new Date(now.getTime() + 800 * DAY) },
  freshKeyPair(),
);
const metadata = (...base64: string[]) =>
  entityXml({ keys: base64.map((value) => ({ base64: value, use: "signing" as const })) });
const idpOf = (...base64: string[]) => inspectMetadataText(metadata(...base64), "idp.xml");
const provider = (overrides: Partial<SamlProviderFacts> = {}): SamlProviderFacts => ({
  arn: PROVIDER,
  status: "found",
  validUntil: null,
  metadataDocument: metadata(current.base64),
  ...overrides,
});

/** An open alert as the store would hold it, for what a check saw before. */
function openAlert(candidate: AlertCandidate, postedAt: string | null = "2026-11-20T00:00:00.000Z"): AlertRecord {
  return {
    key: candidate.key,
    code: candidate.code,
    severity: candidate.severity,
    message: candidate.message,
    firstSeen: "2026-11-20T00:00:00.000Z",
    lastSeen: "2026-11-24T00:00:00.000Z",
    postedAt,
    resolvedAt: null,
    resolutionPostedAt: null,
  };
}

const reading = (overrides: Partial<CheckReading>): CheckReading => ({
  idp: idpOf(current.base64),
  facts: { emergencyAccountId: ACCOUNT },
  checks: ALL_CHECKS,
  ...overrides,
});

describe("which findings are alerts", () => {
  it("leaves certificate expiry to the ladder but alerts on what an expiry breaks", () => {
    const expired = makeCertificate(
      {
        commonName: "gone",
        notBefore: new Date(now.getTime() - 400 * DAY),
        notAfter: new Date(now.getTime() - 2 * DAY),
      },
      freshKeyPair(),
    );
    const findings = checkMetadata(idpOf(expired.base64), { now, warnDays: 30 });
    expect(findings.map((finding) => [finding.code, isAlertMaterial(finding)])).toEqual([
      ["CERT_EXPIRED", false],
      ["NO_VALID_SIGNING_CERT", true],
    ]);
    expect([...LADDER_CODES].sort()).toEqual(["CERT_EXPIRED", "CERT_EXPIRING", "SAML_PROVIDER_CERT_EXPIRING"]);
    expect(
      Object.keys(FINDING_CODES).filter(
        // SAML_RESPONSE_* judge one pasted sign-in (saml preflight), never a check: they are never alerts.
        (code) => /EXPIR/.test(code) && !code.startsWith("SAML_RESPONSE_") && !LADDER_CODES.has(code as FindingCode),
      ),
    ).toEqual(["METADATA_EXPIRED", "SAML_PROVIDER_EXPIRED"]);
  });
});

describe("the alert key", () => {
  it("stays the same while a provider's drift changes its wording and fingerprints", () => {
    const dropped = makeCertificate({ commonName: "dropped" }, freshKeyPair());
    const idp = idpOf(current.base64, next.base64);
    const [early] = checkSamlProviders([provider()], idp, { now, warnDays: 30 });
    const [later] = checkSamlProviders(
      [provider({ metadataDocument: metadata(current.base64, dropped.base64) })],
      idp,
      { now, warnDays: 30 },
    );
    expect(later?.code).toBe("SAML_PROVIDER_DRIFT");
    expect(early?.message).not.toBe(later?.message);
    expect(alertKey(early!)).toBe(alertKey(later!));
  });

  it("tells apart the same problem on two resources, and parses back to what it names", () => {
    const other = `arn:aws:iam::${ACCOUNT}:saml-provider/Second`;
    const findings = checkSamlProviders(
      [provider({ status: "missing" }), provider({ arn: other, status: "missing" })],
      undefined,
      { now, warnDays: 30 },
    );
    const keys = findings.map(alertKey);
    expect(new Set(keys).size).toBe(2);
    expect(keys.map(parseAlertKey)).toEqual([
      { code: "SAML_PROVIDER_MISSING", subject: { resource: PROVIDER } },
      { code: "SAML_PROVIDER_MISSING", subject: { resource: other } },
    ]);
    expect(parseAlertKey("not json")).toBeNull();
  });

  it("makes one alert of the findings that share a key, at the highest severity, with each message", () => {
    const findings = checkEventBridgeRules(
      { status: "found", rules: [] },
      [`arn:aws:iam::${ACCOUNT}:role/EmergencyAdmin`],
      ACCOUNT,
    );
    expect(findings).toHaveLength(2);
    const alerts = collectAlerts(findings);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      code: "EVENTBRIDGE_RULE_MISSING",
      severity: "medium",
      subject: { accountId: ACCOUNT },
    });
    expect(alerts[0]?.message.split("\n")).toEqual(findings.map((finding) => finding.message));
  });
});

describe("which open alerts a check resolves", () => {
  const weak = makeCertificate({
    commonName: "weak",
    keyBits: 1024,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 400 * DAY),
  });
  const weakAlerts = collectAlerts(checkMetadata(idpOf(weak.base64), { now, warnDays: 30 }));

  it("resolves a metadata alert once the metadata is read again without it", () => {
    expect(weakAlerts.map((alert) => alert.code)).toEqual(["CERT_WEAK_KEY"]);
    const diff = diffAlerts(
      [],
      weakAlerts.map((alert) => openAlert(alert)),
      reading({}),
    );
    expect(diff.resolved.map((alert) => alert.code)).toEqual(["CERT_WEAK_KEY"]);
  });

  it("keeps metadata alerts open while the metadata cannot be read, and resolves the unreachable alert once it can", () => {
    const unreachable: Finding = {
      code: "METADATA_UNREACHABLE",
      severity: "critical",
      message: "Could not read the metadata of Okta: timeout.",
      remedy: FINDING_CODES.METADATA_UNREACHABLE.remedy,
    };
    const duringOutage = diffAlerts(
      collectAlerts([unreachable]),
      weakAlerts.map((alert) => openAlert(alert)),
      reading({ idp: undefined }),
    );
    expect(duringOutage.resolved).toEqual([]);
    expect(duringOutage.unjudged.map((alert) => alert.code)).toEqual(["CERT_WEAK_KEY"]);
    expect(duringOutage.appeared.map((alert) => alert.code)).toEqual(["METADATA_UNREACHABLE"]);

    const back = diffAlerts(
      weakAlerts,
      [...weakAlerts, ...collectAlerts([unreachable])].map((alert) => openAlert(alert)),
      reading({}),
    );
    expect(back.resolved.map((alert) => alert.code)).toEqual(["METADATA_UNREACHABLE"]);
  });

  it("does not resolve a provider's drift while the provider cannot be read, nor while the IdP cannot", () => {
    const drift = collectAlerts(checkSamlProviders([provider()], idpOf(next.base64), { now, warnDays: 30 }));
    expect(drift.map((alert) => alert.code)).toEqual(["SAML_PROVIDER_LACKS_CURRENT_CERT"]);
    const open = drift.map((alert) => openAlert(alert));
    const unreadable = provider({
      status: "error",
      error: { code: "AccessDenied", message: "no" },
      metadataDocument: null,
    });
    const failedRead = checkSamlProviders([unreadable], idpOf(next.base64), { now, warnDays: 30 });
    expect(failedRead.map((finding) => finding.code)).toEqual(["AWS_READ_FAILED"]);

    expect(
      diffAlerts(
        collectAlerts(failedRead),
        open,
        reading({ facts: { emergencyAccountId: ACCOUNT, samlProviders: [unreadable] } }),
      ).resolved,
    ).toEqual([]);
    expect(
      diffAlerts(
        [],
        open,
        reading({ idp: undefined, facts: { emergencyAccountId: ACCOUNT, samlProviders: [provider()] } }),
      ).resolved,
    ).toEqual([]);
    expect(
      diffAlerts(
        [],
        open,
        reading({ facts: { emergencyAccountId: ACCOUNT, samlProviders: [provider()] } }),
      ).resolved.map((alert) => alert.code),
    ).toEqual(["SAML_PROVIDER_LACKS_CURRENT_CERT"]);
  });

  it("does not resolve a workload account's alerts while the account cannot be read", () => {
    const roleArn = "arn:aws:iam::222222222222:role/EmergencyAccess";
    const missing: WorkloadAccountFacts = {
      accountId: "222222222222",
      name: null,
      crossAccountRole: { arn: roleArn, status: "missing", trustPolicyDocument: null },
      serviceControlPolicies: [],
    };
    const open = collectAlerts(checkCrossAccountRoles([missing], "EmergencyAccess", [])).map((alert) =>
      openAlert(alert),
    );
    expect(open.map((alert) => alert.code)).toEqual(["CROSS_ACCOUNT_ROLE_MISSING"]);

    const unreadable: WorkloadAccountFacts = {
      accountId: "222222222222",
      name: null,
      crossAccountRole: null,
      error: { code: "AccessDenied", message: "cannot assume the read role" },
      serviceControlPolicies: null,
    };
    const facts = (account: WorkloadAccountFacts): PostureFacts => ({
      emergencyAccountId: ACCOUNT,
      workloadAccounts: [account],
      crossAccountRoleName: "EmergencyAccess",
    });
    expect(
      diffAlerts(
        collectAlerts(checkCrossAccountRoles([unreadable], "EmergencyAccess", [])),
        open,
        reading({ facts: facts(unreadable) }),
      ).resolved,
    ).toEqual([]);

    const fixed: WorkloadAccountFacts = {
      ...missing,
      crossAccountRole: { arn: roleArn, status: "found", trustPolicyDocument: null },
    };
    expect(diffAlerts([], open, reading({ facts: facts(fixed) })).resolved.map((alert) => alert.code)).toEqual([
      "CROSS_ACCOUNT_ROLE_MISSING",
    ]);
    // The same reading does not count when the check that judges it is switched off.
    expect(
      diffAlerts([], open, reading({ facts: facts(fixed), checks: new Set<CheckName>(["metadata"]) })).resolved,
    ).toEqual([]);
  });

  it("keeps CloudTrail's alert while its trails cannot be read, and resolves a read failure once the read works", () => {
    const notLogging = collectAlerts(checkCloudTrail({ status: "found", trails: [] }, ACCOUNT));
    const readFailure = collectAlerts(
      checkCloudTrail({ status: "error", error: { code: "AccessDenied", message: "no" }, trails: [] }, ACCOUNT),
    );
    const failing: PostureFacts = { emergencyAccountId: ACCOUNT, cloudTrail: { status: "error", trails: [] } };
    const logging: PostureFacts = { emergencyAccountId: ACCOUNT, cloudTrail: { status: "found", trails: [] } };

    expect(
      diffAlerts(
        readFailure,
        notLogging.map((alert) => openAlert(alert)),
        reading({ facts: failing }),
      ).resolved,
    ).toEqual([]);
    expect(
      diffAlerts(
        [],
        readFailure.map((alert) => openAlert(alert)),
        reading({ facts: logging }),
      ).resolved.map((alert) => alert.code),
    ).toEqual(["AWS_READ_FAILED"]);
    // Without any AWS reading (no aws section, say), nothing about AWS is resolved.
    expect(
      diffAlerts(
        [],
        [...notLogging, ...readFailure].map((alert) => openAlert(alert)),
        reading({ facts: undefined }),
      ).resolved,
    ).toEqual([]);
  });

  it("reports only alerts that were not open before as new", () => {
    const diff = diffAlerts(
      weakAlerts,
      weakAlerts.map((alert) => openAlert(alert)),
      reading({}),
    );
    expect(diff).toEqual({ appeared: [], resolved: [], unjudged: [] });
  });
});
