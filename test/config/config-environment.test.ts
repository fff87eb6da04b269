// The environment variables a configuration needs, named before FM3 would fail on them after an approval.
import { describe, expect, it } from "vitest";
import { findUnsetVariables } from "../../src/config/config-environment.js";
import { parseConfig } from "../../src/config/load-config.js";

const config = (...directoryLines: string[]) =>
  parseConfig(
    ["idp:", "  name: Entra ID", "  metadata: ./metadata.xml", "  directory:", ...directoryLines, ""].join("\n"),
    "/srv/ops/breakglass.yaml",
  ).config;

describe("unset variables of idp.directory", () => {
  it("names the token variable of a static token", () => {
    const unset = findUnsetVariables(config("    kind: okta", "    baseUrl: https://example.okta.com"), {});
    expect(unset.map((entry) => [entry.path.join("."), entry.variable])).toEqual([
      ["idp.directory.tokenVariable", "BREAKGLASS_IDP_TOKEN"],
    ]);
  });

  it("with client credentials, names the client secret's variable and not the unused token variable", () => {
    const withAuth = config(
      "    kind: graph",
      "    baseUrl: https://graph.microsoft.com/v1.0",
      "    auth:",
      "      kind: client-credentials",
      "      tokenUrl: https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
      "      clientId: 4a1aa1d5-c567-49d0-ad0b-cd957a47f842",
      "      scope: https://graph.microsoft.com/.default",
      "      clientSecretVariable: BREAKGLASS_GRAPH_SECRET",
    );
    expect(findUnsetVariables(withAuth, {}).map((entry) => [entry.path.join("."), entry.variable])).toEqual([
      ["idp.directory.auth.clientSecretVariable", "BREAKGLASS_GRAPH_SECRET"],
    ]);
    expect(findUnsetVariables(withAuth, { BREAKGLASS_GRAPH_SECRET: "value" })).toEqual([]);
  });
});
