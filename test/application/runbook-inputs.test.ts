// A run's inputs read against the runbook, the same for the CLI and Slack: lists, repeats, config defaults, and every problem at once.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { requireRunbookInputs, resolveRunbookInputs } from "../../src/application/runbook-inputs.js";
import { loadRunbook } from "../../src/adapters/runbook-files/runbook-files.js";
import { parseSlashCommand } from "../../src/slack/command-parser.js";

const RUNBOOKS = join(import.meta.dirname, "..", "..", "runbooks");
const FM3 = (await loadRunbook(join(RUNBOOKS, "fm3-direct-federation.yaml"))).runbook;
const FM2 = (await loadRunbook(join(RUNBOOKS, "fm2-reimport-metadata.yaml"))).runbook;

describe("runbook inputs read against the runbook", () => {
  it("splits a list input at commas and joins repeated names; other inputs keep their one value", () => {
    const given = parseSlashCommand(
      "runbook start fm3-direct-federation incident=INC-4711 responders=ana@example.com,raj@example.com " +
        "responders=lee@example.com groups=aws-emergency-operators signInUrl=https://idp.example.com/ ttl=2h",
    );
    if (given.kind !== "runbook-start") throw new Error("not a start");
    expect(resolveRunbookInputs(FM3, given.inputs)).toEqual({
      ok: true,
      value: {
        incident: "INC-4711",
        responders: ["ana@example.com", "raj@example.com", "lee@example.com"],
        groups: ["aws-emergency-operators"],
        ttl: "2h",
        signInUrl: "https://idp.example.com/",
      },
    });
  });

  it("names an input the runbook does not have, a missing required one, a repeated single one and a bad value", () => {
    const base = { incident: ["INC-1"], responders: ["ana@example.com"], groups: ["ops"], signInUrl: ["https://x"] };
    expect(resolveRunbookInputs(FM3, { ...base, incidnet: ["x"] })).toEqual({
      ok: false,
      problems: ['runbook fm3-direct-federation has no input "incidnet" (did you mean incident?)'],
    });
    expect(resolveRunbookInputs(FM3, { responders: ["a"], groups: ["g"], signInUrl: ["u"] })).toEqual({
      ok: false,
      problems: [
        "runbook fm3-direct-federation needs incident=…: The incident's reference in your incident management system, e.g. INC-4711.",
      ],
    });
    expect(resolveRunbookInputs(FM3, { ...base, incident: ["INC-1", "INC-2"] })).toEqual({
      ok: false,
      problems: ["incident is given 2 times; it takes one value"],
    });
    expect(resolveRunbookInputs(FM3, { ...base, ttl: ["4 hours"] })).toEqual({
      ok: false,
      problems: ['ttl: expected a duration such as 30m, 4h or 1h30m, got "4 hours"'],
    });
    expect(resolveRunbookInputs(FM3, { ...base, responders: [" , "] })).toMatchObject({
      ok: false,
      problems: [expect.stringMatching(/^responders: expected a list of one or more/)],
    });
  });

  it("reports every problem at once, so a responder fixes them in one go", () => {
    const resolution = resolveRunbookInputs(FM3, { incidnet: ["x"], ttl: ["4 hours"], groups: ["ops"] });
    expect(resolution).toEqual({
      ok: false,
      problems: [
        'runbook fm3-direct-federation has no input "incidnet" (did you mean incident?)',
        'ttl: expected a duration such as 30m, 4h or 1h30m, got "4 hours"',
        "runbook fm3-direct-federation needs incident=…, responders=…, signInUrl=…",
      ],
    });
    expect(() => requireRunbookInputs(FM3, { groups: ["ops"] })).toThrow(
      /^runbook fm3-direct-federation inputs: runbook fm3-direct-federation needs incident=…, responders=…, signInUrl=…$/,
    );
  });

  it("fills what breakglass.yaml already answers, and what the responder gives wins", () => {
    const defaults = { emergencyAccountId: "111122223333", identityCenterRegion: "eu-west-1" };
    const required = { incident: ["INC-1"], identityCenterAccountId: ["999988887777"] };
    const filled = resolveRunbookInputs(FM2, required, defaults);
    expect(filled).toMatchObject({
      ok: true,
      value: { emergencyAccountId: "111122223333", identityCenterRegion: "eu-west-1" },
    });
    const given = resolveRunbookInputs(FM2, { ...required, emergencyAccountId: ["444455556666"] }, defaults);
    expect(given).toMatchObject({
      ok: true,
      value: { emergencyAccountId: "444455556666", identityCenterRegion: "eu-west-1" },
    });
  });

  it("is not fooled by names that live on every object", () => {
    const base = { incident: ["INC-1"], responders: ["ana@example.com"], groups: ["ops"], signInUrl: ["https://x"] };
    const command = parseSlashCommand("runbook start fm3-direct-federation constructor=x");
    expect(command).toMatchObject({ kind: "runbook-start", inputs: { constructor: ["x"] } });
    expect(resolveRunbookInputs(FM3, { ...base, constructor: ["x"] })).toMatchObject({
      ok: false,
      problems: [expect.stringContaining('no input "constructor"')],
    });
    expect(resolveRunbookInputs(FM3, base, { constructor: "x" })).toMatchObject({ ok: true });
    expect(resolveRunbookInputs({ id: "empty", inputs: [] }, {})).toEqual({ ok: true, value: {} });
  });
});
