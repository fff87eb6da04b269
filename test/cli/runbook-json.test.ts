// `breakglass runbook list --json` and `runbook show --json`: the runbooks, and one runbook's inputs and steps, as data a script reads.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_RUNBOOK_DIRECTORY } from "../../src/cli/runbook-command.js";
import { main } from "../../src/cli/main.js";
import { capturingIo } from "../support/cli-io.js";

async function breakglass(...args: string[]) {
  const { io, output } = capturingIo();
  const code = await main(args, io);
  return { code, ...output };
}

describe("runbook list --json", () => {
  it("lists every runbook's id, failure mode and title", async () => {
    const { code, stdout, stderr } = await breakglass("runbook", "list", "--json");
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const { runbooks, invalidFiles } = JSON.parse(stdout);
    expect(runbooks.map((runbook: { id: string; failureMode: string }) => [runbook.id, runbook.failureMode])).toEqual([
      ["fm1-idp-unavailable", "FM1"],
      ["fm2-reimport-metadata", "FM2"],
      ["fm3-direct-federation", "FM3"],
      ["post-incident-recovery", "recovery"],
    ]);
    expect(runbooks[2].title).toBe("Identity Center disrupted — direct federation through the emergency IdP groups");
    expect(invalidFiles).toEqual([]);
  });

  it("names a broken file in invalidFiles and on stderr, still lists the others, and exits 2", async () => {
    const directory = mkdtempSync(join(tmpdir(), "breakglass-runbook-json-"));
    const fm1 = readFileSync(join(DEFAULT_RUNBOOK_DIRECTORY, "fm1-idp-unavailable.yaml"), "utf8");
    writeFileSync(join(directory, "fm1-idp-unavailable.yaml"), fm1);
    writeFileSync(join(directory, "zz-broken.yaml"), "id: zz-broken\n");
    const { code, stdout, stderr } = await breakglass("runbook", "list", "--dir", directory, "--json");
    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toEqual({
      runbooks: [
        {
          id: "fm1-idp-unavailable",
          failureMode: "FM1",
          title: "IdP unavailable — emergency admins sign in through the emergency account",
        },
      ],
      invalidFiles: [join(directory, "zz-broken.yaml")],
    });
    expect(stderr).toBe(
      `${join(directory, "zz-broken.yaml")}: invalid, not listed (run \`breakglass runbook lint\` for the problems)\n`,
    );
  });
});

describe("runbook show --json", () => {
  it("gives the runbook's inputs, with type, whether required and default, and its steps in order", async () => {
    const { code, stdout, stderr } = await breakglass("runbook", "show", "fm3-direct-federation", "--json");
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const runbook = JSON.parse(stdout);
    expect(runbook).toMatchObject({ id: "fm3-direct-federation", failureMode: "FM3", summary: expect.any(String) });
    for (const input of runbook.inputs) {
      expect(Object.keys(input)).toEqual(["name", "description", "type", "required", "default", "choices"]);
    }
    expect(runbook.inputs.map((input: { name: string }) => input.name)).toContain("incident");
    const steps = runbook.steps as { id: string; kind: string; title: string; action?: string; with?: unknown }[];
    // The same eighth step the Markdown shows as "### 8. Add the responders …".
    expect(steps[7]).toMatchObject({
      kind: "action",
      title: "Add the responders to the emergency IdP groups, on a lease",
      action: "idp.add-group-members",
      with: { groups: expect.anything(), members: expect.anything(), ttl: expect.any(String) },
      compensate: "idp.remove-group-members",
    });
    for (const step of steps) expect(step).toHaveProperty("onFailure");
  });

  it("names the known runbooks for an unknown id on one stderr line, prints nothing on stdout, and exits 3", async () => {
    const { code, stdout, stderr } = await breakglass("runbook", "show", "fm4-everything-down", "--json");
    expect({ code, stdout }).toEqual({ code: 3, stdout: "" });
    expect(stderr).toMatch(/^breakglass: .*fm4-everything-down.*fm1-idp-unavailable, fm2-reimport-metadata.*\n$/);
  });
});
