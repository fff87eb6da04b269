// breakglass.yaml as an admin writes it: defaults, paths relative to the file, and one-line errors that name the line and key.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CHECK_NAMES } from "../../src/config/config-schema.js";
import { EXAMPLE_CONFIG } from "../../src/config/example-config.js";
import {
  loadConfig,
  MAX_CONFIG_BYTES,
  parseConfig,
  resolveConfigPath,
  validateConfigText,
} from "../../src/config/load-config.js";
import { BreakglassError, isBreakglassError } from "../../src/domain/errors.js";

function temporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), "breakglass-config-"));
}

function yaml(...lines: string[]): string {
  return `${lines.join("\n")}\n`;
}

/** The smallest valid file: only the idp section is required. */
const MINIMAL = yaml("idp:", "  name: Okta", "  metadata: ./okta-metadata.xml");

/** A valid aws section, starting at line 4 after MINIMAL; emergencyAccount.accountId is on line 6. */
function withAws(...extraLines: string[]): string {
  return (
    MINIMAL +
    yaml(
      "aws:",
      "  emergencyAccount:",
      '    accountId: "111111111111"',
      "    samlProviders:",
      "      - arn:aws:iam::111111111111:saml-provider/EmergencyIdP",
      "    emergencyRoles:",
      "      - arn:aws:iam::111111111111:role/EmergencyAdmin",
      ...extraLines,
    )
  );
}

function refusal(text: string, path = "breakglass.yaml"): BreakglassError {
  try {
    parseConfig(text, path);
  } catch (error) {
    if (isBreakglassError(error)) return error;
    throw error;
  }
  throw new Error("the configuration was accepted");
}

async function loadRefusal(path: string): Promise<BreakglassError> {
  const error: unknown = await loadConfig(path).then(
    () => new Error("the configuration was accepted"),
    (reason: unknown) => reason,
  );
  if (isBreakglassError(error)) return error;
  throw error;
}

describe("the example configuration", () => {
  it("is itself a valid configuration with every section", () => {
    const { config } = parseConfig(EXAMPLE_CONFIG, "/etc/breakglass/breakglass.yaml");
    expect(config.idp).toMatchObject({ name: "Okta", warnDays: 30, insecure: false });
    expect(config.aws?.emergencyAccount.accountId).toBe("111111111111");
    expect(config.aws?.identityCenter?.instanceArn).toBe("arn:aws:sso:::instance/ssoins-1234567890abcdef");
    expect(config.aws?.organization?.accounts).toBe("all");
    expect(config.checks.enabled).toEqual([...CHECK_NAMES]);
    expect(config.store.path).toBe("/etc/breakglass/breakglass.db");
    expect(validateConfigText(EXAMPLE_CONFIG, "breakglass.yaml")).toEqual([]);
  });

  it("marks every example value an admin must replace", () => {
    for (const line of EXAMPLE_CONFIG.split("\n").filter(
      (text) => /\d{12}|example\.okta\.com|ssoins-/.test(text) && !text.trimStart().startsWith("#"),
    )) {
      expect(line).toContain("CHANGE ME");
    }
  });
});

describe("defaults", () => {
  it("fills every optional key and section of a file that has only the idp section", () => {
    const { path, config } = parseConfig(MINIMAL, "/srv/ops/breakglass.yaml");
    expect(path).toBe("/srv/ops/breakglass.yaml");
    expect(config).toEqual({
      idp: { name: "Okta", metadata: "/srv/ops/okta-metadata.xml", warnDays: 30, insecure: false },
      checks: { enabled: [...CHECK_NAMES], concurrency: 8 },
      store: { kind: "sqlite", path: "/srv/ops/breakglass.db" },
      serve: { checkInterval: 300_000, expiryLadder: [60, 30, 14, 7, 3, 1], leadership: { ttlSeconds: 30 } },
      people: [],
      access: { run: [], approve: [], grant: [] },
      identity: { mode: "verified" },
    });
  });

  it("keeps what the file sets", () => {
    const { config } = parseConfig(
      yaml(
        "idp:",
        "  name: Entra ID",
        "  metadata: https://login.example/metadata.xml",
        "  warnDays: 0",
        "checks:",
        "  enabled: [metadata]",
        "  concurrency: 64",
      ),
      "/x/breakglass.yaml",
    );
    expect(config.idp.warnDays).toBe(0);
    expect(config.checks).toEqual({ enabled: ["metadata"], concurrency: 64 });
  });
});

