// `breakglass runbook lint`, `list` and `show` as a responder uses them: a verdict, the runbooks at a glance, one runbook in full.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CliIo } from "../../src/cli/io.js";
import {
  DEFAULT_RUNBOOK_DIRECTORY,
  runRunbookLint,
  runRunbookList,
  runRunbookShow,
} from "../../src/cli/runbook-command.js";
import { isBreakglassError } from "../../src/domain/errors.js";
import { main } from "../../src/cli/main.js";
import { capturingIo } from "../support/cli-io.js";

async function run(command: (io: CliIo) => Promise<number>) {
  const { io, output } = capturingIo();
  const code = await command(io);
  return { code, ...output };
}

/** A directory with a copy of one shipped runbook and whatever else the test writes. */
function directoryWith(files: Record<string, string>): string {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-runbook-cli-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(directory, name), text);
  return directory;
}

const FM1 = readFileSync(join(DEFAULT_RUNBOOK_DIRECTORY, "fm1-idp-unavailable.yaml"), "utf8");
// Where fm1's first notification names its channel, for messages that point at it.
const CHANNEL_LINE = FM1.split("\n").indexOf("    channel: security") + 1;
const KNOWN = "fm1-idp-unavailable, fm2-reimport-metadata, fm3-direct-federation, post-incident-recovery";

describe("runbook lint", () => {
  it("says how many runbooks are valid and exits 0", async () => {
    expect(await run((io) => runRunbookLint(DEFAULT_RUNBOOK_DIRECTORY, io))).toEqual({
      code: 0,
      stdout: "4 runbooks: valid\n",
      stderr: "",
    });
  });

  it("prints every problem of every file, one per line on stderr, and exits 2", async () => {
    const directory = directoryWith({
      "fm1-idp-unavailable.yaml": FM1.replace("    channel: security", "    channel: securty"),
      "zz-broken.yaml": "id: zz-broken\ntitle: Broken\n",
    });
    const { code, stdout, stderr } = await run((io) => runRunbookLint(directory, io));
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr.split("\n")).toEqual([
      `${join(directory, "fm1-idp-unavailable.yaml")}: line ${CHANNEL_LINE}: step "tell-security": field ` +
        `"channel": expected a channel (incident, security, alerts), got securty (did you mean "security"?)`,
      `${join(directory, "zz-broken.yaml")}: field "failureMode": expected a failure mode (FM1, FM2, FM3, recovery), but the field is missing`,
      `${join(directory, "zz-broken.yaml")}: field "summary": expected a summary (Markdown), but the field is missing`,
      `${join(directory, "zz-broken.yaml")}: field "steps": expected a list of steps, but the field is missing`,
      "",
    ]);
  });

  it("says a directory without runbooks is a problem", async () => {
    const directory = directoryWith({});
    expect(await run((io) => runRunbookLint(directory, io))).toEqual({
      code: 2,
      stdout: "",
      stderr: `${directory}: holds no runbooks (*.yaml files)\n`,
    });
  });

  it("leaves a missing directory to the caller as INPUT_UNREADABLE", async () => {
    const directory = join(tmpdir(), "breakglass-no-such-runbooks");
    const error: unknown = await run((io) => runRunbookLint(directory, io)).catch((reason: unknown) => reason);
    expect(isBreakglassError(error) && [error.code, error.message]).toEqual([
      "INPUT_UNREADABLE",
      `${directory}: cannot read the runbook directory: no such directory`,
    ]);
  });
});

describe("runbook list", () => {
  it("prints id, failure mode and title, one runbook per line, in aligned columns", async () => {
    expect(await run((io) => runRunbookList(DEFAULT_RUNBOOK_DIRECTORY, io))).toEqual({
      code: 0,
      stdout: [
        "fm1-idp-unavailable     FM1       IdP unavailable — emergency admins sign in through the emergency account",
        "fm2-reimport-metadata   FM2       Re-import the IdP's SAML metadata into the emergency IAM SAML providers and IAM Identity Center",
        "fm3-direct-federation   FM3       Identity Center disrupted — direct federation through the emergency IdP groups",
        "post-incident-recovery  recovery  Post-incident recovery — return the emergency path to rest",
        "",
      ].join("\n"),
      stderr: "",
    });
  });

  it("still lists the good runbooks when one is broken, names the broken file and exits 2", async () => {
    const directory = directoryWith({ "fm1-idp-unavailable.yaml": FM1, "zz-broken.yaml": "id: zz-broken\n" });
    expect(await run((io) => runRunbookList(directory, io))).toEqual({
      code: 2,
      stdout: "fm1-idp-unavailable  FM1  IdP unavailable — emergency admins sign in through the emergency account\n",
      stderr: `${join(directory, "zz-broken.yaml")}: invalid, not listed (run \`breakglass runbook lint\` for the problems)\n`,
    });
  });
});

describe("runbook show", () => {
  it("prints the runbook as Markdown", async () => {
    const { code, stdout, stderr } = await run((io) =>
      runRunbookShow("fm3-direct-federation", DEFAULT_RUNBOOK_DIRECTORY, io),
    );
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(
      stdout.startsWith(
        "# Identity Center disrupted — direct federation through the emergency IdP groups\n\n`fm3-direct-federation` · FM3",
      ),
    ).toBe(true);
    expect(stdout).toContain("### 8. Add the responders to the emergency IdP groups, on a lease");
  });

  it("names the known runbooks in one line for an unknown id, and exits 3 (not found)", async () => {
    expect(await run((io) => main(["runbook", "show", "fm4-everything-down"], io))).toEqual({
      code: 3,
      stdout: "",
      stderr: `breakglass: fm4-everything-down: no such runbook in ${DEFAULT_RUNBOOK_DIRECTORY} (known: ${KNOWN})\n`,
    });
  });

  it("never reads a path given as an id", async () => {
    const { code, stderr } = await run((io) => main(["runbook", "show", "../package"], io));
    expect(code).toBe(3);
    expect(stderr).toBe(`breakglass: ../package: no such runbook in ${DEFAULT_RUNBOOK_DIRECTORY} (known: ${KNOWN})\n`);
  });

  it("prints every problem of an invalid runbook instead of a partial page", async () => {
    const directory = directoryWith({
      "fm1-idp-unavailable.yaml": FM1.replace("    channel: security", "    channel: securty"),
    });
    const { code, stdout, stderr } = await run((io) => runRunbookShow("fm1-idp-unavailable", directory, io));
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toBe(
      `${join(directory, "fm1-idp-unavailable.yaml")}: line ${CHANNEL_LINE}: step "tell-security": field ` +
        `"channel": expected a channel (incident, security, alerts), got securty (did you mean "security"?)\n`,
    );
  });
});
