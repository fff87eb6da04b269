// JSON findings (check --json, metadata inspect --json) carry the runbook that fixes them, as the text report's "(runbook: …)" does.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkReportJson } from "../../src/cli/check-report-json.js";
import { main } from "../../src/cli/main.js";
import { createFinding } from "../../src/domain/checks/finding.js";
import { fixedClock } from "../../src/domain/shared/clock.js";
import { corpusPath } from "../support/corpus.js";

const NOW = new Date("2026-11-24T12:00:00Z");

describe("a JSON finding's runbook", () => {
  it("names the runbook that fixes each finding in metadata inspect --json", async () => {
    let stdout = "";
    const code = await main(["metadata", "inspect", corpusPath("google-workspace-rollover.xml"), "--json"], {
      stdout: (text) => void (stdout += text),
      stderr: () => undefined,
      stdoutIsTty: false,
      env: { XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), "breakglass-finding-json-")) },
      clock: fixedClock(NOW),
    });
    expect(code).toBe(1);
    const findings = JSON.parse(stdout).findings as { code: string; runbook: string | null }[];
    expect(findings.map(({ code: findingCode, runbook }) => [findingCode, runbook])).toEqual([
      ["CERT_EXPIRING", "fm2-reimport-metadata"],
      ["ROLLOVER_IN_PROGRESS", "fm2-reimport-metadata"],
    ]);
  });

  it("comes right after the remedy in check --json, before the finding's subject", () => {
    const finding = createFinding("SAML_PROVIDER_DRIFT", "the emergency provider lacks the IdP's new certificate", {
      resource: "arn:aws:iam::111122223333:saml-provider/okta",
    });
    const report = checkReportJson({
      ok: false,
      findings: [finding],
      facts: undefined,
      idp: undefined,
      notChecked: [],
      now: NOW,
    }) as { findings: Record<string, unknown>[] };
    expect(report.findings).toEqual([
      {
        code: "SAML_PROVIDER_DRIFT",
        severity: finding.severity,
        message: "the emergency provider lacks the IdP's new certificate",
        remedy: finding.remedy,
        runbook: "fm2-reimport-metadata",
        resource: "arn:aws:iam::111122223333:saml-provider/okta",
      },
    ]);
    expect(Object.keys(report.findings[0]!).slice(0, 5)).toEqual(["code", "severity", "message", "remedy", "runbook"]);
  });

  it("is null when no runbook fixes the finding, so that a script can tell the two apart", () => {
    const finding = createFinding("CERT_NOT_YET_VALID", "the IdP's next certificate is not valid before 2026-12-01");
    const report = checkReportJson({
      ok: false,
      findings: [finding],
      facts: undefined,
      idp: undefined,
      notChecked: [],
      now: NOW,
    });
    expect(report).toMatchObject({ findings: [{ code: "CERT_NOT_YET_VALID", runbook: null }] });
  });
});