describe("paths", () => {
  it("resolves relative paths against the configuration file's folder, not the working directory", () => {
    const text = yaml(
      "idp:",
      "  name: Okta",
      "  metadata: metadata/okta.xml",
      "  metadataSigner: ../pki/signer.pem",
      "store:",
      "  path: state/breakglass.db",
    );
    const { config } = parseConfig(text, "/srv/ops/breakglass.yaml");
    expect(config.idp.metadata).toBe("/srv/ops/metadata/okta.xml");
    expect(config.idp.metadataSigner).toBe("/srv/pki/signer.pem");
    expect(config.store.path).toBe("/srv/ops/state/breakglass.db");
  });

  it("reads serve.drill, its paths relative to the file and assume off unless set", () => {
    const text =
      MINIMAL +
      yaml("serve:", "  drill:", "    every: 30d", "    response: drill/response.b64", "    reportDirectory: evidence");
    const { config } = parseConfig(text, "/srv/ops/breakglass.yaml");
    expect(config.serve.drill).toEqual({
      every: 30 * 86_400_000,
      response: "/srv/ops/drill/response.b64",
      assume: false,
      reportDirectory: "/srv/ops/evidence",
    });
  });

  it("resolves a relative configuration path against the working directory first", () => {
    const { config } = parseConfig(MINIMAL, "conf/breakglass.yaml");
    expect(config.idp.metadata).toBe(resolve("conf", "okta-metadata.xml"));
  });

  it("keeps absolute paths and URLs as they are", () => {
    const text = yaml(
      "idp:",
      "  name: Okta",
      "  metadata: https://example.okta.com/app/abc/sso/saml/metadata",
      "  metadataSigner: /etc/pki/signer.pem",
      "store:",
      "  path: /var/lib/breakglass.db",
    );
    const { config } = parseConfig(text, "/srv/ops/breakglass.yaml");
    expect(config.idp).toMatchObject({
      metadata: "https://example.okta.com/app/abc/sso/saml/metadata",
      metadataSigner: "/etc/pki/signer.pem",
      insecure: false,
    });
    expect(config.store.path).toBe("/var/lib/breakglass.db");
  });

  it("accepts plain http metadata but records it as insecure", () => {
    const { config } = parseConfig(
      yaml(
        "idp:",
        "  name: AD FS",
        "  metadata: http://adfs.example/FederationMetadata/2007-06/FederationMetadata.xml",
      ),
      "/x/breakglass.yaml",
    );
    expect(config.idp).toMatchObject({
      metadata: "http://adfs.example/FederationMetadata/2007-06/FederationMetadata.xml",
      insecure: true,
    });
  });
});

describe("account IDs", () => {
  it("takes an unquoted 12-digit account ID as the same text", () => {
    const { config } = parseConfig(withAws().replace('"111111111111"', "111111111111"), "/x/breakglass.yaml");
    expect(config.aws?.emergencyAccount.accountId).toBe("111111111111");
  });

  it("refuses an unquoted account ID whose leading zero YAML dropped, and says to quote it", () => {
    const text = withAws().replace('"111111111111"', "012345678901").replaceAll("111111111111", "012345678901");
    const error = refusal(text);
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toBe(
      "breakglass.yaml: line 6: aws.emergencyAccount.accountId: expected a 12-digit AWS account ID in " +
        "quotes, got 012345678901 (YAML reads it as the number 12345678901; put it in quotes to keep it as written)",
    );
  });

  it("accepts the same account ID in quotes", () => {
    const text = withAws().replaceAll("111111111111", "012345678901");
    expect(parseConfig(text, "/x/breakglass.yaml").config.aws?.emergencyAccount.accountId).toBe("012345678901");
  });
});

