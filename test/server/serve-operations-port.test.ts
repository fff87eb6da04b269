// `breakglass serve --ops-port`: the port Slack (so the internet) reaches answers only Slack's path, and health, readiness
// and metrics, which describe the emergency path's weaknesses, are answered on the operations port only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RUNBOOK_DIRECTORY } from "../../src/cli/runbook-command.js";
import { visibleText } from "../support/block-text.js";
import { DAY, makeCertificate } from "../support/certificates.js";
import { eventually } from "../support/eventually.js";
import { configText, publishIdpMetadata, startHarness, type ServeHarness } from "../support/serve-harness.js";

let harness: ServeHarness;
let operations: string;

const get = async (url: string) => {
  const response = await fetch(url);
  return { status: response.status, text: await response.text() };
};

beforeAll(async () => {
  harness = await startHarness({
    configYaml: configText("{dir}"),
    runbookDirectory: DEFAULT_RUNBOOK_DIRECTORY,
    operationsPort: 0,
  });
  // An expiring certificate: a finding that /metrics would show to whoever can reach it.
  publishIdpMetadata(
    harness.directory,
    makeCertificate({ commonName: "idp signing", notAfter: new Date(Date.now() + 10 * DAY) }),
  );
  await harness.service.scheduler.runOnce();
  operations = `http://127.0.0.1:${harness.service.operationsPort}`;
}, 30_000);

afterAll(async () => {
  await harness?.stop();
});

describe("serve with a separate operations port", () => {
  it("answers Slack's requests on the main port, and nothing else there", async () => {
    expect(harness.service.operationsPort).not.toBe(harness.service.port);
    const help = await harness.command("help");
    expect(help.status).toBe(200);
    expect(visibleText(help.json)).toContain("/breakglass status");
    for (const path of ["/metrics", "/readyz", "/healthz"]) {
      expect(await harness.get(path)).toEqual({
        status: 404,
        text: "not found (health and metrics are on the operations port)\n",
      });
    }
  });

  it("answers health, readiness and metrics on the operations port, and never Slack's path", async () => {
    expect(await get(`${operations}/healthz`)).toEqual({ status: 200, text: "ok\n" });
    const ready = await get(`${operations}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toMatchObject({ ready: true, store: "ok" });
    const metrics = (await get(`${operations}/metrics`)).text;
    expect(metrics).toMatch(/breakglass_findings\{code="CERT_EXPIRING",severity="high"\} 1/);
    expect(metrics).toMatch(/breakglass_slack_ack_seconds_bucket\{le="3",kind="command"\} [1-9]/);
    const slack = await fetch(`${operations}/slack/events`, { method: "POST", body: "x" });
    expect({ status: slack.status, text: await slack.text() }).toEqual({
      status: 404,
      text: "not found (Slack's requests go to the main port, not the operations port)\n",
    });
  });

  it("says in its log where each listener is", async () => {
    const started = await eventually(
      () => harness.logs.find((line) => line.includes("listening on")),
      (line) => line !== undefined,
    );
    expect(started).toBe(
      `info breakglass serve listening on 127.0.0.1 port ${harness.service.port}; /healthz, /readyz and ` +
        `/metrics on 127.0.0.1 port ${harness.service.operationsPort} only; full check every 300 s`,
    );
  });
});
