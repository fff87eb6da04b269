// A runbook file broken on disk must not turn a slash command into Slack's "dispatch_failed": the command is still
// answered at once, in one line naming the file.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { configText, startHarness, type ServeHarness } from "../support/serve-harness.js";

let harness: ServeHarness | undefined;

afterAll(async () => {
  await harness?.stop();
});

describe("a broken runbook directory", () => {
  it("answers runbook list with the problem, and still answers help", async () => {
    const runbooks = mkdtempSync(join(tmpdir(), "breakglass-broken-runbooks-"));
    writeFileSync(join(runbooks, "half-written.yaml"), "id: half-written\ntitle: [unclosed\n");
    harness = await startHarness({ configYaml: configText("{dir}"), runbookDirectory: runbooks });
    const list = await harness.command("runbook list");
    expect(list.status).toBe(200);
    const text = JSON.stringify(list.json);
    expect(text).toContain(":pencil2:");
    expect(text).toContain("Fix what it names");
    expect(text).toContain("half-written.yaml");
    expect((await harness.command("help")).status).toBe(200);
    expect(harness.logs.join("\n")).toContain("runbooks not loaded from");
  });
});