describe("each mistake gives one line naming the file, the line, the key and what was expected", () => {
  it.each([
    [
      "a wrong type",
      MINIMAL + yaml("  warnDays: soon"),
      "breakglass.yaml: line 4: idp.warnDays: expected a whole number from 0 to 3650, got soon",
    ],
    [
      "a number out of range",
      MINIMAL + yaml("checks:", "  concurrency: 100"),
      "breakglass.yaml: line 5: checks.concurrency: expected a whole number from 1 to 64, got 100",
    ],
    [
      "a missing required key",
      yaml("idp:", "  name: Okta"),
      "breakglass.yaml: line 1: idp.metadata: expected an https URL or a file path to the IdP's SAML metadata, but the key is missing",
    ],
    [
      "a DynamoDB store without its table",
      MINIMAL + yaml("store:", "  kind: dynamodb", "  region: eu-west-1"),
      "breakglass.yaml: line 4: store.table: expected a DynamoDB table name (3 to 255 letters, digits, _ . -) (kind dynamodb), " +
        "but the key is missing",
    ],
    [
      "a missing idp section",
      yaml("store:", "  path: ./x.db"),
      "breakglass.yaml: idp: expected a mapping with the keys name, metadata, metadataSigner, warnDays, directory, but the key is missing",
    ],
    [
      "an aws section without emergencyAccount",
      MINIMAL + yaml("aws:", "  region: eu-west-1"),
      "breakglass.yaml: line 4: aws.emergencyAccount: expected a mapping with the keys accountId, " +
        "roleArn, actionRoleArn, samlProviders, emergencyRoles, emergencyUsers, but the key is missing",
    ],
    [
      "a short account ID",
      withAws().replace('"111111111111"', "12345"),
      "breakglass.yaml: line 6: aws.emergencyAccount.accountId: expected a 12-digit AWS account ID in quotes, got 12345",
    ],
    [
      "an unknown key, with a suggestion",
      withAws().replace("  emergencyAccount:", "  emergencyAcount:"),
      "breakglass.yaml: line 5: unknown key `aws.emergencyAcount` (did you mean `emergencyAccount`?)",
    ],
    [
      "an unknown top-level key, listing the allowed ones",
      MINIMAL + yaml("pager:", "  channel: ops"),
      "breakglass.yaml: line 4: unknown key `pager` (expected one of idp, aws, checks, store, serve, slack, watch, people, access, identity)",
    ],
    [
      "a misspelt Slack key, with a suggestion",
      MINIMAL + yaml("slack:", "  channel: {}"),
      "breakglass.yaml: line 5: unknown key `slack.channel` (did you mean `channels`?)",
    ],
    [
      "a channel name where an ID belongs",
      MINIMAL + yaml("slack:", "  channels:", "    alerts: '#alerts'"),
      "breakglass.yaml: line 6: slack.channels.alerts: expected a Slack channel ID such as C0123456789 " +
        "(the channel's details show it at the bottom), got '#alerts'",
    ],
    [
      "a user name where an ID belongs",
      MINIMAL + yaml("slack:", "  access:", "    approve: [alice]"),
      "breakglass.yaml: line 6: slack.access.approve[0]: expected a Slack user ID (U0123456789) or user-group ID (S0123456789), got alice",
    ],
    [
      "a person's name in access that no person has, with a suggestion",
      MINIMAL + yaml("people:", "  - name: alice", "    slack: [U0ALICE0001]", "access:", "  approve: [alic]"),
      "breakglass.yaml: line 8: access.approve[0]: expected a person listed under people (did you mean alice?), got alic",
    ],
    [
      "one Slack user listed for two people",
      MINIMAL +
        yaml("people:", "  - name: alice", "    slack: [U0ALICE0001]", "  - name: bob", "    slack: [U0ALICE0001]"),
      "breakglass.yaml: line 8: people[1].slack[0]: expected each name, Slack user and AWS principal to " +
        "belong to one person, but people[0] (alice) has this Slack user too, got U0ALICE0001",
    ],
    [
      "a role principal without its session name",
      MINIMAL +
        yaml("people:", "  - name: alice", "    aws:", "      - roleArn: arn:aws:iam::111111111111:role/Responder"),
      "breakglass.yaml: line 7: people[0].aws[0]: expected a mapping with userArn, or with roleArn and sessionName, got a mapping",
    ],
    [
      "an identity mode breakglass does not know",
      MINIMAL + yaml("identity:", "  mode: trusting"),
      "breakglass.yaml: line 5: identity.mode: expected verified or lab, got trusting",
    ],
    [
      "a check interval under a minute",
      MINIMAL + yaml("serve:", "  checkInterval: 10s"),
      "breakglass.yaml: line 5: serve.checkInterval: expected a duration such as 30m, 4h or 1h30m, at least 1m, got 10s",
    ],
    [
      "a scheduled drill more often than hourly",
      MINIMAL + yaml("serve:", "  drill:", "    every: 10m", "    reportDirectory: evidence"),
      "breakglass.yaml: line 6: serve.drill.every: expected a duration such as 30m, 4h or 1h30m, at least 1h, got 10m",
    ],
    [
      "a scheduled drill without a folder for its evidence",
      MINIMAL + yaml("serve:", "  drill:", "    every: 30d"),
      "breakglass.yaml: line 5: serve.drill.reportDirectory: expected a folder path for the drill's evidence reports, but the key is missing",
    ],
    [
      "a scheduled drill that assumes without a response",
      MINIMAL + yaml("serve:", "  drill:", "    every: 30d", "    assume: true", "    reportDirectory: evidence"),
      "breakglass.yaml: line 5: serve.drill.response: expected a file path to a SAML response to assume with (assume is true), but the key is missing",
    ],
    [
      "a check interval that is no duration",
      MINIMAL + yaml("serve:", "  checkInterval: 5 minutes"),
      "breakglass.yaml: line 5: serve.checkInterval: expected a duration such as 30m, 4h or 1h30m, got 5 minutes",
    ],
    [
      "a malformed role ARN",
      withAws().replace(
        "arn:aws:iam::111111111111:role/EmergencyAdmin",
        "arn:aws:iam:111111111111:role/EmergencyAdmin",
      ),
      "breakglass.yaml: line 10: aws.emergencyAccount.emergencyRoles[0]: expected an IAM role ARN " +
        "(arn:aws:iam::<12-digit account>:role/<name>), got arn:aws:iam:111111111111:role/EmergencyAdmin",
    ],
    [
      "a SAML provider ARN that is a role",
      withAws().replace("saml-provider/EmergencyIdP", "role/EmergencyIdP"),
      "breakglass.yaml: line 8: aws.emergencyAccount.samlProviders[0]: expected an IAM SAML provider ARN " +
        "(arn:aws:iam::<12-digit account>:saml-provider/<name>), got arn:aws:iam::111111111111:role/EmergencyIdP",
    ],
    [
      "an emergency role in another account",
      withAws().replace(
        "arn:aws:iam::111111111111:role/EmergencyAdmin",
        "arn:aws:iam::222222222222:role/EmergencyAdmin",
      ),
      "breakglass.yaml: line 10: aws.emergencyAccount.emergencyRoles[0]: expected a role in the emergency " +
        "account 111111111111 (aws.emergencyAccount.accountId), got arn:aws:iam::222222222222:role/EmergencyAdmin",
    ],
    [
      "an action role in another account",
      withAws("    actionRoleArn: arn:aws:iam::222222222222:role/breakglass-action"),
      "breakglass.yaml: line 11: aws.emergencyAccount.actionRoleArn: expected the action role in the emergency " +
        "account 111111111111 (aws.emergencyAccount.accountId), got arn:aws:iam::222222222222:role/breakglass-action",
    ],
    [
      "an Identity Center read role outside the account that administers Identity Center",
      withAws(
        "  identityCenter:",
        "    instanceArn: arn:aws:sso:::instance/ssoins-1234567890abcdef",
        "    region: eu-west-1",
        '    accountId: "999999999999"',
        "    roleArn: arn:aws:iam::111111111111:role/breakglass-identity-center-reader",
      ),
      "breakglass.yaml: line 15: aws.identityCenter.roleArn: expected a role in the account that administers " +
        "Identity Center, 999999999999 (aws.identityCenter.accountId), got " +
        "arn:aws:iam::111111111111:role/breakglass-identity-center-reader",
    ],
    [
      "an Identity Center account ID without quotes that lost its leading zero",
      withAws(
        "  identityCenter:",
        "    instanceArn: arn:aws:sso:::instance/ssoins-1234567890abcdef",
        "    region: eu-west-1",
        "    accountId: 012345678901",
      ),
      "breakglass.yaml: line 14: aws.identityCenter.accountId: expected a 12-digit AWS account ID in quotes, got " +
        "012345678901 (YAML reads it as the number 12345678901; put it in quotes to keep it as written)",
    ],
    [
      "a SAML provider in another account",
      withAws().replace("111111111111:saml-provider", "222222222222:saml-provider"),
      "breakglass.yaml: line 8: aws.emergencyAccount.samlProviders[0]: expected a SAML provider in the " +
        "emergency account 111111111111 (aws.emergencyAccount.accountId), got " +
        "arn:aws:iam::222222222222:saml-provider/EmergencyIdP",
    ],
    [
      "an empty list of SAML providers",
      withAws().replace(
        "    samlProviders:\n      - arn:aws:iam::111111111111:saml-provider/EmergencyIdP",
        "    samlProviders: []",
      ),
      "breakglass.yaml: line 7: aws.emergencyAccount.samlProviders: expected at least one IAM SAML provider ARN (or no samlProviders key), got an empty list",
    ],
    [
      "a misspelt check name",
      MINIMAL + yaml("checks:", "  enabled: [metadata, cloudtrial]"),
      "breakglass.yaml: line 5: checks.enabled[1]: expected a check name (metadata, saml-providers, " +
        "emergency-roles, emergency-users, identity-center, identity-center-regions, cross-account-roles, scp-protection, " +
        "cloudtrail, eventbridge, emergency-groups, watch), " +
        "got cloudtrial (did you mean `cloudtrail`?)",
    ],
    [
      "metadata over another scheme",
      yaml("idp:", "  name: Okta", "  metadata: ftp://example.com/metadata.xml"),
      "breakglass.yaml: line 3: idp.metadata: expected an https URL or a file path to the IdP's SAML metadata, got ftp://example.com/metadata.xml",
    ],
    [
      "an empty section",
      withAws("  identityCenter:"),
      "breakglass.yaml: line 11: aws.identityCenter: expected a mapping with the keys instanceArn, region, accountId, " +
        "roleArn, got nothing",
    ],
    [
      "an account list with an unquoted short ID",
      withAws(
        "  organization:",
        "    crossAccountRoleName: EmergencyAccess",
        "    readRoleName: breakglass-read",
        "    accounts: [222222222222, 3333]",
      ),
      "breakglass.yaml: line 14: aws.organization.accounts[1]: expected a 12-digit AWS account ID in quotes, got 3333",
    ],
    [
      "accounts that are neither all nor a list",
      withAws(
        "  organization:",
        "    crossAccountRoleName: EmergencyAccess",
        "    readRoleName: breakglass-read",
        "    accounts: every",
      ),
      'breakglass.yaml: line 14: aws.organization.accounts: expected "all" or a list of 12-digit account IDs in quotes, got every',
    ],
    [
      "a YAML syntax error",
      yaml("idp:", "  name: Okta", "  metadata: [./okta.xml", "aws:"),
      "breakglass.yaml: line 4: invalid YAML: flow sequence in block collection must be sufficiently indented and end with a ]",
    ],
    [
      "a tab used for indentation",
      yaml("idp:", "\tname: Okta"),
      "breakglass.yaml: line 2: invalid YAML: tabs are not allowed as indentation",
    ],
    [
      "a duplicated key",
      MINIMAL + yaml("idp:", "  name: Again"),
      "breakglass.yaml: line 4: invalid YAML: map keys must be unique",
    ],
    [
      "an empty file",
      "",
      "breakglass.yaml: the file is empty (only blank lines or comments); expected at least an idp section",
    ],
    [
      "a file of comments",
      yaml("# idp:", "#   name: Okta"),
      "breakglass.yaml: the file is empty (only blank lines or comments); expected at least an idp section",
    ],
    [
      "a list instead of a mapping",
      yaml("- idp", "- aws"),
      "breakglass.yaml: line 1: expected a mapping of sections (idp, aws, checks, store), got a list",
    ],
    [
      "a bare word instead of a mapping",
      "idp\n",
      "breakglass.yaml: line 1: expected a mapping of sections (idp, aws, checks, store), got idp",
    ],
  ])("%s", (_name, text, message) => {
    const error = refusal(text);
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.input).toBe("breakglass.yaml");
    expect(error.message).toBe(message);
    expect(error.message).not.toContain("\n");
  });

  it("refuses an alias bomb before expanding it", () => {
    const levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
    for (const [index, name] of ["b", "c", "d", "e", "f", "g", "h", "i"].entries()) {
      const previous = "abcdefgh"[index]!;
      levels.push(`${name}: &${name} [${Array.from({ length: 9 }, () => `*${previous}`).join(", ")}]`);
    }
    // Expanded, these nine levels would be 9^9 (387 million) nodes: had the loader expanded them, the test would run out
    // of memory or of vitest's own timeout long before reaching the message.
    const error = refusal(yaml(...levels));
    expect(error.message).toBe(
      "breakglass.yaml: line 2: refused: YAML aliases (*a) expand to too much data; a configuration file needs few or none",
    );
  });

  it("still allows an anchor to be reused a few times", () => {
    const text = yaml(
      "idp:",
      "  name: Okta",
      "  metadata: &metadata ./okta.xml",
      "aws:",
      "  emergencyAccount:",
      '    accountId: "111111111111"',
      "    emergencyRoles: &roles",
      "      - arn:aws:iam::111111111111:role/EmergencyAdmin",
      "      - arn:aws:iam::111111111111:role/EmergencyReadOnly",
    );
    expect(parseConfig(text, "/x/breakglass.yaml").config.aws?.emergencyAccount.emergencyRoles).toHaveLength(2);
  });

  it("refuses an alias with no anchor", () => {
    expect(refusal(yaml("idp: *okta")).message).toBe(
      "breakglass.yaml: line 1: invalid YAML: *okta does not refer to an anchor defined before it",
    );
  });

  it("refuses text over 1 MB", () => {
    const text = MINIMAL + `# ${"x".repeat(MAX_CONFIG_BYTES)}\n`;
    expect(refusal(text).message).toBe(
      "breakglass.yaml: refused: the file is 1 MB, over the 1 MB limit for a configuration file",
    );
  });
});

