// An IdP's request to wait, seen by the run step that made the call: a runbook action against the loopback Graph server
// that throttles (429 with Retry-After) tells the step's progress what it waits for and how long.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { GraphGroupDirectory } from "../../../src/adapters/idp/graph-group-directory.js";
import { withIdpWaitsReported } from "../../../src/adapters/idp/server-waits.js";
import { addGroupMembersExecutor } from "../../../src/adapters/runbook-actions/group-membership.js";
import { openStore } from "../../../src/adapters/store/open-store.js";
import type { StepWait } from "../../../src/domain/runbooks/engine-ports.js";
import { startGraphServer, type GraphTestServer } from "../../support/idp-graph-server.js";
import { runContext } from "../runbook-actions/run-context.js";

const TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.server-waits.test";
const OPERATORS = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
const ADELE = "87d349ed-44d7-43e1-9a83-5f2406dee5bd";

let graph: GraphTestServer;

beforeAll(async () => {
  graph = await startGraphServer(TOKEN);
  graph.users.set(ADELE, { id: ADELE, userPrincipalName: "AdeleV@contoso.com", mail: null, displayName: "Adele" });
  graph.groups.set(OPERATORS, new Set());
  graph.groupNames.set(OPERATORS, "aws-emergency-operators");
});

afterAll(async () => {
  await graph.close();
});

it("shows a run step each wait Graph asks for while the step adds a responder, then adds them", async () => {
  const slept: number[] = [];
  const directory = new GraphGroupDirectory({
    baseUrl: graph.baseUrl,
    token: TOKEN,
    ca: graph.ca,
    sleep: (ms) => {
      slept.push(ms);
      return Promise.resolve();
    },
  });
  const store = openStore({ path: join(mkdtempSync(join(tmpdir(), "breakglass-server-waits-")), "breakglass.db") });
  try {
    const add = withIdpWaitsReported(addGroupMembersExecutor({ directory, store: store.leases }));
    const parameters = { groups: ["aws-emergency-operators"], members: ["AdeleV@contoso.com"], ttl: "1h" };
    const reported: StepWait[] = [];
    const context = { ...runContext(), reportWait: (wait: StepWait) => reported.push(wait) };
    const plan = await add.plan(parameters, context);
    graph.faults.throttleNext(1, 41);
    await add.apply(plan, parameters, context);

    expect(graph.groups.get(OPERATORS)).toEqual(new Set([ADELE]));
    expect(slept).toEqual([41_000]);
    expect(reported).toEqual([
      {
        attempt: 1,
        attempts: 6,
        intervalMilliseconds: 41_000,
        waitingFor: { summary: expect.stringMatching(/^Graph answered HTTP 429 Too Many Requests \(/), codes: [] },
      },
    ]);
  } finally {
    store.close();
  }
});
