// Reading runbooks from disk: the files a directory offers, and a refusal naming the file for each way reading one fails.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_RUNBOOK_DIRECTORY } from "../../../src/cli/runbook-command.js";
import { isBreakglassError } from "../../../src/domain/errors.js";
import {
  lintRunbooks,
  loadRunbooks,
  readRunbookSource,
  readRunbookText,
  runbookFiles,
} from "../../../src/adapters/runbook-files/runbook-files.js";

const FM2 = "fm2-reimport-metadata.yaml";
const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function emptyDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), "breakglass-runbook-files-"));
  directories.push(directory);
  return directory;
}

async function refusal(read: Promise<unknown>): Promise<[string, string]> {
  const error: unknown = await read.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isBreakglassError(error)) throw new Error(`expected a BreakglassError, got ${String(error)}`);
  return [error.code, error.message];
}

describe("the runbook files of a directory", () => {
  it("are its *.yaml files, sorted by name, and nothing else", async () => {
    const directory = emptyDirectory();
    for (const name of ["b.yaml", "a.yaml", "notes.md", "c.yml"]) writeFileSync(join(directory, name), "");
    expect(await runbookFiles(directory)).toEqual([join(directory, "a.yaml"), join(directory, "b.yaml")]);
  });

  it("load in file-name order", async () => {
    const directory = emptyDirectory();
    for (const name of ["post-incident-recovery.yaml", FM2])
      copyFileSync(join(DEFAULT_RUNBOOK_DIRECTORY, name), join(directory, name));
    expect((await loadRunbooks(directory)).map(({ runbook }) => runbook.id)).toEqual([
      "fm2-reimport-metadata",
      "post-incident-recovery",
    ]);
  });

  it("says a directory without runbooks holds none", async () => {
    const directory = emptyDirectory();
    expect(await lintRunbooks(directory)).toEqual([
      { file: directory, line: null, where: "", field: "", message: "holds no runbooks (*.yaml files)" },
    ]);
  });

  it("refuses a directory that is not there, naming it", async () => {
    const directory = join(emptyDirectory(), "missing");
    expect(await refusal(loadRunbooks(directory))).toEqual([
      "INPUT_UNREADABLE",
      `${directory}: cannot read the runbook directory: no such directory`,
    ]);
  });
});

describe("reading one runbook file", () => {
  it("gives the engine the exact text its digest is taken from, with the runbook parsed from it", async () => {
    const path = join(DEFAULT_RUNBOOK_DIRECTORY, FM2);
    const source = await readRunbookSource(path);
    expect(source).toMatchObject({ path, text: readFileSync(path, "utf8") });
    expect(source.runbook.id).toBe("fm2-reimport-metadata");
  });

  it("refuses a file that is not there", async () => {
    const path = join(emptyDirectory(), "fm9.yaml");
    expect(await refusal(readRunbookText(path))).toEqual(["INPUT_UNREADABLE", `${path}: no such file`]);
  });

  it("refuses a directory given as a runbook", async () => {
    const path = join(emptyDirectory(), "fm9.yaml");
    mkdirSync(path);
    expect(await refusal(readRunbookText(path))).toEqual([
      "INPUT_UNREADABLE",
      `${path}: is a directory, not a runbook file`,
    ]);
  });

  it("refuses a file that is not UTF-8 text", async () => {
    const path = join(emptyDirectory(), "fm9.yaml");
    writeFileSync(path, Buffer.from([0x69, 0x64, 0x3a, 0x20, 0xff, 0xfe, 0x0a]));
    expect(await refusal(readRunbookText(path))).toEqual(["RUNBOOK_INVALID", `${path}: the file is not UTF-8 text`]);
  });

  it("refuses a file over 1 MB before reading it as a runbook", async () => {
    const path = join(emptyDirectory(), "fm9.yaml");
    writeFileSync(path, `# ${"x".repeat(1024 * 1024)}\n`);
    expect(await refusal(readRunbookText(path))).toEqual([
      "RUNBOOK_INVALID",
      `${path}: refused: the file is 1 MB, over the 1 MB limit for a runbook`,
    ]);
  });

  it("refuses an invalid runbook with RUNBOOK_INVALID naming the file", async () => {
    const path = join(emptyDirectory(), "fm9.yaml");
    writeFileSync(path, "# nothing yet\n");
    expect(await refusal(readRunbookSource(path))).toEqual([
      "RUNBOOK_INVALID",
      `${path}: the file is empty (only blank lines or comments); expected a runbook with id, title, failureMode, summary, inputs and steps`,
    ]);
  });
});
