// A config without a section a check needs: `check` and `config validate` report the check as not checked, with the registry's reason.
import { describe, expect, it } from "vitest";
import { planChecks } from "../../src/application/check-plan.js";
import { describeDisabledChecks } from "../../src/config/disabled-checks.js";
import { parseConfig } from "../../src/config/load-config.js";
import { CHECK_NAMES, checkDefinition } from "../../src/domain/checks/check-registry.js";
import { CONFIG_SECTIONS, type ConfigSection } from "../../src/domain/checks/config-sections.js";

const IDP = ["idp:", "  name: Okta", "  metadata: ./idp.xml"];
const DIRECTORY = [
  "  directory:",
  "    kind: okta",
  "    baseUrl: https://acme.okta.com",
  "    emergencyGroups: [aws-emergency-operators]",
];
const EMERGENCY_ACCOUNT = ["  emergencyAccount:", '    accountId: "111111111111"'];
const SAML_PROVIDERS = ["    samlProviders:", "      - arn:aws:iam::111111111111:saml-provider/EmergencyIdP"];
const EMERGENCY_ROLES = ["    emergencyRoles:", "      - arn:aws:iam::111111111111:role/EmergencyAdmin"];
const EMERGENCY_USERS = ["    emergencyUsers: [breakglass-emergency-1]"];
const IDENTITY_CENTER = [
  "  identityCenter:",
  "    instanceArn: arn:aws:sso:::instance/ssoins-1234567890abcdef",
  "    region: eu-west-1",
];
const ORGANIZATION = [
  "  organization:",
  "    crossAccountRoleName: EmergencyAccess",
  "    readRoleName: breakglass-read",
  "    accounts: all",
];

const WATCH = ["watch:", "  queueUrl: https://sqs.eu-west-1.amazonaws.com/111111111111/breakglass-watch"];

/** A config with every section but the one named. */
function configWithout(absent: ConfigSection) {
  const aws = [
    "aws:",
    ...EMERGENCY_ACCOUNT,
    ...(absent === "aws.emergencyAccount.samlProviders" ? [] : SAML_PROVIDERS),
    ...(absent === "aws.emergencyAccount.emergencyRoles" ? [] : EMERGENCY_ROLES),
    ...(absent === "aws.emergencyAccount.emergencyUsers" ? [] : EMERGENCY_USERS),
    ...(absent === "aws.identityCenter" ? [] : IDENTITY_CENTER),
    ...(absent === "aws.organization" ? [] : ORGANIZATION),
  ];
  const lines = [
    ...IDP,
    ...(absent === "idp.directory.emergencyGroups" ? [] : DIRECTORY),
    ...(absent === "aws" ? [] : aws),
    ...(absent === "watch.queueUrl" ? [] : WATCH),
  ];
  return parseConfig(`${lines.join("\n")}\n`, "breakglass.yaml").config;
}

/** What the registry says a config without this section cannot check: the first section each check needs that is absent. */
function expectedNotChecked(absent: ConfigSection) {
  const present = (section: ConfigSection) => section !== absent && !(absent === "aws" && section.startsWith("aws."));
  return CHECK_NAMES.flatMap((check) => {
    const missing = checkDefinition(check).needs.find((section) => !present(section));
    return missing === undefined ? [] : [{ check, reason: CONFIG_SECTIONS[missing] }];
  });
}

describe("a config without a section a check needs", () => {
  it.each(Object.keys(CONFIG_SECTIONS) as ConfigSection[])(
    "without %s, reports each check that needs it as not checked, with the registry's reason, and runs the rest",
    (absent) => {
      const config = configWithout(absent);
      const plan = planChecks(config, undefined);
      const notChecked = expectedNotChecked(absent);
      expect(notChecked.length).toBeGreaterThan(0);
      expect(describeDisabledChecks(config)).toEqual(notChecked);
      expect(plan.notChecked).toEqual(notChecked);
      expect([...plan.runnable]).toEqual(
        CHECK_NAMES.filter((check) => !notChecked.some((entry) => entry.check === check)),
      );
    },
  );

  it("says in words which section is missing", () => {
    expect(planChecks(configWithout("aws.identityCenter"), undefined).notChecked).toEqual([
      { check: "identity-center", reason: "no aws.identityCenter section" },
      { check: "identity-center-regions", reason: "no aws.identityCenter section" },
    ]);
    expect(planChecks(configWithout("aws.organization"), undefined).notChecked).toEqual([
      { check: "cross-account-roles", reason: "no aws.organization section" },
      { check: "scp-protection", reason: "no aws.organization section" },
    ]);
    expect(planChecks(configWithout("aws.emergencyAccount.samlProviders"), undefined).notChecked).toEqual([
      { check: "saml-providers", reason: "no aws.emergencyAccount.samlProviders" },
    ]);
    expect(planChecks(configWithout("aws.emergencyAccount.emergencyUsers"), undefined).notChecked).toEqual([
      { check: "emergency-users", reason: "no aws.emergencyAccount.emergencyUsers" },
    ]);
    expect(planChecks(configWithout("aws"), undefined).notChecked).toEqual([
      { check: "saml-providers", reason: "no aws section" },
      { check: "emergency-roles", reason: "no aws section" },
      { check: "emergency-users", reason: "no aws section" },
      { check: "identity-center", reason: "no aws.identityCenter section" },
      { check: "identity-center-regions", reason: "no aws.identityCenter section" },
      { check: "cross-account-roles", reason: "no aws.organization section" },
      { check: "scp-protection", reason: "no aws.organization section" },
      { check: "cloudtrail", reason: "no aws section" },
      { check: "eventbridge", reason: "no aws section" },
      { check: "watch", reason: "no aws section" },
    ]);
  });

  it("gives the section's reason only to a check the config enables: one it switched off is 'not in checks.enabled'", () => {
    const config = {
      ...configWithout("aws.identityCenter"),
      checks: { enabled: ["metadata" as const], concurrency: 8 },
    };
    expect(describeDisabledChecks(config)).toEqual(
      CHECK_NAMES.filter((check) => check !== "metadata").map((check) => ({ check, reason: "not in checks.enabled" })),
    );
  });

  it("reports a check --only leaves out as 'not in --only', after what the config cannot check", () => {
    expect(planChecks(configWithout("aws.identityCenter"), "metadata,identity-center").notChecked).toEqual([
      { check: "identity-center", reason: "no aws.identityCenter section" },
      ...CHECK_NAMES.filter((check) => check !== "metadata" && check !== "identity-center").map((check) => ({
        check,
        reason: "not in --only",
      })),
    ]);
  });
});
