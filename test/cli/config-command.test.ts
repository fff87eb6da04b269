// `breakglass config validate` and `config init` as an admin uses them: the summary, every problem on its own line, a safe first file.
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runConfigInit, runConfigValidate } from "../../src/cli/config-command.js";
import { describeDisabledChecks } from "../../src/config/disabled-checks.js";
import { EXAMPLE_CONFIG } from "../../src/config/example-config.js";
import { parseConfig } from "../../src/config/load-config.js";
import { isBreakglassError } from "../../src/domain/errors.js";
import { capturingIo } from "../support/cli-io.js";

function writeTemp(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "breakglass-config-cli-")), name);
  writeFileSync(path, content);
  return path;
}

async function validate(path: string) {
  const { io, output } = capturingIo();
  const code = await runConfigValidate(path, io);
  return { code, ...output };
}

async function validateIn(path: string, env: NodeJS.ProcessEnv) {
  const { io, output } = capturingIo();
  const code = await runConfigValidate(path, { ...io, env });
  return { code, ...output };
}

async function init(path: string, options: { force?: boolean } = {}) {
  const { io, output } = capturingIo();
  const code = await runConfigInit(path, io, options);
  return { code, ...output };
}

const MINIMAL = "idp:\n  name: Okta\n  metadata: https://example.okta.com/app/abc/sso/saml/metadata\n";

/** The example as an admin leaves it after replacing every value marked CHANGE ME. */
const FILLED_EXAMPLE = EXAMPLE_CONFIG.replace(
  "https://example.okta.com/app/exk0example0000000000/sso/saml/metadata",
  "https://acme.okta.com/app/exk1acme/sso/saml/metadata",
)
  .replaceAll("111111111111", "123456789012")
  .replaceAll("999999999999", "210987654321")
  .replace("ssoins-1234567890abcdef", "ssoins-72239a3c4f1e8b05")
  .replace("breakglass-emergency-1", "em-vault-1");

/** The filled example with FM3's group API switched on too: every check can then run. */
const FILLED_WITH_DIRECTORY = FILLED_EXAMPLE.replace(
  /^ {2}# (directory:| {2}(?:kind|baseUrl|tokenVariable|emergencyGroups):)/gm,
  "  $1",
).replace("baseUrl: https://example.okta.com", "baseUrl: https://acme.okta.com");