describe("several problems", () => {
  const text = yaml(
    "idp:",
    "  name: Okta",
    "  metadata: ./okta.xml",
    "  warnDays: -1",
    "aws:",
    "  region: Ireland",
    "  emergencyAccount:",
    "    accountId: 12345",
    "    roleArns: []",
  );

  it("names the first in the message and counts the others in the hint", () => {
    const error = refusal(text);
    expect(error.message).toBe("breakglass.yaml: line 4: idp.warnDays: expected a whole number from 0 to 3650, got -1");
    expect(error.hint).toBe("and 3 more problems; run `breakglass config validate` to list them");
  });

  it("says how to list them for a configuration file elsewhere", () => {
    expect(refusal(text, "/etc/breakglass/prod.yaml").hint).toBe(
      "and 3 more problems; run `breakglass config validate --config /etc/breakglass/prod.yaml` to list them",
    );
  });

  it("lists them all, in file order, with their lines", () => {
    expect(validateConfigText(text, "breakglass.yaml")).toEqual([
      { line: 4, key: "idp.warnDays", message: "expected a whole number from 0 to 3650, got -1" },
      { line: 6, key: "aws.region", message: "expected an AWS Region code such as eu-west-1, got Ireland" },
      {
        line: 8,
        key: "aws.emergencyAccount.accountId",
        message: "expected a 12-digit AWS account ID in quotes, got 12345",
      },
      {
        line: 9,
        key: "aws.emergencyAccount.roleArns",
        message: "unknown key `aws.emergencyAccount.roleArns` (did you mean `roleArn`?)",
      },
    ]);
  });

  it("has no hint when there is a single problem", () => {
    expect(refusal(yaml("idp:", "  name: Okta")).hint).toBeUndefined();
  });
});

