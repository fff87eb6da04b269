// `/breakglass <text>` as Slack sends it (mentions, links and &amp; escapes included): each command, each problem a
// person would be told, and no input that throws.
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  COMMAND_WORDS,
  parseSlashCommand,
  slackTextToPlain,
  type SlashCommand,
} from "../../src/slack/command-parser.js";
import { resolveRunbookInputs } from "../../src/application/runbook-inputs.js";
import { loadRunbook } from "../../src/adapters/runbook-files/runbook-files.js";

const FM3 = (await loadRunbook(join(import.meta.dirname, "..", "..", "runbooks", "fm3-direct-federation.yaml")))
  .runbook;

function problemOf(text: string): string {
  const command = parseSlashCommand(text);
  if (command.kind !== "usage")
    throw new Error(`expected a problem for ${JSON.stringify(text)}, got ${JSON.stringify(command)}`);
  return command.problem;
}

describe("reading commands", () => {
  it("shows help for empty text, blank text and help", () => {
    for (const text of ["", "   ", "\n", "help", "HELP", "help me please", "?"])
      expect(parseSlashCommand(text)).toEqual({ kind: "help" });
  });

  it("reads the one-word commands whatever the case a phone capitalised them in", () => {
    expect(parseSlashCommand("status")).toEqual({ kind: "status" });
    expect(parseSlashCommand("  Status ")).toEqual({ kind: "status" });
    expect(parseSlashCommand("check")).toEqual({ kind: "check" });
    expect(parseSlashCommand("runbook list")).toEqual({ kind: "runbook-list" });
    expect(parseSlashCommand("Runbook List")).toEqual({ kind: "runbook-list" });
    expect(parseSlashCommand("incident close")).toEqual({ kind: "incident-close" });
  });

  it("names an unknown command, and suggests the one probably meant", () => {
    expect(problemOf("deploy")).toBe('unknown command "deploy"');
    expect(problemOf("stauts")).toBe('unknown command "stauts" (did you mean status?)');
    expect(problemOf("runbooks list")).toContain("(did you mean runbook?)");
  });

  it("refuses words after a command that takes none", () => {
    expect(problemOf("status now")).toBe('status takes nothing after it, got "now"');
    expect(problemOf("check <@U012ABC|ana>")).toBe('check takes nothing after it, got "@ana"');
    expect(problemOf("runbook list all")).toBe('runbook list takes nothing after it, got "all"');
  });

  it("closes the one open incident, or the one named", () => {
    expect(parseSlashCommand("incident close")).toEqual({ kind: "incident-close" });
    expect(parseSlashCommand("incident close INC-20261125-0342")).toEqual({
      kind: "incident-close",
      incident: "INC-20261125-0342",
    });
    expect(parseSlashCommand("Incident Close SEC-12")).toEqual({ kind: "incident-close", incident: "SEC-12" });
    expect(problemOf("incident close INC-1 INC-2")).toBe(
      'incident close takes one incident reference at most, got "INC-1 INC-2"',
    );
    expect(problemOf("incident close <@U012ABC|ana>")).toBe(
      '"@ana" is not an incident reference, such as INC-20261125-0342',
    );
  });
});