describe("config validate", () => {
  it("says the filled-in example is valid and that every check will run but the emergency groups' (no idp.directory)", async () => {
    const path = writeTemp("breakglass.yaml", FILLED_EXAMPLE);
    const { code, stdout, stderr } = await validate(path);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toBe(
      [
        `${path}: valid`,
        "  idp: Okta, metadata https://acme.okta.com/app/exk1acme/sso/saml/metadata (signer not pinned; " +
          "warns 30 days before a certificate expires)",
        "  emergency account: 123456789012, 1 SAML provider, 1 emergency role, 1 emergency user",
        "  organization: every ACTIVE account except 123456789012, 8 at a time",
        "  will check: metadata, saml-providers, emergency-roles, emergency-users, identity-center, " +
          "identity-center-regions, cross-account-roles, scp-protection, cloudtrail, eventbridge, watch",
        "  not checked: emergency-groups (no idp.directory.emergencyGroups)",
        "  serve: a full check every 5m; certificate warnings 60, 30, 14, 7, 3, 1 days before expiry, then daily",
        "  slack: no slack section, so serve logs what it would post",
        "",
      ].join("\n"),
    );
  });

  it("rejects the untouched example, naming the line and key of every value still marked CHANGE ME", async () => {
    const path = writeTemp("breakglass.yaml", EXAMPLE_CONFIG);
    const { code, stdout, stderr } = await validate(path);
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    const placeholder =
      "still the example value from `breakglass config init` (marked CHANGE ME): replace it with your own";
    expect(stderr).toBe(
      [
        `${path}:16: idp.metadata: ${placeholder}`,
        `${path}:33: aws.emergencyAccount.accountId: ${placeholder}`,
        `${path}:35: aws.emergencyAccount.roleArn: ${placeholder}`,
        `${path}:38: aws.emergencyAccount.actionRoleArn: ${placeholder}`,
        `${path}:41: aws.emergencyAccount.samlProviders[0]: ${placeholder}`,
        `${path}:44: aws.emergencyAccount.emergencyRoles[0]: ${placeholder}`,
        `${path}:48: aws.emergencyAccount.emergencyUsers[0]: ${placeholder}`,
        `${path}:52: aws.identityCenter.instanceArn: ${placeholder}`,
        `${path}:57: aws.identityCenter.accountId: ${placeholder}`,
        `${path}:58: aws.identityCenter.roleArn: ${placeholder}`,
        `${path}:65: aws.organization.managementRoleArn: ${placeholder}`,
        `${path}:140: watch.queueUrl: ${placeholder}`,
        "",
      ].join("\n"),
    );
  });

  it("prints one JSON object with --json: the problems of the untouched example, and what a filled one checks", async () => {
    const untouched = writeTemp("breakglass.yaml", EXAMPLE_CONFIG);
    const { io, output } = capturingIo();
    expect(await runConfigValidate(untouched, io, { json: true })).toBe(2);
    expect(output.stderr).toBe("");
    const refused = JSON.parse(output.stdout);
    expect(refused).toMatchObject({ file: untouched, valid: false, checks: null });
    expect(refused.problems[0]).toEqual({
      line: 16,
      key: "idp.metadata",
      message:
        "idp.metadata: still the example value from `breakglass config init` (marked CHANGE ME): replace it with your own",
    });

    const filled = writeTemp("breakglass.yaml", FILLED_EXAMPLE);
    const second = capturingIo();
    expect(await runConfigValidate(filled, second.io, { json: true })).toBe(0);
    expect(JSON.parse(second.output.stdout)).toMatchObject({
      valid: true,
      problems: [],
      checks: { not: [{ check: "emergency-groups", reason: "no idp.directory.emergencyGroups" }] },
    });
    expect(JSON.parse(second.output.stdout).checks.will).toContain("emergency-users");
  });

  it("names an example value left in a section uncommented from the template, and one the admin missed", async () => {
    const text = FILLED_EXAMPLE.replace(
      "arn:aws:iam::123456789012:role/EmergencyAdmin",
      "arn:aws:iam::111111111111:role/EmergencyAdmin",
    )
      .replace("# slack:", "slack:")
      .replace("#   channels:", "  channels:")
      .replace("#     alerts: C0123456789", "    alerts: C0123456789");
    const path = writeTemp("breakglass.yaml", text);
    const lineOf = (needle: string) => text.split("\n").findIndex((line) => line.includes(needle)) + 1;
    const { code, stderr } = await validate(path);
    expect(code).toBe(2);
    expect(stderr).toBe(
      [
        `${path}:${lineOf("role/EmergencyAdmin")}: aws.emergencyAccount.emergencyRoles[0]: expected a role in the ` +
          "emergency account 123456789012 (aws.emergencyAccount.accountId), got arn:aws:iam::111111111111:role/EmergencyAdmin",
        `${path}:${lineOf("role/EmergencyAdmin")}: aws.emergencyAccount.emergencyRoles[0]: ` +
          "still the example value from `breakglass config init` (marked CHANGE ME): replace it with your own",
        `${path}:${lineOf("alerts: C0123456789")}: slack.channels.alerts: ` +
          "still the example value from `breakglass config init` (marked CHANGE ME): replace it with your own",
        "",
      ].join("\n"),
    );
  });

  it("names the unset environment variable that idp.directory.tokenVariable names, and accepts the file once it is set", async () => {
    const directory =
      "  directory:\n    kind: scim\n    baseUrl: https://acme.example/scim/v2\n    tokenVariable: ACME_SCIM_TOKEN\n";
    const path = writeTemp("breakglass.yaml", MINIMAL + directory);
    const unset = await validateIn(path, { BREAKGLASS_IDP_TOKEN: "not the one named" });
    expect({ code: unset.code, stdout: unset.stdout }).toEqual({ code: 2, stdout: "" });
    expect(unset.stderr).toBe(
      `${path}:7: idp.directory.tokenVariable: the environment variable ACME_SCIM_TOKEN is not set here: ` +
        "FM3 and grants cannot add anyone to the IdP's emergency groups (scim API) without the token it holds\n",
    );
    expect((await validateIn(path, { ACME_SCIM_TOKEN: "  " })).code).toBe(2);
    const set = await validateIn(path, { ACME_SCIM_TOKEN: "token-value" });
    expect({ code: set.code, stderr: set.stderr }).toEqual({ code: 0, stderr: "" });
  });

  it("names the default token variable at the directory section when the file does not name one", async () => {
    const path = writeTemp(
      "breakglass.yaml",
      `${MINIMAL}  directory:\n    kind: okta\n    baseUrl: https://acme.okta.com\n`,
    );
    const { code, stderr } = await validate(path);
    expect(code).toBe(2);
    expect(stderr).toBe(
      `${path}:4: idp.directory.tokenVariable: the environment variable BREAKGLASS_IDP_TOKEN is not set here: ` +
        "FM3 and grants cannot add anyone to the IdP's emergency groups (okta API) without the token it holds\n",
    );
  });

  it("prints a problem zod finds twice in one value only once", async () => {
    const path = writeTemp("breakglass.yaml", "idp:\n  name: Okta\n  metadata: []\n");
    const { code, stderr } = await validate(path);
    expect(code).toBe(2);
    expect(stderr).toBe(
      `${path}:3: idp.metadata: expected an https URL or a file path to the IdP's SAML metadata, got an empty list\n`,
    );
  });

  it("says which checks cannot run because their section is absent", async () => {
    const path = writeTemp("breakglass.yaml", MINIMAL);
    const { code, stdout } = await validate(path);
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        `${path}: valid`,
        "  idp: Okta, metadata https://example.okta.com/app/abc/sso/saml/metadata (signer not pinned; warns 30 days before a certificate expires)",
        "  will check: metadata",
        "  not checked: saml-providers (no aws section)",
        "  not checked: emergency-roles (no aws section)",
        "  not checked: emergency-users (no aws section)",
        "  not checked: identity-center (no aws.identityCenter section)",
        "  not checked: identity-center-regions (no aws.identityCenter section)",
        "  not checked: cross-account-roles (no aws.organization section)",
        "  not checked: scp-protection (no aws.organization section)",
        "  not checked: cloudtrail (no aws section)",
        "  not checked: eventbridge (no aws section)",
        "  not checked: emergency-groups (no idp.directory.emergencyGroups)",
        "  not checked: watch (no aws section)",
        "  serve: a full check every 5m; certificate warnings 60, 30, 14, 7, 3, 1 days before expiry, then daily",
        "  slack: no slack section, so serve logs what it would post",
        "",
      ].join("\n"),
    );
  });

  it("says where Slack messages go and who may act, and warns about what would leave part of serve idle", async () => {
    const slack = [
      "serve:",
      "  checkInterval: 1h30m",
      "slack:",
      "  channels:",
      "    alerts: C0ALERTS001",
      "  access:",
      "    run: [U0ALICE0001, S0RESPOND01]",
      "  grant:",
      "    groups: [aws-emergency-operators]",
      "",
    ].join("\n");
    const path = writeTemp("breakglass.yaml", MINIMAL + slack);
    const { code, stdout } = await validate(path);
    expect(code).toBe(0);
    expect(stdout).toContain(
      [
        "  serve: a full check every 1h30m; certificate warnings 60, 30, 14, 7, 3, 1 days before expiry, then daily",
        "  slack: alerts C0ALERTS001, incidents (none: logged), security (none: logged)",
        "  slack access: run 2, approve 0, grant 0 (user or user-group IDs; anyone may read)",
        "  warning: slack.access.approve is empty: nobody can approve runbook steps from Slack",
        "  warning: slack.access.grant is empty: nobody can grant emergency access from Slack",
        "  warning: slack.grant needs idp.directory: /breakglass grant cannot add anyone to a group",
        "  slack credentials: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set here, so serve started here would only log",
        "",
      ].join("\n"),
    );
  });

  it("warns about metadata over plain http and shows the pinned signer's absolute path", async () => {
    const path = writeTemp(
      "breakglass.yaml",
      "idp:\n  name: AD FS\n  metadata: http://adfs.example/metadata.xml\n  metadataSigner: signer.pem\n",
    );
    const { code, stdout } = await validate(path);
    expect(code).toBe(0);
    expect(stdout).toContain(`(signer pinned to ${join(path, "..", "signer.pem")}; warns 30 days`);
    expect(stdout).toContain(
      "  warning: idp.metadata is plain http, so anyone on the network path can change it; use https\n",
    );
  });

  it("shows a metadata URL without its user:password and query", async () => {
    const path = writeTemp(
      "breakglass.yaml",
      'idp:\n  name: Okta\n  metadata: "https://svc:s3cret@idp.example/metadata?token=s3cret-token"\n',
    );
    const { code, stdout } = await validate(path);
    expect(code).toBe(0);
    expect(stdout).toContain("  idp: Okta, metadata https://idp.example/metadata?… (signer not pinned;");
    expect(stdout).not.toContain("s3cret");
  });

  it("prints every problem as file:line: key: message on stderr and exits 2", async () => {
    const text = [
      "idp:",
      "  name: Okta",
      "  metadata: ./okta.xml",
      "aws:",
      "  emergencyAccount:",
      "    accountId: 12345",
      "    emergencyRoles:",
      "      - arn:aws:iam::222222222222:role/EmergencyAdmin",
      "  identityCentre:",
      "    region: eu-west-1",
      "",
    ].join("\n");
    const path = writeTemp("breakglass.yaml", text);
    const { code, stdout, stderr } = await validate(path);
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toBe(
      [
        `${path}:6: aws.emergencyAccount.accountId: expected a 12-digit AWS account ID in quotes, got 12345`,
        `${path}:9: unknown key \`aws.identityCentre\` (did you mean \`identityCenter\`?)`,
        "",
      ].join("\n"),
    );
  });

  it("prints a problem that has no line without one", async () => {
    const path = writeTemp("breakglass.yaml", "# nothing yet\n");
    const { code, stderr } = await validate(path);
    expect(code).toBe(2);
    expect(stderr).toBe(
      `${path}: the file is empty (only blank lines or comments); expected at least an idp section\n`,
    );
  });

  it("reports a file over 1 MB the same way", async () => {
    const path = writeTemp("breakglass.yaml", `# ${"x".repeat(1024 * 1024)}\n`);
    const { code, stderr } = await validate(path);
    expect(code).toBe(2);
    expect(stderr).toBe(`${path}: refused: the file is 1 MB, over the 1 MB limit for a configuration file\n`);
  });

  it("leaves a missing file to the caller as CONFIG_UNREADABLE", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "breakglass-config-cli-")), "breakglass.yaml");
    const error: unknown = await validate(path).catch((reason: unknown) => reason);
    expect(isBreakglassError(error) && error.code).toBe("CONFIG_UNREADABLE");
  });
});