describe("loadConfig", () => {
  it("reads the file and resolves its paths against its folder", async () => {
    const directory = temporaryDirectory();
    const path = join(directory, "breakglass.yaml");
    writeFileSync(path, EXAMPLE_CONFIG);
    const loaded = await loadConfig(path);
    expect(loaded.path).toBe(path);
    expect(loaded.config.store.path).toBe(join(directory, "breakglass.db"));
  });

  it("says how to create a missing file", async () => {
    const path = join(temporaryDirectory(), "breakglass.yaml");
    const error = await loadRefusal(path);
    expect(error.code).toBe("CONFIG_UNREADABLE");
    expect(error.message).toBe(`${path}: no such file`);
    expect(error.hint).toBe(`create one with \`breakglass config init --config ${path}\``);
  });

  it("refuses a directory", async () => {
    const directory = temporaryDirectory();
    const error = await loadRefusal(directory);
    expect(error.code).toBe("CONFIG_UNREADABLE");
    expect(error.message).toBe(`${directory}: is a directory, not a configuration file`);
  });

  it("refuses a file over 1 MB without parsing it", async () => {
    const path = join(temporaryDirectory(), "breakglass.yaml");
    writeFileSync(path, `# ${"x".repeat(2 * MAX_CONFIG_BYTES)}\n`);
    const error = await loadRefusal(path);
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toBe(`${path}: refused: the file is 2 MB, over the 1 MB limit for a configuration file`);
  });

  it("refuses a file that is not UTF-8", async () => {
    const path = join(temporaryDirectory(), "breakglass.yaml");
    writeFileSync(path, Buffer.from([0x69, 0x64, 0x70, 0x3a, 0x20, 0xff, 0xfe, 0x0a]));
    expect((await loadRefusal(path)).message).toBe(`${path}: the file is not UTF-8 text`);
  });

  it("reports the error of a loaded file with its line", async () => {
    const directory = temporaryDirectory();
    mkdirSync(join(directory, "conf"));
    const path = join(directory, "conf", "breakglass.yaml");
    writeFileSync(path, withAws().replace("  emergencyAccount:", "  emergencyAcount:"));
    expect((await loadRefusal(path)).message).toBe(
      `${path}: line 5: unknown key \`aws.emergencyAcount\` (did you mean \`emergencyAccount\`?)`,
    );
  });
});