describe("runbook start", () => {
  const start = (text: string) => {
    const command = parseSlashCommand(text);
    if (command.kind !== "runbook-start") throw new Error(`expected runbook-start, got ${JSON.stringify(command)}`);
    return command;
  };

  it("reads the runbook id, name=value inputs and --dry-run", () => {
    expect(start("runbook start fm3-direct-federation incident=INC-4711 ttl=2h --dry-run")).toEqual({
      kind: "runbook-start",
      runbookId: "fm3-direct-federation",
      inputs: { incident: ["INC-4711"], ttl: ["2h"] },
      dryRun: true,
    });
    expect(start("runbook start fm3-direct-federation").dryRun).toBe(false);
  });

  it("takes the dry-run flag anywhere, also with the dash a phone makes of --", () => {
    expect(start("runbook start --dry-run fm3-direct-federation").dryRun).toBe(true);
    expect(start("runbook start fm3-direct-federation —dry-run").dryRun).toBe(true);
    expect(start("runbook start fm3-direct-federation –dry-run").dryRun).toBe(true);
  });

  it('keeps spaces inside "quotes", curly quotes and \\" escapes', () => {
    expect(start('runbook start fm1-idp-unavailable reason="rotate the \\"prod\\" key" incident=INC-1').inputs).toEqual(
      { reason: ['rotate the "prod" key'], incident: ["INC-1"] },
    );
    expect(start("runbook start fm1-idp-unavailable reason=“IdP is down” x=1").inputs).toEqual({
      reason: ["IdP is down"],
      x: ["1"],
    });
  });

  it("reads what Slack made of typed addresses, links and & < >", () => {
    const text =
      "runbook start fm3-direct-federation " +
      "responders=<mailto:ana@example.com|ana@example.com>,<mailto:raj@example.com|raj@example.com> " +
      'signInUrl=<https://idp.example.com/app?a=1&amp;b=2> note="a &lt;b&gt; &amp; c" ' +
      "site=<http://example.com|example.com>";
    expect(start(text).inputs).toEqual({
      responders: ["ana@example.com,raj@example.com"],
      signInUrl: ["https://idp.example.com/app?a=1&b=2"],
      note: ["a <b> & c"],
      site: ["example.com"],
    });
  });

  it("keeps every value of a repeated name, in order", () => {
    expect(
      start("runbook start fm3-direct-federation responders=ana@example.com responders=raj@example.com").inputs,
    ).toEqual({ responders: ["ana@example.com", "raj@example.com"] });
  });

  it("says what is missing or malformed", () => {
    expect(problemOf("runbook")).toBe("runbook needs a subcommand: list, start or status");
    expect(problemOf("runbook start")).toBe("runbook start needs a runbook id (runbook list shows them)");
    expect(problemOf("runbook start --dry-run")).toBe("runbook start needs a runbook id (runbook list shows them)");
    expect(problemOf("runbook start incident=INC-1")).toMatch(/^runbook start needs a runbook id before its inputs/);
    expect(problemOf("runbook start Fm3_direct")).toBe('"Fm3_direct" is not a runbook id (runbook list shows them)');
    expect(problemOf("runbook start fm3-direct-federation INC-1")).toBe(
      'expected name=value after the runbook id, got "INC-1"',
    );
    expect(problemOf("runbook start fm3-direct-federation sign-in=x")).toBe(
      '"sign-in" is not an input name: inputs are named like incidentTitle',
    );
    expect(problemOf("runbook start fm3-direct-federation incident=")).toBe(
      "incident= has no value: write incident=… or leave it out",
    );
    expect(problemOf("runbook start fm3-direct-federation --force")).toBe(
      'unknown option "--force": runbook start takes --dry-run',
    );
    expect(problemOf('runbook start fm3-direct-federation reason="IdP down')).toBe(
      'a quote is not closed: ""IdP down"',
    );
    expect(problemOf("runbook strt fm3")).toBe(
      'unknown runbook subcommand "strt" (did you mean start?): list, start or status',
    );
    expect(problemOf("runbook deploy")).toBe('unknown runbook subcommand "deploy": list, start or status');
  });

  it("lower-cases a runbook id a phone capitalised", () => {
    expect(start("runbook start FM3-direct-federation").runbookId).toBe("fm3-direct-federation");
  });
});

describe("runbook status", () => {
  it("takes an optional run id", () => {
    expect(parseSlashCommand("runbook status")).toEqual({ kind: "runbook-status", runId: null });
    expect(parseSlashCommand("runbook status 3f2a9c1b-0d4e-4c55-9a1e-1f2b3c4d5e6f")).toEqual({
      kind: "runbook-status",
      runId: "3f2a9c1b-0d4e-4c55-9a1e-1f2b3c4d5e6f",
    });
    expect(problemOf("runbook status a b")).toBe('runbook status takes one run id, got "a b"');
    expect(problemOf("runbook status <@U012ABC|ana>")).toBe('"@ana" is not a run id');
  });
});

describe("grant and revoke", () => {
  it("reads a person picked from the autocomplete, with or without their name, and a ttl", () => {
    expect(parseSlashCommand("grant <@U012ABC|ana> 4h")).toEqual({
      kind: "grant",
      userId: "U012ABC",
      ttlMilliseconds: 4 * 3_600_000,
    });
    expect(parseSlashCommand("grant <@W012ABC>")).toEqual({ kind: "grant", userId: "W012ABC", ttlMilliseconds: null });
    expect(parseSlashCommand("grant <@U012ABC|ana> 1H30M")).toEqual({
      kind: "grant",
      userId: "U012ABC",
      ttlMilliseconds: 90 * 60_000,
    });
    expect(parseSlashCommand("revoke <@U012ABC|ana>")).toEqual({ kind: "revoke", userId: "U012ABC" });
  });

  it("refuses a typed name, saying to pick the person from the @ autocomplete", () => {
    for (const text of ["grant @ana 4h", "grant ana", "revoke @ana"]) {
      expect(problemOf(text)).toMatch(/is not a Slack mention: type @ and pick the person from the autocomplete list/);
    }
    expect(problemOf("grant @ana")).toMatch(/^"@ana" is not a Slack mention/);
  });

  it("refuses a user group, a channel and a missing person", () => {
    expect(problemOf("grant <!subteam^S0123ABC|@oncall> 2h")).toBe('"@oncall" is a user group: name one person');
    expect(problemOf("grant <#C0123ABC|general>")).toBe('"#general" is not a person: pick one from the @ autocomplete');
    expect(problemOf("grant")).toBe("grant needs a person: grant @name [ttl], such as grant @ana 2h");
    expect(problemOf("revoke")).toBe("revoke needs a person: revoke @name");
  });

  it("names a ttl that is not a duration", () => {
    expect(problemOf("grant <@U012ABC|ana> 4 hours")).toBe('"4 hours" is not a duration such as 30m, 4h or 1h30m');
    expect(problemOf("grant <@U012ABC|ana> 0m")).toBe('"0m" is not a duration such as 30m, 4h or 1h30m');
    expect(problemOf("revoke <@U012ABC|ana> now")).toBe('revoke takes only the person, got "now" after them');
  });
});

