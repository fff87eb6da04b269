// `runbook list` answers from its summary cache only while a runbook file's name and text are what was listed: an
// edited, renamed or broken runbook is parsed again, and a damaged cache is ignored (issue 15: a fast list must never
// show a responder a stale or invalid runbook).
import { execFile } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeEach, describe, expect, it } from "vitest";

const run = promisify(execFile);
// bin/breakglass.js runs the compiled dist/, which `npm test` builds first: the cache works only for compiled builds.
const BIN = new URL("../../bin/breakglass.js", import.meta.url).pathname;
const SHIPPED = new URL("../../runbooks/", import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), "breakglass-list-cache-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let runbooks: string;
let cacheHome: string;
let round = 0;
beforeEach(() => {
  round += 1;
  runbooks = join(root, `runbooks-${round}`);
  cacheHome = join(root, `cache-${round}`);
  mkdirSync(runbooks);
  copyFileSync(join(SHIPPED, "fm1-idp-unavailable.yaml"), join(runbooks, "fm1-idp-unavailable.yaml"));
});

async function list(...extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, "runbook", "list", "--dir", runbooks, ...extra], {
      env: { ...process.env, XDG_CACHE_HOME: cacheHome, NO_COLOR: "1" },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const FM1_LINE = "fm1-idp-unavailable  FM1  IdP unavailable — emergency admins sign in through the emergency account\n";
const cacheFile = () => join(cacheHome, "breakglass", "runbook-summaries.json");

describe("runbook list's summary cache", () => {
  it("lists the same runbooks from the cache as from the files, and keeps the cache private to the user", async () => {
    const cold = await list();
    const warm = await list();
    expect(cold).toEqual({ code: 0, stdout: FM1_LINE, stderr: "" });
    expect(warm).toEqual(cold);
    expect(statSync(cacheFile()).mode & 0o777).toBe(0o600);
  });

  it("shows an edited title at once", async () => {
    await list();
    const path = join(runbooks, "fm1-idp-unavailable.yaml");
    writeFileSync(path, readFileSync(path, "utf8").replace(/^title: .*$/m, "title: Edited after the first list"));
    expect((await list()).stdout).toBe("fm1-idp-unavailable  FM1  Edited after the first list\n");
  });

  it("reports a cached runbook as invalid once its file name no longer matches its id", async () => {
    await list();
    renameSync(join(runbooks, "fm1-idp-unavailable.yaml"), join(runbooks, "fm1-renamed.yaml"));
    expect(await list()).toEqual({
      code: 2,
      stdout: "",
      stderr: `${join(runbooks, "fm1-renamed.yaml")}: invalid, not listed (run \`breakglass runbook lint\` for the problems)\n`,
    });
  });

  it("reports a broken runbook on every run, never from the cache", async () => {
    writeFileSync(join(runbooks, "zz-broken.yaml"), "id: zz-broken\n");
    const broken = `${join(runbooks, "zz-broken.yaml")}: invalid, not listed (run \`breakglass runbook lint\` for the problems)\n`;
    expect(await list()).toEqual({ code: 2, stdout: FM1_LINE, stderr: broken });
    expect(await list()).toEqual({ code: 2, stdout: FM1_LINE, stderr: broken });
  });

  it("ignores a damaged or forged cache file and lists from the files", async () => {
    await list();
    writeFileSync(cacheFile(), "{ not json");
    expect(await list()).toEqual({ code: 0, stdout: FM1_LINE, stderr: "" });
    // An entry of another shape under a real key is not trusted either.
    const stored = JSON.parse(readFileSync(cacheFile(), "utf8")) as { entries: Record<string, unknown> };
    for (const key of Object.keys(stored.entries)) stored.entries[key] = { id: 42 };
    writeFileSync(cacheFile(), JSON.stringify(stored));
    expect(await list()).toEqual({ code: 0, stdout: FM1_LINE, stderr: "" });
  });
});