describe("config init", () => {
  it("writes the example, readable only by its owner, and says what to do next", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "breakglass-config-cli-")), "breakglass.yaml");
    const { code, stdout, stderr } = await init(path);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(readFileSync(path, "utf8")).toBe(EXAMPLE_CONFIG);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(stdout).toBe(
      `wrote an example configuration to ${path} (readable only by you)\nnext: replace the values marked ` +
        `CHANGE ME, then run \`breakglass config validate --config ${path}\`\n`,
    );
    // The file is a start, not a configuration: validate names what is left to replace.
    const validation = await validate(path);
    expect(validation.code).toBe(2);
    expect(validation.stderr).toContain(`${path}:33: aws.emergencyAccount.accountId: still the example value`);
  });

  it("creates missing folders on the way", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "breakglass-config-cli-")), "ops", "aws", "breakglass.yaml");
    expect((await init(path)).code).toBe(0);
    expect(readFileSync(path, "utf8")).toBe(EXAMPLE_CONFIG);
  });

  it("refuses to overwrite an existing file, in one line, and leaves it untouched", async () => {
    const path = writeTemp("breakglass.yaml", MINIMAL);
    const { code, stdout, stderr } = await init(path);
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toBe(
      `breakglass: ${path}: already exists, not overwriting it (pass --force to replace it with the example)\n`,
    );
    expect(readFileSync(path, "utf8")).toBe(MINIMAL);
  });

  it("replaces an existing file with --force and makes it private", async () => {
    const path = writeTemp("breakglass.yaml", MINIMAL);
    chmodSync(path, 0o644);
    const { code } = await init(path, { force: true });
    expect(code).toBe(0);
    expect(readFileSync(path, "utf8")).toBe(EXAMPLE_CONFIG);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});