describe("incident", () => {
  it("takes the rest of the line as the title, as the person typed it", () => {
    expect(
      parseSlashCommand(
        'incident declare IdP down:  "prod"   sign-in <@U012ABC|ana> &amp; <https://status.example.com>',
      ),
    ).toEqual({
      kind: "incident-declare",
      title: 'IdP down: "prod" sign-in @ana & https://status.example.com',
    });
    expect(parseSlashCommand("incident declare it's \"broken")).toEqual({
      kind: "incident-declare",
      title: "it's \"broken",
    });
  });

  it("needs a title of reasonable length, and a known subcommand", () => {
    expect(problemOf("incident declare   ")).toBe("incident declare needs a title, such as: incident declare IdP down");
    expect(problemOf(`incident declare ${"x".repeat(151)}`)).toBe(
      "the incident title has 151 characters; keep it to 150",
    );
    expect(problemOf("incident")).toBe("incident needs a subcommand: declare <title> or close");
    expect(problemOf("incident open IdP down")).toBe('unknown incident subcommand "open": declare or close');
  });
});

describe("Slack's markup back to what was typed", () => {
  it("turns mentions, links and escapes into plain text", () => {
    expect(
      slackTextToPlain(
        "<@U1|ana> <#C1|ops> <!subteam^S1|@oncall> <!here> <mailto:a@b.c|a@b.c> <https://x.y/> &lt;&gt;&amp; <unclosed",
      ),
    ).toBe("@ana #ops @oncall @here a@b.c https://x.y/ <>& <unclosed");
  });
});

const KINDS = new Set<SlashCommand["kind"]>([
  "help",
  "status",
  "check",
  "runbook-list",
  "runbook-start",
  "runbook-status",
  "grant",
  "revoke",
  "incident-declare",
  "incident-close",
  "saml-preflight",
  "usage",
]);

function wellFormed(command: SlashCommand): void {
  expect(KINDS.has(command.kind)).toBe(true);
  if (command.kind === "usage") {
    expect(command.problem.length).toBeGreaterThan(0);
    expect(command.problem).not.toMatch(/[\r\n]/);
    expect(command.problem.length).toBeLessThan(400);
  }
}

describe("preflight", () => {
  it("opens the upload for any role, or for the one role ARN given, and names a malformed one", () => {
    expect(parseSlashCommand("preflight")).toEqual({ kind: "saml-preflight", role: null });
    const role = "arn:aws:iam::111111111111:role/EmergencyAdmin";
    expect(parseSlashCommand(`preflight ${role}`)).toEqual({ kind: "saml-preflight", role });
    const wrong = parseSlashCommand("preflight EmergencyAdmin");
    expect(wrong.kind).toBe("usage");
    if (wrong.kind === "usage") expect(wrong.problem).toContain('"EmergencyAdmin"');
  });
});

describe("whatever is typed", () => {
  const pieces = fc.constantFrom(
    ...COMMAND_WORDS,
    "list",
    "start",
    "status",
    "declare",
    "close",
    "fm3-direct-federation",
    "--dry-run",
    "—",
    "--",
    "=",
    "a=",
    "=b",
    "x=1,2",
    '"',
    "“",
    "”",
    "\\",
    '\\"',
    "<",
    ">",
    "<@",
    "<@U012ABC|ana>",
    "<@U012ABC>",
    "<!subteam^S1|@x>",
    "<mailto:a@b|a@b>",
    "&amp;",
    "&lt;",
    "&gt;",
    "&",
    "4h",
    "4 hours",
    "0m",
    "99999999999999d",
    "constructor",
    "__proto__=1",
    "toString=x",
    "\u0000",
    "\u00a0",
    "\t",
    "\n",
    "🙂",
    "é",
  );
  const soup = fc
    .array(fc.oneof(pieces, fc.string({ maxLength: 6 })), { maxLength: 12 })
    .map((parts) => parts.join(" "));
  const glued = fc.array(pieces, { maxLength: 10 }).map((parts) => parts.join(""));

  it("never throws, and a problem is always one non-empty line", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 }), soup, glued),
        (text) => {
          wellFormed(parseSlashCommand(text));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("resolves any given inputs against a real runbook without throwing", () => {
    fc.assert(
      fc.property(soup, (text) => {
        const command = parseSlashCommand(`runbook start fm3-direct-federation ${text}`);
        wellFormed(command);
        if (command.kind === "runbook-start") {
          const resolved = resolveRunbookInputs(FM3, command.inputs);
          if (!resolved.ok) for (const problem of resolved.problems) expect(problem).not.toMatch(/[\r\n]/);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("survives very long text", () => {
    wellFormed(parseSlashCommand(`runbook start fm3 ${'a="b '.repeat(2000)}`));
    wellFormed(parseSlashCommand("<".repeat(5000)));
    wellFormed(parseSlashCommand(`${"x".repeat(10_000)}`));
  });
});
