// The layer direction and the error rule as `npm run lint` applies them: a commit that breaks either fails, with a message that says why.
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import tseslint from "typescript-eslint";
import { describe, expect, it } from "vitest";

const REPOSITORY = fileURLToPath(new URL("../..", import.meta.url));

// The project's own config, without the type-aware rules: the layer and error rules need no types, and building the
// TypeScript program for each snippet would take seconds. The files named need not exist for the same reason.
const eslint = new ESLint({ cwd: REPOSITORY, overrideConfig: tseslint.configs.disableTypeChecked });

/** The lint messages for `code` as if it were the file at `path` (relative to the repository). */
async function lint(path: string, code: string): Promise<{ rule: string | null; message: string }[]> {
  const [result] = await eslint.lintText(code, { filePath: `${REPOSITORY}${path}` });
  return (result?.messages ?? []).map(({ ruleId, message }) => ({ rule: ruleId, message }));
}

describe("the layer rules", () => {
  it("refuse an import of the adapters from the domain", async () => {
    const messages = await lint(
      "src/domain/checks/layer-probe.ts",
      'export { AwsClients } from "../../adapters/aws/aws-clients.js";\n',
    );
    expect(messages).toContainEqual({
      rule: "no-restricted-imports",
      message: expect.stringContaining(
        "The domain is pure: it imports only the domain (see README, Development).",
      ) as string,
    });
  });

  it("refuse an import of the server process from the Slack front end", async () => {
    const messages = await lint(
      "src/slack/layer-probe.ts",
      'export { CheckScheduler } from "../server/check-scheduler.js";\n',
    );
    expect(messages).toContainEqual({
      rule: "no-restricted-imports",
      message: expect.stringContaining(
        "The Slack front end imports neither the CLI nor the server process (see README, Development).",
      ) as string,
    });
  });

  it("refuse an import of the drill from the server process, and of the CLI from the drill", async () => {
    expect(
      await lint("src/server/layer-probe.ts", 'export { runDrill } from "../drill/run-drill.js";\n'),
    ).toContainEqual({
      rule: "no-restricted-imports",
      message: expect.stringContaining("The server process does not import the CLI") as string,
    });
    expect(await lint("src/drill/layer-probe.ts", 'export { main } from "../cli/main.js";\n')).toContainEqual({
      rule: "no-restricted-imports",
      message: expect.stringContaining("The drill is run by the CLI; it does not import it") as string,
    });
  });

  it("refuse an AWS SDK client in the domain", async () => {
    const messages = await lint(
      "src/domain/checks/layer-probe.ts",
      'export { IAMClient } from "@aws-sdk/client-iam";\n',
    );
    expect(messages).toContainEqual({
      rule: "no-restricted-imports",
      message: expect.stringContaining(
        "The domain does no I/O: put this behind a port and implement it in src/adapters.",
      ) as string,
    });
  });

  it("refuse a bare Error anywhere in src", async () => {
    for (const path of [
      "src/domain/saml/layer-probe.ts",
      "src/adapters/store/layer-probe.ts",
      "src/cli/layer-probe.ts",
    ]) {
      expect(await lint(path, 'export function fail(): never {\n  throw new Error("x");\n}\n')).toEqual([
        {
          rule: "no-restricted-syntax",
          message: "Throw a BreakglassError with a code (src/domain/errors.ts), not a bare Error.",
        },
      ]);
    }
  });

  it("let the adapters import the domain and throw a BreakglassError", async () => {
    const code = [
      'import { BreakglassError } from "../../domain/errors.js";',
      "",
      "export function fail(): never {",
      '  throw new BreakglassError("INTERNAL", "probe", "x");',
      "}",
      "",
    ].join("\n");
    expect(await lint("src/adapters/aws/layer-probe.ts", code)).toEqual([]);
  });

  it("let the server process import the Slack front end", async () => {
    expect(
      await lint("src/server/layer-probe.ts", 'export { SLACK_EVENTS_PATH } from "../slack/slack-surface.js";\n'),
    ).toEqual([]);
  });
});
