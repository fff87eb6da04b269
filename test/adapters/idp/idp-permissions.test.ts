// The permission files in iam/ name exactly the calls the Okta and Graph adapters make: every call a responder's whole
// path makes (find, list, add, remove, check) is listed there with its scope, and nothing listed goes unused.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphGroupDirectory } from "../../../src/adapters/idp/graph-group-directory.js";
import { OktaGroupDirectory } from "../../../src/adapters/idp/okta-group-directory.js";
import type { GroupDirectory } from "../../../src/domain/ports/group-directory.js";
import { startGraphServer, type GraphTestServer } from "../../support/idp-graph-server.js";
import { startOktaServer, type OktaTestServer } from "../../support/idp-okta-server.js";

const IAM = join(import.meta.dirname, "..", "..", "..", "iam");
const TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.permissions.test";
const GROUP = "00g1emergency0000000";
const USER = "00u1responder0000000";
const GRAPH_GROUP = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
const GRAPH_USER = "87d349ed-44d7-43e1-9a83-5f2406dee5bd";

interface PermissionFile {
  readonly calls: readonly { readonly method: string; readonly path: string }[];
}

let okta: OktaTestServer;
let graph: GraphTestServer;

beforeAll(async () => {
  [okta, graph] = await Promise.all([startOktaServer(TOKEN), startGraphServer(TOKEN)]);
  okta.users.set(USER, { id: USER, login: "ana@example.com", email: "ana@example.com", firstName: "A", lastName: "S" });
  okta.groups.set(GROUP, new Set());
  okta.groupNames.set(GROUP, "aws-emergency-operators");
  graph.users.set(GRAPH_USER, { id: GRAPH_USER, userPrincipalName: "ana@contoso.com", mail: null, displayName: "Ana" });
  graph.groups.set(GRAPH_GROUP, new Set());
  graph.groupNames.set(GRAPH_GROUP, "aws-emergency-operators");
});

afterAll(async () => {
  await Promise.all([okta.close(), graph.close()]);
});

/** Every operation of the port, as FM3, the reaper and `check` use them: by name, by id, and removing twice. */
async function everyOperation(directory: GroupDirectory, groupId: string, userId: string): Promise<void> {
  await directory.findUser("ana@example.com");
  await directory.findGroup("aws-emergency-operators");
  await directory.findGroup(groupId);
  await directory.listMembers(groupId);
  await directory.addMember(groupId, userId);
  await directory.removeMember(groupId, userId);
  await directory.removeMember(groupId, userId);
}

/** "GET /api/v1/groups/{groupId}/users/{userId}": a request as the permission files name it. */
function called(method: string | undefined, url: string | undefined, prefix: string): string {
  const path = decodeURIComponent(new URL(url ?? "/", "https://idp.test").pathname).slice(prefix.length);
  const named = path
    .replaceAll(GROUP, "{groupId}")
    .replaceAll(USER, "{userId}")
    .replaceAll(GRAPH_GROUP, "{groupId}")
    .replaceAll(GRAPH_USER, "{userId}")
    // A name is also tried as an id: the same call.
    .replaceAll("aws-emergency-operators", "{groupId}");
  return `${method ?? ""} ${named}`;
}

function listed(file: string): string[] {
  const permissions = JSON.parse(readFileSync(join(IAM, file), "utf8")) as PermissionFile;
  return permissions.calls.map((call) => `${call.method} ${call.path}`).sort();
}

describe("the IdP permission files", () => {
  it("iam/idp-okta-scopes.json lists exactly the calls the Okta adapter makes", async () => {
    const before = okta.requests.length;
    await everyOperation(new OktaGroupDirectory({ baseUrl: okta.url, token: TOKEN, ca: okta.ca }), GROUP, USER);
    const made = okta.requests.slice(before).map((request) => called(request.method, request.url, ""));
    expect([...new Set(made)].sort()).toEqual(listed("idp-okta-scopes.json"));
  });

  it("iam/idp-graph-permissions.json lists exactly the calls the Graph adapter makes", async () => {
    const before = graph.requests.length;
    const directory = new GraphGroupDirectory({ baseUrl: graph.baseUrl, token: TOKEN, ca: graph.ca });
    await everyOperation(directory, GRAPH_GROUP, GRAPH_USER);
    const made = graph.requests.slice(before).map((request) => called(request.method, request.url, "/v1.0"));
    expect([...new Set(made)].sort()).toEqual(listed("idp-graph-permissions.json"));
  });
});