describe("resolveConfigPath", () => {
  it("prefers --config, then BREAKGLASS_CONFIG, then ./breakglass.yaml", () => {
    expect(resolveConfigPath("ops.yaml", { BREAKGLASS_CONFIG: "/etc/breakglass.yaml" })).toBe("ops.yaml");
    expect(resolveConfigPath(undefined, { BREAKGLASS_CONFIG: "/etc/breakglass.yaml" })).toBe("/etc/breakglass.yaml");
    expect(resolveConfigPath(undefined, {})).toBe("breakglass.yaml");
    expect(resolveConfigPath(undefined, { BREAKGLASS_CONFIG: "" })).toBe("breakglass.yaml");
  });

  it("refuses an empty --config", () => {
    expect(() => resolveConfigPath("", {})).toThrow(
      new BreakglassError("USAGE", "--config", "expected a file path, got an empty string"),
    );
  });
});

describe("idp.directory.auth (OAuth client credentials)", () => {
  const directory = (...authLines: string[]) =>
    MINIMAL +
    yaml(
      "  directory:",
      "    kind: graph",
      "    baseUrl: https://graph.microsoft.com/v1.0",
      "    auth:",
      "      kind: client-credentials",
      "      tokenUrl: https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
      "      clientId: 4a1aa1d5-c567-49d0-ad0b-cd957a47f842",
      "      scope: https://graph.microsoft.com/.default",
      ...authLines,
    );

  it("accepts a secret from a file, resolved against the configuration file's folder", () => {
    const { config } = parseConfig(directory("      clientSecretFile: secrets/graph"), "/srv/ops/breakglass.yaml");
    expect(config.idp.directory?.auth).toMatchObject({
      kind: "client-credentials",
      clientSecretFile: "/srv/ops/secrets/graph",
    });
  });

  it("refuses a configuration without a credential, naming the three ways to give one", () => {
    expect(refusal(directory()).message).toBe(
      "breakglass.yaml: line 7: idp.directory.auth: expected exactly one of clientSecretVariable, clientSecretFile, privateKeyFile, got a mapping",
    );
  });

  it("refuses two credentials at once, naming the second", () => {
    const text = directory("      clientSecretVariable: GRAPH_SECRET", "      privateKeyFile: ./okta.pem");
    expect(refusal(text).message).toBe(
      "breakglass.yaml: line 13: idp.directory.auth.privateKeyFile: " +
        "expected only one of clientSecretVariable, clientSecretFile, privateKeyFile (clientSecretVariable is set too), got ./okta.pem",
    );
  });

  it("refuses dpop with a directory other than Okta, naming the key", () => {
    const text = directory("      clientSecretVariable: GRAPH_SECRET", "      dpop: true");
    expect(refusal(text).message).toBe(
      "breakglass.yaml: line 13: idp.directory.auth.dpop: " +
        "expected dpop only with kind: okta (breakglass sends DPoP proofs to Okta service apps), not graph, got true",
    );
  });

  it("accepts dpop: true for an Okta service app", () => {
    const text = directory("      privateKeyFile: ./okta.pem", "      dpop: true").replace("kind: graph", "kind: okta");
    const { config } = parseConfig(text, "/srv/ops/breakglass.yaml");
    expect(config.idp.directory?.auth).toMatchObject({ dpop: true, privateKeyFile: "/srv/ops/okta.pem" });
  });

  it("refuses a dpop that is not true or false", () => {
    const text = directory("      privateKeyFile: ./okta.pem", "      dpop: yes please").replace(
      "kind: graph",
      "kind: okta",
    );
    expect(refusal(text).message).toBe(
      "breakglass.yaml: line 13: idp.directory.auth.dpop: expected true or false, got yes please",
    );
  });

  it("refuses a token URL over plain http", () => {
    const text = directory("      clientSecretVariable: GRAPH_SECRET").replace("https://login", "http://login");
    expect(refusal(text).message).toBe(
      "breakglass.yaml: line 9: idp.directory.auth.tokenUrl: expected an https URL, " +
        "got http://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
    );
  });
});