describe("describeDisabledChecks", () => {
  const parse = (text: string) => parseConfig(text, "/srv/breakglass.yaml").config;

  it("disables nothing for the example but the emergency groups, whose idp.directory it leaves commented out", () => {
    expect(describeDisabledChecks(parse(EXAMPLE_CONFIG))).toEqual([
      { check: "emergency-groups", reason: "no idp.directory.emergencyGroups" },
    ]);
    expect(describeDisabledChecks(parse(FILLED_WITH_DIRECTORY))).toEqual([]);
  });

  it("says a check left out of checks.enabled is switched off, before any missing section", () => {
    const config = parse(`${MINIMAL}checks:\n  enabled: [metadata, cloudtrail]\n`);
    expect(describeDisabledChecks(config)).toEqual([
      { check: "saml-providers", reason: "not in checks.enabled" },
      { check: "emergency-roles", reason: "not in checks.enabled" },
      { check: "emergency-users", reason: "not in checks.enabled" },
      { check: "identity-center", reason: "not in checks.enabled" },
      { check: "identity-center-regions", reason: "not in checks.enabled" },
      { check: "cross-account-roles", reason: "not in checks.enabled" },
      { check: "scp-protection", reason: "not in checks.enabled" },
      { check: "cloudtrail", reason: "no aws section" },
      { check: "eventbridge", reason: "not in checks.enabled" },
      { check: "emergency-groups", reason: "not in checks.enabled" },
      { check: "watch", reason: "not in checks.enabled" },
    ]);
  });

  it("names the missing key inside a present emergency account", () => {
    const config = parse(`${MINIMAL}aws:\n  emergencyAccount:\n    accountId: "111111111111"\n`);
    expect(describeDisabledChecks(config)).toEqual([
      { check: "saml-providers", reason: "no aws.emergencyAccount.samlProviders" },
      { check: "emergency-roles", reason: "no aws.emergencyAccount.emergencyRoles" },
      { check: "emergency-users", reason: "no aws.emergencyAccount.emergencyUsers" },
      { check: "identity-center", reason: "no aws.identityCenter section" },
      { check: "identity-center-regions", reason: "no aws.identityCenter section" },
      { check: "cross-account-roles", reason: "no aws.organization section" },
      { check: "scp-protection", reason: "no aws.organization section" },
      { check: "emergency-groups", reason: "no idp.directory.emergencyGroups" },
      { check: "watch", reason: "no watch.queueUrl" },
    ]);
  });
});
