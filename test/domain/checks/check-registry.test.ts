// The check registry and everything derived from it agree: the config's check names, the plan, the gatherer's readers, the judges.
import { describe, expect, it } from "vitest";
import { GATHERED_FACT_KINDS } from "../../../src/adapters/aws/gather-posture.js";
import { planChecks } from "../../../src/application/check-plan.js";
import { CHECK_NAMES as CONFIG_CHECK_NAMES } from "../../../src/config/config-schema.js";
import { EXAMPLE_CONFIG } from "../../../src/config/example-config.js";
import { parseConfig } from "../../../src/config/load-config.js";
import {
  CHECK_NAMES,
  CHECK_REGISTRY,
  checkDefinition,
  checkReadsAws,
} from "../../../src/domain/checks/check-registry.js";
import { CONFIG_SECTIONS } from "../../../src/domain/checks/config-sections.js";
import { FACT_KINDS, type FactKind } from "../../../src/domain/checks/fact-kinds.js";
import { judgeChecks } from "../../../src/domain/checks/posture-checks.js";
import { isBreakglassError } from "../../../src/domain/errors.js";

/** The example with its commented idp.directory (and its emergencyGroups) switched on: every section present. */
const FULL = parseConfig(
  EXAMPLE_CONFIG.replace(/^ {2}# (directory:| {2}(?:kind|baseUrl|tokenVariable|emergencyGroups):)/gm, "  $1"),
  "breakglass.yaml",
).config;

describe("the check registry", () => {
  it("lists the checks in the order reports, the config's default and --only name them", () => {
    expect(CHECK_NAMES).toEqual([
      "metadata",
      "saml-providers",
      "emergency-roles",
      "emergency-users",
      "identity-center",
      "identity-center-regions",
      "cross-account-roles",
      "scp-protection",
      "cloudtrail",
      "eventbridge",
      "emergency-groups",
      "watch",
    ]);
  });

  it("is where the config's check names come from: every registered check is accepted in checks.enabled, and is the default", () => {
    expect(CONFIG_CHECK_NAMES).toEqual(Object.keys(CHECK_REGISTRY));
    const enabledEach = CHECK_NAMES.map(
      (check) =>
        parseConfig(`idp:\n  name: Okta\n  metadata: ./idp.xml\nchecks:\n  enabled: [${check}]\n`, "breakglass.yaml")
          .config.checks.enabled,
    );
    expect(enabledEach).toEqual(CHECK_NAMES.map((check) => [check]));
    expect(parseConfig("idp:\n  name: Okta\n  metadata: ./idp.xml\n", "breakglass.yaml").config.checks.enabled).toEqual(
      CHECK_NAMES,
    );
  });

  it("refuses a check name it does not register, in the config and in --only, listing the names it knows", () => {
    let message = "";
    try {
      parseConfig("idp:\n  name: Okta\n  metadata: ./idp.xml\nchecks:\n  enabled: [scp]\n", "breakglass.yaml");
    } catch (error) {
      if (isBreakglassError(error)) message = error.message;
    }
    expect(message).toContain(`expected a check name (${CHECK_NAMES.join(", ")})`);
    expect(() => planChecks(FULL, "metadata,scp")).toThrow(`unknown check "scp" (checks: ${CHECK_NAMES.join(", ")})`);
  });

  it("names only config sections that have a reason to report, and only fact kinds that exist", () => {
    for (const check of CHECK_NAMES) {
      const { needs, reads } = checkDefinition(check);
      for (const section of needs) expect(CONFIG_SECTIONS, `${check} needs ${section}`).toHaveProperty([section]);
      expect(reads.length, `${check} reads no facts`).toBeGreaterThan(0);
      for (const kind of reads) expect(FACT_KINDS, `${check} reads ${kind}`).toHaveProperty([kind]);
    }
  });

  it("has a reader in the AWS gatherer for every fact kind read from AWS, and the gatherer reads nothing the registry does not name", () => {
    const readFromAws = (Object.keys(FACT_KINDS) as FactKind[]).filter((kind) =>
      ["aws", "each-workload-account"].includes(FACT_KINDS[kind].readFrom),
    );
    expect([...GATHERED_FACT_KINDS].sort()).toEqual(readFromAws.sort());
  });

  it("reads every fact kind it names: each is read by at least one registered check", () => {
    const read = new Set(CHECK_NAMES.flatMap((check) => checkDefinition(check).reads));
    expect([...read].sort()).toEqual(Object.keys(FACT_KINDS).sort());
  });

  it("plans every registered check for a config with every section, and gathers AWS facts for exactly the checks that read AWS", () => {
    const plan = planChecks(FULL, undefined);
    expect([...plan.runnable]).toEqual(CHECK_NAMES);
    expect(plan.notChecked).toEqual([]);
    expect([...(plan.scope?.checks ?? [])]).toEqual(CHECK_NAMES.filter(checkReadsAws));
    expect(plan.scope?.checks.has("metadata")).toBe(false);
  });

  it("gathers nothing from AWS when only the IdP's metadata is checked", () => {
    expect(planChecks(FULL, "metadata").scope).toBeUndefined();
  });

  it("judges no check whose facts were not gathered: with nothing read, no check finds anything", () => {
    const findings = judgeChecks(new Set(CHECK_NAMES), {
      facts: undefined,
      idp: undefined,
      samlProviderArns: [],
      emergencyRoleArns: [],
      now: new Date(0),
      warnDays: 30,
    });
    expect(findings).toEqual([]);
  });
});
